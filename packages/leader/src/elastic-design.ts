/**
 * Elastic demand in a design run: the scenario's `demand: {type: "elastic", …}` becomes the
 * follower's {@link ElasticDemandProblem} (pivoted on the no-toll equilibrium, solved once with the
 * scenario's follower settings), and the design reports trips made and not made, consumer surplus
 * and welfare by zone, against its no-toll baseline. Gradients are exact equilibrium
 * sensitivities of the transformed network (`./elastic-demand.ts`): they include the
 * derivatives of demand.
 */

import { ElasticDemandProblem, FollowerResult, UserClass } from "@tollkit/follower";
import { Network } from "@tollkit/graph-core";
import { isElasticResult } from "./elastic-demand.js";
import { Scenario } from "./scenario.js";

/** One zone's line of an elastic design report (trips in vehicles, money for surplus). */
export interface ElasticZoneReport {
  zone: number;
  tripsReference: number;
  tripsMade: number;
  tripsNotMade: number;
  /** Consumer surplus at the design minus at the baseline (money). */
  consumerSurplusChange: number;
}

/** What a design with elastic demand adds to its result (`demand`). */
export interface ElasticDesignReport {
  type: "elastic";
  form: string;
  /** Σ trip table, trips made and not made at the design (vehicles). */
  tripsReference: number;
  tripsMade: number;
  tripsNotMade: number;
  /** Trips made at the no-toll baseline (= tripsReference up to the gap when the pivot is the baseline's). */
  baselineTripsMade: number;
  consumerSurplus: number;
  baselineConsumerSurplus: number;
  /** Consumer surplus + revenue at the design and at the baseline, and their difference (money). */
  welfare: number;
  baselineWelfare: number;
  welfareChange: number;
  /** Where the gradients came from. */
  gradientSource: "equilibrium-sensitivity (excess-demand links: demand derivatives included)";
  zones: ElasticZoneReport[];
}

/**
 * The follower problem of a scenario's elastic demand, or undefined for fixed demand.
 * @throws InputError from the follower (a bad spec naming the field, a failing pivot solve)
 */
export function elasticDemandOf(s: Scenario, net: Network, classes: UserClass[]): ElasticDemandProblem | undefined {
  const d = s.demand;
  if (!d || d.type !== "elastic") return undefined;
  const f = s.follower;
  return ElasticDemandProblem.create(net, d, {
    classes,
    pivotSolver: { algorithm: f.algorithm, gap: f.gap, maxIterations: f.maxIterations, maxSeconds: f.maxSeconds },
  });
}

/** The design's elastic-demand report from its baseline and final equilibria. */
export function elasticReport(p: ElasticDemandProblem, baseline: FollowerResult, final: FollowerResult): ElasticDesignReport | undefined {
  if (!isElasticResult(baseline) || !isElasticResult(final)) return undefined;
  const b = baseline.elastic;
  const e = final.elastic;
  return {
    type: "elastic",
    form: p.spec.form,
    tripsReference: e.tripsReference,
    tripsMade: e.tripsMade,
    tripsNotMade: e.tripsNotMade,
    baselineTripsMade: b.tripsMade,
    consumerSurplus: e.consumerSurplus,
    baselineConsumerSurplus: b.consumerSurplus,
    welfare: e.welfare,
    baselineWelfare: b.welfare,
    welfareChange: e.welfare - b.welfare,
    gradientSource: "equilibrium-sensitivity (excess-demand links: demand derivatives included)",
    zones: e.zones.map((z, i) => ({
      zone: z.zone,
      tripsReference: z.tripsReference,
      tripsMade: z.tripsMade,
      tripsNotMade: z.tripsNotMade,
      consumerSurplusChange: z.consumerSurplus - b.zones[i].consumerSurplus,
    })),
  };
}
