/**
 * graphology interop: graphology is tollkit's interchange model (not its inner loop).
 *
 * {@link toGraphology} gives a `MultiDirectedGraph` (parallel links are kept) whose
 * - node keys are the file's node ids as strings, with attributes `id`, `x`, `y` (when the
 *   node has coordinates), `zone` (zone id, on zone nodes) and `throughBlocked` (true for zones
 *   below FIRST THRU NODE);
 * - edge keys are link ids as strings, with attributes `link` (1-based id), `capacity`,
 *   `length`, `freeFlowTime`, `b`, `power`, `speed`, `toll`, `linkType`, `vdf` (name);
 * - graph attributes are `name`, `firstThruNode`, `costWeights`, `coordinateSystem`, `units`
 *   and `demand` (a list of `[origin zone id, destination zone id, trips]`, non-zero trips only).
 *
 * {@link fromGraphology} reads such a graph back. Zones come from the `zones` option (node ids;
 * each zone's id is its node id) or else from the nodes' `zone` attributes; demand from the
 * `demand` option or else the graph's `demand` attribute. Links keep their `link` order when
 * every edge has a distinct `link` id, else the graph's edge order. Edge attributes other than
 * `freeFlowTime` default to b = 0.15, power = 4, vdf = bpr, length = speed = toll = linkType = 0;
 * a flow-dependent link needs a positive `capacity`.
 */

import { MultiDirectedGraph } from "graphology";
import { InputError } from "./errors.js";
import { CoordinateSystem, CostWeights, emptyLinkTable, Network, throughBlockedFor } from "./network.js";
import { VDF_CONICAL, VDF_NAMES } from "./vdf.js";

const MOD = "graph-core/graphology";

/** Node attributes of a tollkit graph. */
export interface TollkitNodeAttributes {
  id: number;
  x?: number;
  y?: number;
  zone?: number;
  throughBlocked?: boolean;
}

/** Edge attributes of a tollkit graph (one edge per link). */
export interface TollkitEdgeAttributes {
  link: number;
  capacity: number;
  length: number;
  freeFlowTime: number;
  b: number;
  power: number;
  speed: number;
  toll: number;
  linkType: number;
  vdf: string;
}

/** Graph attributes of a tollkit graph. */
export interface TollkitGraphAttributes {
  name: string;
  firstThruNode: number;
  costWeights: CostWeights;
  coordinateSystem: CoordinateSystem;
  units: Network["units"];
  demand: [number, number, number][];
}

/** A network as a graphology graph. */
export type TollkitGraph = MultiDirectedGraph<TollkitNodeAttributes, TollkitEdgeAttributes, TollkitGraphAttributes>;

/** Converts a network into a graphology `MultiDirectedGraph` (see the module notes). */
export function toGraphology(net: Network): TollkitGraph {
  const g: TollkitGraph = new MultiDirectedGraph({ allowSelfLoops: false });
  const Z = net.zoneCount;
  const zoneOfNode = new Map<number, number>();
  for (let z = 0; z < Z; z++) zoneOfNode.set(net.zoneNodes[z], net.zoneIds[z]);
  for (let i = 0; i < net.nodeCount; i++) {
    const a: TollkitNodeAttributes = { id: net.nodeIds[i] };
    if (Number.isFinite(net.nodeX[i]) && Number.isFinite(net.nodeY[i])) {
      a.x = net.nodeX[i];
      a.y = net.nodeY[i];
    }
    const z = zoneOfNode.get(i);
    if (z !== undefined) a.zone = z;
    if (net.throughBlocked[i]) a.throughBlocked = true;
    g.addNode(String(net.nodeIds[i]), a);
  }
  const l = net.links;
  for (let i = 0; i < net.linkCount; i++) {
    g.addDirectedEdgeWithKey(String(i + 1), String(net.nodeIds[l.from[i]]), String(net.nodeIds[l.to[i]]), {
      link: i + 1,
      capacity: l.capacity[i],
      length: l.length[i],
      freeFlowTime: l.freeFlowTime[i],
      b: l.b[i],
      power: l.power[i],
      speed: l.speed[i],
      toll: l.toll[i],
      linkType: l.linkType[i],
      vdf: VDF_NAMES[l.vdf[i]],
    });
  }
  const demand: [number, number, number][] = [];
  for (let o = 0; o < Z; o++)
    for (let d = 0; d < Z; d++) if (net.demand[o * Z + d] !== 0) demand.push([net.zoneIds[o], net.zoneIds[d], net.demand[o * Z + d]]);
  g.replaceAttributes({
    name: net.name,
    firstThruNode: net.firstThruNode,
    costWeights: { ...net.costWeights },
    coordinateSystem: net.coordinateSystem,
    units: { ...net.units },
    demand,
  });
  return g;
}

/** Options of {@link fromGraphology}. */
export interface FromGraphologyOptions {
  /** Node ids of the zones' nodes; zone ids are these node ids. Default: nodes with a `zone` attribute. */
  zones?: number[];
  /** Demand as `[origin zone id, destination zone id, trips]`. Default: the graph's `demand` attribute. */
  demand?: [number, number, number][];
  name?: string;
  firstThruNode?: number;
  costWeights?: CostWeights;
  coordinateSystem?: CoordinateSystem;
  units?: Network["units"];
}

/**
 * The part of a graphology graph that {@link fromGraphology} reads. graphology's own types are
 * generic over attribute types; this accepts any graph and checks every attribute it reads.
 */
export interface GraphologyLike {
  order: number;
  getAttributes(): object;
  forEachNode(cb: (key: string, attrs: object) => void): void;
  forEachEdge(cb: (key: string, attrs: object, source: string, target: string, sa: object, ta: object, undirected: boolean) => void): void;
}

/**
 * Converts a graphology graph into a network (see the module notes for the attributes read).
 * @throws InputError naming the node, edge or attribute (as a JSON-like path) that is wrong
 */
export function fromGraphology(graph: GraphologyLike, opts: FromGraphologyOptions = {}): Network {
  const ga = graph.getAttributes() as Partial<TollkitGraphAttributes>;
  const name = opts.name ?? (typeof ga.name === "string" ? ga.name : "graph");
  const err = (message: string, field: string, expected: string) => new InputError(MOD, message, { file: name, field }, expected);
  // nodes
  const n = graph.order;
  const nodeIds = new Float64Array(n);
  const nodeX = new Float64Array(n).fill(NaN);
  const nodeY = new Float64Array(n).fill(NaN);
  const index = new Map<string, number>();
  const byId = new Map<number, number>();
  const zoneAttr: [number, number][] = []; // [zone id, node index]
  let hasXY = false;
  let k = 0;
  graph.forEachNode((key, attrs) => {
    const a = attrs as Record<string, unknown>;
    const id = Number(key);
    if (key.trim() === "" || !Number.isInteger(id) || id < 0)
      throw err(`node key "${key}" is not a node id`, `nodes["${key}"]`, "an integer ≥ 0 as the node key");
    index.set(key, k);
    byId.set(id, k);
    nodeIds[k] = id;
    if (a.x !== undefined || a.y !== undefined) {
      if (typeof a.x !== "number" || typeof a.y !== "number" || !Number.isFinite(a.x) || !Number.isFinite(a.y))
        throw err(`coordinates ${String(a.x)}, ${String(a.y)}`, `nodes["${key}"].x`, "finite numbers x and y, or neither");
      nodeX[k] = a.x;
      nodeY[k] = a.y;
      hasXY = true;
    }
    if (a.zone !== undefined) {
      if (typeof a.zone !== "number" || !Number.isInteger(a.zone) || a.zone < 0)
        throw err(`zone ${String(a.zone)}`, `nodes["${key}"].zone`, "an integer zone id ≥ 0");
      zoneAttr.push([a.zone, k]);
    }
    k++;
  });
  // zones
  let zones: [number, number][];
  if (opts.zones) {
    zones = opts.zones.map((id, z) => {
      const i = byId.get(id);
      if (i === undefined) throw err(`zone node ${id} is not in the graph`, `zones[${z}]`, "node ids of the graph");
      return [id, i];
    });
  } else zones = zoneAttr;
  zones.sort((a, b) => a[0] - b[0]);
  for (let z = 1; z < zones.length; z++)
    if (zones[z][0] === zones[z - 1][0]) throw err(`zone ${zones[z][0]} is given twice`, "zones", "each zone on one node");
  if (zones.length === 0) throw err("no zones", "zones", 'a "zones" option or "zone" attributes on the zones\' nodes');
  const Z = zones.length;
  const zoneIds = Float64Array.from(zones, (z) => z[0]);
  const zoneNodes = Int32Array.from(zones, (z) => z[1]);
  const zoneIndex = new Map<number, number>();
  zoneIds.forEach((id, z) => zoneIndex.set(id, z));
  // links
  const edges: { key: string; a: Record<string, unknown>; s: number; t: number }[] = [];
  graph.forEachEdge((key, attrs, source, target, _sa, _ta, undirected) => {
    const a = attrs as Record<string, unknown>;
    if (undirected) throw err("an undirected edge", `edges["${key}"]`, "directed edges (a two-way road is two links)");
    edges.push({ key, a, s: index.get(source)!, t: index.get(target)! });
  });
  const m = edges.length;
  if (m === 0) throw err("no edges", "edges", "one edge per link");
  const ids = edges.map((e) => e.a.link);
  const ordered = ids.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= m) && new Set(ids).size === m;
  if (ordered) edges.sort((p, q) => (p.a.link as number) - (q.a.link as number));
  const L = emptyLinkTable(m);
  edges.forEach((e, i) => {
    const at = (f: string) => `edges["${e.key}"].${f}`;
    const numAttr = (f: string, dflt: number | undefined, min: number): number => {
      const v = e.a[f];
      if (v === undefined && dflt !== undefined) return dflt;
      if (typeof v !== "number" || !Number.isFinite(v)) throw err(`${f} ${String(v)}`, at(f), "a finite number");
      if (v < min) throw err(`${f} ${v}`, at(f), `a number ≥ ${min}`);
      return v;
    };
    if (e.s === e.t) throw err("a loop edge", at("target"), "two different nodes");
    L.from[i] = e.s;
    L.to[i] = e.t;
    const vdfName = e.a.vdf ?? "bpr";
    const kind = VDF_NAMES.indexOf(vdfName as never);
    if (kind < 0) throw err(`unknown volume-delay function "${String(vdfName)}"`, at("vdf"), VDF_NAMES.join(", "));
    L.vdf[i] = kind;
    L.freeFlowTime[i] = numAttr("freeFlowTime", undefined, 0);
    L.b[i] = numAttr("b", 0.15, 0);
    L.power[i] = numAttr("power", 4, 0);
    const flowDependent = kind === VDF_CONICAL || (L.b[i] !== 0 && L.power[i] !== 0);
    L.capacity[i] = numAttr("capacity", flowDependent ? undefined : 0, 0);
    if (flowDependent && !(L.capacity[i] > 0))
      throw err(`capacity ${L.capacity[i]} on a flow-dependent link`, at("capacity"), "a positive capacity");
    L.length[i] = numAttr("length", 0, 0);
    L.speed[i] = numAttr("speed", 0, 0);
    L.toll[i] = numAttr("toll", 0, -Infinity);
    const ty = numAttr("linkType", 0, -Infinity);
    if (!Number.isInteger(ty)) throw err(`linkType ${ty}`, at("linkType"), "an integer");
    L.linkType[i] = ty;
  });
  // demand
  const warnings: string[] = [];
  const triples = opts.demand ?? ga.demand;
  const demand = new Float64Array(Z * Z);
  if (triples === undefined) warnings.push(`${name}: no demand given; the demand matrix is empty`);
  else {
    if (!Array.isArray(triples)) throw err("demand is not a list", "demand", "[origin zone id, destination zone id, trips][]");
    triples.forEach((tr, j) => {
      const [o, d, t] = Array.isArray(tr) ? tr : [];
      const oz = zoneIndex.get(o as number);
      const dz = zoneIndex.get(d as number);
      if (oz === undefined) throw err(`origin ${String(o)} is not a zone`, `demand[${j}][0]`, "a zone id");
      if (dz === undefined) throw err(`destination ${String(d)} is not a zone`, `demand[${j}][1]`, "a zone id");
      if (typeof t !== "number" || !Number.isFinite(t) || t < 0) throw err(`trips ${String(t)}`, `demand[${j}][2]`, "a finite number ≥ 0");
      if (demand[oz * Z + dz] !== 0) throw err(`pair ${o}→${d} is given twice`, `demand[${j}]`, "each origin–destination pair once");
      demand[oz * Z + dz] = t;
    });
  }
  let minId = Infinity;
  for (let i = 0; i < n; i++) if (nodeIds[i] < minId) minId = nodeIds[i];
  const firstThruNode = opts.firstThruNode ?? (typeof ga.firstThruNode === "number" ? ga.firstThruNode : Math.min(1, minId));
  const cw = opts.costWeights ?? ga.costWeights;
  return {
    name,
    nodeCount: n,
    nodeIds,
    nodeX,
    nodeY,
    coordinateSystem: opts.coordinateSystem ?? ga.coordinateSystem ?? (hasXY ? "local" : "none"),
    zoneCount: Z,
    zoneIds,
    zoneNodes,
    firstThruNode,
    throughBlocked: throughBlockedFor(n, nodeIds, zoneNodes, firstThruNode),
    linkCount: m,
    links: L,
    demand,
    costWeights: { tollFactor: cw?.tollFactor ?? 0, distanceFactor: cw?.distanceFactor ?? 0 },
    units: { ...(opts.units ?? ga.units ?? {}) },
    warnings,
  };
}
