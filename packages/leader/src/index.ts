/**
 * @tollkit/leader — the leader of the Stackelberg game: toll design. Scenarios, instruments
 * (which links may be tolled), objectives (TSTT, revenue, welfare, TSTT with a revenue floor),
 * first-best marginal-cost tolls, grid search, gradient search driven by equilibrium
 * sensitivities and a derivative-free pattern search.
 *
 * Named exports only: what the other packages and their tests use, and the types in those
 * functions' signatures. Anything else in src/ is internal to leader.
 */
export { loadScenario, parseScenario, scenarioJsonSchema, ScenarioSchema } from "./scenario.js";
export type {
  FollowerSpec,
  InlineNetworkSpec,
  InstrumentSpec,
  MethodSpec,
  MethodType,
  ObjectiveSpec,
  ObjectiveType,
  Scenario,
  ScenarioInput,
  TieRule,
} from "./scenario.js";
export { cordonLinks, insidePolygon, resolveInstrument } from "./instrument.js";
export type { Instrument, TollVariable } from "./instrument.js";
export { Merit } from "./objectives.js";
export type { LeaderMeasures } from "./objectives.js";
export { Evaluator, holdsBushes } from "./evaluator.js";
export type { DesignProgress, Evaluation, EvaluatorSettings } from "./evaluator.js";
export type { FirstBest } from "./first-best.js";
export type { HistoryRow } from "./search.js";
export type { ResponseSurface } from "./grid.js";
export { checkDirectional, checkGradient, feasibleDirection } from "./check.js";
export type { GradientCheck, GradientCheckRow, TieReport, TieValues } from "./check.js";
export { design, scenarioClasses, scenarioNetwork, testFailAfterSolves } from "./design.js";
export type { DesignError, DesignOptions, DesignResult, DesignVariable, PolishReport } from "./design.js";
export { elasticAdjointGradient, elasticSensitivity, isElasticResult } from "./elastic-demand.js";
export type { ElasticAdjointGradient, ElasticSensitivity } from "./elastic-demand.js";
export type { ElasticDesignReport, ElasticZoneReport } from "./elastic-design.js";
