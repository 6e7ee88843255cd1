/**
 * Shortest-path trees on compiled networks: Dijkstra with a binary heap on typed arrays.
 * A {@link ShortestPathWorkspace} is allocated once per network and reused for every call:
 * a call allocates nothing.
 *
 * FIRST THRU NODE: a blocked node (a zone below it) is reached and labelled but never expanded,
 * unless it is the origin itself.
 *
 * A tree can stop early once given target nodes are settled (all-or-nothing loading needs only
 * the destinations with demand): labels of settled nodes are final, so the loaded paths are
 * exactly those of the full tree.
 */

import { CompiledNetwork } from "./compiled.js";

/**
 * Reusable arrays of a shortest-path computation. After {@link shortestPathTree}:
 * - `dist[v]`: cost from the origin (Infinity when unreachable);
 * - `predLink[v]`: the link entering v on the tree (−1 for the origin and unreachable nodes);
 * - `order[0..settled−1]`: nodes in the order they were settled (non-decreasing distance).
 *   When a tree stopped early at its targets, `dist` and `predLink` are final for these nodes
 *   only (others may hold tentative labels).
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
  /** 1 for the targets of the current early-stopping tree, 0 elsewhere (reset after each tree). */
  private readonly isTarget: Uint8Array;

  constructor(readonly net: CompiledNetwork) {
    const n = net.nodeCount;
    this.dist = new Float64Array(n);
    this.predLink = new Int32Array(n);
    this.order = new Int32Array(n);
    this.posCost = new Float64Array(net.linkCount);
    this.heap = new Int32Array(n);
    this.heapKey = new Float64Array(n);
    this.heapPos = new Int32Array(n);
    this.isTarget = new Uint8Array(n);
  }

  /** Copies link costs (indexed by link) into CSR position order for cache-friendly scans. */
  gatherCosts(linkCost: Float64Array): void {
    const { fsLink } = this.net;
    const pc = this.posCost;
    for (let p = 0; p < pc.length; p++) pc[p] = linkCost[fsLink[p]];
  }

  /**
   * Computes the shortest-path tree from `origin` (a node index) using the costs last given to
   * {@link gatherCosts}. Costs must be ≥ 0. Allocates nothing.
   * @param targets optional node indices: stop as soon as all of them are settled (an
   *   unreachable target makes the tree complete). Only `targets[0..targetCount−1]` are read.
   * @param targetCount how many entries of `targets` to use (default: all)
   */
  tree(origin: number, targets?: Int32Array, targetCount = targets ? targets.length : 0): void {
    const { fsStart, fsHead, fsLink, blocked } = this.net;
    const dist = this.dist;
    const pred = this.predLink;
    const heap = this.heap;
    const key = this.heapKey;
    const pos = this.heapPos;
    const cost = this.posCost;
    const order = this.order;
    const isTarget = this.isTarget;
    // remaining targets to settle; −1 (never reaching 0) for a full tree
    let remaining = -1;
    if (targets && targetCount > 0) {
      remaining = 0;
      for (let k = 0; k < targetCount; k++) {
        const t = targets[k];
        if (isTarget[t] === 0 && t !== origin) {
          isTarget[t] = 1;
          remaining++;
        }
      }
      if (remaining === 0) remaining = -1;
    }
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
      if (isTarget[u] === 1 && --remaining === 0) break;
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
    if (remaining !== -1) for (let k = 0; k < targetCount; k++) isTarget[targets![k]] = 0;
  }
}
