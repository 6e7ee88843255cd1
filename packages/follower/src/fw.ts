/**
 * The Frank-Wolfe family: one engine in which an algorithm is a search direction plus a step
 * rule (AequilibraE's and TAP-B's composition; an unknown name is an error, never a fallback).
 *
 * | algorithm | direction (target s)                                  | step                       |
 * | --------- | ----------------------------------------------------- | -------------------------- |
 * | `aon`     | —  (one all-or-nothing loading at free-flow costs)    | —                          |
 * | `msa`     | AON: s = y, the all-or-nothing flows at current costs | λ = 1/(n+1) at iteration n |
 * | `fw`      | AON (LeBlanc, Morlok & Pierskalla 1975)               | exact line search on F     |
 * | `cfw`     | conjugate: s = α s₋₁ + (1−α) y                        | exact line search on F     |
 * | `bfw`     | bi-conjugate: s = β₀ y + β₁ s₋₁ + β₂ s₋₂              | exact line search on F     |
 *
 * Conjugate directions follow Mitradjieva & Lindberg (2013), "The stiff is moving — conjugate
 * direction Frank-Wolfe methods with application to traffic assignment", Transportation Science
 * 47(2). With x the current flows, H = ∇²F(x) (diagonal per link), u = y − x:
 * - CFW: d̄ = s₋₁ − x; α = d̄ᵀHu / d̄ᵀH(y − s₋₁); α < 0 becomes 0 and α > 1 − 1e-4 too (see
 *   CFW_ALPHA_MAX: the paper clips it to 1 − 1e-4, which jams).
 * - BFW: τ = the previous step, d̄₁ = s₋₁ − x, d̄₂ = τ s₋₁ + (1 − τ) s₋₂ − x (the two previous
 *   directions seen from x); μ = −d̄₂ᵀHu / d̄₂ᵀH(s₋₂ − s₋₁), ν = −d̄₁ᵀHu / d̄₁ᵀHd̄₁ + μτ/(1 − τ),
 *   both clipped to ≥ 0; β₀ = 1/(1 + μ + ν), β₁ = νβ₀, β₂ = μβ₀.
 * The first step after a start or a restart uses the AON direction, the second BFW step the CFW
 * formula. A restart happens after a full step (τ = 1) or a fallback step; a conjugate direction
 * that is not a descent direction is replaced by the AON direction in the same iteration.
 *
 * Multi-class: each class gets its own AON loading on its own costs, so y, s and the direction
 * are per class; conjugate weights are shared by the classes. Because the potential couples
 * classes only through the total PCE flow x = Σ pce_k f_k, the Hessian quadratic forms above
 * need only total flows: (Σ_k pce_k a_k)ᵀ diag(c′(x)) (Σ_k pce_k b_k).
 *
 * Exact line search: φ(λ) = F(f + λd) with F the potential of {@link CostModel} (Beckmann for
 * UE, Σ x·t(x) for SO, plus each class's fixed costs). In terms of total flow X and total
 * direction D = Σ_k pce_k d_k:
 *   φ′(λ) = Σ_a c_a(X_a + λD_a)·D_a + G,   G = Σ_k pce_k Σ_a g_ka d_ka (constant in λ),
 *   φ″(λ) = Σ_a c′_a(X_a + λD_a)·D_a²,
 * where c is the objective's flow cost (t for UE, t + x·t′ for SO) and g the fixed class costs.
 * The root of φ′ in [0, 1] is found by Newton's method safeguarded by bisection, to
 * |φ′(λ)| ≤ 1e-12·|φ′(0)| (or until the bracket collapses to machine precision). Conjugate
 * directions assume exact line searches: with |φ′(λ)| ≤ 1e-3·|φ′(0)| instead, BFW on Sioux Falls
 * needs 1017 iterations to gap 1e-6 instead of 276. Newton converges quadratically, so the tight
 * tolerance costs one or two more evaluations of φ′ (O(links) each, next to an AON's
 * O(zones·links·log nodes)).
 *
 * Iterations: record n describes the flows f_n (n = 0 is the starting point: the free-flow AON
 * loading or the warm start). Its relative gap comes from that iteration's own AON loading
 * (SPTT on the costs at f_n), the same AON that gives the next direction; its step and weights
 * are those that produced f_n. `iterations` in a result is the number of steps taken.
 */

import { AonLoader, InputError, linkLabel, Network } from "@tollkit/graph-core";
import { classGapNote, CostModel, relativeGap, resultMeasures, unroutableError } from "./cost-model.js";
import { ResolvedFollowerOptions } from "./options.js";
import { FollowerResult, IterationRecord, StopReason } from "./types.js";

/** Search directions of the Frank-Wolfe family. */
export type SearchDirection = "aon" | "conjugate" | "biconjugate";
/** Step rules: none (AON only), the method of successive averages, or an exact line search. */
export type StepRule = "none" | "msa" | "line-search";

/** The algorithms of the Frank-Wolfe family as (direction, step rule) pairs. */
export const FW_ALGORITHMS = {
  aon: { direction: "aon", step: "none" },
  msa: { direction: "aon", step: "msa" },
  fw: { direction: "aon", step: "line-search" },
  cfw: { direction: "conjugate", step: "line-search" },
  bfw: { direction: "biconjugate", step: "line-search" },
} as const satisfies Record<string, { direction: SearchDirection; step: StepRule }>;
export type FwAlgorithm = keyof typeof FW_ALGORITHMS;

/** True when `name` is an algorithm of the Frank-Wolfe family. */
export function isFwAlgorithm(name: string): name is FwAlgorithm {
  return Object.prototype.hasOwnProperty.call(FW_ALGORITHMS, name);
}

/** Line-search tolerance: stop when |φ′(λ)| ≤ this × |φ′(0)|. */
export const LINE_SEARCH_TOLERANCE = 1e-12;
/** Most evaluations of φ′ in one line search. */
const LINE_SEARCH_MAX_EVALUATIONS = 60;
/**
 * CFW's α ≤ 1 − δ (Mitradjieva & Lindberg's safeguard: the new target keeps some of y). They
 * clip a larger ratio to 1 − δ; that jams near small gaps (the target hardly moves and steps
 * shrink to ~1e-6 for hundreds of iterations: Anaheim and Barcelona around gap 1e-6), so here a
 * ratio above 1 − δ takes the AON direction instead (α = 0), which restarts the conjugacy.
 */
const CFW_ALPHA_MAX = 1 - 1e-4;
/** A step this close to 1 ends conjugacy (the previous direction has no length left). */
const FULL_STEP = 1 - 1e-12;

/**
 * Exact line search along a total-flow direction (see the module comment). Holds preallocated
 * arrays; a search allocates nothing.
 */
export class LineSearch {
  /** Links with D ≠ 0 (the only ones φ′ depends on through flow). */
  readonly active: Int32Array;
  activeCount = 0;
  /** φ″ at the last point {@link slope} evaluated. */
  curvature = 0;
  /** Evaluations of φ′ in the last search. */
  evaluations = 0;

  constructor(
    private readonly model: CostModel,
    /** Total flow X at the current point. */
    private readonly x: Float64Array,
    /** Total direction D (filled by {@link setDirection}). */
    readonly d: Float64Array,
  ) {
    this.active = new Int32Array(model.linkCount);
  }

  /** Sets D = target − X and collects the links where D ≠ 0. */
  setDirection(target: Float64Array): void {
    const { x, d, active } = this;
    let n = 0;
    for (let i = 0; i < d.length; i++) {
      const v = target[i] - x[i];
      d[i] = v;
      if (v !== 0) active[n++] = i;
    }
    this.activeCount = n;
  }

  /** Σ_a c_a(X_a + λD_a)·D_a (φ′ without its constant part); sets {@link curvature}. */
  slope(lambda: number): number {
    const { model, x, d, active } = this;
    let g = 0;
    let h = 0;
    for (let k = 0; k < this.activeCount; k++) {
      const i = active[k];
      const di = d[i];
      const xi = x[i] + lambda * di;
      g += model.linkFlowCost(i, xi) * di;
      h += model.linkFlowCostDerivative(i, xi) * di * di;
    }
    this.curvature = h;
    this.evaluations++;
    return g;
  }

  /**
   * The minimiser of φ on [0, 1] given φ′(0) = `d0` < 0 and the constant part `G` of φ′:
   * 1 when φ′(1) ≤ 0, else the root of φ′ by safeguarded Newton.
   */
  minimise(G: number, d0: number): number {
    this.evaluations = 0;
    const d1 = G + this.slope(1);
    if (!(d1 > 0)) return 1;
    let lo = 0;
    let hi = 1;
    let lambda = d0 / (d0 - d1); // secant: exact when φ is quadratic
    const tol = LINE_SEARCH_TOLERANCE * Math.abs(d0);
    while (this.evaluations < LINE_SEARCH_MAX_EVALUATIONS) {
      const g = G + this.slope(lambda);
      if (g < 0) lo = lambda;
      else if (g > 0) hi = lambda;
      else return lambda;
      if (Math.abs(g) <= tol || hi - lo <= 4e-16 * hi) return lambda;
      let next = lambda - g / this.curvature;
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (next === lambda) return lambda;
      lambda = next;
    }
    return lambda;
  }
}

/**
 * Stall rule, so that a gap below what floating point allows cannot run forever. With a line
 * search the potential never increases: the run has stalled when, over the last
 * {@link STALL_WINDOW} iterations, the potential fell by less than {@link STALL_DECREASE} of
 * itself (rounding level) and the gap set no new best. (Slow progress is not a stall: BFW on
 * Sioux Falls keeps lowering the potential around gap 5e-7 for thousands of iterations.) MSA,
 * whose steps may raise the potential, has stalled when its best gap is older than the number
 * of iterations it took to reach it (and at least {@link STALL_WINDOW}).
 */
const STALL_WINDOW = 100;
const STALL_DECREASE = 1e-13;

/**
 * Runs an algorithm of the Frank-Wolfe family as a generator that yields once per iteration
 * (after the iteration's record and progress event) and returns the result. {@link solveSync}
 * drains it; {@link solve} awaits the event loop between iterations, so that cancellation
 * through an AbortSignal is seen.
 *
 * @param net the network
 * @param opts validated options (see resolveFollowerOptions); `algorithm` must be a FW-family name
 * @param t0 `performance.now()` when the solve started (the clock of maxSeconds and `seconds`)
 * @throws InputError when demand cannot be routed (naming OD pairs), a cost is negative or
 *   not finite (naming the link)
 */
export function* frankWolfe(
  net: Network,
  opts: ResolvedFollowerOptions,
  t0 = performance.now(),
): Generator<IterationRecord, FollowerResult, void> {
  if (!isFwAlgorithm(opts.algorithm))
    throw new InputError(
      "follower",
      `"${opts.algorithm}" is not a Frank-Wolfe algorithm`,
      { field: "algorithm" },
      Object.keys(FW_ALGORITHMS).join(", "),
    );
  const spec = FW_ALGORITHMS[opts.algorithm];
  const model = new CostModel(net, opts.classes, opts.tolls, opts.objective);
  model.checkCosts();
  const K = opts.classes.length;
  const m = net.linkCount;
  const conjugate = spec.direction !== "aon";
  const perClass = () => opts.classes.map(() => new Float64Array(m));
  // per class (vehicles of the class): current flows f, AON flows y, targets s₋₁, s₋₂ and the new s
  const f = perClass();
  const y = perClass();
  let s1 = conjugate ? perClass() : [];
  let s2 = conjugate ? perClass() : [];
  let sN = conjugate ? perClass() : [];
  // totals (PCE): current X, AON Y, targets S₋₁, S₋₂, new S; Hessian diagonal; link times, flow costs, class costs
  const X = new Float64Array(m);
  const Y = new Float64Array(m);
  let S1 = new Float64Array(conjugate ? m : 0);
  let S2 = new Float64Array(conjugate ? m : 0);
  let SN = new Float64Array(conjugate ? m : 0);
  const H = new Float64Array(conjugate ? m : 0);
  const D = new Float64Array(m);
  const times = new Float64Array(m);
  const fc = new Float64Array(m);
  const cost = new Float64Array(m);
  const loader = new AonLoader(model.compiled);
  const search = new LineSearch(model, X, D);
  const pce = opts.classes.map((c) => c.pce);
  const demand = opts.classes.map((c) => c.demand);

  const aon = (k: number, out: Float64Array): number => {
    model.classCost(k, fc, cost);
    out.fill(0);
    const r = loader.load(cost, demand[k], out);
    if (r.unroutable.length) throw unroutableError(net, r.unroutable);
    return r.sptt;
  };

  // starting point f₀
  if (opts.warmStart) {
    for (let k = 0; k < K; k++) f[k].set(opts.warmStart.classFlows[k]);
  } else {
    X.fill(0);
    model.flowCost(X, times, fc);
    for (let k = 0; k < K; k++) aon(k, f[k]);
  }

  const convergence: IterationRecord[] = [];
  const warnings: string[] = [];
  let n = 0; // steps taken = index of the current flows f_n
  let step = NaN;
  let weights: number[] = [];
  let lastStep = 0;
  let restart = true;
  let haveS1 = false;
  let haveS2 = false;
  let fallbacks = 0;
  let firstFallback = -1;
  let firstGap: number | undefined;
  let bestGap = Infinity;
  let bestAt = 0;
  let stop: StopReason | undefined;
  let gap = NaN;

  for (;;) {
    // --- costs at f_n, the iteration's AON loadings, and the relative gap of f_n
    model.totalFlow(f, X);
    model.flowCost(X, times, fc);
    let totalCost = 0;
    let sptt = 0;
    let maxClassGap = 0;
    for (let k = 0; k < K; k++) {
      const sk = aon(k, y[k]); // leaves class k's costs in `cost`
      sptt += sk;
      const fk = f[k];
      let tc = 0;
      for (let i = 0; i < m; i++) tc += fk[i] * cost[i];
      totalCost += tc;
      if (K > 1) maxClassGap = Math.max(maxClassGap, relativeGap(tc, sk));
    }
    gap = relativeGap(totalCost, sptt);
    if (K === 1) maxClassGap = gap;
    if (!Number.isFinite(gap)) throw nonFiniteCost(net, X, times);
    const elapsedMs = performance.now() - t0;
    const record: IterationRecord = {
      iteration: n,
      relativeGap: gap,
      step,
      conjugateWeights: weights,
      objective: model.potential(X, f),
      elapsedMs,
    };
    convergence.push(record);
    firstGap ??= gap;
    if (gap < bestGap) {
      bestGap = gap;
      bestAt = n;
    }
    opts.onProgress?.({ iteration: n, relativeGap: gap, elapsedMs, fraction: progressFraction(opts, firstGap, gap, n, elapsedMs) });
    yield record;

    // --- stopping rules (the first one met stops)
    if (maxClassGap <= 0 || (opts.gap !== undefined && maxClassGap <= opts.gap))
      stop = "gap"; // every class reached the target
    else if (spec.step === "none" || (opts.maxIterations !== undefined && n >= opts.maxIterations)) stop = "iterations";
    else if (opts.maxSeconds !== undefined && elapsedMs >= opts.maxSeconds * 1000) stop = "seconds";
    else if (opts.signal?.aborted) stop = "cancelled";
    else if (stalled(spec.step, convergence, n, bestAt)) stop = "stalled";
    if (stop) break;

    // --- direction: the target s per class (tgt) and in total (TGT)
    model.totalFlow(y, Y);
    let mode: SearchDirection = spec.direction;
    if (mode !== "aon" && (restart || !haveS1)) mode = "aon";
    if (mode === "biconjugate" && !haveS2) mode = "conjugate";
    let tgt = y;
    let TGT = Y;
    weights = [];
    if (mode === "conjugate") {
      model.flowCostDerivatives(X, H);
      let num = 0;
      let den = 0;
      for (let i = 0; i < m; i++) {
        const a = S1[i] - X[i];
        if (a === 0 || H[i] === 0) continue;
        const ha = H[i] * a;
        num += ha * (Y[i] - X[i]);
        den += ha * (Y[i] - S1[i]);
      }
      let alpha = den !== 0 ? num / den : 0;
      if (!(alpha >= 0)) alpha = 0;
      if (alpha > CFW_ALPHA_MAX) alpha = 0; // see CFW_ALPHA_MAX: restart rather than jam
      combine(sN, SN, 1 - alpha, y, Y, alpha, s1, S1, 0, s2, S2);
      weights = [alpha];
      tgt = sN;
      TGT = SN;
    } else if (mode === "biconjugate") {
      model.flowCostDerivatives(X, H);
      const tau = lastStep;
      let n1 = 0;
      let d1 = 0;
      let n2 = 0;
      let d2 = 0;
      for (let i = 0; i < m; i++) {
        const h = H[i];
        if (h === 0) continue;
        const u = Y[i] - X[i];
        const a = S1[i] - X[i];
        const b = tau * S1[i] + (1 - tau) * S2[i] - X[i];
        n1 += h * a * u;
        d1 += h * a * a;
        n2 += h * b * u;
        d2 += h * b * (S2[i] - S1[i]);
      }
      let mu = d2 !== 0 ? -n2 / d2 : 0;
      if (!(mu >= 0)) mu = 0;
      let nu = d1 !== 0 ? -n1 / d1 + (mu * tau) / (1 - tau) : 0;
      if (!(nu >= 0)) nu = 0;
      const b0 = 1 / (1 + mu + nu);
      const b1 = nu * b0;
      const b2 = mu * b0;
      if (!(b0 > 0 && Number.isFinite(b1) && Number.isFinite(b2))) {
        mode = "aon"; // degenerate weights: restart below
      } else {
        combine(sN, SN, b0, y, Y, b1, s1, S1, b2, s2, S2);
        weights = [b0, b1, b2];
        tgt = sN;
        TGT = SN;
      }
    }
    if (conjugate && mode === "aon") {
      for (let k = 0; k < K; k++) sN[k].set(y[k]);
      SN.set(Y);
      tgt = sN;
      TGT = SN;
    }

    // --- step
    search.setDirection(TGT);
    let lambda: number;
    let fellBack = false;
    if (spec.step === "msa") {
      lambda = 1 / (n + 2);
    } else {
      let G = fixedSlope(model, tgt, f, pce);
      let d0 = G + search.slope(0);
      if (!(d0 < 0) && mode !== "aon") {
        // the conjugate direction does not descend: restart from the AON target now
        mode = "aon";
        weights = [];
        for (let k = 0; k < K; k++) sN[k].set(y[k]);
        SN.set(Y);
        search.setDirection(SN);
        G = fixedSlope(model, tgt, f, pce);
        d0 = G + search.slope(0);
      }
      if (d0 < 0) {
        lambda = search.minimise(G, d0);
      } else {
        // no descent even along the AON direction: the gap is at rounding level
        lambda = 1 / (n + 2);
        fellBack = true;
        fallbacks++;
        if (firstFallback < 0) firstFallback = n + 1;
      }
    }
    for (let k = 0; k < K; k++) {
      const fk = f[k];
      const t = tgt[k];
      for (let i = 0; i < m; i++) fk[i] += lambda * (t[i] - fk[i]);
    }
    if (conjugate) {
      // rotate targets: s₋₂ ← s₋₁ ← s (no allocation)
      const c = s2;
      s2 = s1;
      s1 = sN;
      sN = c;
      const C = S2;
      S2 = S1;
      S1 = SN;
      SN = C;
      haveS2 = mode !== "aon" && haveS1;
      haveS1 = true;
    }
    lastStep = lambda;
    restart = fellBack || lambda >= FULL_STEP;
    step = lambda;
    n++;
  }

  // --- result: measures from the final flows, independently of the loop
  const ms = resultMeasures(model, f, loader);
  const stopReason: StopReason = stop!;
  if (stop === "stalled")
    warnings.push(
      `follower/${opts.algorithm}: stalled at rounding level (best relative gap ${fmt(bestGap)} at iteration ${bestAt}, the objective no longer decreasing); stopped after ${n} iterations`,
    );
  if (opts.gap !== undefined && stopReason !== "gap")
    warnings.push(
      `follower/${opts.algorithm}: relative gap ${fmt(ms.relativeGap)}${classGapNote(ms.classes, opts.gap)} did not reach the target ${fmt(opts.gap)} (stopped ${stopReason === "cancelled" ? "by cancellation" : stopReason === "stalled" ? "by the stall" : `by the ${stopReason} limit`} after ${n} iterations)`,
    );
  if (fallbacks > 0)
    warnings.push(
      `follower/${opts.algorithm}: the line search found no descent direction in ${fallbacks} iteration(s) (first at iteration ${firstFallback}); an MSA step 1/(n+1) was taken instead`,
    );
  return {
    network: net.name,
    algorithm: opts.algorithm,
    objective: opts.objective,
    converged: stopReason === "gap",
    stopReason,
    iterations: n,
    ...ms,
    convergence,
    warnings,
    seconds: (performance.now() - t0) / 1000,
    warmStart: { classFlows: f },
  };
}

function stalled(step: StepRule, records: IterationRecord[], n: number, bestAt: number): boolean {
  if (step === "msa") return n - bestAt >= Math.max(STALL_WINDOW, bestAt);
  if (n < STALL_WINDOW || n - bestAt < STALL_WINDOW) return false;
  const now = records[n].objective;
  return records[n - STALL_WINDOW].objective - now <= STALL_DECREASE * Math.abs(now);
}

/** out = a·A + b·B + c·C per class and in total (c may be 0 with C unused). */
function combine(
  out: Float64Array[],
  OUT: Float64Array,
  a: number,
  A: Float64Array[],
  At: Float64Array,
  b: number,
  B: Float64Array[],
  Bt: Float64Array,
  c: number,
  C: Float64Array[],
  Ct: Float64Array,
): void {
  const m = OUT.length;
  for (let k = 0; k < out.length; k++) {
    const o = out[k];
    const x = A[k];
    const y = B[k];
    if (c === 0) for (let i = 0; i < m; i++) o[i] = a * x[i] + b * y[i];
    else {
      const z = C[k];
      for (let i = 0; i < m; i++) o[i] = a * x[i] + b * y[i] + c * z[i];
    }
  }
  if (c === 0) for (let i = 0; i < m; i++) OUT[i] = a * At[i] + b * Bt[i];
  else for (let i = 0; i < m; i++) OUT[i] = a * At[i] + b * Bt[i] + c * Ct[i];
}

/** G = Σ_k pce_k Σ_a g_ka (s_ka − f_ka): the part of φ′ from the classes' fixed costs. */
function fixedSlope(model: CostModel, target: Float64Array[], f: Float64Array[], pce: number[]): number {
  let G = 0;
  for (let k = 0; k < f.length; k++) {
    const g = model.fixed[k];
    const s = target[k];
    const fk = f[k];
    let t = 0;
    for (let i = 0; i < g.length; i++) if (g[i] !== 0) t += g[i] * (s[i] - fk[i]);
    G += pce[k] * t;
  }
  return G;
}

function progressFraction(opts: ResolvedFollowerOptions, firstGap: number, gap: number, n: number, elapsedMs: number): number {
  let p = 0;
  if (opts.gap !== undefined) {
    if (gap <= opts.gap) p = 1;
    else if (firstGap > opts.gap && gap < firstGap) p = Math.log(firstGap / gap) / Math.log(firstGap / opts.gap);
  }
  if (opts.maxIterations !== undefined) p = Math.max(p, n / opts.maxIterations);
  if (opts.maxSeconds !== undefined) p = Math.max(p, elapsedMs / 1000 / opts.maxSeconds);
  return Math.min(1, Math.max(0, p));
}

function nonFiniteCost(net: Network, x: Float64Array, times: Float64Array): InputError {
  for (let i = 0; i < times.length; i++)
    if (!Number.isFinite(times[i]))
      return new InputError(
        "follower",
        `${linkLabel(net, i)} has travel time ${times[i]} at flow ${x[i]}`,
        { file: net.name, field: "capacity" },
        "a finite volume-delay function (capacity > 0)",
      );
  return new InputError("follower", "the relative gap is not a number (costs overflow)", { file: net.name }, "finite link costs");
}

function fmt(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}
