/**
 * The structure of a bush: checking and ordering a stored bush, and the bush update of
 * Algorithm B (drop unused links, add shortcuts, restore a topological order). The storage
 * invariants are those of `./store.ts` (links grouped by head, groups in a topological order,
 * every reachable node present); the algorithm is described in `./engine.ts`; the update
 * writes the labels it reads (L, minIn, topo, order of {@link BushLabels}) in its own first pass.
 *
 * Scratch arrays, one meaning each (allocated once per engine; nothing is allocated per call):
 * - stamp: one counter for nodeStamp (per node), linkStamp (per link) and posMark (per node
 *   position); a mark is current when it equals a stamp taken in the same call.
 * - indeg, cursor, outStart, outList, kahnOrder, kahnPos, groupCount: Kahn's algorithm of
 *   {@link BushTopology.normalise} (in-degrees; out-link lists of the bush; the order found and
 *   each node's position in it; the number of links per head position).
 * - stageLinks / stageFlows: the bush's links and flows being rewritten (normalise: in the new
 *   order; update: the kept links first, grouped by head as before, then the added shortcuts).
 * - keptStart[t]: start of node position t's kept group in the staging arrays
 *   (keptStart[nn] = the number kept); keptLongest[j]: the longest path cost to node j over the
 *   kept links (the U of the shortcut rule).
 * - addedFirst[t] / addedNext[q − kept]: the shortcuts added into head position t, chained.
 * - dfsNode, dfsKept, dfsAdded: the depth-first search's stack (node position, next kept
 *   in-link, next added in-link); posMark its gray/black marks.
 */

import { CompiledNetwork } from "@tollkit/graph-core";
import { BushLabels } from "./labels.js";
import { Bush, ensureCapacity } from "./store.js";

/** Bush structure: validation, ordering and the update, on scratch arrays of one engine. */
export class BushTopology {
  private stamp = 0;
  private readonly nodeStamp: Int32Array;
  private readonly linkStamp: Int32Array;
  private readonly posMark: Int32Array;
  private readonly indeg: Int32Array;
  private readonly cursor: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outList: Int32Array;
  private readonly kahnOrder: Int32Array;
  private readonly kahnPos: Int32Array;
  private readonly groupCount: Int32Array;
  private readonly stageLinks: Int32Array;
  private readonly stageFlows: Float64Array;
  private readonly keptStart: Int32Array;
  private readonly keptLongest: Float64Array;
  private readonly addedFirst: Int32Array;
  private readonly addedNext: Int32Array;
  private readonly dfsNode: Int32Array;
  private readonly dfsKept: Int32Array;
  private readonly dfsAdded: Int32Array;
  /**
   * The span of node positions (old order) that the shortcuts staged by the last
   * {@link addShortcuts} touch: the least head position, and the greatest head or tail position.
   * Outside it the depth-first search would emit the nodes one by one in the old order, so
   * {@link writeInTopologicalOrder} copies those groups instead.
   */
  private spanFirst = 0;
  private spanLast = 0;

  constructor(
    readonly net: CompiledNetwork,
    readonly labels: BushLabels,
  ) {
    const n = net.nodeCount;
    const m = net.linkCount;
    this.nodeStamp = new Int32Array(n);
    this.linkStamp = new Int32Array(m);
    this.posMark = new Int32Array(n);
    this.indeg = new Int32Array(n);
    this.cursor = new Int32Array(n);
    this.outStart = new Int32Array(n + 1);
    this.outList = new Int32Array(m);
    this.kahnOrder = new Int32Array(n);
    this.kahnPos = new Int32Array(n);
    this.groupCount = new Int32Array(n + 1);
    this.stageLinks = new Int32Array(m);
    this.stageFlows = new Float64Array(m);
    this.keptStart = new Int32Array(n + 1);
    this.keptLongest = new Float64Array(n);
    this.addedFirst = new Int32Array(n);
    this.addedNext = new Int32Array(m);
    this.dfsNode = new Int32Array(n);
    this.dfsKept = new Int32Array(n);
    this.dfsAdded = new Int32Array(n);
  }

  /**
   * Checks a stored bush and puts its links in the storage order (grouped by head, heads in a
   * topological order found by Kahn's algorithm). False when the bush is not valid (see
   * `BushEngine.adopt`). Uses node-sized scratch arrays; runs once per adopted bush.
   */
  normalise(b: Bush): boolean {
    const { linkFrom: from, linkTo: to, blocked } = this.net;
    const {
      nodeStamp,
      linkStamp,
      outStart,
      outList,
      kahnOrder: order,
      kahnPos: topo,
      stageLinks: bufL,
      stageFlows: bufF,
      indeg,
      cursor,
    } = this;
    const m = this.net.linkCount;
    const n = this.net.nodeCount;
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
    const cnt = this.groupCount;
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

  /**
   * Drops unused links (keeping the shortest-path tree) and adds shortcuts, keeping the bush
   * acyclic: a link (i,j) is added when L_i + c_ij < L_j (a shorter path) and U_i < U_j, U the
   * longest-path labels over the links kept (no bush path leads from j back to i). Candidates
   * are the shortcuts the last measurement saw (`b.shortcuts`), or every link when unknown.
   * The groups are then written in a topological order: a depth-first search over in-links that
   * emits each node after its predecessors, starting from the old order (which it keeps when no
   * new link goes backwards). Linear in the bush's size (plus the network's links for a full scan).
   * @param cc the bush's class link costs
   * @param measured add every measured candidate that keeps the bush acyclic, without the
   *   L_i + c_ij < L_j test (see `BushEngine.keepMeasuredShortcuts`)
   * @throws Error (internal) if the bush became cyclic, which the U condition rules out
   */
  update(b: Bush, cc: Float64Array, measured = false): void {
    const st = ++this.stamp;
    const kept = this.scanAndKeep(b, cc, st);
    const nn = this.labels.scanned;
    const w = this.addShortcuts(b, cc, nn, st, kept, measured);
    b.needsUpdate = false;
    b.shortcutCount = -1;
    ensureCapacity(b, w);
    if (w === kept) {
      b.links.set(this.stageLinks.subarray(0, w));
      b.flows.set(this.stageFlows.subarray(0, w));
      b.len = w;
      return;
    }
    this.writeInTopologicalOrder(b, nn, st, kept);
    b.len = w;
  }

  /**
   * Update step 1, in one pass over the bush's groups: the labels the update reads (L over the
   * bush's links, excess-demand links left out as in {@link BushLabels.scan}; minIn, topo, order,
   * and `labels.scanned`), and the links kept (flow above dust, or the shortest-path in-link)
   * staged, grouped as before (keptStart), stamped with `st` in linkStamp, with keptLongest over
   * them. Each group is read twice, the second time from cache once its shortest in-link is known
   * (a label scan and then a second pass over the whole bush cost a quarter more on Berlin-Center).
   * Returns the number of links kept.
   */
  private scanAndKeep(b: Bush, cc: Float64Array, st: number): number {
    const { linkFrom: from, linkTo: to } = this.net;
    const labels = this.labels;
    const { L, minIn, topo, order, skip } = labels;
    const { keptLongest: U, stageLinks: bufL, stageFlows: bufF, linkStamp, keptStart: ks } = this;
    const links = b.links;
    const flows = b.flows;
    const len = b.len;
    const root = b.root;
    const dust = b.dust;
    L[root] = 0;
    U[root] = 0;
    topo[root] = 0;
    order[0] = root;
    minIn[root] = -1;
    let t = 0;
    let p = 0;
    let w = 0;
    while (p < len) {
      let a = links[p];
      const j = to[a];
      t++;
      order[t] = j;
      topo[j] = t;
      ks[t] = w;
      const g = p;
      let lmin = Infinity;
      let pmin = -1;
      for (;;) {
        if (skip === null || skip[a] !== 1) {
          const lv = L[from[a]] + cc[a];
          if (lv < lmin) {
            lmin = lv;
            pmin = p;
          }
        }
        p++;
        if (p === len) break;
        a = links[p];
        if (to[a] !== j) break;
      }
      L[j] = lmin;
      minIn[j] = pmin;
      let ua = -Infinity;
      for (let q = g; q < p; q++) {
        const f = flows[q];
        if (f > dust || q === pmin) {
          const k = links[q];
          bufL[w] = k;
          bufF[w] = f > dust ? f : 0;
          w++;
          linkStamp[k] = st;
          const v = U[from[k]] + cc[k];
          if (v > ua) ua = v;
        }
      }
      U[j] = ua;
    }
    ks[t + 1] = w;
    labels.scanned = t + 1;
    return w;
  }

  /**
   * Update step 2: stages the shortcuts after the `kept` links, chained per head position
   * (addedFirst, addedNext), from the measured candidates or, when unknown, every link out of the
   * bush's nodes. Returns the number of links staged in all.
   */
  private addShortcuts(b: Bush, cc: Float64Array, nn: number, st: number, kept: number, measured: boolean): number {
    const { linkFrom: from, linkTo: to, fsStart, fsLink, fsHead, blocked } = this.net;
    const { L, topo, order } = this.labels;
    const { keptLongest: U, stageLinks: bufL, stageFlows: bufF, linkStamp, addedFirst: addFirst, addedNext: addNext } = this;
    const root = b.root;
    let w = kept;
    addFirst.fill(-1, 0, nn);
    let first = nn;
    let last = 0;
    // stages shortcut a (into node j) with no flow, listed under j's topological position
    const stage = (a: number, j: number): void => {
      linkStamp[a] = st;
      bufL[w] = a;
      bufF[w] = 0;
      const hp = topo[j];
      const tp = topo[from[a]];
      if (hp < first) first = hp;
      if (hp > last) last = hp;
      if (tp > last) last = tp;
      addNext[w - kept] = addFirst[hp];
      addFirst[hp] = w;
      w++;
    };
    const cand = b.shortcuts;
    const nCand = b.shortcutCount;
    if (nCand >= 0) {
      for (let k = 0; k < nCand; k++) {
        const a = cand[k];
        const i = from[a];
        const j = to[a];
        if (linkStamp[a] === st || (blocked[i] === 1 && i !== root) || j === root) continue;
        if ((measured || L[i] + cc[a] < L[j]) && U[i] < U[j]) stage(a, j);
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
          if (li + cc[a] < L[j] && ui < U[j]) stage(a, j);
        }
      }
    }
    this.spanFirst = first;
    this.spanLast = last;
    return w;
  }

  /**
   * Update step 3: writes the staged links into the bush (whose capacity suffices) in a
   * topological order, by a depth-first search over in-links from the old node order (node
   * positions; posMark: gray = `st`, black = a fresh stamp). Only the positions in the span the
   * shortcuts touch (spanFirst..spanLast) are searched: before it every node's in-links come
   * from earlier nodes, and after it no node gains an in-link or is needed earlier, so those
   * groups are copied as they were staged (the order the full search writes, at the cost of a
   * copy: on Berlin-Center most nodes of a bush lie after the last one its shortcuts touch).
   */
  private writeInTopologicalOrder(b: Bush, nn: number, st: number, kept: number): void {
    const { linkFrom: from } = this.net;
    const { topo } = this.labels;
    const { stageLinks: bufL, stageFlows: bufF, keptStart: ks, addedFirst: addFirst, addedNext: addNext } = this;
    const outL = b.links;
    const outF = b.flows;
    const mark = this.posMark;
    const stN = this.dfsNode;
    const stI = this.dfsKept;
    const stA = this.dfsAdded;
    const black = ++this.stamp;
    const lo = this.spanFirst;
    const hi = this.spanLast;
    // the groups before the span, as staged (every position before lo counts as black)
    let o = ks[lo];
    outL.set(bufL.subarray(0, o));
    outF.set(bufF.subarray(0, o));
    for (let t0 = lo; t0 <= hi; t0++) {
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
          if (tp >= lo && mark[tp] !== black) {
            next = tp;
            break;
          }
        }
        if (next < 0) {
          while (stA[sp] >= 0) {
            const q = stA[sp];
            stA[sp] = addNext[q - kept];
            const tp = topo[from[bufL[q]]];
            if (tp >= lo && mark[tp] !== black) {
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
    // the groups after the span, as staged (kept links only: no shortcut goes into them)
    const from0 = ks[hi + 1];
    outL.set(bufL.subarray(from0, kept), o);
    outF.set(bufF.subarray(from0, kept), o);
  }
}
