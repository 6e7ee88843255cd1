/**
 * Checks of a design: the gradient used by the search against central finite differences, and
 * the follower's ties (optimistic and pessimistic values where they differ).
 */

import { Evaluation, Evaluator } from "./evaluator.js";
import { objectiveGradient, objectiveValue } from "./objectives.js";
import { TieRule } from "./scenario.js";

/** One variable's gradient check. */
export interface GradientCheckRow {
  variable: string;
  /** Step h (money) of the central difference. */
  step: number;
  /** d objective / d toll from the equilibrium sensitivities, for an increase of the toll. */
  analytic: number;
  /** The same for a decrease (differs from `analytic` only at degenerate points). */
  analyticLeft: number;
  /** (f(z + h e) − f(z − h e)) / 2h, from two more equilibrium solves. */
  finiteDifference: number;
  absoluteError: number;
  relativeError: number;
  /** The sensitivity flagged this point as degenerate (a route at the margin of use): the one-sided derivatives differ. */
  degenerate: boolean;
  /** |analytic − FD| within tolerance (degenerate: FD between the one-sided derivatives, within tolerance). */
  agrees: boolean;
}

export interface GradientCheck {
  /** What the search's gradient came from. */
  source: string;
  /** Relative error allowed (plus the noise floor of the equilibrium solves). */
  tolerance: number;
  /** Largest relative error over the non-degenerate variables. */
  maxRelativeError: number;
  agrees: boolean;
  solves: number;
  rows: GradientCheckRow[];
}

/**
 * Compares the gradient of the objective at `at` with central finite differences
 * (2 equilibrium solves per decision variable, warm-started from `at`).
 * @param steps finite-difference step per variable (money)
 */
export async function checkGradient(
  ev: Evaluator,
  at: Evaluation,
  steps: number[],
  type: Parameters<typeof objectiveValue>[0],
): Promise<GradientCheck> {
  const phase = ev.phase;
  ev.phase = "gradient check";
  const s0 = ev.solves;
  const e = await ev.evaluate(at.z, { gradient: true, rule: at.rule ?? undefined, warm: at });
  const analytic = objectiveGradient(type, e.grads!);
  const analyticLeft = objectiveGradient(type, e.gradsLeft!);
  const tolerance = 1e-3;
  const gap = Math.max(e.eq.relativeGap, ev.s.follower.gap);
  const rows: GradientCheckRow[] = [];
  for (let k = 0; k < e.z.length; k++) {
    const h = steps[k];
    const zp = e.z.slice();
    const zm = e.z.slice();
    zp[k] += h;
    zm[k] -= h;
    const fp = objectiveValue(type, await ev.measureAt(zp, e));
    const fm = objectiveValue(type, await ev.measureAt(zm, e));
    const fd = (fp - fm) / (2 * h);
    const a = analytic[k];
    const al = analyticLeft[k];
    const degenerate = !!e.degenerate?.[k];
    // noise floor: each value is known to about gap · |total cost| (in the objective's units)
    const noise = (4 * gap * Math.max(Math.abs(objectiveValue(type, e.ms)), e.eq.totalCost)) / (2 * h);
    const lo = degenerate ? Math.min(a, al) : a;
    const hi = degenerate ? Math.max(a, al) : a;
    const err = fd < lo ? lo - fd : fd > hi ? fd - hi : 0;
    const scale = Math.max(Math.abs(lo), Math.abs(hi), Math.abs(fd));
    rows.push({
      variable: ev.s.instrument.variables[k].label,
      step: h,
      analytic: a,
      analyticLeft: al,
      finiteDifference: fd,
      absoluteError: Math.abs(a - fd),
      relativeError: Math.abs(a - fd) / Math.max(Math.abs(a), Math.abs(fd), 1e-300),
      degenerate,
      agrees: Number.isFinite(err) && err <= tolerance * scale + noise,
    });
  }
  ev.phase = phase;
  return {
    source: "equilibrium sensitivities (follower equilibriumSensitivity)",
    tolerance,
    maxRelativeError: rows.reduce((m, r) => (r.degenerate ? m : Math.max(m, r.relativeError)), 0),
    agrees: rows.every((r) => r.agrees),
    solves: ev.solves - s0,
    rows,
  };
}

/** Values of the leader under one tie rule. */
export interface TieValues {
  value: number;
  revenue: number;
  tstt: number;
}

/** The tie report of a design. */
export interface TieReport {
  /** The rule the search assumed. */
  rule: TieRule;
  /** Whether ties can occur at all (the network has constant-cost links). */
  applies: boolean;
  note: string;
  constantCostLinks: number;
  /** At the design's tolls. */
  atDesign?: { tolls: number[]; optimistic: TieValues; pessimistic: TieValues; differ: boolean };
  /** With every toll lowered by the margin. */
  justBelow?: { margin: number; tolls: number[]; optimistic: TieValues; pessimistic: TieValues; differ: boolean };
}

/**
 * Evaluates the design under the optimistic and the pessimistic follower, at its tolls and just
 * below them (up to 3 more solves), when the network has constant-cost links.
 */
export async function tieReport(
  ev: Evaluator,
  at: Evaluation,
  rule: TieRule,
  margin: number,
  type: Parameters<typeof objectiveValue>[0],
): Promise<TieReport> {
  if (!ev.tiesPossible)
    return {
      rule,
      applies: false,
      note: "every link's cost rises with its flow, so equilibrium link flows are unique: no ties",
      constantCostLinks: 0,
    };
  const phase = ev.phase;
  ev.phase = "ties";
  const vals = (e: Evaluation): TieValues => ({ value: objectiveValue(type, e.ms), revenue: e.ms.revenue, tstt: e.ms.tstt });
  const differ = (a: TieValues, b: TieValues) => Math.abs(a.value - b.value) > 1e-6 * Math.max(1, Math.abs(a.value), Math.abs(b.value));
  const both = async (z: Float64Array) => {
    const o = await ev.evaluate(z, { rule: "optimistic", warm: at });
    const p = await ev.evaluate(z, { rule: "pessimistic", warm: at });
    return { tolls: Array.from(z), optimistic: vals(o), pessimistic: vals(p), differ: differ(vals(o), vals(p)) };
  };
  const atDesign = await both(at.z);
  const lo = ev.s.instrument.variables.map((v) => v.min);
  const zb = at.z.map((t, k) => Math.max(lo[k], t - margin));
  const justBelow = { margin, ...(await both(zb)) };
  ev.phase = phase;
  return {
    rule,
    applies: true,
    note:
      `${ev.constantLinks.length} link(s) have a constant cost, so followers can be indifferent between routes. The search assumed the ${rule} follower ` +
      "(optimistic: ties broken in the leader's favour); both are reported at the design and with every toll lowered by the margin.",
    constantCostLinks: ev.constantLinks.length,
    atDesign,
    justBelow,
  };
}
