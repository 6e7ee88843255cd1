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
 *
 * Each one-sided derivative also comes with its *linear range*: how far the toll may move on that
 * side before a used route runs out of flow or an unused route becomes as cheap as the used ones
 * (a first-order ratio test; see `./sensitivity/derivative.ts`). A range shorter than
 * `options.step` marks the direction as *nearly degenerate*, with a warning: the derivative is
 * exact at the point, but the response bends within that toll change. This is a property of the
 * equilibrium, not an error: where link costs hardly depend on flow (light traffic) a tiny toll
 * moves many vehicles, so the derivative is large and its range tiny — e.g. the built-in grid
 * city with its own demand, where a cordon charge of 7e-5 already empties a route.
 */

import { InputError, Network } from "@tollkit/graph-core";
import { defaultClasses } from "./cost-model.js";
import { DirectionalDerivative, LinearRange } from "./sensitivity/derivative.js";
import { bushStateOf, prepareDerivativeProblem } from "./sensitivity/setup.js";
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
  /**
   * The smallest toll change that matters to the caller (money per unit of a direction, e.g. a
   * finite-difference or search step): a derivative whose linear range on either side is shorter
   * is reported as nearly degenerate. Default {@link defaultNearStep}: 1e-4 of the average
   * generalised cost of a trip, in money.
   */
  step?: number;
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
  /**
   * How far (money per unit of the direction) each one-sided derivative holds before a used route
   * runs out of flow or an unused route enters, for an increase (`range`) and a decrease
   * (`rangeLeft`) of the toll: first-order estimates; Infinity where nothing limits the piece,
   * NaN where the derivative does not exist.
   */
  range: Float64Array;
  rangeLeft: Float64Array;
  /** What ends each piece, in words (undefined where the range is infinite). */
  rangeCause: (string | undefined)[];
  rangeLeftCause: (string | undefined)[];
  /**
   * True where a linear range is shorter than `step` (a nearly degenerate equilibrium: a route at
   * the edge of use within a toll change of `step`), with a warning. The derivative is still exact
   * at the point; finite differences with a longer step straddle the kink.
   */
  nearDegenerate: boolean[];
  /** The `step` the ranges were compared with (money). */
  step: number;
  warnings: string[];
}

/**
 * The default `step` of {@link equilibriumSensitivity}: 1e-4 of the average generalised cost of
 * a trip (total cost / total demand, from `result`), in money (divided by the largest toll
 * factor of a tolled class); 0 when no class pays tolls.
 */
export function defaultNearStep(result: FollowerResult, classes: UserClass[]): number {
  let demand = 0;
  for (const c of classes) for (let i = 0; i < c.demand.length; i++) demand += c.demand[i];
  const tf = Math.max(0, ...classes.filter((c) => c.tolled).map((c) => c.tollFactor));
  if (!(tf > 0) || !(demand > 0)) return 0;
  return (1e-4 * result.totalCost) / demand / tf;
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
 * answered without a solve. A linear range shorter than `step` costs up to 6 more solves per side
 * (looking for a decomposition of the origins' flows that keeps their routes in use longer).
 * @throws InputError when the result does not come from the bush algorithm on this network and
 *   these classes, a link index is out of range, or `step` is negative or not a number
 */
export function equilibriumSensitivity(net: Network, result: FollowerResult, options: SensitivityOptions): EquilibriumSensitivity {
  const classes = options.classes ?? defaultClasses(net);
  const state = bushStateOf(net, result, classes, MOD);
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
  if (options.step !== undefined && !(options.step >= 0 && options.step <= Number.MAX_VALUE))
    throw new InputError(MOD, `step ${options.step}`, { field: "step" }, "a finite toll change ≥ 0 (money)");
  const dirs: { links: number[]; weights: number[] }[] = [
    ...links.map((l) => ({ links: [l], weights: [1] })),
    ...directions.map((d) => ({ links: [...d.links], weights: d.weights ? [...d.weights] : d.links.map(() => 1) })),
  ];
  const warnings: string[] = [];
  const { model, problem } = prepareDerivativeProblem(
    net,
    result,
    classes,
    state,
    options.tightTolerance ?? 1e-7,
    options.usedTolerance ?? 1e-9,
    MOD,
    warnings,
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
    range: new Float64Array(D),
    rangeLeft: new Float64Array(D),
    rangeCause: [],
    rangeLeftCause: [],
    nearDegenerate: [],
    step: options.step ?? defaultNearStep(result, classes),
    warnings,
  };
  const setRanges = (i: number, right: LinearRange, left: LinearRange): void => {
    out.range[i] = right.step;
    out.rangeLeft[i] = left.step;
    out.rangeCause.push(right.cause);
    out.rangeLeftCause.push(left.cause);
    out.nearDegenerate.push(right.step < out.step || left.step < out.step);
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
      const [up, down] = problem.zeroResponseRange(dir.links, dir.weights);
      setRanges(i, up, down);
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
      return problem.solve(dg, firstRound, out.step);
    };
    const right = solveSide(1);
    let left: DirectionalDerivative;
    let leftRange: LinearRange;
    if (!marginal && !right.failure) {
      // no route at the margin of use: the response is linear, the left derivative is the right one
      left = right;
      leftRange = right.rangeBack;
    } else {
      const neg = solveSide(
        -1,
        right.firstRound?.map((v) => -v),
      );
      // neg is the derivative for ε = −τ change; the derivative with respect to τ from the left is −neg
      left = { ...neg, dx: neg.dx.map((v) => -v), dClass: neg.dClass.map((f) => f.map((v) => -v)) };
      leftRange = neg.range;
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
    setRanges(i, right.range, leftRange);
    for (const f of new Set([right.failure, left.failure])) if (f) warnings.push(`${label(dir)}: ${f}`);
  });
  // nearly degenerate directions: say how far each side holds and why
  const fmt = (v: number) => v.toExponential(2);
  dirs.forEach((dir, i) => {
    if (!out.nearDegenerate[i]) return;
    const sides: string[] = [];
    if (out.range[i] < out.step) sides.push(`up to ${fmt(out.range[i])} above (${out.rangeCause[i]})`);
    if (out.rangeLeft[i] < out.step) sides.push(`up to ${fmt(out.rangeLeft[i])} below (${out.rangeLeftCause[i]})`);
    warnings.push(
      `${label(dir)}: nearly degenerate: the derivative holds only for toll changes ${sides.join(" and ")}, less than the step ${fmt(out.step)}; a longer step sees a kink`,
    );
  });
  return out;
}
