/**
 * The network model shared by every tollkit package.
 *
 * Invariants:
 * - Nodes are indexed 0..nodeCount−1 internally; `nodeIds[i]` is the file's id of node i
 *   (ids need not be 1..N). Links are indexed 0..linkCount−1; link id (the TNTP link number,
 *   as shown to users) = index + 1.
 * - Zones are indexed 0..zoneCount−1; `zoneNodes[z]` is the node index of zone z, `zoneIds[z]`
 *   its file id. In TNTP, zones are the nodes with ids 1..NUMBER OF ZONES.
 * - `throughBlocked[i]` = 1 for a zone node below FIRST THRU NODE: trips may start or end there
 *   but never pass through it.
 * - `demand` is a dense zoneCount × zoneCount matrix of trips, row = origin zone.
 */

import { VDF_BPR, VDF_CONICAL, VDF_EXCESS_DEMAND, VdfColumns } from "./vdf.js";

/** What the coordinates of a network's nodes mean. */
export type CoordinateSystem = "lonlat" | "state-plane-feet" | "local" | "none";

/** Generalised-cost weights (TNTP `<TOLL FACTOR>`, `<DISTANCE FACTOR>`). */
export interface CostWeights {
  /** Minutes per unit of toll (the inverse of the value of time). */
  tollFactor: number;
  /** Minutes per unit of length. */
  distanceFactor: number;
}

/** The link table, one typed-array column per field. Index = link id − 1. */
export interface LinkTable extends VdfColumns {
  from: Int32Array;
  to: Int32Array;
  length: Float64Array;
  speed: Float64Array;
  toll: Float64Array;
  linkType: Int32Array;
}

export interface Network {
  /** Human-readable name, e.g. the catalogue id or the file stem. */
  name: string;
  nodeCount: number;
  nodeIds: Float64Array;
  nodeX: Float64Array;
  nodeY: Float64Array;
  coordinateSystem: CoordinateSystem;
  zoneCount: number;
  zoneIds: Float64Array;
  zoneNodes: Int32Array;
  /** FIRST THRU NODE as in the file (node id); 1 when every zone may be passed through. */
  firstThruNode: number;
  throughBlocked: Uint8Array;
  linkCount: number;
  links: LinkTable;
  demand: Float64Array;
  costWeights: CostWeights;
  /** Units as declared by the source (free text). */
  units: { time?: string; distance?: string; toll?: string };
  /** Non-fatal findings while reading (header counts that disagree with the body, …). */
  warnings: string[];
}

/** Allocates an empty link table of `m` links with TNTP defaults (BPR). */
export function emptyLinkTable(m: number): LinkTable {
  return {
    from: new Int32Array(m),
    to: new Int32Array(m),
    capacity: new Float64Array(m),
    length: new Float64Array(m),
    freeFlowTime: new Float64Array(m),
    b: new Float64Array(m),
    power: new Float64Array(m),
    speed: new Float64Array(m),
    toll: new Float64Array(m),
    linkType: new Int32Array(m),
    vdf: new Uint8Array(m).fill(VDF_BPR),
  };
}

/**
 * Which nodes may not be passed through: the zone nodes whose file id is below FIRST THRU
 * NODE (TNTP's convention, where zone ids equal node ids 1..Z).
 * @returns a 0/1 flag per node index
 */
export function throughBlockedFor(nodeCount: number, nodeIds: Float64Array, zoneNodes: Int32Array, firstThruNode: number): Uint8Array {
  const blocked = new Uint8Array(nodeCount);
  for (let z = 0; z < zoneNodes.length; z++) if (nodeIds[zoneNodes[z]] < firstThruNode) blocked[zoneNodes[z]] = 1;
  return blocked;
}

/** Index of a node by its file id. */
export function nodeIndexMap(net: Network): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < net.nodeCount; i++) m.set(net.nodeIds[i], i);
  return m;
}

/** Total trips in the demand matrix. */
export function totalDemand(net: Network): number {
  let s = 0;
  for (let i = 0; i < net.demand.length; i++) s += net.demand[i];
  return s;
}

/** Plain description of a link for messages and tables (1-based id, file node ids). */
export function linkLabel(net: Network, i: number): string {
  return `link ${i + 1} (${net.nodeIds[net.links.from[i]]}→${net.nodeIds[net.links.to[i]]})`;
}

/**
 * True when the link's time depends on its flow: excess-demand links; conical links and BPR
 * links (b ≠ 0, power ≠ 0) whose free-flow time is not 0 (both scale with it, so a zero free-flow
 * time is a constant 0); polynomial links with b ≠ 0 and power ≠ 0.
 */
export function isFlowDependent(net: Network, i: number): boolean {
  const l = net.links;
  const k = l.vdf[i];
  if (k === VDF_EXCESS_DEMAND) return true;
  if ((k === VDF_BPR || k === VDF_CONICAL) && l.freeFlowTime[i] === 0) return false;
  return k === VDF_CONICAL || (l.b[i] !== 0 && l.power[i] !== 0);
}

/** Returns a copy of `net` with the demand matrix multiplied by `factor`. */
export function scaleDemand(net: Network, factor: number): Network {
  const demand = Float64Array.from(net.demand, (v) => v * factor);
  return { ...net, demand };
}

/** A deep copy of the link table (for edits such as setting tolls). */
export function cloneLinks(l: LinkTable): LinkTable {
  return {
    from: l.from.slice(),
    to: l.to.slice(),
    capacity: l.capacity.slice(),
    length: l.length.slice(),
    freeFlowTime: l.freeFlowTime.slice(),
    b: l.b.slice(),
    power: l.power.slice(),
    speed: l.speed.slice(),
    toll: l.toll.slice(),
    linkType: l.linkType.slice(),
    vdf: l.vdf.slice(),
  };
}
