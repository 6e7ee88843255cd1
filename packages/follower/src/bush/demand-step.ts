/**
 * Elastic demand inside the bush algorithm in the reduced form: the bushes live on the road
 * network only, and Gartner's excess-demand link of each OD pair (`../elastic/transform.ts`) is
 * no link at all but one entry of its bush's {@link ElasticBush} (the trips not made e_d and their
 * inverse demand W(e_d)): a direct origin → destination alternative that needs no node, no link
 * and no flow array of the road graph. Every per-link array and every bush is then what it is with
 * fixed demand (Chicago-Sketch: 2,950 links and ~940 links per bush, against 96,859 links and
 * ~1,570 links per bush on the augmented network, where each pair also has its own zone node and
 * connector). The engine's road shifts, bush updates and gap measurements are those of fixed
 * demand with the destination's demand q̄_d − e_d; `../elastic/bush.ts` maps the bushes and flows
 * to and from the augmented network, whose equilibrium, gap and warm-start state they are.
 *
 * The demand step ({@link ElasticDemandStep.scanAndStep}) is the one of `./excess-demand.ts` on this
 * representation: forward, in topological order, the road cost M_j of the bush's flow into each
 * node and its derivative G_j (used in-links as parallel routes: G_j = 1/Σ 1/(G_i + c′_ij), M_j
 * their costs weighted by 1/(G_i + c′_ij); the cheapest in-link where no flow arrives); at each
 * destination d the Newton step on e − W⁻¹(M_d(q̄ − e)) = 0, Δe = (e* − e)·W′(e*)/(W′(e*) + G_d)
 * with e* = W⁻¹(M_d) (graph-core's inverse of the excess-demand cost, so 0 ≤ e ≤ q̄); backward, in
 * reverse topological order, each node's change split over its used in-links as 1/(G_i + c′_ij)
 * (in proportion to their flows where that would empty one), the road part of the step taken at
 * full length as it is split; then the step length for the bush: the full step stands where it
 * decreases the quadratic model of the transformed potential along the direction (the Newton
 * length −g/h ≥ ½, g = Σ c·dx, h = Σ c′·dx², the secant slope of W over the step for the trips
 * not made), and is taken back to −g/h otherwise, so that destinations sharing congested links
 * cannot overshoot together by more than that. Every road link of the bush changes at most once per
 * step (twice where it is taken back).
 *
 * Arrays (allocated once per engine, nothing per sweep): mean, slope, inflow, constantInflow,
 * shareScale, cheapestIn, nodeChange per node (nodeChange all 0 between sweeps); groupStart /
 * order (the bush's groups); step / touched (the direction per bush position and the positions it
 * changes); destStep / destSecant / destTouched (per destination zone: the change of trips not
 * made, the secant slope of W over it, the destinations changed).
 */

import { CompiledNetwork, CompiledVdf, excessDemandDerivative, excessDemandFlow, excessDemandValue } from "@tollkit/graph-core";
import type { BushEngine } from "./engine.js";
import { type BushLabels, tripResidual } from "./labels.js";
import { Bush, ElasticBush } from "./store.js";

/** The step is kept at full length when the Newton length along it is at least this (see {@link ElasticDemandStep.apply}). */
const FULL_STEP = 0.5;
/** What the engine needs to carry elastic demand in the reduced form. */
export interface ElasticDemandData {
  /** Per class, Z×Z: the pair's excess-demand link (augmented index, for its cost function), −1 where demand is fixed. */
  excessLink: Int32Array[];
  /** Volume-delay kernels of the augmented network's links (W on the excess-demand links; no toll, no length on them). */
  vdf: CompiledVdf;
  /** Per class, Z×Z: the trips not made on the first bushes (the rest by road), or null (every trip by road). */
  initial: Float64Array[] | null;
  /** The augmented links' `b` column (the exponential form's 1/r), for graph-core's excess-demand kernels in the step. */
  b: Float64Array;
}

/** The demand step of the reduced form (see the module comment). */
export class ElasticDemandStep {
  /** Per node: the zone (0-based) whose zone node it is, −1 for other nodes. */
  readonly zoneOf: Int32Array;
  private readonly mean: Float64Array;
  private readonly slope: Float64Array;
  private readonly inflow: Float64Array;
  private readonly constantInflow: Float64Array;
  /**
   * Per node, what the backward pass multiplies an in-link's {@link reciprocal} by for its share
   * of a change split as 1/slope: 1/Σ 1/(G_i + c′_a) over the used in-links with a slope, and 1
   * where there is one such in-link (whose reciprocal is then 1: the share is exactly 1).
   */
  private readonly shareScale: Float64Array;
  /**
   * Per node, the bush position of its one used in-link where it has one (and no flow arrives by
   * another), −1 otherwise: the backward pass gives that in-link the node's whole change (what the
   * split rules give it: a share of exactly 1) without reading the node's other in-links.
   */
  private readonly sole: Int32Array;
  private readonly cheapestIn: Int32Array;
  private readonly nodeChange: Float64Array;
  private readonly step: Float64Array;
  /** Per bush position, 1/(G_i + c′_a) of a used in-link with a slope (0 where constant), set by the forward pass for the backward one. */
  private readonly reciprocal: Float64Array;
  private readonly touched: Int32Array;
  private readonly destStep: Float64Array;
  private readonly destSecant: Float64Array;
  private readonly destTouched: Int32Array;

  constructor(
    readonly net: CompiledNetwork,
    readonly data: ElasticDemandData,
  ) {
    const n = net.nodeCount;
    const m = net.linkCount;
    const Z = net.zoneCount;
    this.zoneOf = new Int32Array(n).fill(-1);
    for (let z = 0; z < Z; z++) this.zoneOf[net.zoneNodes[z]] = z;
    this.mean = new Float64Array(n);
    this.slope = new Float64Array(n);
    this.inflow = new Float64Array(n);
    this.constantInflow = new Float64Array(n);
    this.shareScale = new Float64Array(n);
    this.sole = new Int32Array(n);
    this.cheapestIn = new Int32Array(n);
    this.nodeChange = new Float64Array(n);
    this.step = new Float64Array(m);
    this.reciprocal = new Float64Array(m);
    this.touched = new Int32Array(m);
    this.destStep = new Float64Array(Z);
    this.destSecant = new Float64Array(Z);
    this.destTouched = new Int32Array(Z);
  }

  /** The inverse demand W of `e` trips not made of class pce `pce` on excess link `a` (time units). */
  cost(a: number, pce: number, e: number): number {
    return this.data.vdf.time(a, pce * e);
  }

  /**
   * The elastic part of the bush of class `k`, origin `o`, with `notMade` trips not made per
   * destination (copied; entries of fixed pairs are ignored and left 0).
   */
  attach(k: number, o: number, demand: Float64Array, pce: number, notMade: Float64Array | null): ElasticBush {
    const Z = this.net.zoneCount;
    const link = this.data.excessLink[k].subarray(o * Z, o * Z + Z);
    const maxTrips = demand.subarray(o * Z, o * Z + Z);
    const e = new Float64Array(Z);
    const cost = new Float64Array(Z);
    for (let d = 0; d < Z; d++) {
      if (link[d] < 0) continue;
      if (notMade !== null) e[d] = Math.min(Math.max(notMade[d], 0), maxTrips[d]);
      cost[d] = this.cost(link[d], pce, e[d]);
    }
    return { notMade: e, cost, link, maxTrips };
  }

  /**
   * The demand step on one bush, its forward pass also scanning the road labels into `labels`
   * (L, U, minIn, maxIn, topo, order, groupStart, as {@link BushLabels.scan} at the flows before
   * the step), so that the road shifts can follow without a scan of their own
   * ({@link BushLabels.descend}); the demand residual is measured at those labels and the trips
   * not made after the step. Returns the number of bush nodes scanned.
   */
  scanAndStep(b: Bush, engine: BushEngine, labels: BushLabels): number {
    // three methods, not one: each is optimised on its own feedback (one function holding all three
    // was compiled while its first, long forward loop ran, before the later loops had run, and was
    // thrown back to the interpreter when they first did: about a third of a cold solve's demand steps)
    const t = this.forward(b, engine, labels);
    if (this.nDest === 0) return t + 1;
    this.apply(b, engine, labels, this.backward(b, engine, labels, t));
    return t + 1;
  }

  /** Destinations the last forward pass changed (in destTouched). */
  private nDest = 0;

  /** The forward pass of {@link scanAndStep}: labels, mean costs and slopes, then each destination's Newton step. Returns the last topological position. */
  private forward(b: Bush, engine: BushEngine, labels: BushLabels): number {
    const { linkFrom: from, linkTo: to } = this.net;
    const { mean, slope, inflow, constantInflow, shareScale, sole, cheapestIn, reciprocal } = this;
    const cc = engine.cc[b.cls];
    const der = engine.der;
    const links = b.links;
    const flows = b.flows;
    // the groups through the last used in-link or destination (BushLabels.usedEnd: the nodes
    // after them carry nothing the step, the residual or the shifts read)
    const len = labels.usedEnd(b);
    const root = b.root;
    const dust = b.dust;
    const { groupStart: gs, order, L, U, minIn, maxIn, topo } = labels;
    mean[root] = 0;
    slope[root] = 0;
    L[root] = 0;
    U[root] = 0;
    topo[root] = 0;
    order[0] = root;
    minIn[root] = -1;
    maxIn[root] = -1;
    // forward: mean road cost and derivative into every node
    let t = 0;
    let p = 0;
    while (p < len) {
      let a = links[p];
      const j = to[a];
      t++;
      order[t] = j;
      gs[t] = p;
      topo[j] = t;
      let lmin = Infinity;
      let umax = -Infinity;
      let pmin = -1;
      let pmax = -1;
      let f = 0;
      let f0 = 0;
      let f0m = 0;
      let inv = 0;
      let invM = 0;
      let nSloped = 0;
      let p1 = -1;
      let c1 = 0;
      let g1 = 0;
      let best = Infinity;
      let bestSlope = 0;
      let bestPos = -1;
      for (;;) {
        const i = from[a];
        const ca = cc[a];
        const c = mean[i] + ca;
        const g = slope[i] + der[a];
        const fl = flows[p];
        const lv = L[i] + ca;
        if (lv < lmin) {
          lmin = lv;
          pmin = p;
        }
        if (fl > 0) {
          if (fl > dust) {
            const uv = U[i] + ca;
            if (uv > umax) {
              umax = uv;
              pmax = p;
            }
          }
          f += fl;
          if (g > 0) {
            // the first such in-link's reciprocal waits for a second (one alone needs none)
            if (nSloped === 0) {
              p1 = p;
              c1 = c;
              g1 = g;
            } else {
              if (nSloped === 1) {
                const r1 = 1 / g1;
                reciprocal[p1] = r1;
                inv = r1;
                invM = c1 * r1;
              }
              const r = 1 / g;
              reciprocal[p] = r;
              inv += r;
              invM += c * r;
            }
            nSloped++;
          } else {
            reciprocal[p] = 0;
            f0 += fl;
            f0m += fl * c;
          }
        }
        if (c < best) {
          best = c;
          bestSlope = g;
          bestPos = p;
        }
        p++;
        if (p === len) break;
        a = links[p];
        if (to[a] !== j) break;
      }
      L[j] = lmin;
      U[j] = umax;
      minIn[j] = pmin;
      maxIn[j] = pmax;
      inflow[j] = f;
      constantInflow[j] = f0;
      cheapestIn[j] = bestPos;
      if (nSloped === 1) reciprocal[p1] = 1;
      let mj: number;
      let sj: number;
      if (f > dust && f0 > 0) {
        // some used in-path has a constant cost: it takes every change
        mj = f0m / f0;
        sj = 0;
        sole[j] = -1;
      } else if (f > dust && nSloped === 1) {
        // one used in-path (most nodes of a bush near equilibrium): its cost and slope
        mj = c1;
        sj = g1;
        shareScale[j] = 1;
        sole[j] = p1;
      } else if (f > dust) {
        // used in-paths in parallel: a change split as 1/slope keeps their costs together
        mj = invM / inv;
        sj = 1 / inv;
        shareScale[j] = sj;
        sole[j] = -1;
      } else {
        mj = best;
        sj = bestSlope;
        sole[j] = -1;
      }
      mean[j] = mj;
      slope[j] = sj;
    }
    gs[t + 1] = len;
    labels.scanned = t + 1;
    this.destinations(b, engine, labels, t);
    return t;
  }

  /**
   * Each destination's Newton step (see the module comment) at the mean costs and slopes of the
   * forward pass that scanned `t` + 1 bush nodes. A loop over the destinations in zone order after
   * that pass rather than inside it: the per-pair arrays (trips not made, inverse demand, the excess
   * links' parameters) are then read in their storage order, not in the bush's topological order.
   */
  private destinations(b: Bush, engine: BushEngine, labels: BushLabels, t: number): void {
    const el = b.elastic!;
    const { mean, slope, nodeChange, destStep, destSecant, destTouched } = this;
    const zoneNodes = this.net.zoneNodes;
    const vdf = this.data.vdf;
    const { fft: fftA, capacity: capA, power: powA } = vdf;
    const bA = this.data.b;
    const { notMade, cost: W, link: exLink, maxTrips } = el;
    const pce = engine.pce[b.cls];
    const tol = engine.labelTolerance;
    const root = b.root;
    const { order, topo } = labels;
    const Z = exLink.length;
    const { L, U } = labels;
    const dust = b.dust;
    let nDest = 0;
    let residual = 0;
    for (let d = 0; d < Z; d++) {
      const ae = exLink[d];
      if (ae < 0) continue;
      const j = zoneNodes[d];
      const tj = topo[j];
      if (j === root || tj > t || order[tj] !== j) continue; // not in this bush
      const e = notMade[d];
      const w = W[d];
      newton: {
        const mj = mean[j];
        const sj = slope[j];
        // the destination's trips: Newton on e − W⁻¹(M_d(q̄ − e)) = 0 within 0 ≤ e ≤ q̄
        const q = maxTrips[d] - e;
        const diff = mj - w;
        if (Math.abs(diff) <= tol * (mj > w ? mj : w)) break newton;
        // no road trips to take off / no trips left to make (one comparison that always runs, so
        // the JIT's code has seen it before the first trips run out)
        const room = diff > 0 ? q : e;
        if (room <= 0) break newton;
        const x = pce * e;
        const xMax = pce * maxTrips[d];
        // graph-core's excess-demand kernels on the link's parameters (CompiledVdf's own, without its dispatch)
        const fft = fftA[ae];
        const cap = capA[ae];
        const bb = bA[ae];
        const pw = powA[ae];
        let xt = excessDemandFlow(mj, fft, cap, bb, pw);
        if (xt > xMax) xt = xMax;
        if (xt === x) break newton;
        const wt = excessDemandDerivative(xt, fft, cap, bb, pw);
        const de = ((xt - x) / pce) * (wt / (wt + sj));
        if (!(de !== 0)) break newton;
        // W at the target is M_j itself unless the target was cut at q̄ or at 0 (the inverse is exact)
        const wAt = xt === xMax || xt === 0 ? excessDemandValue(xt, fft, cap, bb, pw) : mj;
        destSecant[d] = (wAt - w) / (xt - x);
        destStep[d] = de;
        destTouched[nDest++] = d;
        nodeChange[j] = -de;
        continue; // its residual after the step (apply)
      }
      // a destination the step leaves: its residual at these labels
      residual = tripResidual(residual, e, maxTrips[d], w, L[j], U[j], dust);
    }
    this.nDest = nDest;
    this.residual = residual;
  }

  /**
   * The demand residual of the bush after the last {@link scanAndStep} ({@link BushLabels.tripsResidual}
   * at the labels of its forward pass, the flows before the step, and the trips not made after it).
   */
  residual = 0;

  /**
   * The backward pass of {@link scanAndStep} from topological position `t`: each node's change
   * split over its used in-links, and the road part of the step taken at once at full length
   * (each position is an in-link of one node and is read before it changes). Returns the number
   * of bush positions changed (their changes in touched/step); Σ c·dx and Σ c′·dx² over the road
   * links, at the costs before the step, in {@link roadSlope} and {@link roadCurvature}.
   */
  private backward(b: Bush, engine: BushEngine, labels: BushLabels, t: number): number {
    const { linkFrom: from } = this.net;
    const { inflow, constantInflow, shareScale, sole, cheapestIn, nodeChange, step, reciprocal, touched } = this;
    const links = b.links;
    const flows = b.flows;
    const root = b.root;
    const dust = b.dust;
    const { groupStart: gs, order } = labels;
    const cc = engine.cc[b.cls];
    const der = engine.der;
    const pce = engine.pce[b.cls];
    // the step length's first and second derivative along the road part of the direction
    let g = 0;
    let h = 0;
    // backward: split each node's change over its used in-links as 1/slope (in proportion to their
    // flows where that would empty one, the cheapest in-link where no flow arrives)
    let active = 0;
    for (let s = t; s >= 1; s--) {
      const j = order[s];
      const dj = nodeChange[j];
      if (dj === 0) continue;
      nodeChange[j] = 0;
      // one used in-link (sole) takes the whole change: every split rule gives it a share of
      // exactly 1; otherwise split over the used in-links, or (no flow arrives) all of it on the
      // cheapest in-link
      const p1 = sole[j];
      const f = p1 >= 0 ? 0 : inflow[j];
      let start = p1;
      let end = p1 + 1;
      const split = p1 < 0 && (f > dust || (dj < 0 && f > 0));
      let parallel = false;
      let perSlope = 0;
      let f0 = 0;
      if (split) {
        start = gs[s];
        end = gs[s + 1];
        f0 = constantInflow[j];
        perSlope = shareScale[j];
        parallel = f > dust;
        if (parallel && dj < 0)
          for (let q = start; q < end && parallel; q++) {
            const fl = flows[q];
            if (fl <= 0) continue;
            const r = reciprocal[q];
            const share = f0 > 0 ? (r > 0 ? 0 : fl / f0) : r * perSlope;
            if (-dj * share > fl) parallel = false;
          }
      } else if (p1 < 0) {
        start = cheapestIn[j];
        end = start + 1;
      }
      for (let q = start; q < end; q++) {
        const fl = flows[q];
        let dp = dj;
        if (split) {
          if (fl <= 0) continue;
          let share = fl / f;
          if (parallel) {
            const r = reciprocal[q];
            share = f0 > 0 ? (r > 0 ? 0 : fl / f0) : r * perSlope;
          }
          if (share === 0) continue;
          dp = dj * share;
        }
        step[q] = dp;
        touched[active++] = q;
        const a = links[q];
        const dx = pce * dp;
        g += cc[a] * dx;
        h += der[a] * dx * dx;
        const i = from[a];
        if (i !== root) nodeChange[i] += dp;
        // the step at full length (corrected by apply where that would not decrease the potential)
        const after = fl + dp;
        // what cancellation leaves of a flow the step was meant to empty is rounding dust
        flows[q] = after > 1e-12 * fl ? after : 0;
        engine.addFlow(a, dx);
      }
    }
    this.roadSlope = g;
    this.roadCurvature = h;
    return active;
  }

  /** Σ c·dx and Σ c′·dx² over the road links of the last backward pass's direction. */
  private roadSlope = 0;
  private roadCurvature = 0;

  /**
   * The step length of {@link scanAndStep}, after the backward pass took the road part at full
   * length on `active` positions, and the step of the {@link nDest} destinations. The length is
   * the Newton step −g/h along the direction on the potential (g = Σ c·dx < 0 by construction);
   * the full step stands wherever it decreases the potential's quadratic model (−g/h ≥ ½: it
   * does in all but a few of a Chicago-Sketch solve's steps, whose −g/h are 0.9–1 in 97 %), and
   * is taken back to −g/h otherwise.
   */
  private apply(b: Bush, engine: BushEngine, labels: BushLabels, active: number): void {
    const el = b.elastic!;
    const { L, U } = labels;
    const zoneNodes = this.net.zoneNodes;
    const dust = b.dust;
    let residual = this.residual;
    const { step, touched, destStep, destSecant, destTouched } = this;
    const nDest = this.nDest;
    const vdf = this.data.vdf;
    const { fft: fftA, capacity: capA, power: powA } = vdf;
    const bA = this.data.b;
    const { notMade, cost: W, link: exLink, maxTrips } = el;
    const pce = engine.pce[b.cls];
    const links = b.links;
    const flows = b.flows;
    let g = this.roadSlope;
    let h = this.roadCurvature;
    for (let r = 0; r < nDest; r++) {
      const d = destTouched[r];
      const dx = pce * destStep[d];
      g += W[d] * dx;
      h += destSecant[d] * dx * dx;
    }
    let lambda = 1;
    const newton = g < 0 ? (h > 0 ? -g / h : 1) : 0;
    if (newton < FULL_STEP) {
      lambda = newton;
      const back = newton - 1;
      for (let r = 0; r < active; r++) {
        const q = touched[r];
        const dp = back * step[q];
        const before = flows[q];
        const after = before + dp;
        flows[q] = after > 1e-12 * before ? after : 0;
        engine.addFlow(links[q], pce * dp);
      }
    }
    for (let r = 0; r < nDest; r++) {
      const d = destTouched[r];
      const de = lambda * destStep[d];
      destStep[d] = 0;
      let e = notMade[d];
      let w = W[d];
      if (de !== 0) {
        e += de;
        if (!(e > 1e-12 * notMade[d])) e = 0;
        else if (e > maxTrips[d]) e = maxTrips[d];
        notMade[d] = e;
        const ae = exLink[d];
        w = W[d] = excessDemandValue(pce * e, fftA[ae], capA[ae], bA[ae], powA[ae]);
      }
      const j = zoneNodes[d];
      residual = tripResidual(residual, e, maxTrips[d], w, L[j], U[j], dust);
    }
    this.residual = residual;
  }
}
