/**
 * Shortest-path trees on compiled networks: Dijkstra with a binary heap on typed arrays.
 * A {@link ShortestPathWorkspace} is allocated once per network and reused for every call:
 * a call allocates nothing.
 *
 * FIRST THRU NODE: a blocked node (a zone below it) is reached and labelled but never expanded,
 * unless it is the origin itself.
 */

import { CompiledNetwork } from "./compiled.js";

/**
 * Reusable arrays of a shortest-path computation. After {@link shortestPathTree}:
 * - `dist[v]`: cost from the origin (Infinity when unreachable);
 * - `predLink[v]`: the link entering v on the tree (−1 for the origin and unreachable nodes);
 * - `order[0..settled−1]`: nodes in the order they were settled (non-decreasing distance).
 */
export class ShortestPathWorkspace {
  readonly dist: Float64Array;
  readonly predLink: Int32Array;
  readonly order: Int32Array;
  settled = 0;
  /** Cost per CSR position (gathered from link costs by {@link gatherCosts}). */
  readonly posCost: Float64Array;
  private readonly heap: Int32Array;
  private readonly heapKey: Float64Array;
  /** Position of a node in the heap; −1 = never inserted, −2 = settled. */
  private readonly heapPos: Int32Array;

  constructor(readonly net: CompiledNetwork) {
    const n = net.nodeCount;
    this.dist = new Float64Array(n);
    this.predLink = new Int32Array(n);
    this.order = new Int32Array(n);
    this.posCost = new Float64Array(net.linkCount);
    this.heap = new Int32Array(n);
    this.heapKey = new Float64Array(n);
    this.heapPos = new Int32Array(n);
  }

  /** Copies link costs (indexed by link) into CSR position order for cache-friendly scans. */
  gatherCosts(linkCost: Float64Array): void {
    const { fsLink } = this.net;
    const pc = this.posCost;
    for (let p = 0; p < pc.length; p++) pc[p] = linkCost[fsLink[p]];
  }

  /**
   * Computes the shortest-path tree from `origin` (a node index) using the costs last given to
   * {@link gatherCosts}. Costs must be ≥ 0.
   */
  tree(origin: number): void {
    const { fsStart, fsHead, fsLink, blocked, nodeCount } = this.net;
    const dist = this.dist;
    const pred = this.predLink;
    const heap = this.heap;
    const key = this.heapKey;
    const pos = this.heapPos;
    const cost = this.posCost;
    const order = this.order;
    dist.fill(Infinity);
    pred.fill(-1);
    pos.fill(-1);
    let size = 0;
    let settled = 0;
    dist[origin] = 0;
    heap[0] = origin;
    key[0] = 0;
    pos[origin] = 0;
    size = 1;
    while (size > 0) {
      const u = heap[0];
      const du = key[0];
      pos[u] = -2;
      order[settled++] = u;
      size--;
      if (size > 0) {
        // sift the last element down from the root
        const v = heap[size];
        const kv = key[size];
        let i = 0;
        for (;;) {
          let c = 2 * i + 1;
          if (c >= size) break;
          if (c + 1 < size && key[c + 1] < key[c]) c++;
          if (key[c] >= kv) break;
          heap[i] = heap[c];
          key[i] = key[c];
          pos[heap[i]] = i;
          i = c;
        }
        heap[i] = v;
        key[i] = kv;
        pos[v] = i;
      }
      if (blocked[u] === 1 && u !== origin) continue;
      const end = fsStart[u + 1];
      for (let p = fsStart[u]; p < end; p++) {
        const v = fsHead[p];
        const pv = pos[v];
        if (pv === -2) continue;
        const nd = du + cost[p];
        if (nd < dist[v]) {
          dist[v] = nd;
          pred[v] = fsLink[p];
          // insert or decrease key, then sift up
          let i = pv;
          if (i === -1) i = size++;
          while (i > 0) {
            const parent = (i - 1) >> 1;
            if (key[parent] <= nd) break;
            heap[i] = heap[parent];
            key[i] = key[parent];
            pos[heap[i]] = i;
            i = parent;
          }
          heap[i] = v;
          key[i] = nd;
          pos[v] = i;
        }
      }
    }
    this.settled = settled;
    void nodeCount;
  }
}
