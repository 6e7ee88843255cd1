/**
 * First-best (marginal-cost) pricing. At the system optimum x*, the toll on link a equals the
 * marginal external cost x*_a · t′_a(x*_a) (time units); a class with toll factor φ (= 1/VOT)
 * perceives φ·τ_a, so the money toll is τ_a = x*_a · t′_a(x*_a) / φ. The tolled user
 * equilibrium then reproduces the system optimum (its TSTT is reported next to the SO's).
 *
 * Exact when every class is tolled and all share one value of time. Otherwise no single link
 * toll decentralises the optimum: the tolls use the demand-weighted mean toll factor of the
 * tolled classes, and the result warns.
 *
 * The check solves the tolled user equilibrium warm-started from the system optimum: when the
 * tolls are right, the SO flows already meet the UE conditions and the solver confirms it by
 * measuring their relative gap (no iterations needed); otherwise it moves away from them.
 * The system optimum's bushes are released after that one warm start (its flows are kept); the
 * other results' bushes (the baseline's) before it, so that the check runs beside one stored set
 * of bushes only, as a plain solve does.
 */

import { FollowerResult } from "@tollkit/follower";
import { CompiledVdf } from "@tollkit/graph-core";
import { Evaluation, Evaluator } from "./evaluator.js";

/** The first-best design and its check. */
export interface FirstBest {
  /** The system optimum (tolls do not enter it). */
  so: FollowerResult;
  /** Marginal external cost x·t′(x) at the system optimum, per link (time units). */
  timeTolls: Float64Array;
  /** The first-best tolls (money), per link. */
  tolls: Float64Array;
  /** The toll factor used to convert time to money (time units per unit of money). */
  tollFactor: number;
  /** The user equilibrium under the first-best tolls. */
  tolled: Evaluation;
  soTstt: number;
  tolledTstt: number;
  /** (tolled UE TSTT − SO TSTT) / SO TSTT. */
  relativeDifference: number;
  warnings: string[];
}

/**
 * Computes first-best tolls on every link and verifies them with a tolled user equilibrium
 * (2 solves: the system optimum and the tolled UE).
 * @throws InputError from the follower (bad settings, unroutable demand)
 */
export async function firstBest(ev: Evaluator): Promise<FirstBest> {
  const { net, classes } = ev.s;
  const warnings: string[] = [];
  const phase = ev.phase;
  ev.setPhase("first-best");
  // the system optimum, warm-started from the last user equilibrium (usually the no-toll baseline)
  const so = await ev.solveFollower({
    objective: "so",
    tolls: new Float64Array(net.linkCount),
    warmStart: ev.lastEquilibrium()?.warmStart,
  });
  const vdf = new CompiledVdf(net.links);
  const m = net.linkCount;
  const timeTolls = new Float64Array(m);
  for (let a = 0; a < m; a++) timeTolls[a] = so.flows[a] * vdf.derivative(a, so.flows[a]);
  const tolled = classes.filter((c) => c.tolled);
  const dsum = tolled.reduce((s, c) => s + c.demand.reduce((p, q) => p + q, 0), 0);
  const phi = dsum > 0 ? tolled.reduce((s, c) => s + c.tollFactor * c.demand.reduce((p, q) => p + q, 0), 0) / dsum : tolled[0].tollFactor;
  if (tolled.some((c) => Math.abs(c.tollFactor - phi) > 1e-12 * phi))
    warnings.push(
      "first-best: the tolled classes have different values of time; one link toll cannot decentralise the system optimum exactly (demand-weighted mean value of time used)",
    );
  if (tolled.length < classes.length)
    warnings.push("first-best: some classes are not tolled; the tolled equilibrium cannot reproduce the system optimum exactly");
  const tolls = new Float64Array(m);
  for (let a = 0; a < m; a++) tolls[a] = timeTolls[a] / phi;
  // the tolled UE should reproduce the system optimum: start it there, with no other bushes
  // alive (the baseline's served as the SO's warm start; a search from no tolls has its first
  // gradient already, see design.ts)
  ev.releaseBushesExcept(so);
  const check = await ev.evaluateTolls(tolls, { warm: { eq: so } });
  // the SO's bushes served their one warm start: release them (a design holds few bushes at a time)
  so.warmStart = { classFlows: so.warmStart.classFlows };
  ev.setPhase(phase);
  const soTstt = so.tstt;
  return {
    so,
    timeTolls,
    tolls,
    tollFactor: phi,
    tolled: check,
    soTstt,
    tolledTstt: check.ms.tstt,
    relativeDifference: (check.ms.tstt - soTstt) / soTstt,
    warnings,
  };
}
