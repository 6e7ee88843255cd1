/**
 * The evaluator: the leader's only way to ask the followers. It turns decision variables into
 * link tolls, solves the tolled user equilibrium (warm-started from a nearby solve), measures
 * TSTT, revenue and welfare under the true tolls, and — when asked — their gradients from the
 * follower's equilibrium sensitivities. It counts every equilibrium solve by phase.
 *
 * Ties: only links with a constant cost can make the follower's link flows non-unique. When the
 * network has such links, every solve perturbs their generalised cost by a tiny amount
 * (η = 1e-6 of the largest constant link time) in the direction of the leader's interest in
 * flow on that link (its merit's coefficient w_a): the optimistic follower sees c_a + η·w_a/|w|
 * and so breaks ties in the leader's favour, the pessimistic one c_a − η·w_a/|w|. The
 * perturbation is passed as a toll and then removed: measures always use the true tolls.
 *
 * Warm starts and memory. Every solve starts from the bushes of the nearest earlier solve that
 * still holds them (nearest in link tolls, Euclidean; an explicit `warm` evaluation is used when
 * its bushes are still held). Bushes are the large part of a solve (Berlin-Center: ~100 MB), so
 * only the newest solve ({@link WARM_POOL}) and the pinned warm start (a search's current
 * iterate, or the no-toll baseline before the search) keep them. Older results keep their link and class flows (a flow warm
 * start would need new bushes, so it is only the fallback) and are dropped from the cache
 * oldest-first beyond a bound of about {@link CACHE_BYTES} of flow arrays, never the best
 * design found so far. Before a solve, every pooled result but its warm start and the pinned one
 * lets go of its bushes (the pool after the solve would not keep them), and the follower's
 * sensitivities read the bushes of the result they differentiate without copying them. Peak
 * memory is thus a plain solve's plus at most two sets of stored bushes (the warm start and the
 * pinned iterate, often the same), flat along the search.
 */

import {
  adjointTollGradient,
  AdjointTollGradient,
  CostModel,
  defaultNearStep,
  ElasticDemandProblem,
  equilibriumSensitivity,
  FollowerOptions,
  FollowerResult,
  isBushState,
  solve,
  UserClass,
} from "@tollkit/follower";
import { elasticAdjointGradient, elasticSensitivity, ElasticSensitivity, isElasticResult } from "./elastic-demand.js";
import { CompiledVdf, isFlowDependent, Network } from "@tollkit/graph-core";
import { applyVariables, Instrument } from "./instrument.js";
import { LeaderMeasures, leaderMeasures, MeasureGradients, Merit, objectiveSign, objectiveValue } from "./objectives.js";
import { FollowerSpec, TieRule } from "./scenario.js";

/** One evaluated design: the decision variables, the equilibrium and its measures. */
export interface Evaluation {
  /** Decision variables (money). */
  z: Float64Array;
  /** Full link tolls (money), the true ones. */
  tolls: Float64Array;
  /** The tolled equilibrium (solved with the tie-breaking perturbation when ties can occur). */
  eq: FollowerResult;
  ms: LeaderMeasures;
  /**
   * Gradients with respect to z, when they were asked for: for an increase of each toll
   * (`grads`) and for a decrease (`gradsLeft`); they differ only at degenerate points.
   */
  grads?: MeasureGradients;
  gradsLeft?: MeasureGradients;
  /** Per variable: the sensitivity reported a degenerate point (a route at the margin of use, or a jump). */
  degenerate?: boolean[];
  /**
   * Per variable: the sensitivity reported a nearly degenerate point (a route starts or stops
   * being used within a toll change of {@link EvaluatorSettings.sensitivityStep}).
   */
  nearDegenerate?: boolean[];
  /** Per variable: how far (money) the derivative for an increase (`range`) and a decrease (`rangeLeft`) holds. */
  range?: Float64Array;
  rangeLeft?: Float64Array;
  /**
   * How the gradients were computed: "adjoint" when the single-link variables' came from one
   * adjoint solve per measure (a point that is not degenerate; their ranges are then NaN), "directional" when every variable was differentiated on its own.
   */
  gradientMethod?: "adjoint" | "directional";
  /** The tie rule the follower followed (null: ties cannot occur). */
  rule: TieRule | null;
  /** Serial number of the solve that produced it (1-based). */
  solve: number;
}

/** Where the gradients come from (reported in the diagnostics). */
export type GradientSource = "equilibrium-sensitivity";

/** Progress of a design run. */
export interface DesignProgress {
  phase: string;
  /** Equilibrium solves so far (all phases). */
  solves: number;
  /** Objective value (natural units) of the last evaluation. */
  value?: number;
  message?: string;
}

export interface EvaluatorSettings {
  net: Network;
  classes: UserClass[];
  instrument: Instrument;
  /** Tolls on links outside the instrument (money per link). */
  background: Float64Array;
  follower: FollowerSpec;
  /** Elastic demand (the scenario's `demand`): every solve goes through this problem. Default: fixed demand. */
  elastic?: ElasticDemandProblem;
  merit: Merit;
  rule: TieRule;
  signal?: AbortSignal;
  onProgress?: (p: DesignProgress) => void;
  /**
   * The toll change (money) below which a kink makes a variable nearly degenerate (passed to the
   * follower's sensitivity as `step`); default the follower's (1e-4 of the average trip cost).
   */
  sensitivityStep?: number;
  /**
   * Test hook: the solve after this many equilibrium solves throws an Error (as a failure
   * inside the follower would), to test that a design keeps its finished work. Never set it
   * outside tests.
   */
  failAfterSolves?: number;
  /**
   * Which measures the adjoint gradients are computed for: "merit" (default) only those the
   * merit reads — the objective (welfare: from TSTT and Σ len·x) and, with a revenue floor, the
   * revenue — one derivative solve each, the others NaN; "all" TSTT, revenue and welfare.
   * Directional derivatives always give all three.
   */
  gradientMeasures?: "merit" | "all";
}

/**
 * Relative gap to which an equilibrium is re-solved (warm, from its own bushes) before its
 * gradient is taken again when the adjoint finds it degenerate at a looser gap: a route at the
 * margin of use there may be an artefact of the gap (Chicago-Sketch, 20 links at gap 1e-8: a
 * zero-flow detour within the tight tolerance at 1.8e-9 carries 0.025 vehicles at 1e-12).
 */
export const DEGENERATE_REGAP = 1e-12;

/** Number of solve results that keep their bushes (see the module comment). */
export const WARM_POOL = 1;
/** Bytes of flow arrays the evaluation cache may hold before it drops its oldest entries. */
export const CACHE_BYTES = 64e6;

/** Decision variables → equilibria, with caching, warm starts and solve counting. */
export class Evaluator {
  /** Equilibrium solves so far, in total and by phase. */
  solves = 0;
  readonly solvesByPhase: Record<string, number> = {};
  private currentPhase = "setup";
  private phaseStart = performance.now();
  /** Wall time (seconds) spent in each phase so far. */
  readonly secondsByPhase: Record<string, number> = {};
  /** A note on the current step of the phase, shown in the history (e.g. the augmented-Lagrangian state). */
  note?: string;
  readonly warnings = new Set<string>();
  /** Gradient evaluations at a nearly degenerate point (a kink in the response within a tiny toll change), with one example. */
  readonly nearDegenerate: { count: number; example?: string } = { count: 0 };
  /** Gradient evaluations by method: adjoint (single-link variables at a non-degenerate point) or directional only. */
  readonly gradientsByMethod = { adjoint: 0, directional: 0 };
  /**
   * Gradient evaluations whose equilibrium the adjoint found degenerate at a gap above
   * {@link DEGENERATE_REGAP} and that were re-solved to it first (`resolved`), and of those,
   * how many were still degenerate there (`degenerate`; they fall back to directional derivatives).
   */
  readonly regapped = { resolved: 0, degenerate: 0 };
  /** Solves that stopped before reaching the gap target. */
  readonly unconverged: { count: number; worstGap: number; example?: string } = { count: 0, worstGap: 0 };
  /** True when the network has constant-cost links (ties can occur). */
  readonly tiesPossible: boolean;
  readonly constantLinks: Int32Array;
  /** Travel time of each constant-cost link (same order as `constantLinks`). */
  private readonly constantTimes: Float64Array;
  readonly gradientSource: GradientSource;
  private readonly cache = new Map<string, Evaluation>();
  /** Most evaluations the cache keeps (from {@link CACHE_BYTES} and the network's size). */
  private readonly cacheLimit: number;
  private last?: Evaluation;
  /** Solve results that still hold their bushes, newest last (at most {@link WARM_POOL} plus `pinned`). */
  private pool: FollowerResult[] = [];
  /** The latest explicit warm start (kept in the pool). */
  private pinned?: FollowerResult;
  /**
   * The equilibrium the design reports (set once its search has ended): its bushes are never
   * released, since the run's skims, select-link and stored bushes are read from them, whatever
   * the gradient check and the tie report solve after it.
   */
  private reported?: FollowerResult;
  /** The best evaluation so far under the scenario's tie rule (feasible ones first), see {@link bestSoFar}. */
  private best?: Evaluation;
  private readonly tieScale: number;
  private readonly refTollFactor: number;

  constructor(readonly s: EvaluatorSettings) {
    const net = s.net;
    const cl: number[] = [];
    for (let a = 0; a < net.linkCount; a++) if (!isFlowDependent(net, a)) cl.push(a);
    this.constantLinks = Int32Array.from(cl);
    this.tiesPossible = cl.length > 0;
    let cmax = 0;
    const vdf = new CompiledVdf(net.links);
    this.constantTimes = Float64Array.from(cl, (a) => vdf.time(a, 0));
    for (const t of this.constantTimes) cmax = Math.max(cmax, t);
    this.tieScale = 1e-6 * Math.max(1, cmax);
    this.refTollFactor = Math.max(...s.classes.filter((c) => c.tolled).map((c) => c.tollFactor));
    this.gradientSource = "equilibrium-sensitivity";
    // per evaluation: total, time, toll and per-class flow and cost arrays, and the tolls
    const bytes = 8 * net.linkCount * (4 + 3 * s.classes.length);
    this.cacheLimit = Math.max(16, Math.min(10_000, Math.floor(CACHE_BYTES / bytes)));
  }

  /**
   * The best design evaluated so far under the scenario's tie rule: the lowest merit-free
   * objective (sign-adjusted) among the designs that meet the revenue floor, or among all when
   * none does. Undefined before the first evaluation. This is what a run reports when it stops
   * early on an error.
   */
  bestSoFar(): Evaluation | undefined {
    return this.best;
  }

  /** Keeps `e` as the best so far when it is better (see {@link bestSoFar}). */
  private consider(e: Evaluation): void {
    const rule = this.tiesPossible ? this.s.rule : null;
    if (e.rule !== rule || e.z.length !== this.s.instrument.variables.length) return;
    const m = this.s.merit;
    const b = this.best;
    if (!b) {
      this.best = e;
      return;
    }
    const fe = m.feasible(e.ms);
    const fb = m.feasible(b.ms);
    const sign = objectiveSign(m.type);
    if ((fe && !fb) || (fe === fb && sign * objectiveValue(m.type, e.ms) < sign * objectiveValue(m.type, b.ms))) this.best = e;
  }

  /** Adds an evaluation to the cache, dropping the oldest ones beyond the bound (never the best or the last). */
  private store(key: string, e: Evaluation): void {
    this.cache.set(key, e);
    this.consider(e);
    if (this.cache.size <= this.cacheLimit) return;
    for (const [k, v] of this.cache) {
      if (this.cache.size <= this.cacheLimit) break;
      if (v === this.best || v === this.last || v === e) continue;
      this.cache.delete(k);
    }
  }

  /**
   * Registers a new solve result as the newest holder of bushes and releases the bushes of the
   * results that are neither among the {@link WARM_POOL} newest nor the pinned warm start. A
   * system-optimum result is not pooled (its caller owns its bushes): it is no warm start for a
   * user equilibrium unless asked for explicitly.
   */
  private hold(eq: FollowerResult): void {
    if (eq.objective !== "ue") return;
    this.pool.push(eq);
    const keep = new Set<FollowerResult>(this.pool.slice(-WARM_POOL));
    if (this.pinned) keep.add(this.pinned);
    for (const r of this.pool) if (!keep.has(r)) this.release(r);
    this.pool = this.pool.filter((r) => keep.has(r));
  }

  /**
   * Releases the bushes of every pooled result and of the pinned warm start except `keep`'s, and
   * unpins: for a phase whose solves start from `keep` alone (the first-best check from the
   * system optimum), so that no other set of bushes is alive beside it and the solve's own.
   */
  releaseBushesExcept(keep: FollowerResult): void {
    if (this.pinned && this.pinned !== keep) this.release(this.pinned);
    this.pinned = undefined;
    this.releaseAllBut(keep);
  }

  /**
   * Keeps `eq`'s bushes for the design's results from now on (see {@link reported}): the phases
   * after the search (gradient check, polish, ties) may let go of every other set.
   */
  keepReported(eq: FollowerResult): void {
    const old = this.reported;
    this.reported = eq;
    // an earlier reported equilibrium (before a polish found a better design) is no longer kept
    if (old && old !== eq && old !== this.pinned && !this.pool.includes(old)) release(old);
  }

  /**
   * Makes `eq`, a re-solve at `e`'s own tolls (the gradient check's solve of the checked point),
   * the reported equilibrium in place of `e`'s, when `e`'s is the reported one and `eq` is at
   * least as well converged (it reached its own gap target, or a relative gap no larger). `e` is
   * updated in place — its equilibrium, its measures and its solve number — so the cache, the
   * best so far and the design's result all report the adopted equilibrium; the old one's bushes
   * go as soon as it is neither pinned nor pooled. The gradients stay those of the old equilibrium
   * (the same tolls, within the search's gap). This keeps two sets of bushes alive in the check
   * instead of three (Berlin-Center cordon: the reported set, the checked point's, the point
   * solve's own; peak RSS 2.24× a plain assign's).
   * @returns true when adopted
   */
  adoptReported(e: Evaluation, eq: FollowerResult): boolean {
    if (e.eq !== this.reported) return false;
    return this.adopt(e, eq);
  }

  /**
   * Makes `eq`, a re-solve at `e`'s own tolls, `e`'s equilibrium when it is at least as well
   * converged and solved with the same (perturbed) tolls (see {@link adoptReported}), or
   * whenever `e`'s has let go of its bushes and `force` is set (they were given to that
   * re-solve): `e`'s equilibrium, measures and solve number are replaced in place, and the
   * reported equilibrium follows when it was `e`'s.
   * @returns true when adopted
   */
  private adopt(e: Evaluation, eq: FollowerResult, force = false): boolean {
    const old = e.eq;
    if (eq === old || eq.objective !== old.objective || !holdsBushes(eq)) return false;
    // `old` gave its bushes to the re-solve: that is the equilibrium there is (as when a released
    // evaluation is solved again for its gradient, even where the tie perturbation has moved with
    // the revenue floor's multiplier since)
    if (!(force && !holdsBushes(old))) {
      if (eq.tolls.length !== old.tolls.length || eq.tolls.some((t, a) => t !== old.tolls[a])) return false;
      if (!(eq.converged || Math.abs(eq.relativeGap) <= Math.abs(old.relativeGap))) return false;
    }
    e.eq = eq;
    e.ms = leaderMeasures(this.s.net, this.s.classes, eq, e.tolls);
    e.solve = this.solves;
    if (old === this.reported) this.keepReported(eq);
    return true;
  }

  /** Lets go of a result's bushes, unless they are the reported equilibrium's. */
  private release(r: FollowerResult): void {
    if (r !== this.reported) release(r);
  }

  /** Releases the bushes of every pooled result except `from` and the pinned warm start. */
  private releaseAllBut(from: FollowerResult | undefined): void {
    const keep = (r: FollowerResult) => r === from || r === this.pinned;
    for (const r of this.pool) if (!keep(r)) this.release(r);
    this.pool = this.pool.filter(keep);
  }

  /**
   * Keeps `e`'s bushes as the pinned warm start — the point the next solves start from (a
   * search's current iterate) — and releases the previous pinned one unless it is among the
   * newest. Searches pin through `evaluate(…, { warm })`; a design pins its no-toll baseline.
   */
  keepWarm(e: Pick<Evaluation, "eq">): void {
    const eq = e.eq;
    if (this.pinned === eq || eq.objective !== "ue" || !holdsBushes(eq)) return;
    const old = this.pinned;
    this.pinned = eq;
    if (!this.pool.includes(eq)) this.pool.push(eq);
    if (old && !this.pool.slice(-WARM_POOL).includes(old)) {
      this.release(old);
      this.pool = this.pool.filter((r) => r !== old);
    }
  }

  /**
   * The warm start for a solve at `tolls`: `preferred`'s bushes when it still holds them, else
   * the pooled result nearest in link tolls (Euclidean), else `preferred`'s flows.
   */
  private warmFor(tolls: Float64Array, preferred?: FollowerResult): FollowerResult | undefined {
    if (preferred && holdsBushes(preferred)) return preferred;
    let best: FollowerResult | undefined;
    let dmin = Infinity;
    for (const r of this.pool) {
      if (!holdsBushes(r)) continue;
      let d = 0;
      for (let a = 0; a < tolls.length; a++) d += (tolls[a] - r.tolls[a]) ** 2;
      if (d < dmin) {
        dmin = d;
        best = r;
      }
    }
    return best ?? preferred;
  }

  /** Warnings of the run so far, with the unconverged solves summarised in one line. */
  allWarnings(): string[] {
    const out = [...this.warnings];
    const nd = this.nearDegenerate;
    if (nd.count > 0)
      out.push(
        `sensitivity: ${nd.count} gradient evaluation(s) at a nearly degenerate equilibrium, where the response bends within a tiny toll change (derivatives are exact at the point but hold only nearby), e.g. ${nd.example}`,
      );
    const u = this.unconverged;
    if (u.count > 0)
      out.unshift(
        `follower: ${u.count} of ${this.solves} equilibrium solves stopped above the gap target ${this.s.follower.gap} (worst relative gap ${u.worstGap.toExponential(2)})${u.example ? `, e.g. ${u.example}` : ""}`,
      );
    return out;
  }

  /** The equilibrium of the last evaluation (a warm start for a related solve). */
  lastEquilibrium(): FollowerResult | undefined {
    return this.last?.eq;
  }

  /** The current phase of the run (solves and seconds are counted under it). */
  get phase(): string {
    return this.currentPhase;
  }

  /** Starts a phase: the time since the last change is added to the previous phase. */
  setPhase(phase: string): void {
    const now = performance.now();
    this.secondsByPhase[this.currentPhase] = (this.secondsByPhase[this.currentPhase] ?? 0) + (now - this.phaseStart) / 1000;
    this.currentPhase = phase;
    this.phaseStart = now;
  }

  /** Adds an evaluation made elsewhere (e.g. the first-best check) to the cache. */
  remember(e: Evaluation): void {
    this.store(this.key(e.z, e.rule), e);
  }

  /** Cached evaluations under the scenario's tie rule that meet the revenue floor ({@link Merit.feasible}), and the best so far when it does. */
  feasibleCandidates(): Evaluation[] {
    const rule = this.tiesPossible ? this.s.rule : null;
    const out = [...this.cache.values()].filter((e) => e.rule === rule && this.s.merit.feasible(e.ms));
    if (this.best && this.s.merit.feasible(this.best.ms) && !out.includes(this.best)) out.push(this.best);
    return out;
  }

  /**
   * True when the follower takes the decision variables z: every link's generalised cost at
   * zero flow is ≥ 0 for every class (a toll below 0 can break that, e.g. on a link with free-flow
   * time 0).
   */
  acceptsTolls(z: ArrayLike<number>): boolean {
    try {
      new CostModel(this.s.net, this.s.classes, this.tollsOf(z), "ue").checkCosts();
      return true;
    } catch {
      return false;
    }
  }

  /** Full link tolls (money) for decision variables z. */
  tollsOf(z: ArrayLike<number>): Float64Array {
    return applyVariables(this.s.instrument, z, this.s.background, new Float64Array(this.s.net.linkCount));
  }

  private key(z: ArrayLike<number>, rule: TieRule | null): string {
    return `${rule ?? "-"}:${Array.from(z).join(",")}`;
  }

  /** The tolls the follower is given: the true tolls plus the tie-breaking perturbation. */
  private perturbed(tolls: Float64Array, rule: TieRule): Float64Array {
    const { net, merit, classes } = this.s;
    const w = new Float64Array(this.constantLinks.length);
    const vot = 1 / this.refTollFactor;
    const d = classes[0].distanceFactor;
    let wmax = 0;
    this.constantLinks.forEach((a, j) => {
      const time = this.constantTimes[j];
      let v: number;
      if (merit.type === "tstt") v = time / merit.scale;
      else if (merit.type === "welfare") v = (vot * (time + d * net.links.length[a])) / merit.scale;
      else v = -tolls[a];
      if (merit.minRevenue !== undefined && merit.minRevenue > 0) v -= (merit.lambda * tolls[a]) / merit.minRevenue;
      w[j] = v;
      wmax = Math.max(wmax, Math.abs(v));
    });
    const out = tolls.slice();
    if (wmax === 0) return out;
    const sgn = rule === "optimistic" ? 1 : -1;
    this.constantLinks.forEach((a, j) => {
      out[a] += (sgn * this.tieScale * w[j]) / wmax / this.refTollFactor;
    });
    return out;
  }

  /**
   * Solves the equilibrium at z (or returns the cached one) and measures it.
   * @param opts.gradient also compute the gradients of the measures with respect to z
   * @param opts.directional with `gradient`: differentiate every variable on its own, one-sided
   *   and with linear ranges (follower `equilibriumSensitivity`), also where the evaluation's
   *   gradients came from the adjoint method; the gradient check (`./check.ts`) asks for this to
   *   compare each variable with finite differences
   * @param opts.rule tie rule (default: the scenario's)
   * @param opts.warm warm-start from this evaluation's bushes when it still holds them (default,
   *   or when it does not: the nearest earlier solve that does)
   * @param opts.handOver with `warm`: its bushes are given to the solve (follower
   *   `consumeWarmStart`) instead of copied, and `warm` keeps its flows and measures only: for a
   *   warm start needed no more (the tie report's optimistic point just below the design), so that
   *   its bushes and the solve's are not alive at once. Never the reported equilibrium's.
   * @throws Error named AbortError when the signal is aborted
   */
  async evaluate(
    z: ArrayLike<number>,
    opts: { gradient?: boolean; directional?: boolean; rule?: TieRule; warm?: Evaluation; handOver?: boolean } = {},
  ): Promise<Evaluation> {
    const rule = this.tiesPossible ? (opts.rule ?? this.s.rule) : null;
    const key = this.key(z, rule);
    let ev = this.cache.get(key);
    if (!ev) {
      ev = await this.evaluateTolls(this.tollsOf(z), { rule: opts.rule, warm: opts.warm, z, handOver: opts.handOver });
      this.store(key, ev);
    }
    this.last = ev;
    const directional = opts.directional === true;
    if (opts.gradient && (!ev.grads || (directional && ev.gradientMethod === "adjoint"))) await this.differentiate(ev, directional);
    return ev;
  }

  /**
   * (Re)computes `e`'s gradients from its equilibrium, which must hold its bushes (e.g. a
   * re-solve of a cached evaluation's tolls at a tighter gap): as {@link evaluate} with
   * `gradient`, and `directional` as there, whatever gradients `e` had.
   */
  async differentiate(e: Evaluation, directional = false): Promise<void> {
    // the sensitivity needs the bushes: re-solve (warm, from the nearest bushes) when they were released
    if (!holdsBushes(e.eq)) e.eq = await this.solveAt(e.tolls, e.rule, { eq: e.eq });
    await this.addGradients(e, directional);
  }

  /**
   * `e` with `eq`, a re-solve at its tolls (the gradient check's solve of z at its own gap), as
   * its equilibrium: `e` itself where `eq` takes the reported equilibrium's place
   * ({@link adoptReported}), else a copy of `e` measured at `eq`.
   */
  resolvedAt(e: Evaluation, eq: FollowerResult): Evaluation {
    return this.adoptReported(e, eq) ? e : { ...e, eq, ms: leaderMeasures(this.s.net, this.s.classes, eq, e.tolls) };
  }

  /**
   * Solves the equilibrium at arbitrary full link tolls (money; not cached) and measures it.
   * @param opts.z the decision variables these tolls stand for (default: none)
   * @param opts.warm warm-start from it (pinned as the search's iterate while it holds bushes);
   *   default the nearest earlier solve
   * @param opts.handOver give `warm`'s bushes to the solve (see {@link evaluate})
   */
  async evaluateTolls(
    tolls: Float64Array,
    opts: { rule?: TieRule; warm?: Pick<Evaluation, "eq">; z?: ArrayLike<number>; handOver?: boolean } = {},
  ): Promise<Evaluation> {
    const rule = this.tiesPossible ? (opts.rule ?? this.s.rule) : null;
    const eq = await this.solveAt(tolls, rule, opts.warm, undefined, true, opts.handOver);
    const ms = leaderMeasures(this.s.net, this.s.classes, eq, tolls);
    return { z: Float64Array.from(opts.z ?? []), tolls, eq, ms, rule, solve: this.solves };
  }

  /**
   * One equilibrium solve at the given true tolls (counted), warm-started from `warm`'s bushes
   * when it holds them, else from the nearest earlier solve's (see the module comment).
   * @param keep false for a throw-away solve (a finite-difference check): its bushes are not pooled
   * @param handOver give `warm`'s bushes to the solve instead of copying them (see {@link evaluate};
   *   not when they are the reported equilibrium's, nor when the solve starts from another's)
   */
  async solveAt(
    tolls: Float64Array,
    rule: TieRule | null,
    warm?: Pick<Evaluation, "eq">,
    gap?: number,
    keep = true,
    handOver = false,
  ): Promise<FollowerResult> {
    if (warm && keep) this.keepWarm(warm);
    const from = this.warmFor(tolls, warm?.eq);
    // the pool after this solve holds it and the pinned warm start (see hold): let the others go
    // now, so that no more than those bushes are alive while the solve builds its own (also
    // before a throw-away solve of the gradient check, which starts from `from` alone)
    this.releaseAllBut(from);
    const give = handOver && from !== undefined && from === warm?.eq && from !== this.reported && holdsBushes(from);
    try {
      return await this.solveFollower(
        {
          tolls: rule ? this.perturbed(tolls, rule) : tolls,
          warmStart: from?.warmStart,
          ...(gap ? { gap } : {}),
          ...(give ? { consumeWarmStart: true } : {}),
        },
        tolls,
        keep,
      );
    } finally {
      if (give) {
        // the follower cleared its state (elastic demand: a reduced copy's, so let go of it here)
        release(from);
        this.pool = this.pool.filter((r) => r !== from);
        if (this.pinned === from) this.pinned = undefined;
      }
    }
  }

  /**
   * One follower solve with the scenario's classes and settings plus `extra` (counted in the
   * current phase, and reported to `onProgress` with the objective value under `trueTolls`).
   * Its bushes join the warm-start pool unless `keep` is false.
   * @throws Error named AbortError when the signal is aborted; the test hook's Error after
   *   {@link EvaluatorSettings.failAfterSolves} solves
   */
  async solveFollower(extra: Partial<FollowerOptions>, trueTolls?: Float64Array, keep = true): Promise<FollowerResult> {
    const { net, classes, follower: fs, signal } = this.s;
    if (signal?.aborted) throw abortError();
    if (this.s.failAfterSolves !== undefined && this.solves >= this.s.failAfterSolves)
      throw new Error(`leader: injected failure after ${this.solves} equilibrium solves (test hook failAfterSolves)`);
    const options: FollowerOptions = {
      algorithm: fs.algorithm,
      gap: fs.gap,
      maxIterations: fs.maxIterations,
      maxSeconds: fs.maxSeconds,
      classes,
      signal,
      ...extra,
    };
    const eq = this.s.elastic ? await this.s.elastic.solve(options) : await solve(net, options);
    if (signal?.aborted || eq.stopReason === "cancelled") throw abortError();
    if (keep) this.hold(eq);
    this.solves++;
    this.solvesByPhase[this.phase] = (this.solvesByPhase[this.phase] ?? 0) + 1;
    if (!eq.converged) {
      this.unconverged.count++;
      this.unconverged.worstGap = Math.max(this.unconverged.worstGap, eq.relativeGap);
      this.unconverged.example ??= eq.warnings[0];
    } else for (const w of eq.warnings) this.warnings.add(`follower (${this.phase}): ${w}`);
    if (this.s.onProgress) {
      const value = trueTolls ? objectiveValue(this.s.merit.type, leaderMeasures(this.s.net, this.s.classes, eq, trueTolls)) : undefined;
      this.s.onProgress({ phase: this.phase, solves: this.solves, value });
    }
    return eq;
  }

  /**
   * The adjoint gradients at `ev`'s equilibrium of the measures the merit reads (see
   * {@link EvaluatorSettings.gradientMeasures}; the others NaN), for the single-link variables
   * `single`: `gradients` are [TSTT, revenue] and, for welfare with one class and a distance
   * cost, Σ len·x; with elastic demand `welfare` carries the welfare gradient.
   */
  private adjointAt(
    ev: Evaluation,
    single: Instrument["variables"],
    elastic: ElasticDemandProblem | undefined,
  ): { adj: AdjointTollGradient; welfare?: Float64Array } {
    const { net, classes, merit } = this.s;
    const links = single.map((v) => v.links[0]);
    if (elastic) {
      const g = elasticAdjointGradient(elastic, ev.eq as Parameters<typeof elasticAdjointGradient>[1], links, this.s.sensitivityStep);
      return { adj: { ...g.adjoint, gradients: [g.dTstt, g.dRevenue] }, welfare: g.dWelfare };
    }
    const all = this.s.gradientMeasures === "all";
    const one = classes.length === 1 ? classes[0] : undefined;
    const wantTstt = all || merit.type === "tstt" || merit.type === "welfare";
    const wantRevenue = all || merit.type === "revenue" || merit.minRevenue !== undefined;
    // Σ len·x for the distance part of welfare (one class only)
    const wantLength = (all || merit.type === "welfare") && one !== undefined && one.distanceFactor !== 0;
    const objectives: Parameters<typeof adjointTollGradient>[2]["objectives"] = [];
    if (wantTstt) objectives.push("tstt");
    if (wantRevenue) objectives.push("revenue");
    if (wantLength) objectives.push({ linkWeights: Float64Array.from(net.links.length) });
    const adj = adjointTollGradient(net, ev.eq, { links, objectives, classes, step: this.s.sensitivityStep });
    const nan = () => new Float64Array(links.length).fill(NaN);
    let i = 0;
    const gT = wantTstt ? adj.gradients[i++] : nan();
    const gR = wantRevenue ? adj.gradients[i++] : nan();
    const gradients = wantLength ? [gT, gR, adj.gradients[i]] : [gT, gR];
    return { adj: { ...adj, gradients } };
  }

  /**
   * Adds the gradients of TSTT, revenue and welfare with respect to z (both one-sided ones) from
   * the follower's equilibrium sensitivities. Variables that toll one link are differentiated
   * together by the adjoint method (one derivative solve per measure, however many they are;
   * follower `adjointTollGradient`) unless `directional` is set or the follower finds the point
   * degenerate for some toll; then each is differentiated along its link, one-sided. At a nearly
   * degenerate point the adjoint gradients are kept and every single-link variable is flagged
   * nearly degenerate (the adjoint cannot tell which toll bends the response). A variable
   * that tolls several links at once (a cordon's or a link type's uniform charge) is always
   * differentiated along the direction of all its links moving together, which stays exact at a
   * degenerate equilibrium, where the sum of the links' one-sided derivatives is not. Directional
   * derivatives also record, per variable, whether the equilibrium is nearly degenerate along it
   * (a kink within `sensitivityStep` of the point) and how far each one-sided derivative holds.
   * @throws InputError when the equilibrium does not come from the bush algorithm
   */
  private async addGradients(ev: Evaluation, directional = false): Promise<void> {
    const { net, classes, instrument } = this.s;
    const single = instrument.variables.filter((v) => v.links.length === 1);
    const multi = instrument.variables.filter((v) => v.links.length > 1);
    const one = classes.length === 1 ? classes[0] : undefined;
    let adj: AdjointTollGradient | undefined;
    // elastic demand: the sensitivities of the transformed network (they carry dq/dτ through the excess links)
    const elastic = this.s.elastic && isElasticResult(ev.eq) ? this.s.elastic : undefined;
    /** With elastic demand, the adjoint's welfare gradients (consumer surplus + revenue) of the single-link variables. */
    let adjWelfare: Float64Array | undefined;
    /** The adjoint found the point degenerate: the search's one-sided partials come from directional derivatives. */
    let fallback = false;
    if (!directional && single.length > 0) {
      let a = this.adjointAt(ev, single, elastic);
      if (a.adj.degenerate && Math.abs(ev.eq.relativeGap) > DEGENERATE_REGAP) {
        // a route at the margin of use at a loose gap may be the gap's artefact: re-solve the
        // point from its own bushes (given to the solve, not copied) and differentiate that
        const eq = await this.solveAt(ev.tolls, ev.rule, ev, DEGENERATE_REGAP, true, true);
        this.regapped.resolved++;
        if (this.adopt(ev, eq, true)) a = this.adjointAt(ev, single, elastic);
        if (a.adj.degenerate) this.regapped.degenerate++;
      }
      adj = a.adj;
      adjWelfare = a.welfare;
      for (const w of adj.warnings) this.warnings.add(`sensitivity: ${w}`);
      // at a degenerate point the search needs each variable's one-sided derivatives
      if (adj.degenerate) {
        adj = undefined;
        fallback = true;
      } else if (adj.nearDegenerate) {
        // exact at the point, but the response bends nearby: counted like a directional warning
        this.nearDegenerate.count++;
        this.nearDegenerate.example ??= `nearly degenerate along a combination of the single-link tolls: ${adj.probeRange?.cause ?? "a route changes"} within ${adj.probeRange?.step.toExponential(2)}`;
      }
    }
    const directions = multi.map((v) => ({ links: Array.from(v.links) }));
    const r: (ReturnType<typeof equilibriumSensitivity> | ElasticSensitivity) | undefined =
      adj && multi.length === 0
        ? undefined
        : elastic
          ? elasticSensitivity(
              elastic,
              ev.eq as Parameters<typeof elasticSensitivity>[1],
              adj ? [] : single.map((v) => v.links[0]),
              directions,
              this.s.sensitivityStep,
            )
          : equilibriumSensitivity(net, ev.eq, {
              links: adj ? [] : single.map((v) => v.links[0]),
              directions,
              classes,
              // the search's fallback at a degenerate point needs the one-sided derivatives, not
              // refined linear ranges (up to 12 re-solves per variable: Chicago-Sketch, 20 links,
              // 9.4 s against 5.6 s); nearly degenerate is then judged on the first-order ranges
              step: fallback ? 0 : this.s.sensitivityStep,
            });
    const nearStep = fallback && r && !elastic ? (this.s.sensitivityStep ?? defaultNearStep(ev.eq, classes)) : undefined;
    this.noteSensitivityWarnings(r?.warnings ?? []);
    const p = instrument.variables.length;
    const make = (): MeasureGradients => ({ tstt: new Float64Array(p), revenue: new Float64Array(p), welfare: new Float64Array(p) });
    const right = make();
    const left = make();
    const degenerate: boolean[] = new Array(p).fill(false);
    const nearDegenerate: boolean[] = new Array(p).fill(false);
    const range = new Float64Array(p);
    const rangeLeft = new Float64Array(p);
    // the same from the adjoint gradients of TSTT and of Σ len·x (dLength; 0 without a distance cost)
    const welfareAdjoint = (dTstt: number, dLength: number): number =>
      one ? -(dTstt + one.distanceFactor * dLength) / one.pce / one.tollFactor : NaN;
    // index into the results: single-link variables first, then the directions
    let nextSingle = 0;
    let nextMulti = adj ? 0 : single.length;
    instrument.variables.forEach((v, k) => {
      if (adj && v.links.length === 1) {
        const j = nextSingle++;
        const [gT, gR, gL] = adj.gradients;
        right.tstt[k] = left.tstt[k] = gT[j];
        right.revenue[k] = left.revenue[k] = gR[j];
        right.welfare[k] = left.welfare[k] = adjWelfare ? adjWelfare[j] : welfareAdjoint(gT[j], gL ? gL[j] : 0);
        // the adjoint tells whether the point is nearly degenerate, not along which toll: all are flagged
        nearDegenerate[k] = adj.nearDegenerate;
        range[k] = rangeLeft[k] = NaN;
        return;
      }
      const j = v.links.length === 1 ? nextSingle++ : nextMulti++;
      const s = r!;
      right.tstt[k] = s.dTstt[j];
      right.revenue[k] = s.dRevenue[j];
      right.welfare[k] = "dWelfare" in s ? s.dWelfare[j] : welfareOf(net, one, s.dTstt[j], s.dFlows[j]);
      left.tstt[k] = s.dTsttLeft[j];
      left.revenue[k] = s.dRevenueLeft[j];
      left.welfare[k] = "dWelfareLeft" in s ? s.dWelfareLeft[j] : welfareOf(net, one, s.dTsttLeft[j], s.dFlowsLeft[j]);
      degenerate[k] = s.degenerate[j];
      // unrefined ranges are no longer than refined ones: this may flag a variable a refinement would clear
      nearDegenerate[k] = nearStep !== undefined ? s.range[j] < nearStep || s.rangeLeft[j] < nearStep : s.nearDegenerate[j];
      range[k] = s.range[j];
      rangeLeft[k] = s.rangeLeft[j];
    });
    ev.grads = right;
    ev.gradsLeft = left;
    ev.degenerate = degenerate;
    ev.nearDegenerate = nearDegenerate;
    ev.range = range;
    ev.rangeLeft = rangeLeft;
    ev.gradientMethod = adj ? "adjoint" : "directional";
    this.gradientsByMethod[ev.gradientMethod]++;
  }

  /**
   * The one-sided derivatives of TSTT, revenue and welfare at `e` along a direction `d` of the
   * decision variables (per variable, money per unit of the step), from one directional
   * sensitivity of all the links the variables toll moving together: exact at degenerate points
   * too, where a sum of per-variable one-sided derivatives is not. Costs one derivative problem
   * (two solves at most), however many variables; re-solves `e` (counted) when its bushes were
   * released. Also says whether the point is (nearly) degenerate along d and how far (money
   * along d) each side holds.
   * @throws InputError when the equilibrium does not come from the bush algorithm
   */
  async derivativeAlong(
    e: Evaluation,
    d: ArrayLike<number>,
  ): Promise<{
    right: { tstt: number; revenue: number; welfare: number };
    left: { tstt: number; revenue: number; welfare: number };
    degenerate: boolean;
    nearDegenerate: boolean;
    range: number;
    rangeLeft: number;
  }> {
    const { net, classes, instrument } = this.s;
    if (!holdsBushes(e.eq)) e.eq = await this.solveAt(e.tolls, e.rule, { eq: e.eq });
    const weightOf = new Map<number, number>();
    instrument.variables.forEach((v, k) => {
      if (d[k] !== 0) for (const l of v.links) weightOf.set(l, d[k]);
    });
    const dir = { links: [...weightOf.keys()], weights: [...weightOf.values()] };
    const elastic = this.s.elastic && isElasticResult(e.eq) ? this.s.elastic : undefined;
    const r = elastic
      ? elasticSensitivity(elastic, e.eq as Parameters<typeof elasticSensitivity>[1], [], [dir], this.s.sensitivityStep)
      : equilibriumSensitivity(net, e.eq, { directions: [dir], classes, step: this.s.sensitivityStep });
    this.noteSensitivityWarnings(r.warnings);
    const one = classes.length === 1 ? classes[0] : undefined;
    return {
      right: {
        tstt: r.dTstt[0],
        revenue: r.dRevenue[0],
        welfare: "dWelfare" in r ? r.dWelfare[0] : welfareOf(net, one, r.dTstt[0], r.dFlows[0]),
      },
      left: {
        tstt: r.dTsttLeft[0],
        revenue: r.dRevenueLeft[0],
        welfare: "dWelfareLeft" in r ? r.dWelfareLeft[0] : welfareOf(net, one, r.dTsttLeft[0], r.dFlowsLeft[0]),
      },
      degenerate: r.degenerate[0],
      nearDegenerate: r.nearDegenerate[0],
      range: r.range[0],
      rangeLeft: r.rangeLeft[0],
    };
  }

  /** Sensitivity warnings into the run's: nearly degenerate points counted with one example (they recur with other numbers). */
  private noteSensitivityWarnings(warnings: string[]): void {
    for (const w of warnings) {
      if (/nearly degenerate/.test(w)) {
        this.nearDegenerate.count++;
        this.nearDegenerate.example ??= w;
      } else this.warnings.add(`sensitivity: ${w}`);
    }
  }

  /**
   * Measures at z without caching or pooling its bushes (for the finite-difference check),
   * warm-started from `from`, which is pinned as the warm start when it holds bushes: the solve
   * runs beside `from`'s bushes only, not beside those of the search's last iterate too
   * (Berlin-Center cordon: the check's solves started from the best point with the previous
   * iterate still pinned, +140 MB of array buffers, peak RSS 2.29× a plain assign's).
   */
  async measureAt(z: Float64Array, from: Evaluation, gap?: number): Promise<LeaderMeasures> {
    return (await this.measureSolve(z, from, gap)).ms;
  }

  /**
   * {@link measureAt}, with the relative gap of the solve's warm start at z (row 0 of its
   * convergence report: how far the move from `from` put the flows from equilibrium) and the gap
   * it reached.
   */
  async measureSolve(z: Float64Array, from: Evaluation, gap?: number): Promise<{ ms: LeaderMeasures; startGap: number; gap: number }> {
    this.keepWarm(from);
    const tolls = this.tollsOf(z);
    const eq = await this.solveAt(tolls, from.rule, from, gap, false);
    // a throw-away solve: its bushes go now, not whenever the result is collected
    release(eq);
    return {
      ms: leaderMeasures(this.s.net, this.s.classes, eq, tolls),
      startGap: eq.convergence[0]?.relativeGap ?? NaN,
      gap: eq.relativeGap,
    };
  }
}

/**
 * The default finite-difference step (money): 1e-5 of the bound range (or of the toll, or 1e-5).
 * Small, because the response of an equilibrium to a toll is only piecewise smooth: routes start
 * and stop being used, and a larger step straddles such kinks.
 */
export function fdStep(min: number, max: number, at: number): number {
  const range = Number.isFinite(max - min) ? max - min : Math.abs(at);
  return range > 0 ? 1e-5 * range : 1e-5;
}

/**
 * d welfare from d TSTT and the link-flow derivatives dx, for one class (NaN with several):
 * W = −VOT Σ_a f_a (t_a + d·len_a) with x = pce·f, so dW = −VOT (dTSTT + d Σ_a len_a dx_a) / pce.
 */
function welfareOf(net: Network, one: UserClass | undefined, dTstt: number, dx: Float64Array): number {
  if (!one) return NaN;
  let dl = 0;
  for (let a = 0; a < net.linkCount; a++) dl += net.links.length[a] * dx[a];
  return -(dTstt + one.distanceFactor * dl) / one.pce / one.tollFactor;
}

/** True when a solve result still holds its bushes (a bush warm-start state). */
export function holdsBushes(r: FollowerResult): boolean {
  return isBushState(r.warmStart?.state);
}

/** Drops a solve result's bushes (keeps its flows as a warm start). */
function release(r: FollowerResult): void {
  if (r.warmStart?.state !== undefined) r.warmStart = { classFlows: r.warmStart.classFlows };
}

/** The relative gap of the gradient check's solves: at most 1e-12 (finite differences magnify solver noise). */
export const CHECK_GAP = 1e-12;

/** The error thrown when a design run is cancelled. */
export function abortError(): Error {
  const e = new Error("leader: the design run was cancelled");
  e.name = "AbortError";
  return e;
}
