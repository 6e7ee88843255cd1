/**
 * The leader's objectives, measured on an equilibrium, and the merit function the searches
 * minimise.
 *
 * Definitions (fixed demand; flows of class k in its vehicles, x = Σ_k pce_k f_k in PCE):
 * - TSTT = Σ_a x_a · t_a(x_a) (time units · PCE) — minimised.
 * - Revenue = Σ_k tolled Σ_a τ_a · f_ka (money) — maximised.
 * - Welfare = −Σ_k VOT_k · Σ_a f_ka · (t_a + d_k · len_a) (money) — maximised. With fixed
 *   demand the consumer surplus changes by minus the change of generalised cost in money
 *   (time, distance and tolls), and the authority gains the revenue; tolls are a transfer and
 *   cancel, so welfare is minus the money value of the time and distance all travellers spend.
 *   With one class and no distance cost, maximising welfare is minimising VOT · TSTT / pce.
 * - With elastic demand (`./elastic-demand.ts`), welfare = consumer surplus + revenue (money), the
 *   follower's elastic summary; TSTT and revenue are measured on the road links as above.
 * - TSTT (or welfare) subject to revenue ≥ R: an augmented Lagrangian on the scaled
 *   constraint g = (R − revenue) / R ≤ 0, with the objective scaled by its no-toll value:
 *   merit = f / |f₀| + (max(0, λ + μ g)² − λ²) / (2μ).
 */

import { FollowerResult, UserClass } from "@tollkit/follower";
import { Network } from "@tollkit/graph-core";
import { ObjectiveType } from "./scenario.js";

/** Measures of one equilibrium under the true tolls (not the tie-breaking perturbation). */
export interface LeaderMeasures {
  /** Σ x·t (time units · PCE). */
  tstt: number;
  /** Toll revenue (money). */
  revenue: number;
  /** −Σ_k VOT_k Σ_a f_ka (t_a + d_k len_a) (money); NaN when a class has no finite value of time. */
  welfare: number;
}

/** Derivatives of the measures with respect to the decision variables (money → per money). */
export interface MeasureGradients {
  tstt: Float64Array;
  revenue: Float64Array;
  welfare: Float64Array;
}

/** Computes the leader's measures of an equilibrium under `tolls` (money per link). */
export function leaderMeasures(net: Network, classes: readonly UserClass[], eq: FollowerResult, tolls: Float64Array): LeaderMeasures {
  const m = net.linkCount;
  const x = eq.flows;
  const t = eq.times;
  let tstt = 0;
  for (let a = 0; a < m; a++) tstt += x[a] * t[a];
  let revenue = 0;
  let welfare = 0;
  classes.forEach((c, k) => {
    const f = eq.classes[k].flows;
    const vot = c.tollFactor > 0 ? 1 / c.tollFactor : Infinity;
    const d = c.distanceFactor;
    const len = net.links.length;
    let time = 0;
    let rev = 0;
    for (let a = 0; a < m; a++) {
      time += f[a] * (t[a] + d * len[a]);
      rev += f[a] * tolls[a];
    }
    if (c.tolled) revenue += rev;
    welfare -= vot * time;
  });
  const elastic = (eq as { elastic?: { consumerSurplus: number } }).elastic;
  if (elastic) welfare = elastic.consumerSurplus + revenue;
  return { tstt, revenue, welfare: Number.isFinite(welfare) ? welfare : NaN };
}

/** +1 for objectives the leader minimises, −1 for those it maximises. */
export function objectiveSign(type: ObjectiveType): 1 | -1 {
  return type === "tstt" ? 1 : -1;
}

/** The objective's value (natural units and sign) from the measures. */
export function objectiveValue(type: ObjectiveType, ms: LeaderMeasures): number {
  return type === "tstt" ? ms.tstt : type === "revenue" ? ms.revenue : ms.welfare;
}

/** The objective's gradient (natural sign) from the measure gradients. */
export function objectiveGradient(type: ObjectiveType, g: MeasureGradients): Float64Array {
  return type === "tstt" ? g.tstt : type === "revenue" ? g.revenue : g.welfare;
}

/** Relative tolerance on the revenue floor: revenue ≥ R·(1 − 1e-5) counts as meeting it. */
export const FEASIBILITY_TOLERANCE = 1e-5;

/** The state of the merit function: plain objective, or an augmented Lagrangian with a revenue floor. */
export class Merit {
  /** Lagrange multiplier of the revenue floor (≥ 0). */
  lambda = 0;
  /** Penalty parameter μ. */
  mu: number;
  /** Scale of the objective: |objective| at the no-toll baseline (1 without a floor). */
  scale = 1;

  constructor(
    readonly type: ObjectiveType,
    readonly minRevenue: number | undefined,
    penalty: number,
  ) {
    this.mu = penalty;
  }

  /** The scaled constraint g = (R − revenue)/R (≤ 0 when feasible); 0 without a floor. */
  constraint(ms: LeaderMeasures): number {
    if (this.minRevenue === undefined) return 0;
    const R = this.minRevenue;
    return R > 0 ? (R - ms.revenue) / R : Math.max(0, -ms.revenue);
  }

  /** The minimised merit. */
  value(ms: LeaderMeasures): number {
    const f = objectiveSign(this.type) * objectiveValue(this.type, ms);
    if (this.minRevenue === undefined) return f;
    const g = this.constraint(ms);
    const p = Math.max(0, this.lambda + this.mu * g);
    return f / this.scale + (p * p - this.lambda * this.lambda) / (2 * this.mu);
  }

  /** Gradient of the merit from the measure gradients (into `out`). */
  gradient(ms: LeaderMeasures, g: MeasureGradients, out: Float64Array): Float64Array {
    const s = objectiveSign(this.type);
    const of = objectiveGradient(this.type, g);
    if (this.minRevenue === undefined) {
      for (let i = 0; i < out.length; i++) out[i] = s * of[i];
      return out;
    }
    const R = this.minRevenue > 0 ? this.minRevenue : 1;
    const p = Math.max(0, this.lambda + this.mu * this.constraint(ms));
    for (let i = 0; i < out.length; i++) out[i] = (s * of[i]) / this.scale - (p * g.revenue[i]) / R;
    return out;
  }

  /**
   * Whether the measures meet the revenue floor, within {@link FEASIBILITY_TOLERANCE} of it
   * (an augmented Lagrangian approaches the boundary from either side); true without a floor.
   */
  feasible(ms: LeaderMeasures): boolean {
    if (this.minRevenue === undefined) return true;
    return ms.revenue >= this.minRevenue - FEASIBILITY_TOLERANCE * Math.max(this.minRevenue, 1);
  }

  /** The first-order update of the multiplier after an inner search. */
  updateMultiplier(ms: LeaderMeasures): void {
    this.lambda = Math.max(0, this.lambda + this.mu * this.constraint(ms));
  }
}
