/**
 * The bush-based equilibrium engine: Algorithm B (Dial 2006) on origin-based bushes, in the
 * form described by Boyles, Lownes & Unnikrishnan (*Transportation Network Analysis*, ch. 6)
 * and studied by Nie (2010), with the bush storage of `./store.ts`.
 *
 * One iteration (driven by `../bush.ts`):
 * 1. for every bush (one per class and origin): if the last measurement found a shortcut
 *    outside it, update it — drop links without flow (keeping the bush's shortest-path tree),
 *    then add the shortcuts (i,j) with L_i + c_ij < L_j and U_i < U_j, where L are shortest and
 *    U longest bush-path labels (the second condition keeps the bush acyclic) — and shift flow;
 * 2. passes that only shift flow, on the bushes furthest from their own equilibrium;
 * 3. a measurement: exact class link flows and costs recomputed from the bushes, total cost, and
 *    the SPTT from true shortest paths (bush labels corrected by a label-correcting pass over the
 *    whole network, exact and much cheaper than Dijkstra from scratch), hence the relative gap;
 *    the links that shortened a bush path are kept as the next update's candidates.
 *
 * Rounding: a flow the shift was meant to empty is set to 0 when cancellation leaves less than
 * 1e-12 of it, and flows below 1e-13 of the origin's demand count as unused (dust), so that
 * rounding never keeps a link in a bush.
 *
 * A flow shift (per bush, nodes in descending topological order): for node j, the longest used
 * path and the shortest bush path into j meet at a divergence node a; the Newton step
 * Δ = (C_long − C_short) / (pce · Σ dc/dx) moves flow of the bush's class from the long to the
 * short segment, capped by the least flow on the long segment. Costs are the objective's
 * ({@link CostModel.flowCost}: t for UE, t + x·t′ for SO) plus the class's fixed part (tolls,
 * distance); derivatives are t′ (UE) or 2t′ + x·t″ (SO). Link costs are refreshed after every
 * shift, so every segment cost is exact when it is used.
 *
 * Hot paths run on typed arrays allocated once per engine; nothing is allocated per shift, per
 * node or per bush visit (a bush's arrays grow, by half, only when it gains more links than it
 * has room for).
 */

import { CompiledNetwork, CompiledVdf, ShortestPathWorkspace, UnroutableDemand } from "@tollkit/graph-core";
import { CostModel, relativeGap, unroutableError } from "../cost-model.js";
import { Bush, ensureCapacity, newBush, StoredBush } from "./store.js";

/** Outcome of one measurement of the current flows. */
export interface GapMeasurement {
  totalCost: number;
  sptt: number;
  relativeGap: number;
  /** Bushes for which a shorter path exists outside the bush. */
  bushesToGrow: number;
}

export class BushEngine {
  readonly model: CostModel;
  readonly net: CompiledNetwork;
  readonly vdf: CompiledVdf;
  readonly so: boolean;
  readonly m: number;
  readonly n: number;
  readonly K: number;
  readonly pce: Float64Array;
  /** Total link flow (PCE). */
  readonly x: Float64Array;
  /** The objective's flow cost per link (t or t + x·t′). */
  readonly fc: Float64Array;
  /** d fc / dx per link. */
  readonly der: Float64Array;
  /** Per class: fc + the class's fixed cost. */
  readonly cc: Float64Array[];
  /** Per class link flows (vehicles), exact after {@link recompute}. */
  readonly classFlows: Float64Array[];
  bushes: Bush[] = [];

  // scratch, one of each per engine
  private readonly L: Float64Array;
  private readonly U: Float64Array;
  private readonly minIn: Int32Array;
  private readonly maxIn: Int32Array;
  private readonly topo: Int32Array;
  private readonly order: Int32Array;
  private readonly gs: Int32Array;
  private readonly segMax: Int32Array;
  private readonly segMin: Int32Array;
  private readonly nodeStamp: Int32Array;
  private readonly linkStamp: Int32Array;
  private stamp = 0;
  /** Number of nodes of the bush last scanned. */
  private scanned = 0;
  private readonly bufL: Int32Array;
  private readonly bufF: Float64Array;
  private readonly deg: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outList: Int32Array;
  private readonly queue: Int32Array;
  private readonly newPos: Int32Array;
  private readonly inQueue: Uint8Array;
  private readonly nodeFlow: Float64Array;
  /** Depth-first-search marks per bush position (stamps). */
  private readonly posMark: Int32Array;

  /** Shifts whose stale label difference U_j − L_j is at most this fraction of U_j are skipped. */
  labelTolerance = 1e-15;

  constructor(model: CostModel) {
    this.model = model;
    this.net = model.compiled;
    this.vdf = model.vdf;
    this.so = model.objective === "so";
    const m = (this.m = model.linkCount);
    const n = (this.n = this.net.nodeCount);
    const K = (this.K = model.classes.length);
    this.pce = Float64Array.from(model.classes.map((c) => c.pce));
    this.x = new Float64Array(m);
    this.fc = new Float64Array(m);
    this.der = new Float64Array(m);
    this.cc = [];
    this.classFlows = [];
    for (let k = 0; k < K; k++) {
      this.cc.push(new Float64Array(m));
      this.classFlows.push(new Float64Array(m));
    }
    this.L = new Float64Array(n);
    this.U = new Float64Array(n);
    this.minIn = new Int32Array(n);
    this.maxIn = new Int32Array(n);
    this.topo = new Int32Array(n);
    this.order = new Int32Array(n);
    this.gs = new Int32Array(n + 1);
    this.segMax = new Int32Array(n);
    this.segMin = new Int32Array(n);
    this.nodeStamp = new Int32Array(n);
    this.linkStamp = new Int32Array(m);
    this.bufL = new Int32Array(m);
    this.bufF = new Float64Array(m);
    this.deg = new Int32Array(n + 1);
    this.outStart = new Int32Array(n + 1);
    this.outList = new Int32Array(m);
    this.queue = new Int32Array(n);
    this.newPos = new Int32Array(n);
    this.inQueue = new Uint8Array(n);
    this.nodeFlow = new Float64Array(n);
    this.posMark = new Int32Array(n);
    for (let a = 0; a < m; a++) this.refresh(a);
  }

  /** Recomputes the cost and derivative of link `a` from its flow x[a]. */
  private refresh(a: number): void {
    const xa = this.x[a];
    let c: number;
    if (this.so) {
      c = this.model.linkFlowCost(a, xa);
      this.der[a] = this.model.linkFlowCostDerivative(a, xa);
    } else {
      c = this.vdf.time(a, xa);
      this.der[a] = this.vdf.derivative(a, xa);
    }
    this.fc[a] = c;
    const K = this.K;
    for (let k = 0; k < K; k++) this.cc[k][a] = c + this.model.fixed[k][a];
  }

  /** Adds `dx` (PCE) to the flow of link `a` and refreshes its costs. */
  private addFlow(a: number, dx: number): void {
    const v = this.x[a] + dx;
    this.x[a] = v > 0 ? v : 0;
    this.refresh(a);
  }

  // ---------------------------------------------------------------- initial bushes

  /**
   * Builds one bush per class and origin with demand: the shortest-path tree at the current
   * costs, loaded all-or-nothing. With `incremental`, costs are refreshed after each origin
   * (incremental loading); without, the caller recomputes flows afterwards.
   * @throws InputError when some demand cannot be routed
   */
  initialise(sp: ShortestPathWorkspace, incremental: boolean): void {
    const { zoneCount: Z } = this.net;
    const unroutable: UnroutableDemand[] = [];
    const bushes: Bush[] = [];
    for (let k = 0; k < this.K; k++) {
      const demand = this.model.classes[k].demand;
      for (let o = 0; o < Z; o++) {
        if (!hasDemand(demand, o, Z)) continue;
        const b = this.treeBush(sp, k, o, unroutable, incremental);
        if (b) bushes.push(b);
      }
    }
    if (unroutable.length) throw unroutableError(this.model.net, unroutable);
    this.bushes = bushes.sort((p, q) => p.cls - q.cls || p.zone - q.zone);
  }

  /** The shortest-path-tree bush of one class and origin, loaded with its demand (null when unroutable). */
  private treeBush(sp: ShortestPathWorkspace, k: number, o: number, unroutable: UnroutableDemand[], incremental = true): Bush | null {
    const { zoneCount: Z, zoneNodes, linkFrom } = this.net;
    const demand = this.model.classes[k].demand;
    const root = zoneNodes[o];
    sp.gatherCosts(this.cc[k]);
    sp.tree(root);
    const { dist, predLink, order, settled } = sp;
    const nodeFlow = this.nodeFlow;
    let bad = false;
    for (let d = 0; d < Z; d++) {
      const t = demand[o * Z + d];
      if (t <= 0 || d === o) continue;
      if (dist[zoneNodes[d]] === Infinity) {
        unroutable.push({ origin: o, destination: d, trips: t });
        bad = true;
        continue;
      }
      nodeFlow[zoneNodes[d]] += t;
    }
    if (bad) {
      for (let d = 0; d < Z; d++) nodeFlow[zoneNodes[d]] = 0;
      return null;
    }
    const len = settled - 1;
    const b = newBush(k, o, root, Math.max(4, Math.ceil(len * 1.25)), rowDemand(demand, o, Z));
    b.len = len;
    const links = b.links;
    const flows = b.flows;
    for (let s = 1; s < settled; s++) links[s - 1] = predLink[order[s]];
    for (let s = settled - 1; s >= 1; s--) {
      const v = order[s];
      const f = nodeFlow[v];
      nodeFlow[v] = 0;
      flows[s - 1] = f;
      if (f !== 0) nodeFlow[linkFrom[predLink[v]]] += f;
    }
    nodeFlow[root] = 0;
    if (incremental) {
      const pce = this.pce[k];
      for (let p = 0; p < len; p++) if (flows[p] > 0) this.addFlow(links[p], pce * flows[p]);
    }
    return b;
  }

  /**
   * Takes bushes from a warm-start state. A stored bush that fails a check (indices out of range,
   * a duplicate link, a negative or non-finite flow, a link leaving a zone that may not be passed
   * through, a cycle, a reachable node missing, demand not met) is replaced by a fresh
   * shortest-path-tree bush, as is every (class, origin) with demand that the state lacks.
   * Returns how many stored bushes were rejected and how many bushes were built fresh.
   */
  adopt(stored: StoredBush[], sp: ShortestPathWorkspace): { rejected: number; built: number } {
    const { zoneCount: Z } = this.net;
    const have = new Set<number>();
    const bushes: Bush[] = [];
    let rejected = 0;
    for (const s of stored) {
      const k = s.cls;
      const o = s.zone;
      const ok =
        Number.isInteger(k) &&
        k >= 0 &&
        k < this.K &&
        Number.isInteger(o) &&
        o >= 0 &&
        o < Z &&
        !have.has(k * Z + o) &&
        hasDemand(this.model.classes[k].demand, o, Z) &&
        s.links instanceof Int32Array &&
        s.flows instanceof Float64Array &&
        s.links.length === s.flows.length;
      if (!ok) {
        rejected++;
        continue;
      }
      const b = newBush(
        k,
        o,
        this.net.zoneNodes[o],
        Math.max(4, Math.ceil(s.links.length * 1.1)),
        rowDemand(this.model.classes[k].demand, o, Z),
      );
      b.len = s.links.length;
      b.links.set(s.links);
      b.flows.set(s.flows);
      if (!this.normalise(b) || !this.meetsDemand(b)) {
        rejected++;
        continue;
      }
      have.add(k * Z + o);
      bushes.push(b);
    }
    // flows of the adopted bushes, then fresh trees (at those costs) for the rest
    this.bushes = bushes;
    this.recompute();
    const unroutable: UnroutableDemand[] = [];
    let built = 0;
    for (let k = 0; k < this.K; k++) {
      const demand = this.model.classes[k].demand;
      for (let o = 0; o < Z; o++) {
        if (!hasDemand(demand, o, Z) || have.has(k * Z + o)) continue;
        const b = this.treeBush(sp, k, o, unroutable, false);
        built++;
        if (b) bushes.push(b);
      }
    }
    if (unroutable.length) throw unroutableError(this.model.net, unroutable);
    this.bushes = bushes.sort((p, q) => p.cls - q.cls || p.zone - q.zone);
    for (const b of this.bushes) b.needsUpdate = true;
    if (built > 0) this.recompute();
    return { rejected, built };
  }

  /**
   * Checks a stored bush and puts its links in the storage order (grouped by head, heads in a
   * topological order found by Kahn's algorithm). False when the bush is not valid (see
   * {@link adopt}). Uses node-sized scratch arrays; runs once per adopted bush.
   */
  private normalise(b: Bush): boolean {
    const { linkFrom: from, linkTo: to, blocked } = this.net;
    const { nodeStamp, linkStamp, outStart, outList, order, topo, bufL, bufF } = this;
    const indeg = this.minIn;
    const cursor = this.maxIn;
    const m = this.m;
    const n = this.n;
    const len = b.len;
    const links = b.links;
    const flows = b.flows;
    const root = b.root;
    const st = ++this.stamp;
    for (let p = 0; p < len; p++) {
      const a = links[p];
      const f = flows[p];
      if (!(a >= 0 && a < m) || !(f >= 0 && f < Infinity)) return false;
      if (linkStamp[a] === st) return false;
      linkStamp[a] = st;
      if ((blocked[from[a]] === 1 && from[a] !== root) || to[a] === root) return false;
    }
    // fast path: the links are already in storage order (as every state this module writes)
    const ordered = ++this.stamp;
    nodeStamp[root] = ordered;
    let inOrder = true;
    for (let p = 0, prev = -1; p < len && inOrder; p++) {
      const a = links[p];
      const i = from[a];
      const j = to[a];
      if (j !== prev) {
        if (nodeStamp[j] === ordered) inOrder = false; // a head met twice (split group or cycle)
        nodeStamp[j] = ordered;
        prev = j;
      }
      if (i === j || nodeStamp[i] !== ordered) inOrder = false; // the tail must be the root or an earlier head
    }
    if (inOrder) return this.reachesAll(b, ordered);
    const st2 = ++this.stamp;
    let nn = 1;
    nodeStamp[root] = st2;
    indeg[root] = 0;
    for (let p = 0; p < len; p++) {
      const a = links[p];
      const u = from[a];
      const v = to[a];
      if (nodeStamp[u] !== st2) {
        nodeStamp[u] = st2;
        indeg[u] = 0;
        nn++;
      }
      if (nodeStamp[v] !== st2) {
        nodeStamp[v] = st2;
        indeg[v] = 0;
        nn++;
      }
      indeg[v]++;
    }
    outStart.fill(0);
    for (let p = 0; p < len; p++) outStart[from[links[p]] + 1]++;
    for (let v = 0; v < n; v++) outStart[v + 1] += outStart[v];
    for (let v = 0; v < n; v++) cursor[v] = outStart[v];
    for (let p = 0; p < len; p++) outList[cursor[from[links[p]]]++] = p;
    let qh = 0;
    let qt = 0;
    order[qt++] = root;
    while (qh < qt) {
      const u = order[qh++];
      for (let r = outStart[u]; r < outStart[u + 1]; r++) {
        const v = to[links[outList[r]]];
        if (--indeg[v] === 0) order[qt++] = v;
      }
    }
    if (qt !== nn) return false; // a cycle, or a node without an in-link
    for (let t = 0; t < nn; t++) topo[order[t]] = t;
    const cnt = this.deg;
    cnt.fill(0, 0, nn + 1);
    for (let p = 0; p < len; p++) cnt[topo[to[links[p]]] + 1]++;
    for (let t = 0; t < nn; t++) cnt[t + 1] += cnt[t];
    for (let p = 0; p < len; p++) {
      const d = cnt[topo[to[links[p]]]]++;
      bufL[d] = links[p];
      bufF[d] = flows[p];
    }
    links.set(bufL.subarray(0, len));
    flows.set(bufF.subarray(0, len));
    return this.reachesAll(b, st2);
  }

  /**
   * True when every node reachable from the bush's root (FIRST THRU NODE respected) is in the
   * bush, whose nodes carry the stamp `st` in nodeStamp.
   */
  private reachesAll(b: Bush, st: number): boolean {
    const { linkTo: to, blocked, fsStart, fsHead } = this.net;
    const { nodeStamp } = this;
    const check = (u: number): boolean => {
      if (blocked[u] === 1 && u !== b.root) return true;
      for (let q = fsStart[u]; q < fsStart[u + 1]; q++) if (nodeStamp[fsHead[q]] !== st) return false;
      return true;
    };
    if (!check(b.root)) return false;
    for (let p = 0; p < b.len; p++) {
      const j = to[b.links[p]];
      if (p > 0 && to[b.links[p - 1]] === j) continue;
      if (!check(j)) return false;
    }
    return true;
  }

  /** True when the bush's flows deliver exactly its origin's demand (relative 1e-9). */
  private meetsDemand(b: Bush): boolean {
    const { zoneCount: Z, zoneNodes, linkFrom: from, linkTo: to } = this.net;
    const demand = this.model.classes[b.cls].demand;
    const bal = this.nodeFlow;
    let total = 0;
    for (let p = 0; p < b.len; p++) {
      const a = b.links[p];
      bal[to[a]] += b.flows[p];
      bal[from[a]] -= b.flows[p];
    }
    for (let d = 0; d < Z; d++) if (d !== b.zone) total += demand[b.zone * Z + d];
    let ok = true;
    const tol = 1e-9 * Math.max(total, 1e-300);
    for (let d = 0; d < Z; d++) {
      if (d === b.zone) continue;
      if (Math.abs(bal[zoneNodes[d]] - demand[b.zone * Z + d]) > tol) ok = false;
      bal[zoneNodes[d]] = 0;
    }
    if (Math.abs(bal[b.root] + total) > tol) ok = false;
    bal[b.root] = 0;
    for (let p = 0; p < b.len; p++) {
      const a = b.links[p];
      if (Math.abs(bal[to[a]]) > tol || Math.abs(bal[from[a]]) > tol) ok = false;
      bal[to[a]] = 0;
      bal[from[a]] = 0;
    }
    return ok;
  }

  // ---------------------------------------------------------------- labels

  /**
   * Shortest (L, over all bush links) and longest used (U, over links with flow) path labels in
   * topological order, with the argmin/argmax in-link positions, each node's topological
   * position and group start. Returns the number of bush nodes.
   */
  private scan(b: Bush): number {
    const { linkFrom: from, linkTo: to } = this.net;
    const { L, U, minIn, maxIn, topo, order, gs } = this;
    const links = b.links;
    const flows = b.flows;
    const len = b.len;
    const cc = this.cc[b.cls];
    const root = b.root;
    const dust = b.dust;
    L[root] = 0;
    U[root] = 0;
    topo[root] = 0;
    order[0] = root;
    minIn[root] = -1;
    maxIn[root] = -1;
    let t = 0;
    let p = 0;
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
      for (;;) {
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
        p++;
        if (p === len) break;
        a = links[p];
        if (to[a] !== j) break;
      }
      L[j] = lmin;
      U[j] = umax;
      minIn[j] = pmin;
      maxIn[j] = pmax;
    }
    gs[t + 1] = len;
    this.scanned = t + 1;
    return t + 1;
  }

  /** Shortest bush-path labels only (L) and the node order: the part of {@link scan} a measurement needs. */
  private scanShortest(b: Bush): number {
    const { linkFrom: from, linkTo: to } = this.net;
    const { L, order } = this;
    const links = b.links;
    const len = b.len;
    const cc = this.cc[b.cls];
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

  // ---------------------------------------------------------------- flow shifts

  /**
   * One pass of Newton flow shifts on a bush, nodes in descending topological order.
   * Returns the largest label difference U_j − L_j seen (stale labels; a convergence hint).
   */
  shift(b: Bush): number {
    const nn = this.scan(b);
    const { linkFrom: from } = this.net;
    const { L, U, minIn, maxIn, topo, order, segMax, segMin, der } = this;
    const links = b.links;
    const flows = b.flows;
    const cc = this.cc[b.cls];
    const pce = this.pce[b.cls];
    const tol = this.labelTolerance;
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
      let delta = d > 0 ? diff / (pce * d) : bound;
      if (delta > bound) delta = bound;
      const dx = pce * delta;
      for (let q = 0; q < nMax; q++) {
        const p = segMax[q];
        const before = flows[p];
        const after = before - delta;
        // what cancellation leaves of a flow the shift was meant to empty is rounding dust
        flows[p] = after > 1e-12 * before ? after : 0;
        this.addFlow(links[p], -dx);
      }
      for (let q = 0; q < nMin; q++) {
        const p = segMin[q];
        flows[p] += delta;
        this.addFlow(links[p], dx);
      }
    }
    return maxDiff;
  }

  // ---------------------------------------------------------------- bush update

  /**
   * Drops unused links (keeping the shortest-path tree) and adds shortcuts, keeping the bush
   * acyclic: a link (i,j) is added when L_i + c_ij < L_j (a shorter path) and U_i < U_j, U the
   * longest-path labels over the links kept (no bush path leads from j back to i). Candidates
   * are the shortcuts the last measurement saw (`b.shortcuts`), or every link when unknown.
   * The groups are then written in a topological order: a depth-first search over in-links that
   * emits each node after its predecessors, starting from the old order (which it keeps when no
   * new link goes backwards). Linear in the bush's size (plus the network's links for a full scan).
   */
  update(b: Bush): void {
    const nn = this.scan(b);
    const { linkFrom: from, linkTo: to, fsStart, fsLink, fsHead, blocked } = this.net;
    const { L, U, minIn, topo, order, gs, bufL, bufF, linkStamp } = this;
    const links = b.links;
    const flows = b.flows;
    const cc = this.cc[b.cls];
    const root = b.root;
    const dust = b.dust;
    const st = ++this.stamp;
    // kept links, grouped as before; ks[t] = start of node t's kept group in bufL
    const ks = this.outStart;
    U[root] = 0;
    let w = 0;
    for (let t = 1; t < nn; t++) {
      const j = order[t];
      const pm = minIn[j];
      let ua = -Infinity;
      ks[t] = w;
      const end = gs[t + 1];
      for (let p = gs[t]; p < end; p++) {
        const f = flows[p];
        if (f > dust || p === pm) {
          const a = links[p];
          bufL[w] = a;
          bufF[w] = f > dust ? f : 0;
          w++;
          linkStamp[a] = st;
          const v = U[from[a]] + cc[a];
          if (v > ua) ua = v;
        }
      }
      U[j] = ua;
    }
    ks[nn] = w;
    const kept = w;
    // shortcuts: added links are chained per head position (addFirst[t], addNext[q − kept])
    const addFirst = this.newPos;
    const addNext = this.outList;
    addFirst.fill(-1, 0, nn);
    const cand = b.shortcuts;
    const nCand = b.shortcutCount;
    if (nCand >= 0) {
      for (let k = 0; k < nCand; k++) {
        const a = cand[k];
        const i = from[a];
        const j = to[a];
        if (linkStamp[a] === st || (blocked[i] === 1 && i !== root) || j === root) continue;
        if (L[i] + cc[a] < L[j] && U[i] < U[j]) {
          linkStamp[a] = st;
          bufL[w] = a;
          bufF[w] = 0;
          const hp = topo[j];
          addNext[w - kept] = addFirst[hp];
          addFirst[hp] = w;
          w++;
        }
      }
    } else {
      for (let t = 0; t < nn; t++) {
        const i = order[t];
        if (blocked[i] === 1 && i !== root) continue;
        const li = L[i];
        const ui = U[i];
        const end = fsStart[i + 1];
        for (let q = fsStart[i]; q < end; q++) {
          const a = fsLink[q];
          if (linkStamp[a] === st) continue;
          const j = fsHead[q];
          if (li + cc[a] < L[j] && ui < U[j]) {
            linkStamp[a] = st;
            bufL[w] = a;
            bufF[w] = 0;
            const hp = topo[j];
            addNext[w - kept] = addFirst[hp];
            addFirst[hp] = w;
            w++;
          }
        }
      }
    }
    b.needsUpdate = false;
    b.shortcutCount = -1;
    ensureCapacity(b, w);
    const outL = b.links;
    const outF = b.flows;
    if (w === kept) {
      outL.set(bufL.subarray(0, w));
      outF.set(bufF.subarray(0, w));
      b.len = w;
      return;
    }
    // depth-first search over in-links (node positions; mark: gray = st, black = st + 1)
    const mark = this.posMark;
    const stN = this.queue;
    const stI = this.segMax;
    const stA = this.segMin;
    const black = ++this.stamp;
    mark[0] = black;
    let o = 0;
    for (let t0 = 1; t0 < nn; t0++) {
      if (mark[t0] === black) continue;
      let sp = 0;
      stN[0] = t0;
      stI[0] = ks[t0];
      stA[0] = addFirst[t0];
      mark[t0] = st;
      while (sp >= 0) {
        const t = stN[sp];
        let next = -1;
        const kend = ks[t + 1];
        while (stI[sp] < kend) {
          const tp = topo[from[bufL[stI[sp]++]]];
          if (mark[tp] !== black) {
            next = tp;
            break;
          }
        }
        if (next < 0) {
          while (stA[sp] >= 0) {
            const q = stA[sp];
            stA[sp] = addNext[q - kept];
            const tp = topo[from[bufL[q]]];
            if (mark[tp] !== black) {
              next = tp;
              break;
            }
          }
        }
        if (next >= 0) {
          if (mark[next] === st) throw new Error(`follower/bush: internal error: the bush of zone ${b.zone + 1} became cyclic`);
          mark[next] = st;
          sp++;
          stN[sp] = next;
          stI[sp] = ks[next];
          stA[sp] = addFirst[next];
          continue;
        }
        // all predecessors emitted: emit node t's in-links
        for (let q = ks[t]; q < kend; q++) {
          outL[o] = bufL[q];
          outF[o] = bufF[q];
          o++;
        }
        for (let q = addFirst[t]; q >= 0; q = addNext[q - kept]) {
          outL[o] = bufL[q];
          outF[o] = 0;
          o++;
        }
        mark[t] = black;
        sp--;
      }
    }
    b.len = w;
  }

  // ---------------------------------------------------------------- measurement

  /** Recomputes every link cost from the total flows `x` as they stand. */
  refreshAll(): void {
    for (let a = 0; a < this.m; a++) this.refresh(a);
  }

  /** Recomputes class link flows and total flows exactly from the bushes, then every link cost. */
  recompute(): void {
    const K = this.K;
    for (let k = 0; k < K; k++) this.classFlows[k].fill(0);
    for (const b of this.bushes) {
      const f = this.classFlows[b.cls];
      const links = b.links;
      const flows = b.flows;
      for (let p = 0; p < b.len; p++) f[links[p]] += flows[p];
    }
    this.model.totalFlow(this.classFlows, this.x);
    for (let a = 0; a < this.m; a++) this.refresh(a);
  }

  /**
   * Measures the current flows: exact flows and costs ({@link recompute}), total cost, SPTT from
   * true shortest paths (each bush's shortest labels corrected over the whole network) and the
   * relative gap. Marks the bushes that a shortcut outside them could improve.
   */
  measure(): GapMeasurement {
    this.recompute();
    const K = this.K;
    let totalCost = 0;
    for (let k = 0; k < K; k++) {
      const f = this.classFlows[k];
      const c = this.cc[k];
      let s = 0;
      for (let a = 0; a < this.m; a++) s += f[a] * c[a];
      totalCost += s;
    }
    const { zoneCount: Z, zoneNodes } = this.net;
    let sptt = 0;
    let grow = 0;
    for (const b of this.bushes) {
      const improved = this.trueDistances(b);
      if (improved) grow++;
      b.needsUpdate = improved;
      const demand = this.model.classes[b.cls].demand;
      const row = b.zone * Z;
      const L = this.L;
      let s = 0;
      for (let d = 0; d < Z; d++) {
        const t = demand[row + d];
        if (t > 0 && d !== b.zone) s += t * L[zoneNodes[d]];
      }
      sptt += s;
    }
    return { totalCost, sptt, relativeGap: relativeGap(totalCost, sptt), bushesToGrow: grow };
  }

  /**
   * Shortest generalised-cost distances from a bush's root (its class's costs, FIRST THRU NODE
   * respected) to every node, written to `out` (Infinity where unreachable). Exact: bush labels
   * corrected over the whole network.
   */
  distances(b: Bush, out: Float64Array): void {
    this.trueDistances(b);
    out.fill(Infinity);
    const { order, L } = this;
    const nn = this.scanned; // the bush's nodes are every node reachable from its root
    for (let t = 0; t < nn; t++) out[order[t]] = L[order[t]];
  }

  /**
   * Shortest distances from a bush's root over the whole network in `L`: bush labels, then a
   * label-correcting pass (FIFO queue) over every link. Returns true when some label improved,
   * i.e. the bush misses a shortcut.
   */
  private trueDistances(b: Bush): boolean {
    const nn = this.scanShortest(b);
    const { fsStart, fsLink, fsHead, blocked } = this.net;
    const { L, U, order, queue, inQueue, bufL } = this;
    const cc = this.cc[b.cls];
    const root = b.root;
    const n = this.n;
    // bush labels, kept in U, to list the links that shorten a bush path (update candidates)
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
        const c = cc[fsLink[q]];
        if (ui + c < U[j]) bufL[shortcuts++] = fsLink[q];
        const nd = li + c;
        if (nd < L[j]) {
          L[j] = nd;
          improved = true;
          if (inQueue[j] === 0) {
            inQueue[j] = 1;
            queue[qt] = j;
            qt = qt + 1 === n ? 0 : qt + 1;
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
        const nd = lu + cc[fsLink[q]];
        if (nd < L[j]) {
          L[j] = nd;
          if (inQueue[j] === 0) {
            inQueue[j] = 1;
            queue[qt] = j;
            qt = qt + 1 === n ? 0 : qt + 1;
            size++;
          }
        }
      }
    }
    return improved;
  }
}

/** Trips from zone `o` to other zones. */
export function rowDemand(demand: Float64Array, o: number, Z: number): number {
  const row = o * Z;
  let s = 0;
  for (let d = 0; d < Z; d++) if (d !== o) s += demand[row + d];
  return s;
}

/** True when zone `o` sends some trips to another zone. */
export function hasDemand(demand: Float64Array, o: number, Z: number): boolean {
  const row = o * Z;
  for (let d = 0; d < Z; d++) if (d !== o && demand[row + d] > 0) return true;
  return false;
}
