/**
 * Storage of bushes (origin-based flows) for the bush-based algorithm, and the warm-start state
 * built from them.
 *
 * A bush is the acyclic subnetwork of one (class, origin zone) pair that carries that pair's
 * flow. It is stored compactly, with no per-link or per-node array of network size:
 * - `links[0..len−1]`: the bush's link indices, grouped by head node, the groups in a
 *   topological order of the bush (every link's tail is the root or the head of an earlier
 *   group). The node order is therefore implicit: root, then the heads in order of appearance.
 * - `flows[p]`: the flow of the bush's class from its origin on `links[p]` (vehicles of the
 *   class), ≥ 0. Flow is conserved: at every node, inflow − outflow = the origin's demand to it.
 * - Every node reachable from the root (FIRST THRU NODE respected) is in the bush and has at
 *   least one in-link, so the bush always contains a path to every destination.
 * The arrays have spare capacity (`links.length ≥ len`) so that adding links rarely allocates.
 *
 * Memory: 12 bytes per bush link. Berlin-Center (865 origins, 28,376 links, ~13,000 nodes) keeps
 * about 1.2–1.5 links per node in each bush, some 200 MB in all, instead of the 196 MB a dense
 * Float64 per-origin flow array would take on its own (plus membership and order arrays).
 */

/** Flows below this fraction of a bush's origin demand are rounding dust. */
export const DUST = 1e-13;

/** One bush (see the module comment for the invariants). */
export interface Bush {
  /** Index of the user class. */
  cls: number;
  /** Origin zone index (0-based). */
  zone: number;
  /** Node index of the origin. */
  root: number;
  /** Number of links in the bush. */
  len: number;
  links: Int32Array;
  flows: Float64Array;
  /** True when the last measurement found a shortcut outside the bush (the bush must grow). */
  needsUpdate: boolean;
  /**
   * Links that shortened a bush path at the last measurement (candidates for the next update):
   * the first `shortcutCount` entries; a count of −1 means unknown (every link is examined).
   */
  shortcuts: Int32Array;
  shortcutCount: number;
  /**
   * Flows at or below this (1e-13 of the origin's demand) are rounding dust: they count as
   * unused, and a bush update drops them.
   */
  dust: number;
  /** With elastic demand in the reduced form (`./demand-step.ts`): the trips not made of this bush's pairs, else null. */
  elastic: ElasticBush | null;
}

/**
 * The elastic-demand part of a bush in the reduced form (`./demand-step.ts`): Gartner's excess
 * link of each OD pair is no link of the bush but an entry of these arrays, indexed by
 * destination zone (0-based, the origin's row of the class's Z×Z tables).
 * - notMade[d]: the trips not made e_d (vehicles of the class), 0 ≤ e_d ≤ maxTrips[d]; the bush's
 *   road flows deliver maxTrips[d] − e_d to the destination;
 * - cost[d]: the inverse demand W(e_d) of the pair (time units), kept up to date with notMade;
 * - link[d]: the pair's excess-demand link in the augmented network (its cost function), or −1
 *   where the pair's demand is fixed (then notMade[d] = 0);
 * - maxTrips[d]: q̄ of the pair (a view of the class's demand row).
 */
export interface ElasticBush {
  notMade: Float64Array;
  cost: Float64Array;
  link: Int32Array;
  maxTrips: Float64Array;
}

/** A bush as kept in a warm-start state: exactly `len` links, no spare capacity. */
export interface StoredBush {
  cls: number;
  zone: number;
  links: Int32Array;
  flows: Float64Array;
  /** Reduced elastic form only (`./demand-step.ts`): per destination zone, the trips not made. */
  notMade?: Float64Array;
}

/** The `warmStart.state` of a bush solve: enough to restart from the same bushes. */
export interface BushState {
  kind: "tollkit-bush";
  version: 1;
  nodeCount: number;
  linkCount: number;
  zoneCount: number;
  classCount: number;
  bushes: StoredBush[];
}

/** True when `s` looks like a {@link BushState} (shape only; contents are checked on use). */
export function isBushState(s: unknown): s is BushState {
  const o = s as BushState | undefined;
  return !!o && typeof o === "object" && o.kind === "tollkit-bush" && o.version === 1 && Array.isArray(o.bushes);
}

/** A new bush with room for `capacity` links. */
export function newBush(cls: number, zone: number, root: number, capacity: number, demand: number): Bush {
  return {
    cls,
    zone,
    root,
    len: 0,
    links: new Int32Array(capacity),
    flows: new Float64Array(capacity),
    needsUpdate: true,
    shortcuts: new Int32Array(0),
    shortcutCount: -1,
    dust: DUST * demand,
    elastic: null,
  };
}

/** Makes sure `b` can hold `len` links, growing its arrays by half again when it cannot. */
export function ensureCapacity(b: Bush, len: number): void {
  if (b.links.length >= len) return;
  const cap = Math.max(len, Math.ceil(b.links.length * 1.5));
  const links = new Int32Array(cap);
  links.set(b.links.subarray(0, b.len));
  const flows = new Float64Array(cap);
  flows.set(b.flows.subarray(0, b.len));
  b.links = links;
  b.flows = flows;
}

/** Copies bushes into a warm-start state (exact-length arrays, owned by the state). */
export function toState(bushes: Bush[], nodeCount: number, linkCount: number, zoneCount: number, classCount: number): BushState {
  return {
    kind: "tollkit-bush",
    version: 1,
    nodeCount,
    linkCount,
    zoneCount,
    classCount,
    bushes: bushes.map((b) => ({ cls: b.cls, zone: b.zone, links: b.links.slice(0, b.len), flows: b.flows.slice(0, b.len) })),
  };
}

/** Bytes held by a set of bushes (their typed arrays, including spare capacity). */
export function bushBytes(bushes: Bush[]): number {
  let s = 0;
  for (const b of bushes) s += b.links.byteLength + b.flows.byteLength;
  return s;
}

/**
 * The end of the group of in-links of the last link of `b` whose flow is above `above` (0 when
 * there is none): a read from the end, over the unused tail only. No path with flow (every link
 * above `above`) into a node, nor any bush link on a path into that node, lies after it, since the
 * groups are in a topological order; a shift, a joint step and a PAS shift move flow onto bush
 * paths into a node with such a path, so the end does not grow until the bush's structure (an
 * update) or its trips (a demand step) change. `./joint.ts` and `./pas.ts` map a bush's link
 * positions up to it only (the rule of `BushLabels.usedEnd`: Chicago-Sketch's bushes, 11 % of
 * their links after it).
 * @param to the network's link heads
 */
export function flowEnd(b: Bush, to: Int32Array, above: number): number {
  const { links, flows } = b;
  const len = b.len;
  let q = len - 1;
  while (q >= 0 && !(flows[q] > above)) q--;
  if (q < 0) return 0;
  const h = to[links[q]];
  q++;
  while (q < len && to[links[q]] === h) q++;
  return q;
}
