/**
 * Elastic demand inside the bush algorithm: the demand step on Gartner's excess-demand links
 * (`../elastic/transform.ts`), done per bush in closed form instead of by path-long flow shifts.
 *
 * An excess-demand link (VDF kind `excess-demand`) runs from an origin's zone node to a
 * destination's zone node, both through-blocked: in a bush it can only leave the root, and its
 * head is a sink (nothing leaves a through-blocked node that is not the root). Its flow is the
 * trips of the pair not made, e; the road routes carry q = q̄ − e. Treated as an ordinary bush
 * link, every destination becomes a node whose shortest and longest paths diverge at the root,
 * so every Newton shift between the excess link and a road path moves flow along the whole road
 * path (tens of links on Chicago-Sketch, every destination, every pass). Here instead:
 * - the road shifts of Algorithm B ignore excess links (`BushLabels` skips the links of
 *   {@link ExcessDemandStep.mask} when it labels a bush), so they balance road paths only;
 * - {@link ExcessDemandStep.sweep} then updates the trips of every destination of the bush at
 *   once: forward, in topological order, the road cost M_j of the bush's flow into each node and
 *   its derivative G_j, the used in-links taken as parallel routes (G_j = 1/Σ 1/(G_i + c′_ij),
 *   M_j their costs weighted by 1/(G_i + c′_ij), the split of a change that keeps their costs
 *   together to first order; the cheapest in-link where no flow arrives); per destination d the
 *   Newton step on its trips not made, e − W⁻¹(M_d(q̄ − e)) = 0, which is
 *   Δe = (e* − e) · W′(e*) / (W′(e*) + G_d) with e* = W⁻¹(M_d) (graph-core's inverse of the
 *   excess-demand cost), so that trips never leave 0 ≤ q ≤ q̄ and the log barrier of the
 *   exponential form cannot stall Newton; backward, in reverse topological order, each node's
 *   change is split over its used in-links as 1/(G_i + c′_ij) (in proportion to their flows where
 *   that would empty one, so a reduction is always feasible), and the excess links take −Δq:
 *   in all a descent direction of the transformed problem's potential (Beckmann plus Σ∫W); its
 *   step λ ≤ 1 is the Newton step along it, −g/h with g = Σ_a c_a·dx_a and h = Σ_a c′_a·dx_a²
 *   (the secant slope of W over the step on excess links), so that destinations sharing
 *   congested links never overshoot together. Every link of the bush changes at most once.
 *   It runs in the first flow-shift pass of each iteration, in every fifth pass after it, and
 *   in the other passes on the bushes whose demand residual (`BushLabels.demandResidual`, the
 *   largest |road label − W| of a destination, measured by the road shift's label scan) is
 *   among the largest (`../bush.ts`).
 * - the first bushes are shortest-path trees over road links only
 *   ({@link ExcessDemandStep.hideFromTree}), loaded with the pair's demand q̄ less the trips not
 *   made given by `BushEngine.initialExcess` (`ElasticDemandProblem` gives q̄ − q0, the trips not
 *   made at the pivot, so that the first bushes carry the trip table) on the excess links out of
 *   the root; without it all trips are made at first, and the first bush update adds the excess
 *   links that are cheaper than the road.
 * The equilibrium, the gap and the bushes stored in a warm start are those of the transformed
 * problem, unchanged: only the way flow moves onto and off excess links differs.
 *
 * Arrays (allocated once per engine, nothing per sweep): mean, slope, inflow, constantInflow
 * (flow on in-paths of zero derivative), inverseSlope (Σ 1/(G_i + c′_ij) over used in-links),
 * cheapestIn per node, secant per destination node (written by the forward pass for the nodes of
 * the bush swept); nodeChange per node (all 0 between sweeps); groupStart / order (the bush's groups, as `BushLabels.scan` has them); step /
 * touched (the direction per bush position and the positions it changes).
 */

import { CompiledNetwork, VDF_EXCESS_DEMAND } from "@tollkit/graph-core";
import type { BushEngine } from "./engine.js";
import { Bush } from "./store.js";

/** The demand step of a network with excess-demand links. */
export class ExcessDemandStep {
  /** 1 on excess-demand links whose tail and head are through-blocked (the links this step moves). */
  readonly mask: Uint8Array;
  private readonly mean: Float64Array;
  private readonly slope: Float64Array;
  private readonly secant: Float64Array;
  private readonly inflow: Float64Array;
  private readonly constantInflow: Float64Array;
  private readonly inverseSlope: Float64Array;
  private readonly cheapestIn: Int32Array;
  private readonly nodeChange: Float64Array;
  private readonly groupStart: Int32Array;
  private readonly order: Int32Array;
  private readonly step: Float64Array;
  private readonly touched: Int32Array;

  private constructor(
    readonly net: CompiledNetwork,
    mask: Uint8Array,
  ) {
    const n = net.nodeCount;
    const m = net.linkCount;
    this.mask = mask;
    this.mean = new Float64Array(n);
    this.slope = new Float64Array(n);
    this.secant = new Float64Array(n);
    this.inflow = new Float64Array(n);
    this.constantInflow = new Float64Array(n);
    this.inverseSlope = new Float64Array(n);
    this.cheapestIn = new Int32Array(n);
    this.nodeChange = new Float64Array(n);
    this.groupStart = new Int32Array(n + 1);
    this.order = new Int32Array(n);
    this.step = new Float64Array(m);
    this.touched = new Int32Array(m);
  }

  /** The step of a network, or null when it has no excess-demand link between through-blocked nodes. */
  static of(net: CompiledNetwork, kind: Uint8Array): ExcessDemandStep | null {
    const { linkFrom: from, linkTo: to, blocked } = net;
    let mask: Uint8Array | null = null;
    for (let a = 0; a < net.linkCount; a++)
      if (kind[a] === VDF_EXCESS_DEMAND && blocked[from[a]] === 1 && blocked[to[a]] === 1) {
        mask ??= new Uint8Array(net.linkCount);
        mask[a] = 1;
      }
    return mask ? new ExcessDemandStep(net, mask) : null;
  }

  /**
   * Makes the excess links out of `root` unusable in the shortest-path tree whose costs were just
   * gathered into `posCost` (per CSR position), so that a first bush routes every trip by road.
   */
  hideFromTree(root: number, posCost: Float64Array): void {
    const { fsStart, fsLink } = this.net;
    for (let q = fsStart[root]; q < fsStart[root + 1]; q++) if (this.mask[fsLink[q]] === 1) posCost[q] = Infinity;
  }

  /**
   * The demand step on one bush (see the module comment): every destination's trips by a Newton
   * step against the road cost of its bush flow, with one step length for the bush. Returns the largest |M_d − W_d| over the destinations that could
   * move (time units; a convergence hint like the label differences of a road shift).
   */
  sweep(b: Bush, engine: BushEngine): number {
    const { linkFrom: from, linkTo: to } = this.net;
    const {
      mask,
      mean,
      slope,
      secant,
      inflow,
      constantInflow,
      inverseSlope,
      cheapestIn,
      nodeChange,
      groupStart: gs,
      order,
      step,
      touched,
    } = this;
    const cc = engine.cc[b.cls];
    const der = engine.der;
    const vdf = engine.vdf;
    const pce = engine.pce[b.cls];
    const tol = engine.labelTolerance;
    const links = b.links;
    const flows = b.flows;
    const len = b.len;
    const root = b.root;
    const dust = b.dust;
    mean[root] = 0;
    slope[root] = 0;
    // forward: mean road cost and derivative into every node, per destination the Newton step
    let t = 0;
    let p = 0;
    let maxDiff = 0;
    let active = 0;
    while (p < len) {
      let a = links[p];
      const j = to[a];
      t++;
      order[t] = j;
      gs[t] = p;
      let f = 0;
      let f0 = 0;
      let f0m = 0;
      let inv = 0;
      let invM = 0;
      let best = Infinity;
      let bestSlope = 0;
      let bestPos = -1;
      let excessPos = -1;
      for (;;) {
        if (mask[a] === 1) excessPos = p;
        else {
          const i = from[a];
          const c = mean[i] + cc[a];
          const g = slope[i] + der[a];
          const fl = flows[p];
          if (fl > 0) {
            f += fl;
            if (g > 0) {
              inv += 1 / g;
              invM += c / g;
            } else {
              f0 += fl;
              f0m += fl * c;
            }
          }
          if (c < best) {
            best = c;
            bestSlope = g;
            bestPos = p;
          }
        }
        p++;
        if (p === len) break;
        a = links[p];
        if (to[a] !== j) break;
      }
      inflow[j] = f;
      constantInflow[j] = f0;
      inverseSlope[j] = inv;
      cheapestIn[j] = bestPos;
      if (f > dust && f0 > 0) {
        // some used in-path has a constant cost: it takes every change
        mean[j] = f0m / f0;
        slope[j] = 0;
      } else if (f > dust) {
        // used in-paths in parallel: a change split as 1/slope keeps their costs together
        mean[j] = invM / inv;
        slope[j] = 1 / inv;
      } else {
        mean[j] = best;
        slope[j] = bestSlope;
      }
      if (excessPos < 0 || bestPos < 0) continue;
      // the destination's trips: Newton on e − W⁻¹(M_d(q̄ − e)) = 0 within 0 ≤ e ≤ q̄
      const ae = links[excessPos];
      const e = flows[excessPos];
      const w = cc[ae];
      const diff = mean[j] - w;
      if (Math.abs(diff) <= tol * (mean[j] > w ? mean[j] : w)) continue;
      if (diff > 0 ? f <= 0 : e <= 0) continue; // no road flow to take off / no trips left to make
      if (Math.abs(diff) > maxDiff) maxDiff = Math.abs(diff);
      const fixed = w - engine.fc[ae];
      let xt = vdf.excessFlowAt(ae, mean[j] - fixed);
      const x = pce * e;
      if (xt > x + pce * f) xt = x + pce * f;
      if (xt === x) continue;
      const wt = vdf.derivative(ae, xt);
      const de = ((xt - x) / pce) * (wt / (wt + slope[j]));
      if (!(de !== 0)) continue;
      secant[j] = (vdf.time(ae, xt) + fixed - w) / (xt - x);
      nodeChange[j] = -de;
      step[excessPos] = de;
      touched[active++] = excessPos;
    }
    gs[t + 1] = len;
    if (active === 0) return maxDiff;
    // backward: split each node's change over its used in-links as 1/slope (in proportion to their
    // flows where that would empty one, the cheapest in-link where no flow arrives)
    for (let s = t; s >= 1; s--) {
      const j = order[s];
      const dj = nodeChange[j];
      if (dj === 0) continue;
      nodeChange[j] = 0;
      const f = inflow[j];
      const start = gs[s];
      const end = gs[s + 1];
      if (f > dust || (dj < 0 && f > 0)) {
        const f0 = constantInflow[j];
        const inv = inverseSlope[j];
        let parallel = f > dust;
        if (parallel && dj < 0)
          for (let q = start; q < end && parallel; q++) {
            const fl = flows[q];
            if (fl <= 0 || mask[links[q]] === 1) continue;
            const g = slope[from[links[q]]] + der[links[q]];
            const share = f0 > 0 ? (g > 0 ? 0 : fl / f0) : 1 / (g * inv);
            if (-dj * share > fl) parallel = false;
          }
        for (let q = start; q < end; q++) {
          const fl = flows[q];
          if (fl <= 0 || mask[links[q]] === 1) continue;
          let share = fl / f;
          if (parallel) {
            const g = slope[from[links[q]]] + der[links[q]];
            share = f0 > 0 ? (g > 0 ? 0 : fl / f0) : 1 / (g * inv);
          }
          if (share === 0) continue;
          const dp = dj * share;
          step[q] = dp;
          touched[active++] = q;
          const i = from[links[q]];
          if (i !== root) nodeChange[i] += dp;
        }
      } else {
        const q = cheapestIn[j];
        step[q] = dj;
        touched[active++] = q;
        const i = from[links[q]];
        if (i !== root) nodeChange[i] += dj;
      }
    }
    // the step length: Newton along the direction on the potential (g < 0 by construction)
    let g = 0;
    let h = 0;
    for (let r = 0; r < active; r++) {
      const q = touched[r];
      const a = links[q];
      const dx = pce * step[q];
      g += cc[a] * dx;
      h += (mask[a] === 1 ? secant[to[a]] : der[a]) * dx * dx;
    }
    let lambda = 0;
    if (g < 0) lambda = h > 0 ? Math.min(1, -g / h) : 1;
    for (let r = 0; r < active; r++) {
      const q = touched[r];
      const dp = lambda * step[q];
      step[q] = 0;
      if (dp === 0) continue;
      const before = flows[q];
      const after = before + dp;
      // what cancellation leaves of a flow the step was meant to empty is rounding dust
      flows[q] = after > 1e-12 * before ? after : 0;
      engine.addFlow(links[q], pce * dp);
    }
    return maxDiff;
  }
}
