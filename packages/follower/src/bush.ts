/**
 * The bush-based (origin-based) high-precision follower algorithm: Algorithm B (Dial 2006) for
 * user equilibrium and system optimum, with user classes (one bush per class and origin),
 * tolls, stopping rules, warm starts from earlier bushes, a convergence report, progress
 * reports and cancellation. The engine is in `./bush/engine.ts`, the storage in
 * `./bush/store.ts`.
 *
 * Convergence report: one row per iteration (bush updates + flow-shift passes + an exact gap
 * measurement), preceded for a warm start by row 0, the starting point (a warm start that is
 * already good enough stops there, after 0 iterations). The relative gap of every row is exact
 * (true shortest paths), so it is the gap of {@link relativeGap}.
 */

import { AonLoader, Network } from "@tollkit/graph-core";
import type { ElasticDemandData } from "./bush/demand-step.js";
import { BushEngine } from "./bush/engine.js";
import { BushState, isBushState } from "./bush/store.js";
import { classGapNote, CostModel, resultMeasures } from "./cost-model.js";
import { resolveFollowerOptions, ResolvedFollowerOptions } from "./options.js";
import { FollowerOptions, FollowerResult, IterationRecord, StopReason, WarmStart } from "./types.js";

export type { BushState, StoredBush } from "./bush/store.js";
export { isBushState } from "./bush/store.js";

/**
 * Flow-shift passes after each pass of bush updates (TAP-B's "inner iterations"). A pass visits
 * only the bushes whose last largest label difference is at least {@link ACTIVE_FRACTION} of the
 * largest among all bushes: the work goes where the disequilibrium is.
 */
const INNER_PASSES = 40;
/**
 * With elastic demand, the demand step of a bush (`./bush/demand-step.ts` in the reduced form that
 * `ElasticDemandProblem` uses, `./bush/excess-demand.ts` on an augmented network's excess links)
 * runs before its road shifts in an iteration's first pass (in the first iteration on every bush,
 * later on the bushes whose demand residual at their last visit was at least
 * {@link ACTIVE_FRACTION} of the last pass's largest residual: Chicago-Sketch 11 iterations
 * instead of 12–13, with fewer steps), and in every this-many-th flow-shift pass after it
 * (0, 2, 4, …): the trips follow the road costs as they settle, at the cost of one bush-wide
 * update each (measured in `bench/elastic.bench.ts`; every 2nd pass against every 5th, each in a
 * process of its own: Berlin-Center 6 iterations and 20.0 s against 7 and 25.4 s, Chicago-Sketch
 * 10 iterations against 11 in about the same time; every 3rd: 13 on Chicago-Sketch).
 */
const DEMAND_PASS_EVERY = 2;
const ACTIVE_FRACTION = 0.3;
/**
 * With several classes, a bush whose largest label difference stayed within this fraction of
 * itself over a whole pass is trading places with a bush of another class (their fixed costs
 * differ, so each undoes the other's shift and the total flows stand still: `./bush/joint.ts`
 * resolves this within one origin, not across origins). Such a bush is still visited but does not
 * set the next pass's threshold, which would otherwise leave every other bush out of the passes.
 */
const TRADING_FRACTION = 1e-3;
/**
 * With elastic demand, a flow-shift pass also visits the bushes whose demand residual (the largest
 * |road cost − inverse demand| of a destination, `BushLabels.demandResidual`) is at least
 * {@link ACTIVE_FRACTION} of the largest residual of either kind, and runs the demand step in
 * other passes too on the bushes whose demand residual is at least this multiple of that
 * threshold (the demand furthest from equilibrium): Sioux Falls and Berlin-Center then converge in
 * about as many iterations as with fixed demand (measured in `bench/elastic.bench.ts`). It also runs
 * on a bush visited for its demand residual that is at least its road residual: there the demand is
 * what is out of equilibrium, and a road shift alone would leave it as it was (late iterations are
 * limited by the demand: Chicago-Sketch's and Berlin-Center's gaps are then 95–100 % trips not made
 * at a cost other than the road's; Berlin-Center 6 iterations instead of 7).
 */
const DEMAND_FURTHEST = 3;
/**
 * Stall rule, so that a gap below what floating point allows cannot run forever: the run has
 * stalled when its best gap is older than the number of iterations it took to reach it, and at
 * least this many iterations (the gap of Algorithm B is not monotone).
 */
const STALL_WINDOW = 10;
/**
 * The stall window with several classes: while classes re-sort (after a small toll change, say)
 * the gap can climb and stay up for more than ten iterations far above rounding level (Sioux Falls,
 * two classes, a toll of 0.01 from the untolled equilibrium: 4.9e-7 at iteration 1, then about
 * 4e-6 for ten iterations, then down to 1e-13), which is not a stall.
 */
const CLASSES_STALL_WINDOW = 40;
/**
 * Cross-origin PAS shifts (`./bush/pas.ts`): once the relative gap is below {@link PAS_FROM_GAP},
 * a bush's shift in an iteration's first pass offers its two segments to the PAS set when its
 * label difference is at least this fraction of the bush's own largest difference at its last
 * visit…
 */
const PAS_OFFER_FRACTION = 0.5;
/** … and at least this fraction of the largest difference of the last iteration's last pass. */
const PAS_OFFER_FLOOR = 0.03;
/**
 * The relative gap below which PASes are offered. Before it, bushes change too much between
 * iterations for a pair to stay useful (Chicago-Sketch SO: 3,500–5,500 PASes per iteration from
 * iteration 2 on, a third more time for the same iterations).
 */
const PAS_FROM_GAP = 1e-4;
/**
 * With several classes, the relative gap below which a user equilibrium's bush updates keep every
 * measured shortcut candidate that leaves the bush acyclic (`BushEngine.keepMeasuredShortcuts`:
 * Chicago-Sketch with two classes 11 iterations instead of 15). Not before it (Chicago-Sketch to
 * 1e-4: the same 4 iterations, ~7 % more time with the candidates kept from the start), nor for
 * the system optimum (Barcelona SO: the same 10 iterations, ~30 % more time), nor for one class
 * (Chicago-Sketch 11 iterations either way; the bushes' extra links without flow shortened a Sioux
 * Falls toll sensitivity range below its test's finite-difference step).
 */
const SHORTCUTS_FROM_GAP = 1e-4;
/** A PAS sweep leaves alone the PASes whose classes prefer a segment by less than this fraction of the pass's activity threshold. */
const PAS_SWEEP_FRACTION = 1;
/** Wall time (ms) between two yields to the event loop in {@link solveBushAsync}. */
const YIELD_MS = 25;

/**
 * Elastic demand in the reduced form (`./bush/demand-step.ts`): the run solves the road network
 * with per-bush trips not made, and reports on the augmented network (`./elastic/bush.ts`).
 */
export interface ElasticBushRun {
  data: ElasticDemandData;
  /**
   * The result's measures from the engine's bushes; `classSptt`: the engine's last exact
   * measurement at these flows (road or not travelling, whichever is cheaper), which is the
   * augmented network's SPTT, or undefined to measure it afresh. The totals (total cost, SPTT,
   * gaps, Beckmann) are the augmented network's; the per-link arrays are the augmented network's,
   * or the road network's (`model`: the run's road cost model) where the hooks can give the
   * augmented ones later. `augmentedClassFlows`: per class, the augmented network's link flows
   * (the warm start's).
   */
  measures(
    engine: BushEngine,
    model: CostModel,
    classSptt?: ArrayLike<number>,
  ): { measures: ReturnType<typeof resultMeasures>; augmentedClassFlows: Float64Array[] };
  /**
   * The bushes as a warm-start state of the augmented network, built when first read: the
   * function holds the engine's bushes (not the engine), which no one changes after the run.
   */
  state(engine: BushEngine): () => BushState;
  /** The transformed problem's potential (Beckmann plus Σ∫W) at the engine's flows. */
  potential(engine: BushEngine): number;
}

/** One run of the bush algorithm: state between iterations, driven by {@link solveBush} or {@link solveBushAsync}. */
class BushRun {
  readonly opts: ResolvedFollowerOptions;
  readonly model: CostModel;
  readonly engine: BushEngine;
  readonly loader: AonLoader;
  readonly warnings: string[] = [];
  readonly convergence: IterationRecord[] = [];
  readonly t0: number;
  iteration = 0;
  stopReason: StopReason | undefined;
  private firstGap = NaN;
  private bestGap = Infinity;
  private bestAt = 0;
  /** True when the solve started from an earlier solve's bushes or flows. */
  private warm = false;
  /**
   * True while the flows are those of the last measurement ({@link record}, exact shortest
   * distances): the result then takes its SPTT from it instead of a second shortest-path pass.
   */
  private measured = false;

  constructor(
    readonly net: Network,
    options: FollowerOptions,
    readonly elastic: ElasticBushRun | null = null,
  ) {
    this.t0 = performance.now();
    this.opts = resolveFollowerOptions(net, options);
    this.model = new CostModel(net, this.opts.classes, this.opts.tolls, this.opts.objective);
    this.model.checkCosts();
    this.engine = new BushEngine(this.model, elastic?.data ?? null);
    this.engine.initialExcess = this.opts.initialTripsNotMade ?? null;
    this.loader = new AonLoader(this.model.compiled);
    this.start();
  }

  private start(): void {
    const warm = this.opts.warmStart;
    const sp = this.loader.sp;
    this.warm = warm !== undefined;
    if (warm && isBushState(warm.state) && this.fits(warm.state)) {
      const consume = this.opts.consumeWarmStart === true;
      const stored = warm.state.bushes;
      const { rejected, built } = this.engine.adopt(stored, sp, consume);
      // handed over: the caller's warm start no longer holds bushes (its flows stay)
      if (consume) warm.state = undefined;
      if (rejected > 0 || built > 0)
        this.warnings.push(
          `warm start: ${rejected} of ${stored.length} bushes did not fit this problem (demand, links or zones differ) and ${built} bushes were started from shortest paths`,
        );
      return;
    }
    if (warm) {
      if (warm.state !== undefined)
        this.warnings.push(
          "warm start: the state is not from a bush solve of this network; started new bushes at the costs of the warm-start flows",
        );
      // costs at the warm-start flows, then shortest-path trees at those costs
      this.model.totalFlow(warm.classFlows, this.engine.x);
      this.engine.refreshAll();
      this.engine.initialise(sp, false);
      this.engine.recompute();
      return;
    }
    this.engine.initialise(sp, true);
  }

  private fits(s: BushState): boolean {
    const n = this.net;
    return (
      s.nodeCount === n.nodeCount && s.linkCount === n.linkCount && s.zoneCount === n.zoneCount && s.classCount === this.opts.classes.length
    );
  }

  private elapsedMs(): number {
    return performance.now() - this.t0;
  }

  /** True when a stopping rule other than the gap says stop now (checked between bushes). */
  interrupted(): boolean {
    if (this.opts.signal?.aborted) {
      this.stopReason = "cancelled";
      return true;
    }
    const s = this.opts.maxSeconds;
    if (s !== undefined && this.elapsedMs() >= s * 1000) {
      this.stopReason = "seconds";
      return true;
    }
    return false;
  }

  private record(): boolean {
    const g = this.engine.measure();
    this.measured = true;
    const elapsedMs = this.elapsedMs();
    if (Number.isNaN(this.firstGap)) this.firstGap = g.relativeGap;
    this.convergence.push({
      iteration: this.iteration,
      relativeGap: g.relativeGap,
      step: NaN,
      conjugateWeights: [],
      objective: this.elastic !== null ? this.elastic.potential(this.engine) : this.model.potential(this.engine.x, this.engine.classFlows),
      elapsedMs,
    });
    const { gap, maxIterations, maxSeconds } = this.opts;
    if (this.iteration > 0)
      this.opts.onProgress?.({
        iteration: this.iteration,
        relativeGap: g.relativeGap,
        elapsedMs,
        fraction: this.fraction(g.relativeGap, elapsedMs),
      });
    if (g.relativeGap < this.bestGap) {
      this.bestGap = g.relativeGap;
      this.bestAt = this.iteration;
    }
    if (gap !== undefined && g.maxClassGap <= gap)
      this.stopReason = "gap"; // every class reached the target
    else if (this.iteration - this.bestAt >= Math.max(this.engine.K > 1 ? CLASSES_STALL_WINDOW : STALL_WINDOW, this.bestAt))
      this.stopReason = "stalled";
    else if (maxIterations !== undefined && this.iteration >= maxIterations) this.stopReason = "iterations";
    else if (maxSeconds !== undefined && elapsedMs >= maxSeconds * 1000) this.stopReason = "seconds";
    else if (this.opts.signal?.aborted) this.stopReason = "cancelled";
    return this.stopReason !== undefined;
  }

  private lastGap(): number {
    const c = this.convergence;
    return c.length > 0 ? c[c.length - 1].relativeGap : Infinity;
  }

  private fraction(gap: number, elapsedMs: number): number {
    const o = this.opts;
    let f = 0;
    if (o.maxIterations !== undefined) f = Math.max(f, this.iteration / o.maxIterations);
    if (o.maxSeconds !== undefined) f = Math.max(f, elapsedMs / (1000 * o.maxSeconds));
    if (o.gap !== undefined && this.firstGap > o.gap && gap > 0)
      f = Math.max(f, Math.log(this.firstGap / gap) / Math.log(this.firstGap / o.gap));
    else if (o.gap !== undefined && gap <= o.gap) f = 1;
    return Math.min(1, Math.max(0, f));
  }

  /** The algorithm as a sequence of steps: it yields after every bush visited. */
  *steps(): Generator<void, void, void> {
    // a warm start may already be good enough: measure it (row 0) before any work
    if (this.warm && this.record()) return;
    const e = this.engine;
    const diff = new Float64Array(e.bushes.length);
    // per bush, the demand residual its last road shift measured (0 without excess-demand links)
    const demandDiff = new Float64Array(e.bushes.length);
    const pas = e.pas;
    // the largest label difference of the last pass (the PAS offers' floor)
    let lastMost = Infinity;
    for (;;) {
      this.iteration++;
      this.measured = false;
      const bushes = e.bushes;
      let most = 0;
      let mostDemand = 0;
      if (pas !== null) pas.iteration = this.iteration;
      const offering = this.iteration > 1 && this.lastGap() < PAS_FROM_GAP;
      e.keepMeasuredShortcuts = e.K > 1 && !e.so && this.lastGap() < SHORTCUTS_FROM_GAP;
      for (let i = 0; i < bushes.length; i++) {
        const b = bushes[i];
        if (b.needsUpdate) e.update(b);
        if (pas !== null) pas.offerAbove = offering ? Math.max(PAS_OFFER_FRACTION * diff[i], PAS_OFFER_FLOOR * lastMost) : Infinity;
        // the demand step where the bush's demand residual at its last visit was not below the
        // inner passes' activity threshold at the end of the last iteration
        const demand = this.iteration === 1 || demandDiff[i] >= ACTIVE_FRACTION * lastMost;
        const d = (diff[i] = demand ? e.shiftWithDemand(b) : e.shift(b));
        const dd = (demandDiff[i] = e.demandResidual);
        if (d > most) most = d;
        if (dd > mostDemand) mostDemand = dd;
        yield;
      }
      const classes = e.K > 1;
      if (pas !== null) {
        // every bush updated: the PASes' participants hold until the next iteration's updates
        pas.offerAbove = Infinity;
        pas.build(bushes, e.der);
        pas.sweep(bushes, e, Math.max(most, mostDemand) * ACTIVE_FRACTION * PAS_SWEEP_FRACTION);
        yield;
      }
      for (let r = 0; r < INNER_PASSES; r++) {
        const threshold = Math.max(most, mostDemand) * ACTIVE_FRACTION;
        most = 0;
        mostDemand = 0;
        for (let i = 0; i < bushes.length; i++) {
          const before = diff[i];
          if (before < threshold && demandDiff[i] < threshold) continue;
          const dd0 = demandDiff[i];
          const demand = r % DEMAND_PASS_EVERY === 0 || dd0 >= DEMAND_FURTHEST * threshold || (dd0 >= threshold && dd0 >= before);
          const d = (diff[i] = demand ? e.shiftWithDemand(bushes[i]) : e.shift(bushes[i]));
          const dd = (demandDiff[i] = e.demandResidual);
          if (d > most && !(classes && Math.abs(d - before) <= TRADING_FRACTION * d)) most = d;
          if (dd > mostDemand) mostDemand = dd;
          yield;
        }
        if (pas !== null) {
          pas.sweep(bushes, e, threshold * PAS_SWEEP_FRACTION);
          pas.sweepPairs(bushes, e, threshold * PAS_SWEEP_FRACTION);
          yield;
        }
      }
      lastMost = Math.max(most, mostDemand);
      if (this.record()) return;
    }
  }

  result(): FollowerResult {
    const e = this.engine;
    e.recompute();
    const em = this.elastic !== null ? this.elastic.measures(e, this.model, this.measured ? e.classSptt : undefined) : null;
    const ms = em?.measures ?? resultMeasures(this.model, e.classFlows, this.loader, this.measured ? e.classSptt : undefined);
    const { gap } = this.opts;
    const converged = gap !== undefined && ms.relativeGap <= gap && ms.classes.every((c) => c.relativeGap <= gap);
    const stopReason = this.stopReason ?? "iterations";
    if (gap !== undefined && !converged)
      this.warnings.push(
        `relative gap ${ms.relativeGap.toExponential(3)}${classGapNote(ms.classes, gap)} did not reach the target ${gap} (stopped by ${stopReason} after ${this.iteration} iterations, ${(this.elapsedMs() / 1000).toFixed(2)} s)`,
      );
    if (stopReason === "stalled")
      this.warnings.push(
        `follower/bush: stalled at rounding level (best relative gap ${this.bestGap.toExponential(3)} at iteration ${this.bestAt}); stopped after ${this.iteration} iterations`,
      );
    if (stopReason === "cancelled") this.warnings.push(`cancelled after ${this.iteration} iterations; the flows are those reached so far`);
    const warmStart: WarmStart = { classFlows: em !== null ? em.augmentedClassFlows : ms.classes.map((c) => c.flows) };
    if (this.elastic !== null) lazyState(warmStart, this.elastic.state(e));
    else
      warmStart.state = {
        kind: "tollkit-bush",
        version: 1,
        nodeCount: this.net.nodeCount,
        linkCount: this.net.linkCount,
        zoneCount: this.net.zoneCount,
        classCount: this.opts.classes.length,
        bushes: e.bushes.map((b) => ({ cls: b.cls, zone: b.zone, links: b.links.subarray(0, b.len), flows: b.flows.subarray(0, b.len) })),
      } satisfies BushState;
    return {
      network: this.net.name,
      algorithm: "bush",
      objective: this.opts.objective,
      converged,
      stopReason,
      iterations: this.iteration,
      ...ms,
      convergence: this.convergence,
      warnings: this.warnings,
      seconds: this.elapsedMs() / 1000,
      warmStart,
    };
  }
}

/**
 * Gives `warmStart` a `state` made by `make` when first read (an ordinary enumerable property to
 * every reader: spread, JSON and structured clone read it; assigning it replaces it), so that a
 * solve whose caller never warm-starts from it does not pay for it (the elastic-demand mapping to
 * the augmented network: ~50 ms on Chicago-Sketch).
 */
function lazyState(warmStart: WarmStart, make: () => unknown): void {
  let build: (() => unknown) | null = make;
  let value: unknown;
  Object.defineProperty(warmStart, "state", {
    enumerable: true,
    configurable: true,
    get(): unknown {
      if (build !== null) {
        value = build();
        build = null;
      }
      return value;
    },
    set(v: unknown): void {
      build = null;
      value = v;
    },
  });
}

/**
 * Solves the follower problem (user equilibrium or system optimum, one or more user classes,
 * tolls) with the bush-based Algorithm B, to high precision (relative gaps of 1e-10 and below).
 * Synchronous: the AbortSignal is honoured between bushes when it is already aborted (e.g. by an
 * onProgress callback); use {@link solveBushAsync} to let timers and other events abort it.
 *
 * Warm start: `options.warmStart.state` from an earlier bush result's `warmStart` (its bushes,
 * copied, never modified) restarts from those bushes; a state that does not fit (other network,
 * demand or classes) is reported in `warnings`. Warm-start flows alone (no bush state) give the
 * costs at which the first bushes are built.
 * @param net the network (its demand and cost weights give the default single class)
 * @param options algorithm options: at least one of gap, maxIterations, maxSeconds
 * @param elastic elastic demand in the reduced form (`./elastic/bush.ts`): `net` is then the road
 *   network with the classes' demand q̄, and the result is that of the augmented network
 * @returns the follower result; `warmStart.state` holds the final bushes (a {@link BushState})
 * @throws InputError on invalid options, negative generalised costs, or demand that cannot be routed
 */
export function solveBush(net: Network, options: FollowerOptions, elastic: ElasticBushRun | null = null): FollowerResult {
  const run = new BushRun(net, options, elastic);
  const it = run.steps();
  while (!it.next().done) {
    if (run.interrupted()) break;
  }
  return run.result();
}

/**
 * Like {@link solveBush}, but yields to the event loop every few tens of milliseconds so that an
 * AbortSignal (and anything else waiting) can act during the solve.
 * @throws InputError as {@link solveBush}
 */
export async function solveBushAsync(
  net: Network,
  options: FollowerOptions,
  elastic: ElasticBushRun | null = null,
): Promise<FollowerResult> {
  const run = new BushRun(net, options, elastic);
  const it = run.steps();
  let last = performance.now();
  while (!it.next().done) {
    if (performance.now() - last > YIELD_MS) {
      await new Promise<void>((r) => setImmediate(r));
      last = performance.now();
    }
    if (run.interrupted()) break;
  }
  return run.result();
}
