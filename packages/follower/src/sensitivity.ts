/**
 * Equilibrium sensitivity: derivatives of link flows, TSTT and toll revenue with respect to the
 * toll on each of a set of links, at an equilibrium found by the bush algorithm, from its used
 * bushes (implicit differentiation of the equilibrium conditions; the derivative problem and
 * its solution are in `./sensitivity/derivative.ts`).
 *
 * Both one-sided derivatives are computed. Where they agree the equilibrium is differentiable in
 * that toll; where they differ (`degenerate`), a route sits exactly at the margin of use and
 * starts or stops being used on one side: both values are reported, each correct for its side.
 * Where a derivative does not exist at all (a toll moves flow between routes whose costs do not
 * depend on flow, so the response jumps) it is NaN, with a warning.
 */

import { AonLoader, InputError, Network } from "@tollkit/graph-core";
import { BushEngine } from "./bush/engine.js";
import { isBushState } from "./bush/store.js";
import { CostModel, defaultClasses } from "./cost-model.js";
import { DerivativeProblem, DirectionalDerivative } from "./sensitivity/derivative.js";
import { FollowerResult, UserClass } from "./types.js";

const MOD = "follower/sensitivity";

/** Options of {@link equilibriumSensitivity}. */
export interface SensitivityOptions {
  /** Links whose toll is differentiated against (0-based link indices). */
  links: number[];
  /** The user classes of the solve that produced the result; default the network's single class. */
  classes?: UserClass[];
  /**
   * A link is at equilibrium cost for an origin when its reduced cost is at most this fraction of
   * the shortest distance to its head. Default 1e-7 (suits gaps of 1e-10 and below).
   */
  tightTolerance?: number;
  /** A link carries an origin's flow when that flow exceeds this fraction of the origin's demand. Default 1e-9. */
  usedTolerance?: number;
}

/** Derivatives with respect to the toll of each link in `links` (index i of each array ↔ links[i]). */
export interface EquilibriumSensitivity {
  links: number[];
  /** d x / d τ for an increase of the toll (PCE per unit of toll), per link of the network. */
  dFlows: Float64Array[];
  /** d x / d τ for a decrease of the toll (equal to dFlows unless degenerate). */
  dFlowsLeft: Float64Array[];
  /** d TSTT / d τ (TSTT = Σ x·t(x), time units per unit of toll), for an increase and a decrease. */
  dTstt: Float64Array;
  dTsttLeft: Float64Array;
  /** d revenue / d τ (revenue = Σ_k tolled Σ_a τ_a f_ka), for an increase and a decrease. */
  dRevenue: Float64Array;
  dRevenueLeft: Float64Array;
  /** True where the one-sided derivatives differ (a route at the margin of use), or where one does not exist. */
  degenerate: boolean[];
  warnings: string[];
}

/**
 * Derivatives of link flows, TSTT and revenue with respect to the toll on each link of
 * `options.links`, at the equilibrium `result` (a bush result, ideally at a relative gap of 1e-10
 * or below; a looser one is warned about). Works for UE and SO results and for several classes
 * (a class's toll cost is tollFactor · toll where the class is tolled).
 *
 * Cost: per toll link one conjugate-gradient solve over the used bushes (two when some route is
 * at the margin of use), each iteration two sweeps over the used links of every bush.
 * @throws InputError when the result does not come from the bush algorithm on this network and
 *   these classes, or a link index is out of range
 */
export function equilibriumSensitivity(net: Network, result: FollowerResult, options: SensitivityOptions): EquilibriumSensitivity {
  const state = result.warmStart?.state;
  if (!isBushState(state))
    throw new InputError(
      MOD,
      "the result holds no bushes",
      { field: "result.warmStart.state" },
      'a result of the bush algorithm (algorithm: "bush")',
    );
  const classes = options.classes ?? defaultClasses(net);
  if (state.classCount !== classes.length || state.linkCount !== net.linkCount || state.nodeCount !== net.nodeCount)
    throw new InputError(
      MOD,
      "the result's bushes do not match this network and these classes",
      { field: "classes" },
      `the network and the ${state.classCount} classes of the solve`,
    );
  const links = options.links;
  if (!Array.isArray(links) || links.length === 0)
    throw new InputError(MOD, "no links given", { field: "links" }, "at least one 0-based link index");
  links.forEach((l, i) => {
    if (!(Number.isInteger(l) && l >= 0 && l < net.linkCount))
      throw new InputError(MOD, `link index ${l}`, { field: `links[${i}]` }, `an integer in 0..${net.linkCount - 1}`);
  });
  const warnings: string[] = [];
  const model = new CostModel(net, classes, result.tolls, result.objective);
  const engine = new BushEngine(model);
  const { rejected, built } = engine.adopt(state.bushes, new AonLoader(model.compiled).sp);
  if (rejected > 0 || built > 0)
    throw new InputError(
      MOD,
      `${rejected + built} bushes of the result do not fit this network's demand`,
      { field: "result" },
      "the result of a solve of this network with these classes",
    );
  if (result.relativeGap > 1e-8)
    warnings.push(
      `the equilibrium's relative gap is ${result.relativeGap.toExponential(2)}: derivatives need a precise equilibrium (solve to 1e-10)`,
    );

  const problem = new DerivativeProblem(engine, options.tightTolerance ?? 1e-7, options.usedTolerance ?? 1e-9);
  if (problem.looseUsed > 0 && problem.looseShare > 1e-6)
    warnings.push(
      `${problem.looseUsed} used links are not at equilibrium cost (up to ${(problem.looseShare * 100).toPrecision(2)}% of an origin's demand); they are held fixed`,
    );
  if (problem.droppedCyclic > 0)
    warnings.push(`${problem.droppedCyclic} zero-cost links at equilibrium cost were left out to keep each origin's routes acyclic`);
  const marginal = problem.hasMarginalRoutes();

  const K = classes.length;
  const times = result.times;
  const x = result.flows;
  const marginalTime = Float64Array.from(x, (v, a) => times[a] + v * model.vdf.derivative(a, v));
  const out: EquilibriumSensitivity = {
    links: [...links],
    dFlows: [],
    dFlowsLeft: [],
    dTstt: new Float64Array(links.length),
    dTsttLeft: new Float64Array(links.length),
    dRevenue: new Float64Array(links.length),
    dRevenueLeft: new Float64Array(links.length),
    degenerate: [],
    warnings,
  };
  const dg: (Float64Array | null)[] = classes.map(() => null);
  const tsttOf = (d: DirectionalDerivative): number => {
    let s = 0;
    for (let a = 0; a < net.linkCount; a++) s += marginalTime[a] * d.dx[a];
    return s;
  };
  const revenueOf = (d: DirectionalDerivative, l: number): number => {
    let s = 0;
    for (let k = 0; k < K; k++) {
      if (!classes[k].tolled) continue;
      const f = d.dClass[k];
      let t = 0;
      for (let a = 0; a < net.linkCount; a++) t += result.tolls[a] * f[a];
      s += result.classes[k].flows[l] + t;
    }
    return s;
  };
  links.forEach((l, i) => {
    if (problem.inTight[l] === 0 || classes.every((c) => !c.tolled || c.tollFactor === 0)) {
      // nobody uses the link or is at the margin of using it (or no class pays tolls): no response
      const zero = new Float64Array(net.linkCount);
      out.dFlows.push(zero);
      out.dFlowsLeft.push(zero);
      out.dTstt[i] = 0;
      out.dTsttLeft[i] = 0;
      for (let k = 0; k < K; k++) if (classes[k].tolled) out.dRevenue[i] += result.classes[k].flows[l];
      out.dRevenueLeft[i] = out.dRevenue[i];
      out.degenerate.push(false);
      return;
    }
    const solveSide = (sign: number, firstRound?: Float64Array): DirectionalDerivative => {
      for (let k = 0; k < K; k++) {
        const c = classes[k];
        if (!c.tolled || c.tollFactor === 0) {
          dg[k] = null;
          continue;
        }
        const g = new Float64Array(net.linkCount);
        g[l] = sign * c.tollFactor;
        dg[k] = g;
      }
      return problem.solve(dg, firstRound);
    };
    const right = solveSide(1);
    let left: DirectionalDerivative;
    if (!marginal && !right.failure) {
      // no route at the margin of use: the response is linear, the left derivative is the right one
      left = right;
    } else {
      const neg = solveSide(
        -1,
        right.firstRound?.map((v) => -v),
      );
      // neg is the derivative for ε = −τ change; the derivative with respect to τ from the left is −neg
      left = { ...neg, dx: neg.dx.map((v) => -v), dClass: neg.dClass.map((f) => f.map((v) => -v)) };
    }
    out.dFlows.push(right.dx);
    out.dFlowsLeft.push(left.dx);
    out.dTstt[i] = tsttOf(right);
    out.dTsttLeft[i] = tsttOf(left);
    out.dRevenue[i] = revenueOf(right, l);
    out.dRevenueLeft[i] = revenueOf(left, l);
    let differ = !!right.failure || !!left.failure;
    if (!differ && left !== right) {
      let scale = 0;
      for (let a = 0; a < net.linkCount; a++) scale = Math.max(scale, Math.abs(right.dx[a]), Math.abs(left.dx[a]));
      for (let a = 0; a < net.linkCount; a++) if (Math.abs(right.dx[a] - left.dx[a]) > 1e-6 * Math.max(scale, 1e-12)) differ = true;
    }
    out.degenerate.push(differ);
    for (const f of [right.failure, left.failure]) if (f) warnings.push(`toll on link ${l + 1}: ${f}`);
  });
  return out;
}
