/**
 * `design(scenario)`: runs a toll-design study end to end — loads the network, builds the user
 * classes and the instrument, solves the no-toll baseline and the first-best reference, runs
 * the scenario's method, and checks the result (ties, gradient against finite differences).
 */

import { dirname } from "node:path";
import { CostModel, FollowerResult, resultMeasures, UserClass } from "@tollkit/follower";
import { buildNetwork, isInputError, loadNetwork, Network, NetworkSpec, resolveNetworkRef } from "@tollkit/graph-core";
import { checkGradient, GradientCheck, tieReport, TieReport } from "./check.js";
import { DesignProgress, Evaluation, Evaluator, fdStep, GradientSource } from "./evaluator.js";
import { FirstBest, firstBest } from "./first-best.js";
import { gradientSearch } from "./gradient.js";
import { gridSearch, ResponseSurface } from "./grid.js";
import { Instrument, resolveInstrument } from "./instrument.js";
import { FEASIBILITY_TOLERANCE, LeaderMeasures, Merit, objectiveSign, objectiveValue } from "./objectives.js";
import { patternSearch } from "./pattern.js";
import { MethodType, ObjectiveType, Scenario, scenarioError } from "./scenario.js";
import { HistoryRow, SearchContext, SearchOutcome } from "./search.js";

export type { DesignProgress } from "./evaluator.js";

/** Options of {@link design}. */
export interface DesignOptions {
  /** Called after every equilibrium solve. */
  onProgress?: (p: DesignProgress) => void;
  /** Cancels the run (the promise rejects with an Error named AbortError). */
  signal?: AbortSignal;
}

/** A decision variable of the result. */
export interface DesignVariable {
  label: string;
  /** 1-based link ids it tolls. */
  links: number[];
  min: number;
  max: number;
  /** The designed toll (money). */
  toll: number;
}

/** The result of a design run. Values in natural units: TSTT in time·PCE, revenue and welfare in money. */
export interface DesignResult {
  scenario: string;
  network: string;
  objective: ObjectiveType;
  sense: "minimise" | "maximise";
  method: MethodType;
  /** The designed toll on each instrument link (1-based link id, money). */
  tolls: { link: number; toll: number }[];
  variables: DesignVariable[];
  /** Objective value at the design. */
  value: number;
  /** Objective value with no tolls on the instrument. */
  baseline: number;
  /** Objective value under first-best tolls on every link (null when not computed). */
  firstBest: number | null;
  /** (value − baseline) / (firstBest − baseline): the share of the first-best improvement captured (TSTT and welfare objectives). */
  shareCaptured: number | null;
  revenue: number;
  tstt: number;
  welfare: number;
  baselineMeasures: LeaderMeasures;
  firstBestMeasures: LeaderMeasures | null;
  /** With a revenue floor: whether the design meets it. */
  /** With a revenue floor: whether the design meets it (within the relative `tolerance`), and the final multiplier. */
  constraint?: { minRevenue: number; revenue: number; satisfied: boolean; tolerance: number; multiplier: number };
  /** Equilibrium solves used by the method (the search; first-best: the SO and its check). */
  equilibriumSolves: number;
  /** All equilibrium solves of the run, in total and by phase (baseline, first-best, search, ties, gradient check), and the wall time of each phase (s). */
  solves: { total: number; byPhase: Record<string, number>; secondsByPhase: Record<string, number> };
  /** Wall time of the whole run. */
  seconds: number;
  /** The tolled equilibrium at the design (measured under the true tolls). */
  equilibrium: FollowerResult;
  /** Tolls per link (money), including background tolls outside the instrument. */
  linkTolls: Float64Array;
  /** First-best details: both TSTTs, and the tolls (time and money). */
  firstBestDetail?: {
    soTstt: number;
    tolledTstt: number;
    relativeDifference: number;
    /** Relative gap of the tolled user equilibrium and its iterations (started from the SO flows: 0 iterations means they already meet the UE conditions). */
    tolledRelativeGap: number;
    tolledIterations: number;
    tollFactor: number;
    /** Per link: 1-based id, toll in money and in time units. */
    tolls: { link: number; toll: number; timeToll: number }[];
  };
  history: HistoryRow[];
  surface?: ResponseSurface;
  ties: TieReport;
  diagnostics: {
    stopReason: string;
    iterations: number;
    gradientSource?: GradientSource;
    gradientCheck?: GradientCheck;
    warnings: string[];
  };
}

/** Loads the scenario's network (catalogue id, built-in id, path relative to the file, or inline). */
export async function scenarioNetwork(s: Scenario): Promise<Network> {
  const spec = s.network;
  let net: Network;
  if (typeof spec !== "string") {
    try {
      net = buildNetwork(spec as NetworkSpec);
    } catch (e) {
      if (isInputError(e)) throw scenarioError(s.file, e.field ? `network.${e.field}` : "network", e.reason, e.expected);
      throw e;
    }
  } else {
    // an id as it is, a path relative to the scenario file
    net = await loadNetwork(resolveNetworkRef(spec, s.file ? dirname(s.file) : undefined));
  }
  return net;
}

/**
 * The scenario's user classes: demand = network demand × demandScale × share, toll factor =
 * 1 / valueOfTime, distance factor from the class or the network.
 * @throws InputError when no classes are given and the network has no toll factor
 */
export function scenarioClasses(s: Scenario, net: Network): UserClass[] {
  const base = net.demand;
  const scaled = (share: number) => Float64Array.from(base, (v) => v * s.demandScale * share);
  if (!s.classes) {
    const tf = net.costWeights.tollFactor;
    if (!(tf > 0))
      throw scenarioError(
        s.file,
        "classes",
        `${net.name} has no toll factor, so tolls would not change any route`,
        'classes with a valueOfTime, e.g. [{"name": "car", "valueOfTime": 0.25}]',
      );
    return [{ name: "all", demand: scaled(1), tollFactor: tf, distanceFactor: net.costWeights.distanceFactor, pce: 1, tolled: true }];
  }
  return s.classes.map((c) => ({
    name: c.name,
    demand: scaled(c.share),
    tollFactor: 1 / c.valueOfTime,
    distanceFactor: c.distanceFactor ?? net.costWeights.distanceFactor,
    pce: c.pce,
    tolled: c.tolled,
  }));
}

/** Starting point of a search (projected later). */
function startPoint(s: Scenario, ins: Instrument, fb: FirstBest | undefined, start: "zero" | "first-best" | number[]): Float64Array {
  const p = ins.variables.length;
  if (start === "zero") return new Float64Array(p);
  if (start === "first-best") return firstBestVariables(ins, fb!);
  if (start.length !== p)
    throw scenarioError(s.file, "method.start", `${start.length} starting tolls`, `${p}, one per toll of the instrument`);
  return Float64Array.from(start);
}

/** First-best tolls on the instrument: per variable, the flow-weighted mean over its links. */
function firstBestVariables(ins: Instrument, fb: FirstBest): Float64Array {
  return Float64Array.from(ins.variables, (v) => {
    let num = 0;
    let den = 0;
    for (const a of v.links) {
      const w = fb.so.flows[a] + 1e-12;
      num += w * fb.tolls[a];
      den += w;
    }
    return num / den;
  });
}

/**
 * Runs a toll-design study.
 * @param scenario a parsed scenario ({@link parseScenario} / {@link loadScenario})
 * @returns the designed tolls, objective values (design, no-toll baseline, first-best), the
 *   tolled equilibrium, the search history and diagnostics
 * @throws InputError for problems in the scenario that need the network (link ids, nodes, link
 *   types, a grid over more than two tolls, ...) or in the follower settings;
 *   an Error named AbortError when `options.signal` is aborted
 */
export async function design(scenario: Scenario, options: DesignOptions = {}): Promise<DesignResult> {
  const t0 = performance.now();
  const s = scenario;
  const net = await scenarioNetwork(s);
  const classes = scenarioClasses(s, net);
  const instrument = resolveInstrument(net, s.instrument, s.file);
  const loadSeconds = (performance.now() - t0) / 1000;
  const merit = new Merit(s.objective.type, s.objective.minRevenue, s.objective.penalty);
  const ev = new Evaluator({
    net,
    classes,
    instrument,
    background: Float64Array.from(net.links.toll),
    follower: s.follower,
    merit,
    rule: s.ties.rule,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const warnings: string[] = [];
  const type = s.objective.type;
  const p = instrument.variables.length;

  ev.setPhase("baseline");
  const baseline = await ev.evaluate(new Float64Array(p));
  const baselineValue = objectiveValue(type, baseline.ms);
  if (merit.minRevenue !== undefined) merit.scale = Math.max(Math.abs(objectiveSign(type) * baselineValue), 1e-300);

  const m = s.method;
  let fb: FirstBest | undefined;
  if (s.firstBest || m.type === "first-best" || ((m.type === "gradient" || m.type === "derivative-free") && m.start === "first-best")) {
    fb = await firstBest(ev);
    warnings.push(...fb.warnings);
  }

  ev.setPhase("search");
  const history: HistoryRow[] = [];
  const searchStart = ev.solves;
  let outcome: SearchOutcome;
  let surface: ResponseSurface | undefined;
  let gradientCheckSteps: number[] | undefined;
  const ranges = instrument.variables.map((v) => v.max - v.min);
  const widest = Math.max(...ranges.filter((r) => Number.isFinite(r)), 0) || 1;
  const ctx: SearchContext = { ev, merit, instrument, history, limit: Infinity };

  switch (m.type) {
    case "first-best": {
      const z = firstBestVariables(instrument, fb!);
      const clipped = z.map((t, k) => Math.min(instrument.variables[k].max, Math.max(instrument.variables[k].min, t)));
      if (clipped.some((t, k) => t !== z[k])) warnings.push("first-best: some marginal-cost tolls lie outside the bounds and were clipped");
      if (instrument.links.length < net.linkCount || instrument.uniform)
        warnings.push(
          `first-best: the instrument tolls ${instrument.links.length} of ${net.linkCount} links${instrument.uniform ? " with one uniform toll" : ""}; marginal-cost tolls on it are not first-best`,
        );
      let best: Evaluation;
      const same = instrument.links.length === net.linkCount && !instrument.uniform && clipped.every((t, k) => t === z[k]);
      if (same) {
        best = { ...fb!.tolled, z: clipped };
        ev.remember(best);
      } else best = await ev.evaluate(clipped);
      history.push({
        step: 0,
        solves: ev.solves,
        value: objectiveValue(type, best.ms),
        merit: merit.value(best.ms),
        tstt: best.ms.tstt,
        revenue: best.ms.revenue,
        tolls: Array.from(best.z),
        accepted: true,
        phase: "first-best",
      });
      outcome = { best, iterations: 1, stopReason: "marginal-cost tolls at the system optimum" };
      break;
    }
    case "grid": {
      ctx.limit = Infinity;
      const r = await gridSearch(ctx, m.points, s.file);
      outcome = r;
      surface = r.surface;
      break;
    }
    case "gradient":
    case "derivative-free": {
      const z0 = startPoint(s, instrument, fb, m.start);
      const run = async (from: Float64Array, budget: number) => {
        ctx.limit = ev.solves + budget;
        return m.type === "gradient"
          ? gradientSearch(ctx, { start: from, initialStep: m.initialStep ?? 0.1 * widest, tolerance: m.tolerance, memory: m.memory })
          : patternSearch(ctx, { start: from, initialStep: m.initialStep ?? 0.25 * widest, minStep: m.minStep ?? 1e-5 * widest });
      };
      outcome = await withRevenueFloor(ev, merit, s, m.maxSolves, z0, run, warnings);
      if (m.gradientCheck) gradientCheckSteps = instrument.variables.map((v, k) => m.fdStep ?? fdStep(v.min, v.max, outcome.best.z[k]));
      break;
    }
  }
  const searchSolves = m.type === "first-best" ? (ev.solvesByPhase["first-best"] ?? 0) : ev.solves - searchStart;
  const best = outcome.best;

  const ties = await tieReport(ev, best, s.ties.rule, s.ties.margin, type);
  let gradientCheck: GradientCheck | undefined;
  if (gradientCheckSteps) gradientCheck = await checkGradient(ev, best, gradientCheckSteps, type);

  ev.setPhase("report");
  const secondsByPhase: Record<string, number> = { network: loadSeconds };
  for (const [k, v] of Object.entries(ev.secondsByPhase)) if (k !== "setup" && k !== "report") secondsByPhase[k] = v;
  const value = objectiveValue(type, best.ms);
  const firstBestValue = fb ? objectiveValue(type, fb.tolled.ms) : null;
  let shareCaptured: number | null = null;
  if (fb && type !== "revenue") {
    const span = firstBestValue! - baselineValue;
    shareCaptured = Math.abs(span) > 1e-12 * Math.max(1, Math.abs(baselineValue)) ? (value - baselineValue) / span : null;
    if (shareCaptured === null) warnings.push("first-best improves nothing over the baseline: no share captured to report");
  }
  const constraint =
    merit.minRevenue !== undefined
      ? {
          minRevenue: merit.minRevenue,
          revenue: best.ms.revenue,
          satisfied: merit.feasible(best.ms),
          tolerance: FEASIBILITY_TOLERANCE,
          multiplier: merit.lambda,
        }
      : undefined;
  if (constraint && !constraint.satisfied)
    warnings.push(`the design's revenue ${best.ms.revenue} is below the floor ${constraint.minRevenue}`);

  const allWarnings = [...warnings, ...ev.allWarnings()];
  if (gradientCheck && !gradientCheck.agrees)
    allWarnings.push(
      `gradient check: largest relative error ${gradientCheck.maxRelativeError.toExponential(2)} against finite differences`,
    );

  return {
    scenario: s.name ?? (s.file ? s.file.replace(/^.*[\\/]/, "").replace(/\.json$/i, "") : "scenario"),
    network: net.name,
    objective: type,
    sense: objectiveSign(type) > 0 ? "minimise" : "maximise",
    method: m.type,
    tolls: instrument.variables
      .flatMap((v, k) => Array.from(v.links, (a) => ({ link: a + 1, toll: best.z[k] })))
      .sort((a, b) => a.link - b.link),
    variables: instrument.variables.map((v, k) => ({
      label: v.label,
      links: Array.from(v.links, (a) => a + 1),
      min: v.min,
      max: v.max,
      toll: best.z[k],
    })),
    value,
    baseline: baselineValue,
    firstBest: firstBestValue,
    shareCaptured,
    revenue: best.ms.revenue,
    tstt: best.ms.tstt,
    welfare: best.ms.welfare,
    baselineMeasures: baseline.ms,
    firstBestMeasures: fb ? fb.tolled.ms : null,
    constraint,
    equilibriumSolves: searchSolves,
    solves: { total: ev.solves, byPhase: { ...ev.solvesByPhase }, secondsByPhase },
    seconds: (performance.now() - t0) / 1000,
    equilibrium: trueTollEquilibrium(net, classes, best, ev.tiesPossible),
    linkTolls: best.tolls,
    firstBestDetail: fb
      ? {
          soTstt: fb.soTstt,
          tolledTstt: fb.tolledTstt,
          relativeDifference: fb.relativeDifference,
          tolledRelativeGap: fb.tolled.eq.relativeGap,
          tolledIterations: fb.tolled.eq.iterations,
          tollFactor: fb.tollFactor,
          tolls: Array.from(fb.tolls, (t, a) => ({ link: a + 1, toll: t, timeToll: fb!.timeTolls[a] })),
        }
      : undefined,
    history,
    surface,
    ties,
    diagnostics: {
      stopReason: outcome.stopReason,
      iterations: outcome.iterations,
      gradientSource: m.type === "gradient" || gradientCheck ? ev.gradientSource : undefined,
      gradientCheck,
      warnings: allWarnings,
    },
  };
}

/** The equilibrium at the design with its measures recomputed under the true tolls (removing the tie-breaking perturbation). */
function trueTollEquilibrium(net: Network, classes: UserClass[], e: Evaluation, perturbed: boolean): FollowerResult {
  if (!perturbed) return e.eq;
  const model = new CostModel(net, classes, e.tolls, "ue");
  return {
    ...e.eq,
    ...resultMeasures(
      model,
      e.eq.classes.map((c) => c.flows),
    ),
  };
}

/**
 * Runs a search, or — with a revenue floor — an augmented-Lagrangian sequence of searches
 * (each warm-started from the last, the budget split evenly), and picks the best feasible design.
 */
async function withRevenueFloor(
  ev: Evaluator,
  merit: Merit,
  s: Scenario,
  budget: number,
  z0: Float64Array,
  run: (from: Float64Array, budget: number) => Promise<SearchOutcome>,
  warnings: string[],
): Promise<SearchOutcome> {
  if (merit.minRevenue === undefined) return run(z0, budget);
  const K = s.objective.multiplierUpdates;
  const start = ev.solves;
  let z = z0;
  let out: SearchOutcome | undefined;
  let iterations = 0;
  let prevViolation = Infinity;
  for (let k = 0; k < K; k++) {
    const left = budget - (ev.solves - start);
    if (left <= 0) break;
    ev.note = `outer ${k + 1}: λ = ${merit.lambda.toPrecision(3)}, μ = ${merit.mu.toPrecision(3)}`;
    out = await run(z, Math.max(1, Math.floor(left / (K - k))));
    iterations += out.iterations;
    const g = merit.constraint(out.best.ms);
    merit.updateMultiplier(out.best.ms);
    if (g > 1e-6 && g > 0.25 * prevViolation) merit.mu *= 10;
    prevViolation = Math.max(g, 0);
    z = out.best.z;
  }
  ev.note = undefined;
  const R = merit.minRevenue;
  const sign = objectiveSign(merit.type);
  const rows = ev.feasibleCandidates();
  if (rows.length === 0) {
    warnings.push(`no design met the revenue floor ${R}; the last search's result is reported`);
    return { ...out!, iterations };
  }
  const best = rows.reduce((a, b) => (sign * objectiveValue(merit.type, b.ms) < sign * objectiveValue(merit.type, a.ms) ? b : a));
  return { best, iterations, stopReason: `${out!.stopReason}; best feasible design (revenue ≥ ${R}) over ${K} multiplier update(s)` };
}
