/**
 * @tollkit/follower — the followers of the Stackelberg game: Wardrop user equilibrium and
 * system optimum (Frank-Wolfe family and a bush-based algorithm), user classes, equilibrium
 * sensitivities.
 *
 * Named exports only: what the other packages and their tests use, and the types in those
 * functions' signatures. Anything else in src/ is internal to follower.
 */
export { ALGORITHMS, OBJECTIVES } from "./types.js";
export type {
  Algorithm,
  ClassResult,
  FollowerOptions,
  FollowerResult,
  IterationRecord,
  Objective,
  ProgressEvent,
  StoppingRules,
  StopReason,
  UserClass,
  WarmStart,
} from "./types.js";
export { CostModel, defaultClasses, relativeGap, resultMeasures } from "./cost-model.js";
export type { Measures } from "./cost-model.js";
export { isBushState, solveBush, solveBushAsync } from "./bush.js";
export type { BushState, StoredBush } from "./bush.js";
export { FOLLOWER_DEFAULTS } from "./options.js";
export { solve, solveSync } from "./solve.js";
export { buildUserClasses, classesFromSpec, parseClassesJson, readClassesFile } from "./classes.js";
export { parseTollsCsv, readTollsFile } from "./tolls.js";
export { defaultNearStep, equilibriumSensitivity } from "./sensitivity.js";
export type { EquilibriumSensitivity, SensitivityOptions, TollDirection } from "./sensitivity.js";
export { adjointTollGradient } from "./adjoint.js";
export type { AdjointObjective, AdjointOptions, AdjointTollGradient } from "./adjoint.js";
export { USER_CLASS_KEYS, UserClassesSchema, userClassesSchema, UserClassObject } from "./class-schema.js";
export type { UserClassRules, UserClassSpec } from "./class-schema.js";
export { DEMAND_FORMS, checkDemandFunctionSpec, consumerSurplus, demandAt, demandSlope, inverseDemand } from "./elastic/demand.js";
export type { DemandForm, DemandFunctionSpec, DemandSensitivity, OdDemand } from "./elastic/demand.js";
export { ElasticDemandProblem, odCosts } from "./elastic/solve.js";
export type { ElasticProblemOptions, ElasticResult, ElasticSummary, ElasticTotals } from "./elastic/solve.js";
export type { AugmentedProblem, ExcessLinks } from "./elastic/transform.js";
export { DemandSensitivitySchema, ElasticDemandSchema, parseDemandFunction } from "./elastic/schema.js";
export { computeSkims } from "./incidence/skims.js";
export type { ClassSkims, SkimRule, Skims } from "./incidence/skims.js";
export { parseLinkList, selectLink } from "./incidence/select-link.js";
export type { ClassSelectLink, SelectLinkResult } from "./incidence/select-link.js";
