/**
 * `design(scenario)`: runs a toll-design study end to end — loads the network, builds the user
 * classes and the instrument, solves the no-toll baseline and the first-best reference, runs
 * the scenario's method, and checks the result (ties, gradient against finite differences).
 */

import { dirname } from "node:path";
import { buildUserClasses, CostModel, FollowerResult, resultMeasures, UserClass } from "@tollkit/follower";
import { buildNetwork, loadNetwork, Network, NetworkSpec, resolveNetworkRef, seededRandom } from "@tollkit/graph-core";
import { checkDirectional, checkGradient, GradientCheck, tieReport, TieReport } from "./check.js";
import { DesignProgress, Evaluation, Evaluator, fdStep, GradientSource } from "./evaluator.js";
import { elasticDemandOf, ElasticDesignReport, elasticReport } from "./elastic-design.js";
import { FirstBest, firstBest } from "./first-best.js";
import { gradientSearch } from "./gradient.js";
import { checkGrid, gridSearch, ResponseSurface } from "./grid.js";
import { Instrument, resolveInstrument } from "./instrument.js";
import { FEASIBILITY_TOLERANCE, LeaderMeasures, Merit, objectiveSign, objectiveValue } from "./objectives.js";
import { patternSearch, PatternSettings } from "./pattern.js";
import { gradientCheckKind, MethodType, ObjectiveType, Scenario, scenarioError } from "./scenario.js";
import { HistoryRow, markAccepted, SearchContext, SearchOutcome } from "./search.js";

export type { DesignProgress } from "./evaluator.js";

/** Options of {@link design}. */
export interface DesignOptions {
  /** Called after every equilibrium solve. */
  onProgress?: (p: DesignProgress) => void;
  /** Cancels the run (the promise rejects with an Error named AbortError). */
  signal?: AbortSignal;
  /**
   * Test hook: the solve after this many equilibrium solves (all phases) fails with an Error,
   * as a failure inside the follower would, to test that a design keeps its finished work.
   * Only for tests (the CLI reads it from TOLLKIT_TEST_FAIL_AFTER_SOLVES).
   */
  failAfterSolves?: number;
}

/** Why a design stopped early (see {@link DesignResult.partial}). */
export interface DesignError {
  /** The error's name (e.g. Error, InputError) and message. */
  name: string;
  message: string;
  /** The phase of the run it happened in (first-best, search, polish, gradient check, ties, …). */
  phase: string;
  /** Equilibrium solves finished before it. */
  afterSolves: number;
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
  /**
   * True when the run stopped early on an error after its first equilibrium: the result is the
   * best design evaluated so far (the no-toll baseline at least), `error` says what happened,
   * and parts not reached (first-best, ties, the gradient check) are missing or say so.
   */
  partial: boolean;
  error: DesignError | null;
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
  /** With elastic demand (the scenario's `demand`): trips made and not made, consumer surplus and welfare, by zone, against the no-toll baseline. */
  demand?: ElasticDesignReport;
  surface?: ResponseSurface;
  ties: TieReport;
  diagnostics: {
    stopReason: string;
    iterations: number;
    gradientSource?: GradientSource;
    /**
     * Gradient evaluations of the run: by the adjoint (one derivative solve per measure the
     * merit reads) or directional (per variable: at degenerate points, and the "full" check's), and how many equilibria
     * the adjoint found degenerate at a loose gap and re-solved to 1e-12 first (`regapped`), of
     * which `stillDegenerate` were degenerate there too.
     */
    gradients?: { adjoint: number; directional: number; regapped: number; stillDegenerate: number };
    gradientCheck?: GradientCheck;
    /** When the gradient steps stalled at a kink and a derivative-free polish continued from the best point. */
    polish?: PolishReport;
    /** As {@link DesignResult.partial} and {@link DesignResult.error} (repeated here for summaries that pass the diagnostics on). */
    partial: boolean;
    error: DesignError | null;
    warnings: string[];
  };
}

/** Loads the scenario's network (catalogue id, built-in id, path relative to the file, or inline). */
export async function scenarioNetwork(s: Scenario): Promise<Network> {
  const spec = s.network;
  let net: Network;
  if (typeof spec !== "string") {
    net = buildNetwork(spec as NetworkSpec, { file: s.file ?? "scenario", path: "network" });
  } else {
    // an id as it is, a path relative to the scenario file
    net = await loadNetwork(resolveNetworkRef(spec, s.file ? dirname(s.file) : undefined));
  }
  return net;
}

/**
 * The scenario's user classes: demand = network demand × demandScale × the class's demandShare
 * (or demandScale), toll factor = 1 / valueOfTime (or the class's tollFactor), distance factor
 * from the class or the network (built by the follower's {@link buildUserClasses}).
 * @throws InputError when no classes are given and the network has no toll factor
 */
export function scenarioClasses(s: Scenario, net: Network): UserClass[] {
  if (!s.classes) {
    const tf = net.costWeights.tollFactor;
    if (!(tf > 0))
      throw scenarioError(
        s.file,
        "classes",
        `${net.name} has no toll factor, so tolls would not change any route`,
        'classes with a valueOfTime, e.g. [{"name": "car", "valueOfTime": 0.25}]',
      );
    return buildUserClasses([{ name: "all", demandShare: 1, tollFactor: tf, pce: 1, tolled: true }], net, s.demandScale);
  }
  return buildUserClasses(s.classes, net, s.demandScale);
}

/**
 * Starting point of a search (projected later; an explicit one's length is checked before the
 * baseline): no tolls, the first-best tolls on the instrument times `scale`, or explicit tolls.
 */
function startPoint(ins: Instrument, fb: FirstBest | undefined, start: "zero" | "first-best" | number[], scale = 1): Float64Array {
  const p = ins.variables.length;
  if (start === "zero") return new Float64Array(p);
  if (start === "first-best") return firstBestVariables(ins, fb!).map((v) => v * scale);
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
 * Runs a toll-design study. Once the no-toll baseline is solved, no error loses the finished
 * work: the run returns the best design evaluated so far with `partial: true`, the error in
 * `error` and a warning (cancellation still rejects).
 * @param scenario a parsed scenario ({@link parseScenario} / {@link loadScenario})
 * @returns the designed tolls, objective values (design, no-toll baseline, first-best), the
 *   tolled equilibrium, the search history and diagnostics
 * @throws InputError for problems in the scenario that need the network (link ids, nodes, link
 *   types, a grid over more than two tolls, ...) or in the follower settings (raised before or
 *   by the baseline solve);
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
  const elastic = elasticDemandOf(s, net, classes);
  const ev = new Evaluator({
    net,
    classes,
    elastic,
    instrument,
    background: Float64Array.from(net.links.toll),
    follower: s.follower,
    merit,
    rule: s.ties.rule,
    signal: options.signal,
    onProgress: options.onProgress,
    failAfterSolves: options.failAfterSolves,
  });
  const warnings: string[] = [];
  const type = s.objective.type;
  const p = instrument.variables.length;
  const m = s.method;
  // problems of the scenario that need the network but no solve: raised before any work is done
  if (m.type === "grid") checkGrid(instrument, m.points, s.file);
  if ((m.type === "gradient" || m.type === "derivative-free") && Array.isArray(m.start) && m.start.length !== p)
    throw scenarioError(s.file, "method.start", `${m.start.length} starting tolls`, `${p}, one per toll of the instrument`);

  ev.setPhase("baseline");
  const baseline = await ev.evaluate(new Float64Array(p));
  // the search starts next to no tolls: keep the baseline's bushes until it moves
  ev.keepWarm(baseline);
  const baselineValue = objectiveValue(type, baseline.ms);
  if (merit.minRevenue !== undefined) merit.scale = Math.max(Math.abs(objectiveSign(type) * baselineValue), 1e-300);

  // From here on every error keeps the finished work: the best design so far is reported, partial.
  const history: HistoryRow[] = [];
  let fb: FirstBest | undefined;
  let outcome: SearchOutcome | undefined;
  let surface: ResponseSurface | undefined;
  let ties: TieReport | undefined;
  let gradientCheck: GradientCheck | undefined;
  let polish: PolishReport | undefined;
  let searchSolves = 0;
  let failure: DesignResult["error"] = null;
  const checkKind = gradientCheckKind(m);
  try {
    if (s.firstBest || m.type === "first-best" || ((m.type === "gradient" || m.type === "derivative-free") && m.start === "first-best")) {
      // the first-best check lets go of the baseline's bushes: a gradient search from no tolls
      // takes its first gradient now, while they are alive (no re-solve later)
      const fromZero = m.type === "gradient" && m.start === "zero" && instrument.variables.every((v) => v.min <= 0 && v.max >= 0);
      if (fromZero) await ev.evaluate(new Float64Array(p), { gradient: true });
      fb = await firstBest(ev);
      warnings.push(...fb.warnings);
    }

    ev.setPhase("search");
    const ranges = instrument.variables.map((v) => v.max - v.min);
    const widest = Math.max(...ranges.filter((r) => Number.isFinite(r)), 0) || 1;
    const ctx: SearchContext = { ev, merit, instrument, history, limit: Infinity };

    switch (m.type) {
      case "first-best": {
        const z = firstBestVariables(instrument, fb!);
        const clipped = z.map((t, k) => Math.min(instrument.variables[k].max, Math.max(instrument.variables[k].min, t)));
        if (clipped.some((t, k) => t !== z[k]))
          warnings.push("first-best: some marginal-cost tolls lie outside the bounds and were clipped");
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
        // a list of start scales: one start per scale along the first-best ray
        const scaleList = Array.isArray(m.startScale) ? m.startScale : undefined;
        const z0 = startPoint(instrument, fb, m.start, Array.isArray(m.startScale) ? m.startScale[0] : m.startScale);
        // the schema's defaults, also for method objects built in code without them
        const polishOn = m.type === "gradient" && (m.polish ?? true);
        const starts = scaleList?.length ?? m.starts ?? 1;
        const checkSeed = m.checkSeed ?? 1;
        // the polish starts with the gradient search's first step (10% of the widest range) and stops where the pattern search would
        const polishSettings = (from: Float64Array) => ({
          start: from,
          initialStep: m.initialStep ?? 0.1 * widest,
          minStep: 1e-5 * widest,
        });
        /**
         * One search from `from` (a start, or a search that stopped for its budget: it goes on
         * where it stopped) with `budget` solves. With `last` false (a screening round of several
         * starts) a gradient search that stalls is not polished yet: that waits for the start that
         * is kept.
         */
        const run = async (from: Float64Array | SearchOutcome, budget: number, last = true): Promise<SearchOutcome> => {
          ctx.limit = ev.solves + budget;
          const start = from instanceof Float64Array ? from : from.best.z;
          const state = from instanceof Float64Array ? undefined : from.state;
          if (m.type === "derivative-free")
            return patternSearch(ctx, {
              start,
              initialStep: m.initialStep ?? 0.25 * widest,
              minStep: m.minStep ?? 1e-5 * widest,
              ...(state?.kind === "pattern" ? { resume: state } : {}),
            });
          // (a polish runs only in a start's last round, so only a gradient search is resumed here)
          const g =
            from instanceof Float64Array || state?.kind === "gradient"
              ? await gradientSearch(ctx, {
                  start,
                  initialStep: m.initialStep ?? 0.1 * widest,
                  tolerance: m.tolerance,
                  memory: m.memory,
                  ...(polishOn ? { kinkWindow: KINK_WINDOW, kinkDecrease: KINK_DECREASE } : {}),
                  ...(state?.kind === "gradient" ? { resume: state } : {}),
                })
              : from;
          // where the gradient steps stall at a kink, pattern-search from the best point with the rest of the budget
          const why = polishOn ? stallReason(g) : undefined;
          if (!why || !last || ev.solves >= ctx.limit) return g;
          const r = await polishFrom(ctx, g, why, polishSettings(g.best.z));
          polish = mergePolish(polish, r.report);
          return r.outcome;
        };
        if (starts <= 1) outcome = await withRevenueFloor(ev, merit, s, m.maxSolves, z0, run, warnings);
        else {
          const startAt = scaleList && ((k: number) => startPoint(instrument, fb, m.start, scaleList[k]));
          outcome = await multiStart(ev, merit, instrument, starts, m.maxSolves, z0, run, m.screen, startAt);
        }
        if (checkKind !== "none") {
          ev.keepReported(outcome.best.eq);
          const steps = instrument.variables.map((v, k) => m.fdStep ?? fdStep(v.min, v.max, outcome!.best.z[k]));
          const searched = outcome.best.ms;
          gradientCheck = await runCheck(ev, outcome.best, checkKind, steps, type, checkSeed, warnings);
          // the check's re-solve of the design's tolls became the reported equilibrium: its rows say so
          if (outcome.best.ms !== searched) restate(history, merit, outcome.best, searched);
          // a failed check at the end of the gradient steps is a kink: polish with what is left of the budget
          if (polishOn && !polish && gradientCheck && !gradientCheck.agrees && merit.minRevenue === undefined) {
            const budgetLeft = m.maxSolves - searchSolvesSoFar(ev);
            if (budgetLeft > 0) {
              ev.setPhase("search");
              ctx.limit = ev.solves + budgetLeft;
              const r = await polishFrom(ctx, outcome, "the gradient check failed at the last iterate", polishSettings(outcome.best.z));
              polish = r.report;
              outcome = r.outcome;
            }
          }
        }
        break;
      }
    }
    searchSolves = m.type === "first-best" ? (ev.solvesByPhase["first-best"] ?? 0) : searchSolvesSoFar(ev);
    ev.keepReported(outcome.best.eq);
    ties = await tieReport(ev, outcome.best, s.ties.rule, s.ties.margin, type);
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    failure = {
      name: (e as Error)?.name ?? "Error",
      message: (e as Error)?.message ?? String(e),
      phase: ev.phase,
      afterSolves: ev.solves,
    };
    if (!outcome) searchSolves = m.type === "first-best" ? (ev.solvesByPhase["first-best"] ?? 0) : searchSolvesSoFar(ev);
  }
  if (failure) {
    // the best design evaluated so far (the no-toll baseline at least)
    const best = ev.bestSoFar() ?? baseline;
    const done = outcome ? `${outcome.stopReason}; then ` : "";
    outcome = {
      best: outcome && outcome.best === best ? outcome.best : best,
      iterations: outcome?.iterations ?? 0,
      stopReason: `${done}stopped early in the ${failure.phase} phase after ${failure.afterSolves} equilibrium solves: ${failure.message}`,
    };
    markAccepted({ ev, merit, instrument, history, limit: 0 }, best);
    warnings.push(
      `design stopped early (${failure.name} in the ${failure.phase} phase after ${failure.afterSolves} solves): ${failure.message}; the best design found so far is reported (partial result)`,
    );
  }
  const best = outcome!.best;
  ties ??= {
    rule: s.ties.rule,
    applies: ev.tiesPossible,
    note: "not evaluated: the run stopped early (see diagnostics.error)",
    constantCostLinks: ev.constantLinks.length,
  };

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
      `gradient check (${gradientCheck.kind}): largest relative error ${gradientCheck.maxRelativeError.toExponential(2)} against finite differences${gradientCheck.rows
        .filter((r) => !r.agrees)
        .slice(0, 3)
        .map(
          (r) =>
            `; ${r.variable}: derivative ${r.analytic.toPrecision(6)} (other side ${r.analyticLeft.toPrecision(6)}), finite difference ${r.finiteDifference.toPrecision(6)} with step ${r.step.toExponential(2)}`,
        )
        .join("")}`,
    );
  if (gradientCheck && best.z.some((t, k) => t !== gradientCheck!.at[k]))
    allWarnings.push("gradient check: made at the gradient search's last iterate; the derivative-free polish moved the design from there");

  return {
    scenario: s.name ?? (s.file ? s.file.replace(/^.*[\\/]/, "").replace(/\.json$/i, "") : "scenario"),
    network: net.name,
    objective: type,
    sense: objectiveSign(type) > 0 ? "minimise" : "maximise",
    method: m.type,
    partial: failure !== null,
    error: failure,
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
    equilibrium: elastic ? best.eq : trueTollEquilibrium(net, classes, best, ev.tiesPossible),
    demand: elastic ? elasticReport(elastic, baseline.eq, best.eq) : undefined,
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
      stopReason: outcome!.stopReason,
      iterations: outcome!.iterations,
      gradientSource: m.type === "gradient" || gradientCheck ? ev.gradientSource : undefined,
      gradients:
        ev.gradientsByMethod.adjoint + ev.gradientsByMethod.directional > 0
          ? { ...ev.gradientsByMethod, regapped: ev.regapped.resolved, stillDegenerate: ev.regapped.degenerate }
          : undefined,
      gradientCheck,
      polish,
      partial: failure !== null,
      error: failure,
      warnings: [...networkWarnings(net), ...allWarnings],
    },
  };
}

/** The network reader's warnings, said in a result's warnings (a duplicated link, a self-trip, ...). */
export function networkWarnings(net: Network): string[] {
  return net.warnings.map((w) => `network ${net.name}: ${w}`);
}

/**
 * The kink rule of the hybrid: gradient steps have stalled when an accepted iterate is a
 * (nearly) degenerate equilibrium and its step improved the merit by less than
 * {@link KINK_DECREASE} of the improvement since the start. Measured on Sioux Falls (links 48
 * and 29, maximise revenue): past that point the steps crawl along the kink for 15 more solves
 * and gain 0.1%, while the pattern search from there gains 4%.
 */
const KINK_WINDOW = 1;
const KINK_DECREASE = 1e-3;

/**
 * Several starts: `start` first, then the other points of `startAt` (the first-best tolls at
 * each `startScale`) or, without it, points drawn uniformly in the bounds (seeded, so the same
 * every run); the history notes the start ("search (start 2 of 3)"), and the best design wins.
 *
 * Without `screen` each search gets an even share of the budget (the last one what is left).
 * With `screen` the starts are screened by successive halving: each gets `screen` solves, then
 * the better half (rounded up, by the merit of its best point) goes on for `screen` more, each
 * search resumed where it stopped (quasi-Newton memory and all), and so on until one is left,
 * which gets the rest of the budget. A search that ends on its own (converged, or stalled at a
 * kink) keeps its result and takes no more solves; only the kept start is polished.
 */
async function multiStart(
  ev: Evaluator,
  merit: Merit,
  instrument: Instrument,
  starts: number,
  budget: number,
  z0: Float64Array,
  run: (from: Float64Array | SearchOutcome, budget: number, last?: boolean) => Promise<SearchOutcome>,
  screen?: number,
  startAt?: (k: number) => Float64Array,
): Promise<SearchOutcome> {
  const rnd = seededRandom(STARTS_SEED);
  const first = ev.solves;
  const left = () => budget - (ev.solves - first);
  const point = (k: number) =>
    k === 0 ? z0 : (startAt?.(k) ?? Float64Array.from(instrument.variables, (v) => v.min + rnd() * (v.max - v.min)));
  const points = Array.from({ length: starts }, (_, k) => point(k));
  const out: (SearchOutcome | undefined)[] = new Array(starts);
  const reasons: string[] = new Array(starts);
  const meritOf = (k: number) => (out[k] ? merit.value(out[k]!.best.ms) : Infinity);
  const go = async (k: number, solves: number, last: boolean) => {
    ev.note = `start ${k + 1} of ${starts}`;
    const o = await run(out[k] ?? points[k], solves, last);
    out[k] = o;
    reasons[k] = `start ${k + 1}: ${o.stopReason} (${objectiveValue(merit.type, o.best.ms)})`;
  };
  if (!screen) {
    for (let k = 0; k < starts && left() > 0; k++)
      await go(k, k === starts - 1 ? left() : Math.max(1, Math.floor(left() / (starts - k))), true);
  } else {
    let alive = points.map((_, k) => k);
    const dropped: number[] = [];
    while (alive.length > 1 && left() > 0) {
      for (const k of alive) {
        if (left() <= 0) break;
        // a search that ended on its own is not run again
        if (out[k] && !out[k]!.state) continue;
        await go(k, Math.min(screen, left()), false);
      }
      const ranked = [...alive].sort((a, b) => meritOf(a) - meritOf(b));
      alive = ranked.slice(0, Math.ceil(ranked.length / 2));
      dropped.push(...ranked.slice(alive.length));
    }
    const k = alive[0];
    // the kept start: the rest of the budget, and its polish if it stalled
    if (left() > 0 && (!out[k] || out[k]!.state || stallReason(out[k]!))) await go(k, left(), true);
    for (const d of dropped) if (reasons[d]) reasons[d] += ", not kept by the screening";
  }
  ev.note = undefined;
  let best: SearchOutcome | undefined;
  let iterations = 0;
  for (const o of out) {
    if (!o) continue;
    iterations += o.iterations;
    if (!best || merit.value(o.best.ms) < merit.value(best.best.ms)) best = o;
  }
  const done = reasons.filter((r) => r !== undefined);
  const how = screen ? ` (screened by successive halving, ${screen} solves a round)` : "";
  return { best: best!.best, iterations, stopReason: `best of ${done.length} starts${how}; ${done.join("; ")}` };
}

/** Seed of the random starting points of {@link multiStart}. */
const STARTS_SEED = 20261201;

/** Solves of the search phases (the search and its derivative-free polish) so far. */
function searchSolvesSoFar(ev: Evaluator): number {
  return (ev.solvesByPhase.search ?? 0) + (ev.solvesByPhase.polish ?? 0);
}

/** What the derivative-free polish of a gradient search did (reported in the diagnostics). */
export interface PolishReport {
  /** Why the gradient steps were taken to have stalled (the last time). */
  reason: string;
  /** Polish rounds: each pattern search ran until it improved, then gradient steps went on from there. */
  rounds: number;
  /** Equilibrium solves of the polish. */
  solves: number;
  /** Objective values (natural units) before and after the polish. */
  valueBefore: number;
  valueAfter: number;
  stopReason: string;
}

/**
 * Why a gradient search's end looks like a stall at a kink of the response rather than an
 * optimum (undefined when it does not): the budget was not spent, and the steps crawled along
 * a kink (the gradient search's kink rule), the line search found no decrease, the steps became
 * too small to change the tolls, or the projected gradient vanished at a degenerate
 * equilibrium (where the search's one-sided gradient is 0 only because neither side descends).
 * A search that converged by its tolerance is not a stall, even at a nearly degenerate point.
 */
export function stallReason(g: SearchOutcome): string | undefined {
  if (/stalled at a kink|line search found no decrease|step too small/.test(g.stopReason)) return g.stopReason;
  if (/projected gradient is zero/.test(g.stopReason) && g.best.degenerate?.some((d) => d))
    return "the projected gradient vanished at a degenerate equilibrium (a route at the margin of use)";
  return undefined;
}

/** Runs the derivative-free polish (phase "polish") from a gradient search's best point, within `ctx.limit`. */
async function polishFrom(
  ctx: SearchContext,
  g: SearchOutcome,
  reason: string,
  settings: PatternSettings,
): Promise<{ outcome: SearchOutcome; report: PolishReport }> {
  const { ev, merit } = ctx;
  const phase = ev.phase;
  const s0 = ev.solves;
  ev.setPhase("polish");
  try {
    const r = await patternSearch(ctx, settings);
    const best = better(merit, r.best, g.best);
    const report: PolishReport = {
      reason,
      rounds: 1,
      solves: ev.solves - s0,
      valueBefore: objectiveValue(merit.type, g.best.ms),
      valueAfter: objectiveValue(merit.type, best.ms),
      stopReason: r.stopReason,
    };
    return {
      outcome: {
        best,
        iterations: g.iterations + r.iterations,
        stopReason: `${g.stopReason}; then a derivative-free polish from the best point (${reason}): ${r.stopReason}, ${report.solves} solves, ${report.valueBefore} → ${report.valueAfter}`,
      },
      report,
    };
  } finally {
    ev.setPhase(phase);
  }
}

/** Two polish reports of one run (augmented-Lagrangian outer iterations) as one. */
function mergePolish(a: PolishReport | undefined, b: PolishReport): PolishReport {
  if (!a) return b;
  return {
    reason: b.reason,
    rounds: a.rounds + b.rounds,
    solves: a.solves + b.solves,
    valueBefore: a.valueBefore,
    valueAfter: b.valueAfter,
    stopReason: b.stopReason,
  };
}

/** The better of two evaluations by the merit (the first on a tie). */
function better(merit: Merit, a: Evaluation, b: Evaluation): Evaluation {
  return merit.value(b.ms) < merit.value(a.ms) ? b : a;
}

/**
 * The history rows of `e`'s tolls after its equilibrium was re-solved to a tighter gap and
 * adopted (the gradient check, {@link Evaluator.adoptReported}): their measures become the
 * adopted ones and their merit moves by the same change, so that the history, the result's
 * value and its equilibrium agree (they differ from the search's by the search's gap).
 */
function restate(history: HistoryRow[], merit: Merit, e: Evaluation, before: LeaderMeasures): void {
  const shift = merit.value(e.ms) - merit.value(before);
  for (const row of history)
    if (row.tolls.length === e.z.length && row.tolls.every((t, i) => t === e.z[i])) {
      row.value = objectiveValue(merit.type, e.ms);
      row.merit += shift;
      row.tstt = e.ms.tstt;
      row.revenue = e.ms.revenue;
    }
}

/** The gradient check asked for, as a result: an error in it becomes a warning, never the run's error. */
async function runCheck(
  ev: Evaluator,
  at: Evaluation,
  kind: "directional" | "full",
  steps: number[],
  type: ObjectiveType,
  seed: number,
  warnings: string[],
): Promise<GradientCheck | undefined> {
  const phase = ev.phase;
  try {
    return kind === "full" ? await checkGradient(ev, at, steps, type) : await checkDirectional(ev, at, Math.min(...steps), type, seed);
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    warnings.push(`gradient check (${kind}) could not be completed: ${(e as Error)?.message ?? String(e)}`);
    return undefined;
  } finally {
    ev.setPhase(phase);
  }
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

/**
 * The test hook `TOLLKIT_TEST_FAIL_AFTER_SOLVES` (a non-negative integer): an error injected
 * after that many equilibrium solves, for tests of partial results only (CLI and API runs read it).
 * @throws Error when it is set to anything else
 */
export function testFailAfterSolves(): number | undefined {
  const v = process.env.TOLLKIT_TEST_FAIL_AFTER_SOLVES;
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`tollkit: TOLLKIT_TEST_FAIL_AFTER_SOLVES="${v}" (expected an integer ≥ 0)`);
  return n;
}
