/**
 * The tight subnetworks of the derivative problem (see `./derivative.ts`): for each bush
 * (class k, origin o), the links at equilibrium cost, in the local form the cycle-basis solver
 * (`./cycles.ts`) and the ratio test (`./linear-range.ts`) work on.
 *
 * Invariants of a {@link DerivativeBush}:
 * - Local node 0 is the root; local nodes are numbered in a topological order of the tight
 *   subnetwork, which is acyclic (zero-cost cycles are broken when building it, counted in
 *   `droppedCyclic`). Only nodes from which a tight route leads to flow are kept: a circulation
 *   cannot enter a dead end.
 * - Positions p = 0..links.length−1 are the tight links, grouped by local head in increasing
 *   order: node u's in-links are positions start[u] .. start[u+1]−1; tail[p] < head[p].
 * - used[p] = 1 where the origin's flow exceeds `usedTolerance` of its demand (the flow
 *   derivative is free in sign), 0 for unused tight links (a route at the margin of use, ≥ 0).
 *   A used link is tight when its reduced cost is at most {@link USED_TIGHT} of the distance to
 *   its head; used links that are not (`looseUsed`) are left out, i.e. held fixed.
 * - released, frozen, treeIn and df are the solver's state (all 0 / −1 / 0 when built): see
 *   `./derivative.ts` (active set) and `./cycles.ts` (trees).
 * - Candidate links (cand*) join two kept local nodes, are not tight and carry no flow: the
 *   links over which an unused route could enter (the ratio test's second half).
 * Per network link: inTight = 1 when the link is a position of some bush; tollSlack the
 * smallest reduced cost per unit of toll over the bushes of tolled classes where it is a
 * candidate (Infinity elsewhere), attained by bush tollSlackBush (−1 elsewhere).
 */

import { BushEngine, rowDemand } from "../bush/engine.js";

/** Per-bush data of the derivative problem. Local node 0 is the root; local order is topological. */
export interface DerivativeBush {
  cls: number;
  zone: number;
  pce: number;
  /** Local nodes (every node reachable from the root). */
  n: number;
  /** Tight links (network indices), grouped by head local index in increasing order. */
  links: Int32Array;
  /** Local tail and head of each position. */
  tail: Int32Array;
  head: Int32Array;
  /** Start of each local node's group of in-links (length n + 1). */
  start: Int32Array;
  /** 1 where the link carries flow of this bush (free in sign), 0 where it is an unused tight link (≥ 0). */
  used: Uint8Array;
  /** Unused tight links currently released by the active-set loop. */
  released: Uint8Array;
  /** Used links whose flow is held fixed (another origin takes its share of the change; see the linear range). */
  frozen: Uint8Array;
  /** Per local node: position of its tree in-link; −1 for the root and for nodes outside the active subgraph. */
  treeIn: Int32Array;
  /** Flow derivative per position (vehicles of the class per unit of the direction). */
  df: Float64Array;
  /** The bush's flow per position at the equilibrium (vehicles of the class). */
  flow: Float64Array;
  /**
   * Candidate links: links between local nodes that are neither positions nor used (their
   * reduced cost is above the tight tolerance); network index, local tail and head, reduced cost.
   */
  candLink: Int32Array;
  candTail: Int32Array;
  candHead: Int32Array;
  candRc: Float64Array;
}

/** Used links whose reduced cost is at most this fraction of the distance to their head count as at equilibrium cost. */
export const USED_TIGHT = 1e-4;

/** The tight subnetworks of every bush of an engine, with what was left out on the way. */
export interface TightSubnetworks {
  bushes: DerivativeBush[];
  /** Used links that are not at equilibrium cost (excluded); a symptom of a loose equilibrium. */
  looseUsed: number;
  /** Largest flow share (of its origin's demand) on such a link. */
  looseShare: number;
  /** Unused tight links of non-zero or flow-dependent cost dropped to keep a bush's tight subnetwork acyclic. */
  droppedCyclic: number;
  /** 1 for links in some bush's tight subnetwork. */
  inTight: Uint8Array;
  /** Per link, the smallest reduced cost per unit of toll where it is a candidate link (money); Infinity elsewhere. */
  tollSlack: Float64Array;
  /** The bush attaining {@link TightSubnetworks.tollSlack}, or −1. */
  tollSlackBush: Int32Array;
  /** The largest number of local nodes of a bush (at least 1): the size of node scratch arrays. */
  maxNodes: number;
}

/**
 * Builds the tight subnetworks of every bush of `engine`, whose flows and costs must be current
 * (e.g. right after adopting an equilibrium's bushes). One shortest-path correction per bush.
 * @param h d(link cost)/d(link flow) per link (zero-cost links with h = 0 are not counted as dropped)
 * @param tightTolerance an unused link is tight when its reduced cost is at most this fraction
 *   of the shortest distance to its head (used links: {@link USED_TIGHT})
 * @param usedTolerance a link is used when its origin flow exceeds this fraction of the origin's demand
 */
export function buildTightSubnetworks(
  engine: BushEngine,
  h: Float64Array,
  tightTolerance: number,
  usedTolerance: number,
): TightSubnetworks {
  const { net } = engine;
  const N = net.nodeCount;
  const m = engine.m;
  const bushes: DerivativeBush[] = [];
  let looseUsed = 0;
  let looseShare = 0;
  let droppedCyclic = 0;
  const inTight = new Uint8Array(m);
  const tollSlack = new Float64Array(m).fill(Infinity);
  const tollSlackBush = new Int32Array(m).fill(-1);
  const L = new Float64Array(N);
  const flowOf = new Float64Array(m);
  const keepOf = new Uint8Array(m);
  const tightOf = new Uint8Array(m);
  const local = new Int32Array(N).fill(-1);
  const indeg = new Int32Array(N);
  const queue = new Int32Array(N);
  const { fsStart, fsLink, fsHead, bsStart, bsLink, blocked, linkFrom, linkTo } = net;
  const useful = new Uint8Array(N);
  let maxN = 1;
  for (const b of engine.bushes) {
    engine.distances(b, L);
    const cc = engine.cc[b.cls];
    const demand = rowDemand(engine.model.classes[b.cls].demand, b.zone, net.zoneCount);
    const usedMin = usedTolerance * demand;
    for (let p = 0; p < b.len; p++) flowOf[b.links[p]] = b.flows[p];
    // tight links (keepOf = 1) out of nodes that may be left; reduced cost against the head's distance
    let reach = 0;
    for (let i = 0; i < N; i++) {
      if (L[i] === Infinity) continue;
      reach++;
      if (blocked[i] === 1 && i !== b.root) continue;
      for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
        const a = fsLink[q];
        const j = fsHead[q];
        if (j === b.root) continue;
        const rc = L[i] + cc[a] - L[j];
        const tol = (flowOf[a] > usedMin ? USED_TIGHT : tightTolerance) * Math.max(L[j], 1e-300);
        if (rc <= tol) keepOf[a] = tightOf[a] = 1;
        else if (flowOf[a] > usedMin) {
          looseUsed++;
          looseShare = Math.max(looseShare, flowOf[a] / demand);
        }
      }
    }
    // Kahn over the tight links; zero-cost cycles (ties) are broken by keeping, in turn, only
    // links that increase the distance, then only the bush's own links
    let n = kahn(b.root, N, keepOf, L, queue, indeg, blocked, fsStart, fsLink, fsHead);
    if (n < reach) {
      for (let a = 0; a < m; a++) {
        if (keepOf[a] === 1 && !(L[linkFrom[a]] < L[linkTo[a]]) && flowOf[a] <= usedMin) {
          keepOf[a] = 0;
          if (cc[a] !== 0 || h[a] !== 0) droppedCyclic++;
        }
      }
      n = kahn(b.root, N, keepOf, L, queue, indeg, blocked, fsStart, fsLink, fsHead);
    }
    if (n < reach) {
      for (let a = 0; a < m; a++) {
        if (keepOf[a] === 1 && !(L[linkFrom[a]] < L[linkTo[a]])) {
          keepOf[a] = 0;
          if (cc[a] !== 0 || h[a] !== 0) droppedCyclic++;
        }
      }
      for (let p = 0; p < b.len; p++) keepOf[b.links[p]] = tightOf[b.links[p]];
      n = kahn(b.root, N, keepOf, L, queue, indeg, blocked, fsStart, fsLink, fsHead);
    }
    for (let t = 0; t < n; t++) local[queue[t]] = t;
    // keep the nodes from which a tight route leads to flow (the root, nodes with flow and the
    // alternatives between them): a circulation cannot enter a dead end of the tight subnetwork
    for (let t = n - 1; t >= 0; t--) {
      const i = queue[t];
      let ok = t === 0;
      if (!ok && !(blocked[i] === 1 && i !== b.root)) {
        for (let q = fsStart[i]; q < fsStart[i + 1] && !ok; q++) {
          const j = fsHead[q];
          if (keepOf[fsLink[q]] === 1 && local[j] > t && useful[local[j]] === 1) ok = true;
        }
      }
      if (!ok) {
        for (let q = bsStart[i]; q < bsStart[i + 1] && !ok; q++) if (keepOf[bsLink[q]] === 1 && flowOf[bsLink[q]] > usedMin) ok = true;
      }
      useful[t] = ok ? 1 : 0;
    }
    let kept = 0;
    for (let t = 0; t < n; t++) {
      const i = queue[t];
      if (useful[t] === 1) {
        queue[kept] = i;
        local[i] = kept++;
      } else local[i] = -1;
    }
    for (let t = 0; t < n; t++) useful[t] = 0;
    for (let t = kept; t < n; t++) queue[t] = -1;
    n = kept;
    const start = new Int32Array(n + 1);
    let len = 0;
    for (let t = 0; t < n; t++) {
      const i = queue[t];
      if (blocked[i] === 1 && i !== b.root) continue;
      for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
        if (keepOf[fsLink[q]] === 1 && local[fsHead[q]] >= 0) {
          start[local[fsHead[q]] + 1]++;
          len++;
        }
      }
    }
    for (let t = 0; t < n; t++) start[t + 1] += start[t];
    const cursor = start.slice(0, n);
    const links = new Int32Array(len);
    const tail = new Int32Array(len);
    const head = new Int32Array(len);
    const used = new Uint8Array(len);
    const flow = new Float64Array(len);
    const cand: number[] = [];
    const cls = engine.model.classes[b.cls];
    const tollScale = cls.tolled && cls.tollFactor > 0 ? 1 / cls.tollFactor : 0;
    for (let t = 0; t < n; t++) {
      const i = queue[t];
      if (blocked[i] === 1 && i !== b.root) continue;
      for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
        const a = fsLink[q];
        const j = fsHead[q];
        if (local[j] < 0 || j === b.root) continue;
        if (keepOf[a] !== 1) {
          // a candidate: neither at equilibrium cost nor used (loose used links are held fixed)
          const rc = L[i] + cc[a] - L[j];
          if (flowOf[a] <= usedMin && rc > tightTolerance * Math.max(L[j], 1e-300)) {
            cand.push(a, t, local[j], rc);
            if (tollScale > 0 && rc * tollScale < tollSlack[a]) {
              tollSlack[a] = rc * tollScale;
              tollSlackBush[a] = bushes.length;
            }
          }
          continue;
        }
        const p = cursor[local[j]]++;
        links[p] = a;
        tail[p] = t;
        head[p] = local[j];
        used[p] = flowOf[a] > usedMin ? 1 : 0;
        flow[p] = flowOf[a];
        inTight[a] = 1;
      }
    }
    const nc = cand.length / 4;
    const candLink = new Int32Array(nc);
    const candTail = new Int32Array(nc);
    const candHead = new Int32Array(nc);
    const candRc = new Float64Array(nc);
    for (let c = 0; c < nc; c++) {
      candLink[c] = cand[4 * c];
      candTail[c] = cand[4 * c + 1];
      candHead[c] = cand[4 * c + 2];
      candRc[c] = cand[4 * c + 3];
    }
    // reset the per-bush marks
    for (let i = 0; i < N; i++) {
      if (L[i] === Infinity) continue;
      for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
        const a = fsLink[q];
        keepOf[a] = tightOf[a] = 0;
      }
    }
    for (let p = 0; p < b.len; p++) flowOf[b.links[p]] = 0;
    for (let t = 0; t < n; t++) local[queue[t]] = -1;
    maxN = Math.max(maxN, n);
    bushes.push({
      cls: b.cls,
      zone: b.zone,
      pce: engine.pce[b.cls],
      n,
      links,
      tail,
      head,
      start,
      used,
      released: new Uint8Array(len),
      frozen: new Uint8Array(len),
      treeIn: new Int32Array(n),
      df: new Float64Array(len),
      flow,
      candLink,
      candTail,
      candHead,
      candRc,
    });
  }
  return { bushes, looseUsed, looseShare, droppedCyclic, inTight, tollSlack, tollSlackBush, maxNodes: maxN };
}

/** Kahn's algorithm from `root` over links with keepOf = 1; the order is left in `queue`; returns its length. */
function kahn(
  root: number,
  N: number,
  keepOf: Uint8Array,
  L: Float64Array,
  queue: Int32Array,
  indeg: Int32Array,
  blocked: Uint8Array,
  fsStart: Int32Array,
  fsLink: Int32Array,
  fsHead: Int32Array,
): number {
  indeg.fill(0);
  for (let i = 0; i < N; i++) {
    if (L[i] === Infinity || (blocked[i] === 1 && i !== root)) continue;
    for (let q = fsStart[i]; q < fsStart[i + 1]; q++) if (keepOf[fsLink[q]] === 1) indeg[fsHead[q]]++;
  }
  let qh = 0;
  let qt = 0;
  queue[qt++] = root;
  while (qh < qt) {
    const i = queue[qh++];
    if (blocked[i] === 1 && i !== root) continue;
    for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
      if (keepOf[fsLink[q]] !== 1) continue;
      if (--indeg[fsHead[q]] === 0) queue[qt++] = fsHead[q];
    }
  }
  return qt;
}
