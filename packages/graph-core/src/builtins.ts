/**
 * Built-in networks written in code: they need no files and so work on any machine.
 * - `two-route`: one origin, one destination, a tolled route t₁ = 10 + x₁ and a free route
 *   t₂ = 15 + 2x₂, demand 10 (closed-form toll design answers).
 * - `braess-builtin`: Braess's paradox, demand 6 (UE TSTT 552, SO TSTT 498).
 * - `pigou`: t₁ = 1, t₂ = x, demand 1 (UE cost 1, SO cost 3/4).
 * - `grid-city`: a generated grid city (see {@link gridCity}).
 */

import { InputError } from "./errors.js";
import { CoordinateSystem, emptyLinkTable, Network } from "./network.js";
import { VDF_BPR, VDF_NAMES, VdfName } from "./vdf.js";
import { seededRandom } from "./random.js";

/** A link of a network built in code. Defaults: BPR, b = 0.15, power = 4, length = fft. */
export interface LinkSpec {
  from: number;
  to: number;
  freeFlowTime: number;
  capacity?: number;
  b?: number;
  power?: number;
  vdf?: VdfName;
  length?: number;
  speed?: number;
  toll?: number;
  linkType?: number;
}

/** A network described in code: zones are the node ids 1..zones. */
export interface NetworkSpec {
  name: string;
  nodes: { id: number; x?: number; y?: number }[];
  links: LinkSpec[];
  zones: number;
  firstThruNode?: number;
  /** Trips as [origin zone id, destination zone id, trips]. */
  demand: [number, number, number][];
  coordinateSystem?: CoordinateSystem;
  costWeights?: { tollFactor?: number; distanceFactor?: number };
  units?: Network["units"];
}

const MOD = "graph-core/builtins";

/** Where a network spec was written, for messages (e.g. a scenario file and `network`). */
export interface SpecLocation {
  /** The input named in messages; default the spec's name. */
  file?: string;
  /** JSON path of the spec inside that input, prefixed to every field (e.g. `network`). */
  path?: string;
}

/**
 * Builds a network from a spec, with the same checks as the file readers.
 * @param spec nodes, links (free-flow time in the network's time unit), zones and demand (trips)
 * @param where the input and JSON path the spec came from, named in messages (default: the spec's name, no path)
 * @throws InputError naming the input and the field (e.g. `network.links[0].to`): duplicate node
 *   ids, links to unknown nodes, zones that are not nodes, demand between non-zones
 */
export function buildNetwork(spec: NetworkSpec, where: SpecLocation = {}): Network {
  const file = where.file ?? spec.name;
  const at = (field: string) => (where.path ? `${where.path}.${field}` : field);
  const n = spec.nodes.length;
  const index = new Map<number, number>();
  const nodeIds = new Float64Array(n);
  const nodeX = new Float64Array(n).fill(NaN);
  const nodeY = new Float64Array(n).fill(NaN);
  spec.nodes.forEach((nd, k) => {
    if (index.has(nd.id)) throw new InputError(MOD, `duplicate node id ${nd.id}`, { file, field: at(`nodes[${k}].id`) }, "unique node ids");
    index.set(nd.id, k);
    nodeIds[k] = nd.id;
    nodeX[k] = nd.x ?? NaN;
    nodeY[k] = nd.y ?? NaN;
  });
  const m = spec.links.length;
  const L = emptyLinkTable(m);
  spec.links.forEach((l, i) => {
    const f = index.get(l.from);
    const t = index.get(l.to);
    if (f === undefined) throw new InputError(MOD, `unknown node ${l.from}`, { file, field: at(`links[${i}].from`) }, "a node id");
    if (t === undefined) throw new InputError(MOD, `unknown node ${l.to}`, { file, field: at(`links[${i}].to`) }, "a node id");
    L.from[i] = f;
    L.to[i] = t;
    L.freeFlowTime[i] = l.freeFlowTime;
    L.capacity[i] = l.capacity ?? 1;
    L.b[i] = l.b ?? 0.15;
    L.power[i] = l.power ?? 4;
    L.vdf[i] = l.vdf ? VDF_NAMES.indexOf(l.vdf) : VDF_BPR;
    L.length[i] = l.length ?? l.freeFlowTime;
    L.speed[i] = l.speed ?? 0;
    L.toll[i] = l.toll ?? 0;
    L.linkType[i] = l.linkType ?? 1;
  });
  const Z = spec.zones;
  const zoneNodes = new Int32Array(Z);
  const zoneIds = new Float64Array(Z);
  for (let z = 0; z < Z; z++) {
    const k = index.get(z + 1);
    if (k === undefined)
      throw new InputError(MOD, `zone ${z + 1} is not a node`, { file, field: at("zones") }, "zones numbered 1..zones among the nodes");
    zoneNodes[z] = k;
    zoneIds[z] = z + 1;
  }
  const firstThruNode = spec.firstThruNode ?? 1;
  const throughBlocked = new Uint8Array(n);
  for (let z = 0; z < Z; z++) if (z + 1 < firstThruNode) throughBlocked[zoneNodes[z]] = 1;
  const demand = new Float64Array(Z * Z);
  spec.demand.forEach(([o, d, t], k) => {
    if (!(o >= 1 && o <= Z && d >= 1 && d <= Z))
      throw new InputError(MOD, `demand ${o}→${d} is not between zones`, { file, field: at(`demand[${k}]`) }, `zone ids in 1..${Z}`);
    demand[(o - 1) * Z + (d - 1)] += t;
  });
  const hasXY = spec.nodes.some((nd) => nd.x !== undefined);
  return {
    name: spec.name,
    nodeCount: n,
    nodeIds,
    nodeX,
    nodeY,
    coordinateSystem: hasXY ? (spec.coordinateSystem ?? "local") : "none",
    zoneCount: Z,
    zoneIds,
    zoneNodes,
    firstThruNode,
    throughBlocked,
    linkCount: m,
    links: L,
    demand,
    costWeights: { tollFactor: spec.costWeights?.tollFactor ?? 1, distanceFactor: spec.costWeights?.distanceFactor ?? 0 },
    units: spec.units ?? { time: "minutes" },
    warnings: [],
  };
}

/** The two-route toll example: link 1 (tolled) t = 10 + x, link 2 t = 15 + 2x, demand 10. */
export function twoRoute(demand = 10): Network {
  return buildNetwork({
    name: "two-route",
    nodes: [
      { id: 1, x: 0, y: 0 },
      { id: 2, x: 1, y: 0 },
    ],
    zones: 2,
    links: [
      { from: 1, to: 2, freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial", length: 1 },
      { from: 1, to: 2, freeFlowTime: 15, b: 2, power: 1, vdf: "polynomial", length: 1.5 },
    ],
    demand: [[1, 2, demand]],
  });
}

/** Braess's paradox: demand 6 from zone 1 to zone 2; link 4 (3→4) is the shortcut. */
export function braess(): Network {
  return buildNetwork({
    name: "braess-builtin",
    nodes: [
      { id: 1, x: 0, y: 0.5 },
      { id: 2, x: 1, y: 0.5 },
      { id: 3, x: 0.5, y: 1 },
      { id: 4, x: 0.5, y: 0 },
    ],
    zones: 2,
    links: [
      { from: 1, to: 3, freeFlowTime: 0, b: 10, power: 1, vdf: "polynomial", length: 1 },
      { from: 1, to: 4, freeFlowTime: 50, b: 1, power: 1, vdf: "polynomial", length: 1 },
      { from: 3, to: 2, freeFlowTime: 50, b: 1, power: 1, vdf: "polynomial", length: 1 },
      { from: 3, to: 4, freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial", length: 1 },
      { from: 4, to: 2, freeFlowTime: 0, b: 10, power: 1, vdf: "polynomial", length: 1 },
    ],
    demand: [[1, 2, 6]],
  });
}

/** Pigou's example: link 1 constant cost 1, link 2 cost x, demand 1. */
export function pigou(): Network {
  return buildNetwork({
    name: "pigou",
    nodes: [
      { id: 1, x: 0, y: 0 },
      { id: 2, x: 1, y: 0 },
    ],
    zones: 2,
    links: [
      { from: 1, to: 2, freeFlowTime: 1, b: 0, power: 1, vdf: "polynomial", length: 1 },
      { from: 1, to: 2, freeFlowTime: 0, b: 1, power: 1, vdf: "polynomial", length: 1 },
    ],
    demand: [[1, 2, 1]],
  });
}

/** Options of the grid-city generator. */
export interface GridCityOptions {
  /** Nodes per side (the grid is size × size). Default 10. */
  size?: number;
  /** Number of zones, spread evenly over the grid. Default 16. */
  zones?: number;
  /** Seed of the demand generator. Default 1. */
  seed?: number;
  /** Mean trips per OD pair. Default 40. */
  meanTrips?: number;
}

/**
 * A generated grid city: size × size intersections 500 m apart, two-way streets with BPR
 * costs, faster arterials every fourth row and column, zones spread over the grid, and a
 * seeded random demand that decays with distance.
 */
export function gridCity(opts: GridCityOptions = {}): Network {
  const size = opts.size ?? 10;
  const Z = opts.zones ?? 16;
  const seed = opts.seed ?? 1;
  const mean = opts.meanTrips ?? 40;
  if (!(Number.isInteger(size) && size >= 2 && size <= 400))
    throw new InputError(MOD, `grid size ${size}`, { field: "size" }, "an integer in 2..400");
  if (!(Number.isInteger(Z) && Z >= 2 && Z <= size * size))
    throw new InputError(MOD, `zones ${Z}`, { field: "zones" }, `an integer in 2..${size * size}`);
  const cells = size * size;
  // choose zone cells evenly spaced, then number them 1..Z and the rest Z+1..
  const zoneCells: number[] = [];
  for (let k = 0; k < Z; k++) zoneCells.push(Math.floor(((k + 0.5) * cells) / Z));
  const idOf = new Int32Array(cells).fill(0);
  zoneCells.forEach((c, k) => (idOf[c] = k + 1));
  let next = Z + 1;
  for (let c = 0; c < cells; c++) if (idOf[c] === 0) idOf[c] = next++;
  const nodes = [];
  const lon0 = -0.1;
  const lat0 = 51.5;
  for (let c = 0; c < cells; c++) nodes.push({ id: idOf[c], x: lon0 + (c % size) * 0.0072, y: lat0 + Math.floor(c / size) * 0.0045 });
  const links: LinkSpec[] = [];
  const add = (a: number, b: number, arterial: boolean) => {
    const len = 0.5;
    const fft = arterial ? 0.75 : 1.2;
    const cap = arterial ? 1800 : 900;
    links.push({ from: idOf[a], to: idOf[b], freeFlowTime: fft, capacity: cap, length: len, linkType: arterial ? 2 : 1 });
    links.push({ from: idOf[b], to: idOf[a], freeFlowTime: fft, capacity: cap, length: len, linkType: arterial ? 2 : 1 });
  };
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const i = r * size + c;
      if (c + 1 < size) add(i, i + 1, r % 4 === 0);
      if (r + 1 < size) add(i, i + size, c % 4 === 0);
    }
  }
  const rnd = seededRandom(seed);
  const demand: [number, number, number][] = [];
  for (let o = 0; o < Z; o++) {
    for (let d = 0; d < Z; d++) {
      if (o === d) continue;
      const a = zoneCells[o];
      const b = zoneCells[d];
      const dist = Math.abs((a % size) - (b % size)) + Math.abs(Math.floor(a / size) - Math.floor(b / size));
      const t = Math.round(mean * 2 * rnd() * Math.exp(-dist / size));
      if (t > 0) demand.push([o + 1, d + 1, t]);
    }
  }
  return buildNetwork({
    name: "grid-city",
    nodes,
    links,
    zones: Z,
    demand,
    coordinateSystem: "lonlat",
    units: { time: "minutes", distance: "km" },
  });
}

/** Built-in networks by id. */
export const BUILTIN_NETWORKS: Record<string, { description: string; make: () => Network }> = {
  "two-route": { description: "Two routes, one tolled: t1 = 10 + x1, t2 = 15 + 2 x2, demand 10", make: () => twoRoute() },
  "braess-builtin": { description: "Braess's paradox, demand 6 (UE TSTT 552, SO TSTT 498)", make: braess },
  pigou: { description: "Pigou's example: t1 = 1, t2 = x, demand 1", make: pigou },
  "grid-city": { description: "A generated 10 x 10 grid city with 16 zones (seed 1)", make: () => gridCity() },
};

/** A fresh copy of a built-in network. */
export function builtinNetwork(id: string): Network {
  const b = BUILTIN_NETWORKS[id];
  if (!b) throw new InputError(MOD, `unknown built-in network "${id}"`, {}, Object.keys(BUILTIN_NETWORKS).join(", "));
  return b.make();
}
