/**
 * Gradient search with box bounds: a projected limited-memory BFGS method (in the spirit of
 * L-BFGS-B, with a simpler active set), driven by exact equilibrium sensitivities.
 *
 * Each iteration: the variables at a bound whose gradient pushes outwards are fixed; on the
 * others, the two-loop recursion turns the gradient into a quasi-Newton direction d (the very
 * first direction is the steepest descent scaled to `initialStep`); the trial point
 * P(z + αd) is accepted by the Armijo rule f(z_α) ≤ f(z) + 1e-4·∇fᵀ(z_α − z), otherwise α is cut
 * by safeguarded quadratic interpolation. A direction that is not a descent direction, or a line
 * search that fails, resets the memory. Every trial is an equilibrium solve warm-started from
 * the current iterate; only an accepted one is differentiated (equilibrium sensitivity), as the
 * Armijo test needs the merit alone.
 *
 * Stops when the projected gradient vanishes, when two successive steps decrease the merit by
 * less than `tolerance` (relative), when it crawls along a kink (optional, see
 * {@link GradientSettings.kinkWindow}), or when the budget of solves is spent.
 */

import { Evaluation } from "./evaluator.js";
import { Merit } from "./objectives.js";
import { box, clip, dot, maxAbs, record, SearchContext, SearchOutcome } from "./search.js";

export interface GradientSettings {
  start: Float64Array;
  /** Length (money) of the first, steepest-descent step. */
  initialStep: number;
  tolerance: number;
  memory: number;
  /**
   * Stop early at a kink: when the last `kinkWindow` accepted iterates were all (nearly)
   * degenerate equilibria and together decreased the merit by less than `kinkDecrease` of the
   * decrease since the start, the steps are crawling along a kink of the response (stop reason
   * "stalled at a kink …"; the caller may continue derivative-free). Default: off.
   */
  kinkWindow?: number;
  kinkDecrease?: number;
  /** Go on from where an earlier search stopped for its budget (its outcome's `state`); `start` is then ignored. */
  resume?: GradientState;
}

/**
 * Where a gradient search stopped because its budget was spent: enough to go on as if it had
 * not stopped (the iterate, its gradient, the quasi-Newton pairs and the stop rules' counters).
 */
export interface GradientState {
  kind: "gradient";
  cur: Evaluation;
  f: number;
  fStart: number;
  g: Float64Array;
  S: Float64Array[];
  Y: Float64Array[];
  slow: number;
  it: number;
  kinky: number[];
}

/** Runs the projected L-BFGS search from `settings.start` (projected onto the bounds). */
export async function gradientSearch(ctx: SearchContext, settings: GradientSettings): Promise<SearchOutcome> {
  const { ev, merit, instrument } = ctx;
  const { lo, hi } = box(instrument);
  const p = instrument.variables.length;
  const budgetLeft = () => ev.solves < ctx.limit;
  const grad = (e: Evaluation) => searchGradient(merit, e);

  const r = settings.resume;
  let cur = r?.cur ?? (await ev.evaluate(clip(settings.start, lo, hi), { gradient: true }));
  if (!r) record(ctx, cur, 0, true);
  let f = r?.f ?? merit.value(cur.ms);
  const fStart = r?.fStart ?? f;
  let g = r?.g ?? grad(cur);
  const S: Float64Array[] = r?.S ?? [];
  const Y: Float64Array[] = r?.Y ?? [];
  let slow = r?.slow ?? 0;
  let it = r?.it ?? 0;
  let stopReason = "budget of equilibrium solves spent";
  const free = new Uint8Array(p);
  const d = new Float64Array(p);
  const zt = new Float64Array(p);
  const alpha = new Float64Array(settings.memory);
  /** Merit of the accepted iterates that were (nearly) degenerate, in a row (the latest last). */
  const kinky: number[] = r?.kinky ?? [];
  const atKink = (e: Evaluation) => !!(e.degenerate?.some((v) => v) || e.nearDegenerate?.some((v) => v));

  while (budgetLeft()) {
    it++;
    // projected-gradient test and the free variables
    let pg = 0;
    for (let i = 0; i < p; i++) {
      pg = Math.max(pg, Math.abs(Math.min(hi[i], Math.max(lo[i], cur.z[i] - g[i])) - cur.z[i]));
      free[i] = (cur.z[i] <= lo[i] && g[i] > 0) || (cur.z[i] >= hi[i] && g[i] < 0) ? 0 : 1;
    }
    if (pg === 0 || !free.some((v) => v === 1)) {
      stopReason = "projected gradient is zero (a stationary point on the bounds)";
      break;
    }
    direction(g, free, S, Y, alpha, d);
    if (S.length === 0 || dot(g, d) >= 0) {
      S.length = 0;
      Y.length = 0;
      for (let i = 0; i < p; i++) d[i] = free[i] ? -g[i] : 0;
      const scale = settings.initialStep / maxAbs(d);
      for (let i = 0; i < p; i++) d[i] *= scale;
    }
    // projected backtracking line search
    let step = 1;
    let accepted: Evaluation | undefined;
    let moved = true;
    for (let trial = 0; trial < 10 && budgetLeft(); trial++) {
      for (let i = 0; i < p; i++) zt[i] = cur.z[i] + step * d[i];
      clip(zt, lo, hi, zt);
      let move = 0;
      for (let i = 0; i < p; i++) move = Math.max(move, Math.abs(zt[i] - cur.z[i]));
      if (move <= 1e-12 * (1 + maxAbs(cur.z))) {
        moved = false;
        break;
      }
      // the Armijo test needs the merit only: the gradient is computed for an accepted trial
      const e = await ev.evaluate(zt, { warm: cur });
      const ft = merit.value(e.ms);
      let pred = 0;
      for (let i = 0; i < p; i++) pred += g[i] * (zt[i] - cur.z[i]);
      if (ft <= f + 1e-4 * pred) {
        accepted = await ev.evaluate(e.z, { gradient: true, warm: cur });
        record(ctx, e, it, true);
        break;
      }
      record(ctx, e, it, false);
      // quadratic model along the step: q(0) = f, q'(0) = pred/step, q(step) = ft
      const curv = ft - f - pred;
      const next = curv > 0 ? (-pred * step) / (2 * curv) : 0.1 * step;
      step = Math.min(0.5 * step, Math.max(0.1 * step, next));
    }
    if (!accepted) {
      // the budget ran out inside the line search: a resumed search tries the same trials again (cached, no solve)
      if (moved && !budgetLeft()) break;
      if (S.length > 0 && moved && budgetLeft()) {
        // the quasi-Newton model misled the search: restart from steepest descent
        S.length = 0;
        Y.length = 0;
        continue;
      }
      stopReason = moved ? "line search found no decrease" : "step too small to change the tolls";
      break;
    }
    const gt = grad(accepted);
    const s = new Float64Array(p);
    const y = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      s[i] = accepted.z[i] - cur.z[i];
      y[i] = gt[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      S.push(s);
      Y.push(y);
      if (S.length > settings.memory) {
        S.shift();
        Y.shift();
      }
    }
    const ft = merit.value(accepted.ms);
    const rel = (f - ft) / Math.max(Math.abs(f), 1e-300);
    slow = rel < settings.tolerance ? slow + 1 : 0;
    cur = accepted;
    if (atKink(accepted)) kinky.push(f);
    else kinky.length = 0;
    f = ft;
    g = gt;
    if (slow >= 2) {
      stopReason = `relative decrease below ${settings.tolerance} twice`;
      break;
    }
    const w = settings.kinkWindow;
    if (w !== undefined && kinky.length >= w) {
      const before = kinky[kinky.length - w];
      const decrease = (before - f) / Math.max(fStart - f, 1e-300);
      if (decrease < (settings.kinkDecrease ?? 1e-3)) {
        stopReason = `stalled at a kink: the last ${w} iterate(s) were (nearly) degenerate equilibria and decreased the merit by ${decrease.toExponential(2)} of its decrease since the start`;
        break;
      }
    }
  }
  const budgetSpent = stopReason === "budget of equilibrium solves spent";
  const state: GradientState | undefined = budgetSpent ? { kind: "gradient", cur, f, fStart, g, S, Y, slow, it, kinky } : undefined;
  return { best: cur, iterations: it, stopReason, ...(state ? { state } : {}) };
}

/**
 * The gradient the search uses: the merit's derivatives from the equilibrium sensitivities. At a
 * degenerate point (a route at the margin of use) the one-sided derivatives differ; per variable
 * the search takes the side along which the merit decreases (the steeper one if both do), and 0
 * where neither does (a kink at a minimum along that toll). A derivative that does not exist
 * (NaN: a jump between constant-cost routes) counts as 0.
 */
export function searchGradient(merit: Merit, e: Evaluation): Float64Array {
  const p = e.z.length;
  const right = merit.gradient(e.ms, e.grads!, new Float64Array(p));
  if (!e.degenerate?.some((d) => d)) return right;
  const left = merit.gradient(e.ms, e.gradsLeft!, new Float64Array(p));
  const g = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const r = Number.isNaN(right[i]) ? 0 : right[i];
    const l = Number.isNaN(left[i]) ? 0 : left[i];
    if (!e.degenerate[i]) g[i] = r;
    else if (r < 0 && l > 0) g[i] = -r > l ? r : l;
    else if (r < 0) g[i] = r;
    else if (l > 0) g[i] = l;
    else g[i] = 0;
  }
  return g;
}

/** Two-loop recursion on the free variables: d = −H g (H from the pairs S, Y). */
function direction(g: Float64Array, free: Uint8Array, S: Float64Array[], Y: Float64Array[], alpha: Float64Array, d: Float64Array): void {
  const p = g.length;
  const fdot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < p; i++) if (free[i]) s += a[i] * b[i];
    return s;
  };
  for (let i = 0; i < p; i++) d[i] = free[i] ? -g[i] : 0;
  const k = S.length;
  if (k === 0) return;
  const rho = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    const sy = fdot(S[j], Y[j]);
    rho[j] = sy > 0 ? 1 / sy : 0;
    alpha[j] = rho[j] * fdot(S[j], d);
    for (let i = 0; i < p; i++) if (free[i]) d[i] -= alpha[j] * Y[j][i];
  }
  const yy = fdot(Y[k - 1], Y[k - 1]);
  const gamma = yy > 0 && rho[k - 1] > 0 ? 1 / (rho[k - 1] * yy) : 1;
  for (let i = 0; i < p; i++) d[i] *= gamma;
  for (let j = 0; j < k; j++) {
    const beta = rho[j] * fdot(Y[j], d);
    for (let i = 0; i < p; i++) if (free[i]) d[i] += (alpha[j] - beta) * S[j][i];
  }
}
