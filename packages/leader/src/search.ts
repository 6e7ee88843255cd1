/**
 * What every search method shares: the history of evaluations, the box of the decision
 * variables, and the budget of equilibrium solves.
 */

import { Evaluation, Evaluator } from "./evaluator.js";
import type { GradientState } from "./gradient.js";
import { Instrument } from "./instrument.js";
import { Merit, objectiveValue } from "./objectives.js";
import type { PatternState } from "./pattern.js";

/** One row of a search history: an evaluated design. */
export interface HistoryRow {
  /** Iteration of the method (grid point index, quasi-Newton or pattern iteration). */
  step: number;
  /** Equilibrium solves used so far by the whole run. */
  solves: number;
  /** Objective value (natural units: TSTT, or revenue / welfare in money). */
  value: number;
  /** The minimised merit (sign-adjusted objective, plus the revenue-floor terms). */
  merit: number;
  tstt: number;
  revenue: number;
  /** Decision variables (money), one per variable of the instrument. */
  tolls: number[];
  /** True for the iterates (accepted points); false for trial points. */
  accepted: boolean;
  /** Phase of the run that made it (e.g. "search", "search (λ = 0.3)"). */
  phase: string;
}

export interface SearchContext {
  ev: Evaluator;
  merit: Merit;
  instrument: Instrument;
  history: HistoryRow[];
  /** The search may start a solve while the evaluator's solve count is below this. */
  limit: number;
}

/** Result of a search. */
export interface SearchOutcome {
  best: Evaluation;
  iterations: number;
  stopReason: string;
  /**
   * Set when the search stopped only because its budget was spent: what it needs to go on where
   * it stopped (its settings' `resume`), as the screening of several starts does.
   */
  state?: GradientState | PatternState;
}

/** Appends an evaluation to the history. */
export function record(ctx: SearchContext, e: Evaluation, step: number, accepted: boolean): void {
  // a resumed search tries its last trial again (a cached evaluation): one row for it
  const last = ctx.history.at(-1);
  const phase = ctx.ev.note ? `${ctx.ev.phase} (${ctx.ev.note})` : ctx.ev.phase;
  if (last && last.solves === ctx.ev.solves && last.phase === phase && last.tolls.every((t, i) => t === e.z[i])) {
    last.accepted ||= accepted;
    return;
  }
  ctx.history.push({
    step,
    solves: ctx.ev.solves,
    value: objectiveValue(ctx.merit.type, e.ms),
    merit: ctx.merit.value(e.ms),
    tstt: e.ms.tstt,
    revenue: e.ms.revenue,
    tolls: Array.from(e.z),
    accepted,
    phase,
  });
}

/** Marks the latest history row of this evaluation's tolls as an accepted iterate. */
export function markAccepted(ctx: SearchContext, e: Evaluation): void {
  for (let r = ctx.history.length - 1; r >= 0; r--) {
    const row = ctx.history[r];
    if (row.tolls.every((t, i) => t === e.z[i])) {
      row.accepted = true;
      return;
    }
  }
}

/** Lower and upper bounds of the decision variables. */
export function box(ins: Instrument): { lo: Float64Array; hi: Float64Array } {
  return { lo: Float64Array.from(ins.variables, (v) => v.min), hi: Float64Array.from(ins.variables, (v) => v.max) };
}

/** Projects onto [lo, hi] (into out). */
export function clip(z: Float64Array, lo: Float64Array, hi: Float64Array, out = new Float64Array(z.length)): Float64Array {
  for (let i = 0; i < z.length; i++) out[i] = Math.min(hi[i], Math.max(lo[i], z[i]));
  return out;
}

/** Dot product of two vectors of the same length. */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Largest absolute entry (the ∞-norm). */
export function maxAbs(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]));
  return s;
}
