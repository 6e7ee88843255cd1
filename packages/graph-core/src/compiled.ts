/**
 * A network compiled into compressed-sparse-row (forward star) typed arrays for hot loops.
 *
 * Invariants:
 * - The out-links of node u occupy positions fsStart[u] .. fsStart[u+1]−1.
 * - `fsLink[p]` is the link index at position p, `fsHead[p]` its head node.
 * - Positions of one node are in increasing link-index order (stable), so results are
 *   deterministic and independent of how a file happens to be sorted.
 * - `bsStart`/`bsLink`/`bsTail` are the same for in-links (backward star).
 * - `blocked[u]` = 1 for zones that may not be passed through (FIRST THRU NODE).
 */

import { Network } from "./network.js";

export interface CompiledNetwork {
  nodeCount: number;
  linkCount: number;
  zoneCount: number;
  fsStart: Int32Array;
  fsLink: Int32Array;
  fsHead: Int32Array;
  bsStart: Int32Array;
  bsLink: Int32Array;
  bsTail: Int32Array;
  linkFrom: Int32Array;
  linkTo: Int32Array;
  blocked: Uint8Array;
  zoneNodes: Int32Array;
}

function star(n: number, key: Int32Array, other: Int32Array): { start: Int32Array; link: Int32Array; node: Int32Array } {
  const m = key.length;
  const start = new Int32Array(n + 1);
  for (let i = 0; i < m; i++) start[key[i] + 1]++;
  for (let u = 0; u < n; u++) start[u + 1] += start[u];
  const fill = start.slice(0, n);
  const link = new Int32Array(m);
  const node = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const p = fill[key[i]]++;
    link[p] = i;
    node[p] = other[i];
  }
  return { start, link, node };
}

/** Compiles a network's topology into forward- and backward-star arrays. */
export function compileNetwork(net: Network): CompiledNetwork {
  const fs = star(net.nodeCount, net.links.from, net.links.to);
  const bs = star(net.nodeCount, net.links.to, net.links.from);
  return {
    nodeCount: net.nodeCount,
    linkCount: net.linkCount,
    zoneCount: net.zoneCount,
    fsStart: fs.start,
    fsLink: fs.link,
    fsHead: fs.node,
    bsStart: bs.start,
    bsLink: bs.link,
    bsTail: bs.node,
    linkFrom: net.links.from,
    linkTo: net.links.to,
    blocked: net.throughBlocked,
    zoneNodes: net.zoneNodes,
  };
}
