/**
 * Where a network's nodes are drawn (from its link geometry: a link runs from its `from` node's
 * position to its `to` node's), and which nodes or links an area drawn on the map holds, by
 * Turf's point-in-polygon test. The cordon itself (the links entering the area) is the leader's:
 * the page sends the nodes inside and the API answers the links (POST /api/scenarios/check).
 */
import { booleanPointInPolygon } from "@turf/boolean-point-in-polygon";
import type { LinkCollection, Position } from "./geo.js";

/** Node id → drawn position, and every link's end node ids. */
export interface NodeIndex {
  ids: number[];
  positions: Position[];
  links: { link: number; from: number; to: number }[];
}

const cache = new WeakMap<LinkCollection, NodeIndex>();

/** The drawn node positions of a network (cached per link collection). */
export function nodeIndex(links: LinkCollection): NodeIndex {
  let idx = cache.get(links);
  if (idx) return idx;
  const at = new Map<number, Position>();
  const ends: NodeIndex["links"] = [];
  for (const f of links.features) {
    const c = f.geometry.coordinates;
    const from = Number(f.properties.from);
    const to = Number(f.properties.to);
    if (!at.has(from)) at.set(from, c[0]);
    if (!at.has(to)) at.set(to, c[c.length - 1]);
    ends.push({ link: f.properties.link, from, to });
  }
  idx = { ids: [...at.keys()], positions: [...at.values()], links: ends };
  cache.set(links, idx);
  return idx;
}

function polygon(ring: Position[]) {
  const closed =
    ring.length && (ring[0][0] !== ring[ring.length - 1][0] || ring[0][1] !== ring[ring.length - 1][1]) ? [...ring, ring[0]] : ring;
  return { type: "Polygon" as const, coordinates: [closed] };
}

/** Ids of the nodes drawn inside `ring` (ascending). */
export function nodesInside(idx: NodeIndex, ring: Position[]): number[] {
  const poly = polygon(ring);
  const out: number[] = [];
  idx.ids.forEach((id, i) => {
    if (booleanPointInPolygon(idx.positions[i], poly)) out.push(id);
  });
  return out.sort((a, b) => a - b);
}

/** Links with both ends inside `ring` (a box selection), 1-based ids. */
export function linksInside(idx: NodeIndex, ring: Position[]): number[] {
  const inside = new Set(nodesInside(idx, ring));
  return idx.links.filter((l) => inside.has(l.from) && inside.has(l.to)).map((l) => l.link);
}
