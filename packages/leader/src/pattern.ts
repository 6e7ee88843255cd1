/**
 * Derivative-free search with bounds: Hooke–Jeeves pattern search, every trial point projected
 * onto the box. An exploratory move tries z ± Δ along each variable in turn and keeps what
 * improves the merit; after a successful exploration a pattern move jumps on along the
 * direction of progress; when nothing improves, Δ is halved. Stops when Δ < `minStep` or when
 * the budget of solves is spent. It needs no gradients and tolerates a response that is not
 * smooth (route sets switching, constant-cost ties).
 */

import { Evaluation } from "./evaluator.js";
import { box, clip, markAccepted, record, SearchContext, SearchOutcome } from "./search.js";

export interface PatternSettings {
  start: Float64Array;
  initialStep: number;
  minStep: number;
  /** Go on from where an earlier search stopped for its budget (its outcome's `state`); `start` is then ignored. */
  resume?: PatternState;
}

/** Where a pattern search stopped because its budget was spent: its base point, pattern size and iteration. */
export interface PatternState {
  kind: "pattern";
  base: Evaluation;
  delta: number;
  it: number;
}

/** Runs the projected Hooke–Jeeves pattern search. */
export async function patternSearch(ctx: SearchContext, settings: PatternSettings): Promise<SearchOutcome> {
  const { ev, merit, instrument } = ctx;
  const { lo, hi } = box(instrument);
  const p = instrument.variables.length;
  const budgetLeft = () => ev.solves < ctx.limit;
  const r = settings.resume;
  let it = r?.it ?? 0;
  const f = (e: Evaluation) => merit.value(e.ms);

  let base = r?.base ?? (await ev.evaluate(clip(settings.start, lo, hi)));
  if (!r) record(ctx, base, 0, true);
  let delta = r?.delta ?? settings.initialStep;
  let stopReason = "budget of equilibrium solves spent";

  /** Coordinate-wise exploration around `from` (an evaluated point); warm starts from it. */
  const explore = async (from: Evaluation): Promise<Evaluation> => {
    let best = from;
    for (let i = 0; i < p && budgetLeft(); i++) {
      for (const sgn of [1, -1]) {
        if (!budgetLeft()) break;
        const z = best.z.slice();
        z[i] = Math.min(hi[i], Math.max(lo[i], z[i] + sgn * delta));
        if (z[i] === best.z[i]) continue;
        const e = await ev.evaluate(z, { warm: best });
        const better = f(e) < f(best);
        record(ctx, e, it, false);
        if (better) {
          best = e;
          break;
        }
      }
    }
    return best;
  };

  while (budgetLeft()) {
    it++;
    if (delta < settings.minStep) {
      stopReason = `pattern size below ${settings.minStep}`;
      break;
    }
    let x = await explore(base);
    if (f(x) < f(base)) {
      // pattern moves while they keep paying off
      for (;;) {
        const prev = base;
        base = x;
        markAccepted(ctx, base);
        if (!budgetLeft()) break;
        const zp = new Float64Array(p);
        for (let i = 0; i < p; i++) zp[i] = 2 * base.z[i] - prev.z[i];
        clip(zp, lo, hi, zp);
        const ep = await ev.evaluate(zp, { warm: base });
        record(ctx, ep, it, false);
        x = await explore(ep);
        if (!(f(x) < f(base))) break;
      }
    } else {
      delta /= 2;
    }
  }
  if (delta < settings.minStep) stopReason = `pattern size below ${settings.minStep}`;
  // stopped for the budget: a resumed search explores around the same base again (its trials are cached)
  const state: PatternState | undefined = delta < settings.minStep ? undefined : { kind: "pattern", base, delta, it };
  return { best: base, iterations: it, stopReason, ...(state ? { state } : {}) };
}
