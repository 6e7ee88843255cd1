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

/** A direction of toll change: the tolls of `links` change at rates `weights` (default 1 each). */
export interface TollDirection {
  links: number[];
  weights?: number[];
}

/** Options of {@link equilibriumSensitivity}. */
export interface SensitivityOptions {
  /** Links whose toll is differentiated against, one at a time (0-based link indices). */
  links?: number[];
  /**
   * Directions of toll change instead (or after) single links: e.g. all links of a cordon moving
   * together. At a degenerate equilibrium a directional derivative is not the sum of the links'
   * one-sided derivatives, so a toll shared by several links should be given as one direction.
   */
  directions?: TollDirection[];
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

/**
 * Derivatives with respect to the toll of each link in `links`, then along each of `directions`
 * (index i of each array ↔ links[i] for i < links.length, directions[i − links.length] after).
 */
export interface EquilibriumSensitivity {
  links: number[];
  directions: TollDirection[];
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
 * `options.links` (and along each of `options.directions`), at the equilibrium `result` (a bush
 * result, ideally at a relative gap of 1e-10 or below; a looser one is warned about). Works for
 * UE and SO results and for several classes (a class's toll cost is tollFactor · toll where the
 * class is tolled). Units: flows in PCE, TSTT in time units, revenue in money, per unit of toll.
 *
 * Cost: building the tight subnetworks (one shortest-path correction per bush), then per link or
 * direction one conjugate-gradient solve on the cycles of the used routes (a second round when
 * some route is at the margin of use); a link nobody uses or is at the margin of using is
 * answered without a solve.
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
  const links = options.links ?? [];
  const directions = options.directions ?? [];
  if (!Array.isArray(links) || !Array.isArray(directions) || links.length + directions.length === 0)
    throw new InputError(MOD, "no links or directions given", { field: "links" }, "at least one 0-based link index or one direction");
  const checkLink = (l: number, field: string): void => {
    if (!(Number.isInteger(l) && l >= 0 && l < net.linkCount))
      throw new InputError(MOD, `link index ${l}`, { field }, `an integer in 0..${net.linkCount - 1}`);
  };
  links.forEach((l, i) => checkLink(l, `links[${i}]`));
  directions.forEach((d, i) => {
    if (!d || !Array.isArray(d.links) || d.links.length === 0)
      throw new InputError(MOD, "a direction without links", { field: `directions[${i}].links` }, "at least one 0-based link index");
    d.links.forEach((l, j) => checkLink(l, `directions[${i}].links[${j}]`));
    if (d.weights !== undefined && (!Array.isArray(d.weights) || d.weights.length !== d.links.length || !d.weights.every(Number.isFinite)))
      throw new InputError(
        MOD,
        "weights do not match the links",
        { field: `directions[${i}].weights` },
        `${d.links.length} finite numbers`,
      );
  });
  const dirs: { links: number[]; weights: number[] }[] = [
    ...links.map((l) => ({ links: [l], weights: [1] })),
    ...directions.map((d) => ({ links: [...d.links], weights: d.weights ? [...d.weights] : d.links.map(() => 1) })),
  ];
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
    warnings.push(
      `${problem.droppedCyclic} unused links at equilibrium cost were left out of the routes at the margin of use, to keep each origin's routes acyclic (cycles of near-zero cost)`,
    );
  const marginal = problem.hasMarginalRoutes();

  const K = classes.length;
  const times = result.times;
  const x = result.flows;
  const marginalTime = Float64Array.from(x, (v, a) => times[a] + v * model.vdf.derivative(a, v));
  const D = dirs.length;
  const out: EquilibriumSensitivity = {
    links: [...links],
    directions: directions.map((d) => ({ links: [...d.links], weights: d.weights ? [...d.weights] : undefined })),
    dFlows: [],
    dFlowsLeft: [],
    dTstt: new Float64Array(D),
    dTsttLeft: new Float64Array(D),
    dRevenue: new Float64Array(D),
    dRevenueLeft: new Float64Array(D),
    degenerate: [],
    warnings,
  };
  const dg: (Float64Array | null)[] = classes.map(() => null);
  const tsttOf = (d: DirectionalDerivative): number => {
    let s = 0;
    for (let a = 0; a < net.linkCount; a++) s += marginalTime[a] * d.dx[a];
    return s;
  };
  // revenue Σ_k tolled Σ_a τ_a f_ka along direction w: Σ_k tolled (Σ_a w_a f_ka + Σ_a τ_a df_ka)
  const direct = (dir: { links: number[]; weights: number[] }): number => {
    let s = 0;
    for (let k = 0; k < K; k++) if (classes[k].tolled) dir.links.forEach((l, j) => (s += dir.weights[j] * result.classes[k].flows[l]));
    return s;
  };
  const revenueOf = (d: DirectionalDerivative, dir: { links: number[]; weights: number[] }): number => {
    let s = direct(dir);
    for (let k = 0; k < K; k++) {
      if (!classes[k].tolled) continue;
      const f = d.dClass[k];
      for (let a = 0; a < net.linkCount; a++) s += result.tolls[a] * f[a];
    }
    return s;
  };
  const label = (dir: { links: number[] }): string =>
    dir.links.length === 1 ? `toll on link ${dir.links[0] + 1}` : `tolls on links ${dir.links.map((l) => l + 1).join(", ")}`;
  dirs.forEach((dir, i) => {
    if (dir.links.every((l) => problem.inTight[l] === 0) || classes.every((c) => !c.tolled || c.tollFactor === 0)) {
      // nobody uses these links or is at the margin of using them (or no class pays tolls): no response
      const zero = new Float64Array(net.linkCount);
      out.dFlows.push(zero);
      out.dFlowsLeft.push(zero);
      out.dTstt[i] = 0;
      out.dTsttLeft[i] = 0;
      out.dRevenue[i] = direct(dir);
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
        dir.links.forEach((l, j) => (g[l] += sign * c.tollFactor * dir.weights[j]));
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
    out.dRevenue[i] = revenueOf(right, dir);
    out.dRevenueLeft[i] = revenueOf(left, dir);
    let differ = !!right.failure || !!left.failure;
    if (!differ && left !== right) {
      let scale = 0;
      for (let a = 0; a < net.linkCount; a++) scale = Math.max(scale, Math.abs(right.dx[a]), Math.abs(left.dx[a]));
      for (let a = 0; a < net.linkCount; a++) if (Math.abs(right.dx[a] - left.dx[a]) > 1e-6 * Math.max(scale, 1e-12)) differ = true;
    }
    out.degenerate.push(differ);
    for (const f of new Set([right.failure, left.failure])) if (f) warnings.push(`${label(dir)}: ${f}`);
  });
  return out;
}
