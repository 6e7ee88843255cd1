/**
 * Checks of a design: the gradient used by the search against central finite differences, and
 * the follower's ties (optimistic and pessimistic values where they differ).
 */

import { CHECK_GAP, Evaluation, Evaluator } from "./evaluator.js";
import { objectiveGradient, objectiveValue } from "./objectives.js";
import { TieRule } from "./scenario.js";

/** One variable's gradient check. */
export interface GradientCheckRow {
  variable: string;
  /** Step h (money) of the differences. */
  step: number;
  /** d objective / d toll from the equilibrium sensitivities, for an increase of the toll. */
  analytic: number;
  /** The same for a decrease (differs from `analytic` only at degenerate points). */
  analyticLeft: number;
  /** Central difference (f(z + h e) − f(z − h e)) / 2h. */
  finiteDifference: number;
  /** Forward (f(z + h e) − f(z)) / h and backward (f(z) − f(z − h e)) / h differences. */
  forward: number;
  backward: number;
  /** |analytic − central difference|, and relative to the larger of the two. */
  absoluteError: number;
  relativeError: number;
  /** The sensitivity flagged this point as degenerate (a route at the margin of use): the one-sided derivatives differ. */
  degenerate: boolean;
  /**
   * The sensitivity flagged this point as nearly degenerate: a route starts or stops being used
   * within a small toll change (see `linearRange`), so differences over a longer step see a kink.
   */
  nearDegenerate: boolean;
  /** How far (money) the derivative holds above and below the point, by the sensitivity's first-order estimate. */
  linearRange: { above: number; below: number };
  /**
   * A route starts or stops being used within h of the point on this side: the central
   * difference straddles the kink, and only the other side's difference can be compared.
   */
  kinkWithinStep: "above" | "below" | null;
  /** The derivative agrees with the finite differences (see {@link checkGradient}). */
  agrees: boolean;
}

export interface GradientCheck {
  /** What the search's gradient came from. */
  source: string;
  /** Relative error allowed for the central difference (plus the noise of the equilibrium solves). */
  tolerance: number;
  /** Relative gap of the check's equilibrium solves. */
  gap: number;
  /** Largest relative error of the central difference over the variables without a kink within the step. */
  maxRelativeError: number;
  agrees: boolean;
  solves: number;
  rows: GradientCheckRow[];
}

/**
 * Compares the gradient of the objective at `at` with finite differences: 2 equilibrium solves
 * per decision variable (z ± h e_k) and one at z, warm-started from `at` and solved to a relative
 * gap of at most {@link CHECK_GAP}.
 *
 * A derivative agrees when the central difference is within `tolerance` (relative) plus the
 * solves' noise — or, at a degenerate point, lies between the two one-sided derivatives. The
 * response of an equilibrium is only piecewise smooth: when a route starts or stops being used
 * within h of the point, the central difference straddles that kink. Then the one-sided
 * difference on the smooth side must agree with the derivative of that side (within 10 ×
 * tolerance, as it is only first-order accurate), and the row says on which side the kink lies.
 * The sensitivity's own estimate of how far each one-sided derivative holds is reported beside
 * it (`linearRange`): a kink within h is expected where that range is shorter than h.
 * @param steps finite-difference step per variable (money)
 */
export async function checkGradient(
  ev: Evaluator,
  at: Evaluation,
  steps: number[],
  type: Parameters<typeof objectiveValue>[0],
): Promise<GradientCheck> {
  const phase = ev.phase;
  ev.setPhase("gradient check");
  const s0 = ev.solves;
  const e = await ev.evaluate(at.z, { gradient: true, rule: at.rule ?? undefined, warm: at });
  const analytic = objectiveGradient(type, e.grads!);
  const analyticLeft = objectiveGradient(type, e.gradsLeft!);
  const tolerance = 1e-3;
  const gap = Math.min(ev.s.follower.gap, CHECK_GAP);
  const f0 = objectiveValue(type, await ev.measureAt(e.z.slice(), e, gap));
  const size = Math.max(Math.abs(f0), e.eq.totalCost);
  const rows: GradientCheckRow[] = [];
  const close = (x: number, y: number, rel: number, noise: number) =>
    Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= rel * Math.max(Math.abs(x), Math.abs(y)) + noise;
  for (let k = 0; k < e.z.length; k++) {
    const h = steps[k];
    const zp = e.z.slice();
    const zm = e.z.slice();
    zp[k] += h;
    zm[k] -= h;
    const fp = objectiveValue(type, await ev.measureAt(zp, e, gap));
    const fm = objectiveValue(type, await ev.measureAt(zm, e, gap));
    const fd = (fp - fm) / (2 * h);
    const forward = (fp - f0) / h;
    const backward = (f0 - fm) / h;
    const a = analytic[k];
    const al = analyticLeft[k];
    const degenerate = !!e.degenerate?.[k];
    // noise: each value is known to about gap · (total cost), in the objective's units
    const noise = (4 * gap * size) / (2 * h);
    let agrees: boolean;
    let kink: GradientCheckRow["kinkWithinStep"] = null;
    if (degenerate) {
      const lo = Math.min(a, al);
      const hi = Math.max(a, al);
      agrees = (fd >= lo && fd <= hi) || close(fd, lo, tolerance, noise) || close(fd, hi, tolerance, noise);
    } else agrees = close(fd, a, tolerance, noise);
    if (!agrees) {
      const one = 10 * tolerance;
      if (close(backward, al, one, 2 * noise) && !close(forward, a, one, 2 * noise)) kink = "above";
      else if (close(forward, a, one, 2 * noise) && !close(backward, al, one, 2 * noise)) kink = "below";
      agrees = kink !== null;
    }
    rows.push({
      variable: ev.s.instrument.variables[k].label,
      step: h,
      analytic: a,
      analyticLeft: al,
      finiteDifference: fd,
      forward,
      backward,
      absoluteError: Math.abs(a - fd),
      relativeError: Math.abs(a - fd) / Math.max(Math.abs(a), Math.abs(fd), 1e-300),
      degenerate,
      nearDegenerate: !!e.nearDegenerate?.[k],
      linearRange: { above: e.range?.[k] ?? NaN, below: e.rangeLeft?.[k] ?? NaN },
      kinkWithinStep: kink,
      agrees,
    });
  }
  ev.setPhase(phase);
  return {
    source: "equilibrium sensitivities (follower equilibriumSensitivity)",
    tolerance,
    gap,
    maxRelativeError: rows.reduce((m, r) => (r.degenerate || r.kinkWithinStep ? m : Math.max(m, r.relativeError)), 0),
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
  ev.setPhase("ties");
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
  ev.setPhase(phase);
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
