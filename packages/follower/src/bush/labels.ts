/**
 * Labels of a bush and the flow shifts they drive (Algorithm B's inner step; see the header of
 * `./engine.ts` for the algorithm and its rounding rules, and `./store.ts` for the bush storage).
 *
 * Invariants (every array is indexed by network node unless said otherwise; all describe the
 * bush last passed to {@link BushLabels.scan}, {@link BushLabels.scanShortest} or
 * {@link BushLabels.trueDistances}, whose node count is `scanned`; `BushTopology.update` writes
 * L, minIn, topo, order and `scanned` in a pass of its own, as `scan` would):
 * - order[0..scanned−1]: the bush's nodes in its storage (topological) order, the root first;
 *   topo[order[t]] = t (written by `scan` only). Every node of the bush, except after a scan
 *   for a flow shift (`scan(…, usedOnly)`), which stops after the last node with a used in-link.
 * - groupStart[t] (t = 1..scanned−1): the first position of node order[t]'s group of in-links;
 *   groupStart[scanned] = the end of the scanned links (the bush's length after a full scan;
 *   written by `scan` only).
 * - L[j]: the shortest bush-path cost from the root to j (the class's generalised costs, or the
 *   SO marginal costs); after `trueDistances`, the shortest distance over the whole network
 *   (FIRST THRU NODE respected). minIn[j]: the position of the in-link attaining L (−1 for the root).
 *   `scan` leaves out the links marked in `skip` (excess-demand links, `./excess-demand.ts`) for
 *   L and U alike; `trueDistances` does not (the gap counts them).
 * - U[j]: the longest used-path cost (links with flow above dust) to j, −Infinity where no used
 *   in-link; maxIn[j]: its in-link position, −1 for the root and where there is none.
 * - segLong / segShort: positions of the two segments of the current shift (long: the longest
 *   used path, short: the shortest path, each from j back to their divergence node).
 * - bushLabel, queue, inQueue, shortcutList: scratch of `trueDistances` (the bush labels before
 *   correction, the circular deque of the label-correcting pass and its membership, the links that
 *   shorten a bush path); inQueue is all 0 between calls.
 * Nothing here allocates: the arrays are made once per engine.
 */

import { CompiledNetwork } from "@tollkit/graph-core";
import type { BushEngine } from "./engine.js";
import { Bush } from "./store.js";

/** The label arrays of one engine and the passes that compute them. */
/**
 * The larger of `residual` and one destination's demand residual ({@link BushLabels.tripsResidual}):
 * with `e` of its `q` most trips not made at inverse demand `w` and bush labels `l` (shortest) and
 * `u` (longest used), w − l where trips are not made and u − w where trips are made.
 */
export function tripResidual(residual: number, e: number, q: number, w: number, l: number, u: number, dust: number): number {
  if (e > dust && w - l > residual) residual = w - l;
  if (q - e > dust && u - w > residual) residual = u - w;
  return residual;
}

export class BushLabels {
  readonly L: Float64Array;
  readonly U: Float64Array;
  readonly minIn: Int32Array;
  readonly maxIn: Int32Array;
  readonly topo: Int32Array;
  readonly order: Int32Array;
  readonly groupStart: Int32Array;
  /** Number of nodes of the bush last scanned. */
  scanned = 0;
  /**
   * Written by {@link scan} when `skip` is set (excess-demand links) or the bush carries its trips not
   * made (`Bush.elastic`, the reduced form of `./demand-step.ts`): the bush's largest demand
   * residual, over its destinations with an excess link, of W − L (trips not made although the
   * road is cheaper) and U − W (road trips dearer than not travelling), time units; 0 otherwise.
   */
  demandResidual = 0;
  private readonly segLong: Int32Array;
  private readonly segShort: Int32Array;
  private readonly bushLabel: Float64Array;
  private readonly queue: Int32Array;
  private readonly inQueue: Uint8Array;
  private readonly shortcutList: Int32Array;

  /**
   * @param skip 1 on links the labels leave out (excess-demand links, moved by
   *   `./excess-demand.ts` instead of by shifts), or null
   */
  /** Per node: the zone (0-based) whose zone node it is, −1 for other nodes ({@link usedEnd}). */
  private readonly zoneOf: Int32Array;

  constructor(
    readonly net: CompiledNetwork,
    readonly skip: Uint8Array | null = null,
  ) {
    const n = net.nodeCount;
    const m = net.linkCount;
    this.L = new Float64Array(n);
    this.U = new Float64Array(n);
    this.minIn = new Int32Array(n);
    this.maxIn = new Int32Array(n);
    this.topo = new Int32Array(n);
    this.order = new Int32Array(n);
    this.groupStart = new Int32Array(n + 1);
    this.segLong = new Int32Array(n);
    this.segShort = new Int32Array(n);
    this.bushLabel = new Float64Array(n);
    this.queue = new Int32Array(n);
    this.inQueue = new Uint8Array(n);
    this.shortcutList = new Int32Array(m);
    this.zoneOf = new Int32Array(n).fill(-1);
    for (let z = 0; z < net.zoneCount; z++) this.zoneOf[net.zoneNodes[z]] = z;
  }

  /**
   * Shortest (L, over all bush links) and longest used (U, over links with flow) path labels in
   * topological order, with the argmin/argmax in-link positions, each node's topological
   * position and group start. Returns the number of bush nodes scanned.
   * @param usedOnly stop after the last group with a used in-link (flow above dust): the labels
   *   of the nodes before it are exact (a prefix of a topological order holds every predecessor
   *   of its nodes), and no node after it has a used in-link, so a flow shift ({@link descend})
   *   does exactly what it does after a full scan. Not on an augmented network's excess-demand
   *   links; with trips not made in the reduced form, through the last destination with an
   *   excess alternative too ({@link usedEnd}: its residual reads the labels of destinations
   *   that may carry no road flow).
   *   Why it pays: a bush holds every node reachable from its root, most of which no trip of the
   *   origin uses (Berlin-Center: its 865 zones lie in the middle of 12,981 nodes, and a
   *   shortest-path tree settles all of its destinations after 4,566 nodes on average), and the
   *   initial trees and the updates' depth-first order keep those unused nodes at the end.
   */
  scan(b: Bush, cc: Float64Array, usedOnly = false): number {
    const { linkFrom: from, linkTo: to } = this.net;
    const { L, U, minIn, maxIn, topo, order, groupStart: gs, skip } = this;
    const el = b.elastic;
    const links = b.links;
    const flows = b.flows;
    const root = b.root;
    const dust = b.dust;
    const len = usedOnly && skip === null ? this.usedEnd(b) : b.len;
    L[root] = 0;
    U[root] = 0;
    topo[root] = 0;
    order[0] = root;
    minIn[root] = -1;
    maxIn[root] = -1;
    let t = 0;
    let p = 0;
    let residual = 0;
    while (p < len) {
      let a = links[p];
      const j = to[a];
      t++;
      order[t] = j;
      topo[j] = t;
      gs[t] = p;
      let lmin = Infinity;
      let umax = -Infinity;
      let pmin = -1;
      let pmax = -1;
      let pe = -1;
      for (;;) {
        if (skip !== null && skip[a] === 1) pe = p;
        else {
          const i = from[a];
          const c = cc[a];
          const lv = L[i] + c;
          if (lv < lmin) {
            lmin = lv;
            pmin = p;
          }
          if (flows[p] > dust) {
            const uv = U[i] + c;
            if (uv > umax) {
              umax = uv;
              pmax = p;
            }
          }
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
      if (pe >= 0) {
        const w = cc[links[pe]];
        if (flows[pe] > dust && w - lmin > residual) residual = w - lmin;
        if (umax - w > residual) residual = umax - w;
      }
    }
    gs[t + 1] = len;
    this.scanned = t + 1;
    this.demandResidual = el !== null ? this.tripsResidual(b, residual) : residual;
    return t + 1;
  }

  /**
   * The demand residual of a bush's trips not made in the reduced form (`./demand-step.ts`) at
   * the labels L and U, at least `residual`: per destination with an excess alternative, W − L
   * where trips are not made and U − W where trips are made.
   */
  tripsResidual(b: Bush, residual: number): number {
    const el = b.elastic!;
    const { L, U } = this;
    const zoneNodes = this.net.zoneNodes;
    const { link: exLink, cost: exCost, notMade: exNotMade, maxTrips: exMax } = el;
    const dust = b.dust;
    const Z = exLink.length;
    for (let d = 0; d < Z; d++) {
      if (exLink[d] < 0) continue;
      const j = zoneNodes[d];
      residual = tripResidual(residual, exNotMade[d], exMax[d], exCost[d], L[j], U[j], dust);
    }
    return residual;
  }

  /** Shortest bush-path labels only (L) and the node order: the part of {@link scan} a measurement needs. */
  scanShortest(b: Bush, cc: Float64Array): number {
    const { linkFrom: from, linkTo: to } = this.net;
    const { L, order } = this;
    const links = b.links;
    const len = b.len;
    L[b.root] = 0;
    order[0] = b.root;
    let t = 0;
    let p = 0;
    while (p < len) {
      let a = links[p];
      const j = to[a];
      order[++t] = j;
      let lmin = Infinity;
      for (;;) {
        const lv = L[from[a]] + cc[a];
        if (lv < lmin) lmin = lv;
        if (++p === len) break;
        a = links[p];
        if (to[a] !== j) break;
      }
      L[j] = lmin;
    }
    this.scanned = t + 1;
    return t + 1;
  }

  /**
   * The end of a bush's last group of in-links that {@link scan}`(…, usedOnly)` must see: the last
   * group with a used in-link (flow above dust) or, with trips not made in the reduced form, into a
   * destination with an excess alternative (its residual and demand step read its labels even
   * when no road flow reaches it). A sequential read from the end.
   */
  usedEnd(b: Bush): number {
    const to = this.net.linkTo;
    const { links, flows, dust, len } = b;
    const el = b.elastic;
    const zoneOf = this.zoneOf;
    let q = len - 1;
    if (el === null) while (q >= 0 && !(flows[q] > dust)) q--;
    else
      for (; q >= 0; q--) {
        if (flows[q] > dust) break;
        const z = zoneOf[to[links[q]]];
        if (z >= 0 && el.link[z] >= 0) break;
      }
    if (q < 0) return 0;
    const h = to[links[q]];
    q++;
    while (q < len && to[links[q]] === h) q++;
    return q;
  }

  /**
   * One pass of Newton flow shifts on a bush, nodes in descending topological order.
   * Returns the largest label difference U_j − L_j seen (stale labels; a convergence hint).
   */
  shift(b: Bush, engine: BushEngine): number {
    return this.descend(b, engine, this.scan(b, engine.cc[b.cls], true));
  }

  /**
   * The flow shifts of {@link shift} on labels already scanned (by {@link scan}, or by the reduced
   * form's demand step, `./demand-step.ts`, which scans as it goes): `nn` bush nodes.
   */
  descend(b: Bush, engine: BushEngine, nn: number): number {
    const cc = engine.cc[b.cls];
    const { linkFrom: from } = this.net;
    const { L, U, minIn, maxIn, topo, order, segLong: segMax, segShort: segMin } = this;
    const der = engine.der;
    const links = b.links;
    const flows = b.flows;
    const pce = engine.pce[b.cls];
    const tol = engine.labelTolerance;
    // with other classes' bushes of this origin: the joint step of all classes (`./joint.ts`)
    const joint = engine.joint !== null && engine.joint.count > 0 ? engine.joint : null;
    // the cross-origin PAS set (`./pas.ts`) collects the segments of the largest shifts
    const pas = engine.pas;
    const offerAbove = pas === null ? Infinity : pas.offerAbove;
    let maxDiff = 0;
    for (let t = nn - 1; t >= 1; t--) {
      const j = order[t];
      const pM = maxIn[j];
      if (pM < 0) continue;
      const pm = minIn[j];
      if (pM === pm) continue;
      const diffLabel = U[j] - L[j];
      if (diffLabel > maxDiff) maxDiff = diffLabel;
      if (diffLabel <= tol * U[j]) continue;
      // walk both paths back to the divergence node
      let nMax = 0;
      let nMin = 0;
      segMax[nMax++] = pM;
      segMin[nMin++] = pm;
      let u = from[links[pM]];
      let v = from[links[pm]];
      while (u !== v) {
        if (topo[u] > topo[v]) {
          const p = maxIn[u];
          segMax[nMax++] = p;
          u = from[links[p]];
        } else {
          const p = minIn[v];
          segMin[nMin++] = p;
          v = from[links[p]];
        }
      }
      let cMax = 0;
      let d = 0;
      let bound = Infinity;
      for (let q = 0; q < nMax; q++) {
        const p = segMax[q];
        const a = links[p];
        cMax += cc[a];
        d += der[a];
        const f = flows[p];
        if (f < bound) bound = f;
      }
      let cMin = 0;
      for (let q = 0; q < nMin; q++) {
        const a = links[segMin[q]];
        cMin += cc[a];
        d += der[a];
      }
      const diff = cMax - cMin;
      if (!(diff > 0) || !(bound > 0)) continue;
      if (diffLabel >= offerAbove) pas!.offer(links, segMax, nMax, segMin, nMin);
      if (joint !== null) {
        joint.step(b, segMax, nMax, segMin, nMin, diff, bound, d, engine);
        continue;
      }
      let delta = d > 0 ? diff / (pce * d) : bound;
      if (delta > bound) delta = bound;
      const dx = pce * delta;
      for (let q = 0; q < nMax; q++) {
        const p = segMax[q];
        const before = flows[p];
        const after = before - delta;
        // what cancellation leaves of a flow the shift was meant to empty is rounding dust
        flows[p] = after > 1e-12 * before ? after : 0;
        engine.addFlow(links[p], -dx);
      }
      for (let q = 0; q < nMin; q++) {
        const p = segMin[q];
        flows[p] += delta;
        engine.addFlow(links[p], dx);
      }
    }
    return maxDiff;
  }

  /**
   * Copies link costs into CSR position order (`out[q] = cc[fsLink[q]]`), as
   * {@link trueDistances} reads them.
   */
  gatherCosts(cc: Float64Array, out: Float64Array): void {
    const fsLink = this.net.fsLink;
    for (let q = 0; q < out.length; q++) out[q] = cc[fsLink[q]];
  }

  /**
   * Shortest distances from a bush's root over the whole network in `L`: bush labels, then a
   * label-correcting pass over every link (a deque with the small-label-first rule: a node whose
   * new label is below the front's goes to the front: 10–20% less time than FIFO on
   * Chicago-Sketch, the same distances). Returns true when some label improved,
   * i.e. the bush misses a shortcut.
   * @param cc the bush's class link costs
   * @param pc the same costs in CSR position order ({@link gatherCosts}, once per class and
   *   measurement): the pass over every out-link then reads them in sequence instead of through
   *   the link index (60 % of a measurement's time on Berlin-Center is that pass)
   */
  trueDistances(b: Bush, cc: Float64Array, pc: Float64Array): boolean {
    const nn = this.scanShortest(b, cc);
    const { fsStart, fsLink, fsHead, blocked } = this.net;
    const { L, bushLabel: U, order, queue, inQueue, shortcutList: bufL } = this;
    const root = b.root;
    const n = this.net.nodeCount;
    // bush labels, kept in bushLabel (U here), to list the links that shorten a bush path (update candidates)
    for (let t = 0; t < nn; t++) U[order[t]] = L[order[t]];
    let shortcuts = 0;
    let qh = 0;
    let qt = 0;
    let size = 0;
    let improved = false;
    for (let t = 0; t < nn; t++) {
      const i = order[t];
      if (blocked[i] === 1 && i !== root) continue;
      const li = L[i];
      const ui = U[i];
      const end = fsStart[i + 1];
      for (let q = fsStart[i]; q < end; q++) {
        const j = fsHead[q];
        const c = pc[q];
        if (ui + c < U[j]) bufL[shortcuts++] = fsLink[q];
        const nd = li + c;
        if (nd < L[j]) {
          L[j] = nd;
          improved = true;
          if (inQueue[j] === 0) {
            inQueue[j] = 1;
            // SLF: a label below the front's goes first
            if (size > 0 && nd < L[queue[qh]]) {
              qh = qh === 0 ? n - 1 : qh - 1;
              queue[qh] = j;
            } else {
              queue[qt] = j;
              qt = qt + 1 === n ? 0 : qt + 1;
            }
            size++;
          }
        }
      }
    }
    if (b.shortcuts.length < shortcuts) b.shortcuts = new Int32Array(Math.max(shortcuts, 2 * b.shortcuts.length));
    b.shortcuts.set(bufL.subarray(0, shortcuts));
    b.shortcutCount = shortcuts;
    while (size > 0) {
      const u = queue[qh];
      qh = qh + 1 === n ? 0 : qh + 1;
      size--;
      inQueue[u] = 0;
      if (blocked[u] === 1 && u !== root) continue;
      const lu = L[u];
      const end = fsStart[u + 1];
      for (let q = fsStart[u]; q < end; q++) {
        const j = fsHead[q];
        const nd = lu + pc[q];
        if (nd < L[j]) {
          L[j] = nd;
          if (inQueue[j] === 0) {
            inQueue[j] = 1;
            if (size > 0 && nd < L[queue[qh]]) {
              qh = qh === 0 ? n - 1 : qh - 1;
              queue[qh] = j;
            } else {
              queue[qt] = j;
              qt = qt + 1 === n ? 0 : qt + 1;
            }
            size++;
          }
        }
      }
    }
    return improved;
  }
}
