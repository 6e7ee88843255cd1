/**
 * The leader with elastic demand. The follower solves elastic demand through Gartner's
 * excess-demand transformation (`@tollkit/follower`'s `ElasticDemandProblem`), so the
 * equilibrium sensitivities of the augmented network carry the derivatives of demand with the
 * derivatives of flows: an excess link's flow is the trips not made, e = q̄ − q, so dq/dτ = −de/dτ.
 * Gradients are therefore exact (no finite differences), from the same bush sensitivities.
 *
 * Welfare with elastic demand (money) = Σ_k CS_k / tollFactor_k + revenue, CS the consumer
 * surplus (time units × vehicles, the integral under the demand function above the OD cost).
 * With CS(u) = ∫_u D, dCS/du = −q and du = dq / D′(u), so dCS/dτ = Σ_od (−q / D′(u)) · dq/dτ.
 * TSTT keeps its meaning: Σ over road links of x·t(x); its derivative Σ_a (t_a + x_a·t′_a)·dx_a/dτ.
 */

import { demandSlope, ElasticDemandProblem, ElasticResult, equilibriumSensitivity, FollowerResult, TollDirection } from "@tollkit/follower";
import { CompiledVdf, InputError } from "@tollkit/graph-core";

/** Derivatives on the original network: flows, TSTT, revenue and welfare (one entry per link or direction, as the follower's sensitivity). */
export interface ElasticSensitivity {
  dFlows: Float64Array[];
  dFlowsLeft: Float64Array[];
  dTstt: Float64Array;
  dTsttLeft: Float64Array;
  dRevenue: Float64Array;
  dRevenueLeft: Float64Array;
  /** d welfare / d τ (money per unit of toll). */
  dWelfare: Float64Array;
  dWelfareLeft: Float64Array;
  /** d trips made / d τ, Σ over all pairs and classes (vehicles per unit of toll). */
  dTrips: Float64Array;
  degenerate: boolean[];
  nearDegenerate: boolean[];
  range: Float64Array;
  rangeLeft: Float64Array;
  warnings: string[];
}

/** True when a follower result comes from an elastic-demand solve. */
export function isElasticResult(r: FollowerResult): r is ElasticResult {
  return (r as Partial<ElasticResult>).elastic !== undefined;
}

/**
 * Exact equilibrium derivatives of an elastic-demand equilibrium with respect to tolls on links
 * (0-based) and along directions, from the bush sensitivities of the augmented network.
 * @throws InputError when the result holds no bushes (not a bush solve, or released)
 */
export function elasticSensitivity(
  problem: ElasticDemandProblem,
  eq: ElasticResult,
  links: number[],
  directions: TollDirection[],
  step?: number,
): ElasticSensitivity {
  const aug = problem.augmented;
  const net = problem.net;
  const m = net.linkCount;
  if (!eq.augmented)
    throw new InputError("leader/elastic", "not an elastic-demand result", { field: "eq" }, "a result of ElasticDemandProblem");
  const augEq: FollowerResult = { ...eq.augmented, warmStart: eq.warmStart };
  const r = equilibriumSensitivity(aug.network, augEq, { links, directions, classes: aug.classes, step });
  const vdf = new CompiledVdf(net.links);
  const marginal = new Float64Array(m);
  for (let a = 0; a < m; a++) marginal[a] = eq.times[a] + eq.flows[a] * vdf.derivative(a, eq.flows[a]);
  const { excess } = aug;
  const Z = net.zoneCount;
  // per excess link: d welfare / d e (money per vehicle not travelling), from dCS/dq = −q/D′(u)
  const welfarePerExcess = new Float64Array(excess.link.length);
  const pcePerExcess = new Float64Array(excess.link.length);
  for (let j = 0; j < excess.link.length; j++) {
    const k = excess.cls[j];
    const c = problem.classes[k];
    const p = excess.origin[j] * Z + excess.destination[j];
    const q = eq.elastic.demand[k][p];
    const u = eq.elastic.odCost[k][p];
    const slope = demandSlope(excess.demand[j], u);
    const dCSdq = q > 0 && slope < 0 ? -q / slope : 0;
    // dq = −de; money = time / tollFactor
    welfarePerExcess[j] = c.tollFactor > 0 ? -dCSdq / c.tollFactor : NaN;
    pcePerExcess[j] = c.pce;
  }
  const n = r.dFlows.length;
  const out: ElasticSensitivity = {
    dFlows: [],
    dFlowsLeft: [],
    dTstt: new Float64Array(n),
    dTsttLeft: new Float64Array(n),
    dRevenue: r.dRevenue,
    dRevenueLeft: r.dRevenueLeft,
    dWelfare: new Float64Array(n),
    dWelfareLeft: new Float64Array(n),
    dTrips: new Float64Array(n),
    degenerate: r.degenerate,
    nearDegenerate: r.nearDegenerate,
    range: r.range,
    rangeLeft: r.rangeLeft,
    warnings: r.warnings,
  };
  for (let j = 0; j < n; j++) {
    for (const [dx, flows, tstt, welfare, revenue] of [
      [r.dFlows[j], out.dFlows, out.dTstt, out.dWelfare, r.dRevenue[j]],
      [r.dFlowsLeft[j], out.dFlowsLeft, out.dTsttLeft, out.dWelfareLeft, r.dRevenueLeft[j]],
    ] as const) {
      flows.push(dx.slice(0, m));
      let t = 0;
      for (let a = 0; a < m; a++) t += marginal[a] * dx[a];
      tstt[j] = t;
      let w = revenue;
      let trips = 0;
      for (let e = 0; e < excess.link.length; e++) {
        const de = dx[excess.link[e]] / pcePerExcess[e];
        w += welfarePerExcess[e] * de;
        trips -= de;
      }
      welfare[j] = w;
      if (flows === out.dFlows) out.dTrips[j] = trips;
    }
  }
  return out;
}
