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
 *
 * The same measures by the adjoint method ({@link elasticAdjointGradient}): each is a linear
 * function of the augmented network's link-flow derivatives (road links weighted t + x·t′ for
 * TSTT, excess links weighted by dCS/de for consumer surplus, and −1/pce for trips), so one
 * adjoint solve per measure on the augmented network gives its gradient for every tolled link at
 * once, demand derivatives included.
 */

import {
  adjointTollGradient,
  AdjointTollGradient,
  demandSlope,
  ElasticDemandProblem,
  ElasticResult,
  equilibriumSensitivity,
  FollowerResult,
  TollDirection,
} from "@tollkit/follower";
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

/** The augmented result of an elastic-demand result, with its bushes (for sensitivities). */
function augmentedResult(eq: ElasticResult): FollowerResult {
  if (!eq.augmented)
    throw new InputError("leader/elastic", "not an elastic-demand result", { field: "eq" }, "a result of ElasticDemandProblem");
  return { ...eq.augmented, warmStart: eq.warmStart };
}

/**
 * Per excess link j: d welfare / d e_j (money per vehicle not travelling; NaN for a class with
 * toll factor 0), from dCS/dq = −q/D′(u) and dq = −de.
 */
function welfarePerExcess(problem: ElasticDemandProblem, eq: ElasticResult): Float64Array {
  const { excess } = problem.augmented;
  const Z = problem.net.zoneCount;
  const out = new Float64Array(excess.link.length);
  for (let j = 0; j < excess.link.length; j++) {
    const k = excess.cls[j];
    const c = problem.classes[k];
    const p = excess.origin[j] * Z + excess.destination[j];
    const q = eq.elastic.demand[k][p];
    const u = eq.elastic.odCost[k][p];
    const slope = demandSlope(excess.demand[j], u);
    const dCSdq = q > 0 && slope < 0 ? -q / slope : 0;
    out[j] = c.tollFactor > 0 ? -dCSdq / c.tollFactor : NaN;
  }
  return out;
}

/** Adjoint gradients of the elastic-demand measures, one entry per link asked for. */
export interface ElasticAdjointGradient {
  links: number[];
  /** d TSTT / d τ (road links; time units per unit of toll). */
  dTstt: Float64Array;
  /** d revenue / d τ. */
  dRevenue: Float64Array;
  /** d welfare / d τ (consumer surplus + revenue, money per unit of toll), demand derivatives included. */
  dWelfare: Float64Array;
  /** d trips made / d τ (Σ over pairs and classes, vehicles per unit of toll). */
  dTrips: Float64Array;
  /** The follower's adjoint outcome on the augmented network (degenerate, nearly degenerate, solves, warnings). */
  adjoint: AdjointTollGradient;
}

/**
 * Gradients of TSTT, revenue, welfare and trips made of an elastic-demand equilibrium with respect
 * to the toll on each of `links` (0-based links of the original network), by the follower's
 * adjoint method on the augmented network: four derivative solves however many links there are
 * (plus the follower's probes). Where the follower finds the point degenerate, every gradient is
 * NaN and `adjoint.degenerate` says why (use {@link elasticSensitivity} then).
 * @throws InputError when the result holds no bushes (not a bush solve, or released) or a link is out of range
 */
export function elasticAdjointGradient(
  problem: ElasticDemandProblem,
  eq: ElasticResult,
  links: number[],
  step?: number,
): ElasticAdjointGradient {
  const aug = problem.augmented;
  const net = problem.net;
  const m = net.linkCount;
  const ma = aug.network.linkCount;
  links.forEach((l, i) => {
    if (!(Number.isInteger(l) && l >= 0 && l < m))
      throw new InputError("leader/elastic", `link index ${l}`, { field: `links[${i}]` }, `an integer in 0..${m - 1}`);
  });
  const augEq = augmentedResult(eq);
  const vdf = new CompiledVdf(net.links);
  const tstt = new Float64Array(ma);
  for (let a = 0; a < m; a++) tstt[a] = eq.times[a] + eq.flows[a] * vdf.derivative(a, eq.flows[a]);
  const { excess } = aug;
  const perExcess = welfarePerExcess(problem, eq);
  const surplus = new Float64Array(ma);
  const trips = new Float64Array(ma);
  for (let j = 0; j < excess.link.length; j++) {
    // link weights are per PCE of flow; e = x / pce
    const pce = problem.classes[excess.cls[j]].pce;
    surplus[excess.link[j]] = perExcess[j] / pce;
    trips[excess.link[j]] = -1 / pce;
  }
  const adjoint = adjointTollGradient(aug.network, augEq, {
    links,
    objectives: [{ linkWeights: tstt }, "revenue", { linkWeights: surplus }, { linkWeights: trips }],
    classes: aug.classes,
    step,
  });
  const [dTstt, dRevenue, dSurplus, dTrips] = adjoint.gradients;
  const dWelfare = Float64Array.from(dRevenue, (r, i) => r + dSurplus[i]);
  return { links: [...links], dTstt, dRevenue, dWelfare, dTrips, adjoint };
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
  const augEq = augmentedResult(eq);
  const r = equilibriumSensitivity(aug.network, augEq, { links, directions, classes: aug.classes, step });
  const vdf = new CompiledVdf(net.links);
  const marginal = new Float64Array(m);
  for (let a = 0; a < m; a++) marginal[a] = eq.times[a] + eq.flows[a] * vdf.derivative(a, eq.flows[a]);
  const { excess } = aug;
  const welfarePerExcessLink = welfarePerExcess(problem, eq);
  const pcePerExcess = Float64Array.from(excess.cls, (k) => problem.classes[k].pce);
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
        w += welfarePerExcessLink[e] * de;
        trips -= de;
      }
      welfare[j] = w;
      if (flows === out.dFlows) out.dTrips[j] = trips;
    }
  }
  return out;
}
