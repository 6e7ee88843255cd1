/**
 * GMNS (General Modeling Network Specification) reader and writer: a folder holding
 * `node.csv`, `link.csv`, `demand.csv` and, optionally, `config.csv`.
 *
 * Columns (header names are matched case-insensitively; extra columns are ignored):
 * - `node.csv`: `node_id` (integer ≥ 0), `x_coord`, `y_coord` (optional), `zone_id`
 *   (optional; an integer ≥ 0 marks the node as the centroid of that zone, empty = no zone).
 *   Each zone has exactly one node. Zones are ordered by zone id; `Network.zoneIds` keeps the
 *   file's zone ids and `Network.zoneNodes` their nodes, so zone ids need not be 1..Z.
 * - `link.csv`, with the volume-delay columns Path4GMNS uses: `from_node_id`, `to_node_id`,
 *   `VDF_fftt1` (free-flow time, minutes), `VDF_cap1` (link capacity; when absent,
 *   `capacity` × `lanes`, GMNS's capacity being per lane), `VDF_alpha1` (BPR b) and
 *   `VDF_beta1` (BPR power) — both required; and optionally `link_id`, `length`, `lanes`,
 *   `free_speed`, `toll`, `link_type`, `dir_flag`/`directed` (links must be directed:
 *   1/true) and `vdf_type` (a tollkit extension: `bpr` (default), `conical` or `polynomial`).
 *   Link ids are positions in the file (link k = data row k), as everywhere in tollkit; a
 *   `link_id` column that disagrees gives a warning.
 * - `demand.csv`: `o_zone_id`, `d_zone_id`, `volume` (trips ≥ 0); each pair at most once.
 * - `config.csv` (optional, one row; tollkit's own fields beside GMNS's `dataset_name` and
 *   `crs`): `first_thru_node`, `toll_factor`, `distance_factor`, `coordinate_system`
 *   (`lonlat`, `state-plane-feet`, `local`, `none`), `time_units`, `length_units`,
 *   `toll_units`. Without it nothing is blocked, cost weights are 0, and coordinates are
 *   taken as lon/lat (GMNS's default CRS) when they all lie within ±180/±90, else as a local
 *   frame (with a warning).
 *
 * FIRST THRU NODE: a zone node whose node id is below `first_thru_node` is never passed through.
 * Every problem is an {@link InputError} naming the file, line and field.
 */

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { InputError } from "./errors.js";
import { CsvCell, formatCsv, parseCsv } from "./csv.js";
import { checkInputSize, writeFilesAtomic } from "./io.js";
import { CoordinateSystem, emptyLinkTable, Network, throughBlockedFor } from "./network.js";
import { VDF_BPR, VDF_CONICAL, VDF_NAMES } from "./vdf.js";

const MOD = "graph-core/gmns";

/** File names of a GMNS folder. */
export const GMNS_FILES = { node: "node.csv", link: "link.csv", demand: "demand.csv", config: "config.csv" } as const;

const COORDINATE_SYSTEMS: readonly CoordinateSystem[] = ["lonlat", "state-plane-feet", "local", "none"];

/** A parsed CSV table: trimmed cells, the 1-based line number of every data row. */
interface Table {
  file: string;
  header: string[];
  rows: string[][];
  lines: number[];
  headerLine: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function readTable(text: string, file: string): Table {
  const t = parseCsv(text, file, { module: MOD, lowerCaseHeader: true });
  return { file, header: t.header, headerLine: t.headerLine, rows: t.rows.map((r) => t.header.map((h) => r[h])), lines: t.lines };
}

function column(t: Table, name: string, required: true, expected: string): number;
function column(t: Table, name: string, required: false): number;
function column(t: Table, name: string, required: boolean, expected = ""): number {
  const k = t.header.indexOf(name.toLowerCase());
  if (k < 0 && required)
    throw new InputError(
      MOD,
      `missing column "${name}"`,
      { file: t.file, line: t.headerLine, field: name },
      `a "${name}" column: ${expected}`,
    );
  return k;
}

/** Reads a number from a cell; `undefined` for an empty cell when `optional`. */
function cellNumber(t: Table, r: number, k: number, field: string, expected: string, optional = false): number | undefined {
  const s = t.rows[r][k];
  if (s === "" || s === undefined) {
    if (optional) return undefined;
    throw new InputError(MOD, "empty value", { file: t.file, line: t.lines[r], field }, expected);
  }
  if (!NUMBER.test(s)) throw new InputError(MOD, `"${s}" is not a finite number`, { file: t.file, line: t.lines[r], field }, expected);
  return Number(s);
}

function requireNumber(t: Table, r: number, k: number, field: string, expected: string): number {
  return cellNumber(t, r, k, field, expected)!;
}

function requireId(t: Table, r: number, k: number, field: string): number {
  const v = requireNumber(t, r, k, field, "an integer id ≥ 0");
  if (!Number.isInteger(v) || v < 0)
    throw new InputError(MOD, `"${t.rows[r][k]}" is not a valid id`, { file: t.file, line: t.lines[r], field }, "an integer id ≥ 0");
  return v;
}

function atLeast(t: Table, r: number, v: number, min: number, field: string, what: string): void {
  if (v < min) throw new InputError(MOD, `${what} ${v}`, { file: t.file, line: t.lines[r], field }, `a number ≥ ${min}`);
}

/** The texts of a GMNS folder's files (for parsing without touching the disk). */
export interface GmnsTexts {
  node: string;
  link: string;
  demand: string;
  config?: string;
}

/** Options of {@link parseGmns} and {@link readGmnsNetwork}. */
export interface ReadGmnsOptions {
  /** Network name; default: the folder name (or config.csv's `dataset_name`). */
  name?: string;
  /** Folder name used in messages (`<folder>/link.csv:12`). */
  folder?: string;
}

/**
 * Parses the files of a GMNS folder into a network.
 * @throws InputError naming file, line and field for any malformed content
 */
export function parseGmns(texts: GmnsTexts, opts: ReadGmnsOptions = {}): Network {
  const where = (f: string) => (opts.folder ? `${opts.folder}/${f}` : f);
  const warnings: string[] = [];

  // config.csv
  let datasetName: string | undefined;
  let firstThru: number | undefined;
  let tollFactor = 0;
  let distanceFactor = 0;
  let coordinateSystem: CoordinateSystem | undefined;
  const units: Network["units"] = {};
  if (texts.config !== undefined) {
    const t = readTable(texts.config, where(GMNS_FILES.config));
    if (t.rows.length !== 1)
      throw new InputError(
        MOD,
        `${t.rows.length} data rows`,
        { file: t.file, line: t.lines[1] ?? t.headerLine },
        "exactly one row of settings",
      );
    const get = (name: string) => {
      const k = column(t, name, false);
      return k >= 0 && t.rows[0][k] !== "" ? k : -1;
    };
    let k: number;
    if ((k = get("dataset_name")) >= 0) datasetName = t.rows[0][k];
    if ((k = get("first_thru_node")) >= 0) firstThru = requireId(t, 0, k, "first_thru_node");
    if ((k = get("toll_factor")) >= 0) tollFactor = requireNumber(t, 0, k, "toll_factor", "minutes per unit of toll, ≥ 0");
    atLeast(t, 0, tollFactor, 0, "toll_factor", "toll factor");
    if ((k = get("distance_factor")) >= 0) distanceFactor = requireNumber(t, 0, k, "distance_factor", "minutes per unit of length, ≥ 0");
    atLeast(t, 0, distanceFactor, 0, "distance_factor", "distance factor");
    if ((k = get("coordinate_system")) >= 0) {
      const v = t.rows[0][k] as CoordinateSystem;
      if (!COORDINATE_SYSTEMS.includes(v))
        throw new InputError(
          MOD,
          `unknown coordinate system "${v}"`,
          { file: t.file, line: t.lines[0], field: "coordinate_system" },
          COORDINATE_SYSTEMS.join(", "),
        );
      coordinateSystem = v;
    } else if ((k = get("crs")) >= 0) {
      coordinateSystem = /^(epsg:4326|wgs84|wgs 84)$/i.test(t.rows[0][k]) ? "lonlat" : "local";
    }
    if ((k = get("time_units")) >= 0) units.time = t.rows[0][k];
    if ((k = get("length_units")) >= 0) units.distance = t.rows[0][k];
    if ((k = get("toll_units")) >= 0) units.toll = t.rows[0][k];
  }

  // node.csv
  const nt = readTable(texts.node, where(GMNS_FILES.node));
  const cNode = column(nt, "node_id", true, "the node's id, an integer ≥ 0");
  const cX = column(nt, "x_coord", false);
  const cY = column(nt, "y_coord", false);
  const cZone = column(nt, "zone_id", false);
  if (cX < 0 !== cY < 0) {
    const missing = cX < 0 ? "x_coord" : "y_coord";
    throw new InputError(
      MOD,
      `missing column "${missing}"`,
      { file: nt.file, line: nt.headerLine, field: missing },
      "both x_coord and y_coord, or neither",
    );
  }
  const n = nt.rows.length;
  if (n === 0)
    throw new InputError(
      MOD,
      "no nodes (truncated file?)",
      { file: nt.file, line: nt.headerLine + 1, field: "node_id" },
      "one node per line",
    );
  const nodeIds = new Float64Array(n);
  const nodeX = new Float64Array(n).fill(NaN);
  const nodeY = new Float64Array(n).fill(NaN);
  const index = new Map<number, number>();
  const zoneOf = new Map<number, number>(); // zone id → node index
  for (let r = 0; r < n; r++) {
    const id = requireId(nt, r, cNode, "node_id");
    if (index.has(id))
      throw new InputError(
        MOD,
        `node ${id} appears twice (first on line ${nt.lines[index.get(id)!]})`,
        { file: nt.file, line: nt.lines[r], field: "node_id" },
        "unique node ids",
      );
    index.set(id, r);
    nodeIds[r] = id;
    if (cX >= 0) {
      // both coordinates or neither (a node without coordinates is laid out when drawn)
      const x = cellNumber(nt, r, cX, "x_coord", "a finite coordinate", true);
      const y = cellNumber(nt, r, cY, "y_coord", "a finite coordinate", true);
      if ((x === undefined) !== (y === undefined)) {
        const f = x === undefined ? "x_coord" : "y_coord";
        throw new InputError(MOD, "empty value", { file: nt.file, line: nt.lines[r], field: f }, "both coordinates of a node, or neither");
      }
      nodeX[r] = x ?? NaN;
      nodeY[r] = y ?? NaN;
    }
    if (cZone >= 0 && nt.rows[r][cZone] !== "") {
      const z = requireId(nt, r, cZone, "zone_id");
      const prev = zoneOf.get(z);
      if (prev !== undefined)
        throw new InputError(
          MOD,
          `zone ${z} is on node ${nodeIds[prev]} (line ${nt.lines[prev]}) and on node ${id}`,
          { file: nt.file, line: nt.lines[r], field: "zone_id" },
          "one node (the zone's centroid) per zone",
        );
      zoneOf.set(z, r);
    }
  }
  if (zoneOf.size === 0)
    throw new InputError(
      MOD,
      "no node has a zone_id",
      { file: nt.file, line: nt.headerLine, field: "zone_id" },
      "a zone_id on each zone's centroid node",
    );
  const zoneIds = Float64Array.from([...zoneOf.keys()].sort((a, b) => a - b));
  const Z = zoneIds.length;
  const zoneNodes = Int32Array.from(zoneIds, (z) => zoneOf.get(z)!);
  const zoneIndex = new Map<number, number>();
  zoneIds.forEach((z, k) => zoneIndex.set(z, k));
  if (cX < 0) coordinateSystem = "none";
  else if (coordinateSystem === undefined) {
    let inRange = true;
    for (let i = 0; i < n; i++) if (Math.abs(nodeX[i]) > 180 || Math.abs(nodeY[i]) > 90) inRange = false; // NaN compares false
    coordinateSystem = inRange ? "lonlat" : "local";
    if (!inRange)
      warnings.push(`${nt.file}: coordinates are not longitude/latitude and no config.csv says what they are; drawn in a local frame`);
  }

  // link.csv
  const lt = readTable(texts.link, where(GMNS_FILES.link));
  const cFrom = column(lt, "from_node_id", true, "the id of the link's tail node");
  const cTo = column(lt, "to_node_id", true, "the id of the link's head node");
  const cFft = column(lt, "VDF_fftt1", true, "the free-flow time in minutes");
  const cCap1 = column(lt, "VDF_cap1", false);
  const cCap = column(lt, "capacity", false);
  if (cCap1 < 0 && cCap < 0)
    throw new InputError(
      MOD,
      'missing column "VDF_cap1"',
      { file: lt.file, line: lt.headerLine, field: "VDF_cap1" },
      'the link capacity (or "capacity" per lane with "lanes")',
    );
  const cAlpha = column(lt, "VDF_alpha1", true, "the BPR coefficient b (e.g. 0.15)");
  const cBeta = column(lt, "VDF_beta1", true, "the BPR power (e.g. 4)");
  const cLanes = column(lt, "lanes", false);
  const cLen = column(lt, "length", false);
  const cSpeed = column(lt, "free_speed", false);
  const cToll = column(lt, "toll", false);
  const cType = column(lt, "link_type", false);
  const cId = column(lt, "link_id", false);
  const cDir = column(lt, "dir_flag", false);
  const cDirected = column(lt, "directed", false);
  const cVdf = column(lt, "vdf_type", false);
  const m = lt.rows.length;
  if (m === 0)
    throw new InputError(
      MOD,
      "no links (truncated file?)",
      { file: lt.file, line: lt.headerLine + 1, field: "from_node_id" },
      "one link per line",
    );
  const L = emptyLinkTable(m);
  const linkIdRow = new Map<number, number>();
  let idsArePositions = true;
  for (let r = 0; r < m; r++) {
    const at = (field: string) => ({ file: lt.file, line: lt.lines[r], field });
    if (cId >= 0 && lt.rows[r][cId] !== "") {
      const id = requireId(lt, r, cId, "link_id");
      const prev = linkIdRow.get(id);
      if (prev !== undefined)
        throw new InputError(MOD, `link ${id} appears twice (first on line ${lt.lines[prev]})`, at("link_id"), "unique link ids");
      linkIdRow.set(id, r);
      if (id !== r + 1) idsArePositions = false;
    }
    if (cDir >= 0 && lt.rows[r][cDir] !== "" && lt.rows[r][cDir] !== "1")
      throw new InputError(MOD, `dir_flag "${lt.rows[r][cDir]}"`, at("dir_flag"), "1 (a directed link; write a two-way road as two links)");
    if (cDirected >= 0 && lt.rows[r][cDirected] !== "" && !/^(1|true)$/i.test(lt.rows[r][cDirected]))
      throw new InputError(
        MOD,
        `directed "${lt.rows[r][cDirected]}"`,
        at("directed"),
        "true (a directed link; write a two-way road as two links)",
      );
    const from = requireId(lt, r, cFrom, "from_node_id");
    const to = requireId(lt, r, cTo, "to_node_id");
    const fi = index.get(from);
    if (fi === undefined) throw new InputError(MOD, `node ${from} is not in ${nt.file}`, at("from_node_id"), "a node_id of node.csv");
    const ti = index.get(to);
    if (ti === undefined) throw new InputError(MOD, `node ${to} is not in ${nt.file}`, at("to_node_id"), "a node_id of node.csv");
    if (fi === ti) throw new InputError(MOD, `a loop link from node ${from} to itself`, at("to_node_id"), "two different nodes");
    L.from[r] = fi;
    L.to[r] = ti;
    let kind: number = VDF_BPR;
    if (cVdf >= 0 && lt.rows[r][cVdf] !== "") {
      kind = VDF_NAMES.indexOf(lt.rows[r][cVdf].toLowerCase() as never);
      if (kind < 0) throw new InputError(MOD, `unknown volume-delay function "${lt.rows[r][cVdf]}"`, at("vdf_type"), VDF_NAMES.join(", "));
    }
    L.vdf[r] = kind;
    const fft = requireNumber(lt, r, cFft, "VDF_fftt1", "the free-flow time in minutes, ≥ 0");
    atLeast(lt, r, fft, 0, "VDF_fftt1", "negative free-flow time");
    const b = requireNumber(lt, r, cAlpha, "VDF_alpha1", "a number ≥ 0");
    atLeast(lt, r, b, 0, "VDF_alpha1", "negative alpha");
    const power = requireNumber(lt, r, cBeta, "VDF_beta1", "a number ≥ 0");
    atLeast(lt, r, power, 0, "VDF_beta1", "negative beta");
    let cap: number;
    let capField: string;
    const cap1 = cCap1 >= 0 ? cellNumber(lt, r, cCap1, "VDF_cap1", "a capacity > 0", cCap >= 0) : undefined;
    if (cap1 !== undefined) {
      cap = cap1;
      capField = "VDF_cap1";
    } else {
      const perLane = requireNumber(lt, r, cCap, "capacity", "a capacity per lane > 0");
      const lanes = cLanes >= 0 ? (cellNumber(lt, r, cLanes, "lanes", "a number of lanes > 0", true) ?? 1) : 1;
      if (!(lanes > 0)) throw new InputError(MOD, `lanes ${lanes}`, at("lanes"), "a number of lanes > 0");
      cap = perLane * lanes;
      capField = "capacity";
    }
    const flowDependent = kind === VDF_CONICAL || (b !== 0 && power !== 0);
    if (flowDependent && !(cap > 0))
      throw new InputError(
        MOD,
        `capacity ${cap} on a flow-dependent link (alpha = ${b}, beta = ${power})`,
        at(capField),
        "a positive capacity",
      );
    if (kind === VDF_CONICAL && !(power > 1))
      throw new InputError(MOD, `conical alpha ${power}`, at("VDF_beta1"), "a number > 1 for a conical VDF");
    if (cap < 0) throw new InputError(MOD, `negative capacity ${cap}`, at(capField), "a capacity ≥ 0");
    L.freeFlowTime[r] = fft;
    L.b[r] = b;
    L.power[r] = power;
    L.capacity[r] = cap;
    const len = cLen >= 0 ? (cellNumber(lt, r, cLen, "length", "a length ≥ 0", true) ?? 0) : 0;
    atLeast(lt, r, len, 0, "length", "negative length");
    L.length[r] = len;
    L.speed[r] = cSpeed >= 0 ? (cellNumber(lt, r, cSpeed, "free_speed", "a speed ≥ 0", true) ?? 0) : 0;
    L.toll[r] = cToll >= 0 ? (cellNumber(lt, r, cToll, "toll", "a toll", true) ?? 0) : 0;
    if (cType >= 0) {
      const ty = cellNumber(lt, r, cType, "link_type", "an integer link type", true) ?? 0;
      if (!Number.isInteger(ty)) throw new InputError(MOD, `link_type ${ty}`, at("link_type"), "an integer link type");
      L.linkType[r] = ty;
    }
  }
  if (!idsArePositions)
    warnings.push(`${lt.file}: link_id is not the row position; tollkit numbers links by position (link k = data row k)`);

  // demand.csv
  const dt = readTable(texts.demand, where(GMNS_FILES.demand));
  const cO = column(dt, "o_zone_id", true, "the origin zone id");
  const cD = column(dt, "d_zone_id", true, "the destination zone id");
  const cV = column(dt, "volume", true, "the number of trips");
  if (dt.rows.length === 0)
    throw new InputError(
      MOD,
      "no demand (truncated file?)",
      { file: dt.file, line: dt.headerLine + 1, field: "o_zone_id" },
      "one origin–destination pair per line",
    );
  const demand = new Float64Array(Z * Z);
  const seenLine = new Int32Array(Z * Z);
  for (let r = 0; r < dt.rows.length; r++) {
    const o = requireId(dt, r, cO, "o_zone_id");
    const d = requireId(dt, r, cD, "d_zone_id");
    const oz = zoneIndex.get(o);
    if (oz === undefined)
      throw new InputError(
        MOD,
        `origin ${o} is not a zone`,
        { file: dt.file, line: dt.lines[r], field: "o_zone_id" },
        `a zone_id of ${nt.file}`,
      );
    const dz = zoneIndex.get(d);
    if (dz === undefined)
      throw new InputError(
        MOD,
        `destination ${d} is not a zone`,
        { file: dt.file, line: dt.lines[r], field: "d_zone_id" },
        `a zone_id of ${nt.file}`,
      );
    const v = requireNumber(dt, r, cV, "volume", "a number of trips ≥ 0");
    atLeast(dt, r, v, 0, "volume", "negative trips");
    const cell = oz * Z + dz;
    if (seenLine[cell] !== 0)
      throw new InputError(
        MOD,
        `pair ${o}→${d} appears twice (first on line ${seenLine[cell]})`,
        { file: dt.file, line: dt.lines[r], field: "d_zone_id" },
        "each origin–destination pair once",
      );
    seenLine[cell] = dt.lines[r];
    demand[cell] = v;
  }

  let minId = Infinity;
  for (let i = 0; i < n; i++) if (nodeIds[i] < minId) minId = nodeIds[i];
  const firstThruNode = firstThru ?? Math.min(1, minId);
  return {
    name: opts.name ?? datasetName ?? opts.folder ?? "gmns",
    nodeCount: n,
    nodeIds,
    nodeX,
    nodeY,
    coordinateSystem,
    zoneCount: Z,
    zoneIds,
    zoneNodes,
    firstThruNode,
    throughBlocked: throughBlockedFor(n, nodeIds, zoneNodes, firstThruNode),
    linkCount: m,
    links: L,
    demand,
    costWeights: { tollFactor, distanceFactor },
    units,
    warnings,
  };
}

/**
 * Reads a GMNS folder (node.csv, link.csv, demand.csv, optional config.csv). This is what
 * `loadNetwork(dir)` uses for a folder.
 * @throws InputError when a file is missing or malformed (naming file, line and field)
 */
export function readGmnsNetwork(dir: string, opts: ReadGmnsOptions = {}): Network {
  const folder = opts.folder ?? basename(dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new InputError(MOD, "not a folder", { file: dir }, "a GMNS folder holding node.csv, link.csv and demand.csv");
  const read = (f: string, required: boolean): string | undefined => {
    const p = join(dir, f);
    if (!existsSync(p)) {
      if (!required) return undefined;
      throw new InputError(MOD, `${f} not found`, { file: `${folder}/${f}` }, "a GMNS folder holding node.csv, link.csv and demand.csv");
    }
    checkInputSize(p, MOD);
    return readFileSync(p, "utf8");
  };
  const texts: GmnsTexts = {
    node: read(GMNS_FILES.node, true)!,
    link: read(GMNS_FILES.link, true)!,
    demand: read(GMNS_FILES.demand, true)!,
    config: read(GMNS_FILES.config, false),
  };
  return parseGmns(texts, { name: opts.name, folder });
}

/** The texts of the files {@link writeGmnsNetwork} writes. Round-trips through {@link parseGmns}. */
export function gmnsTexts(net: Network): Required<GmnsTexts> {
  const zoneOfNode = new Map<number, number>();
  for (let z = 0; z < net.zoneCount; z++) zoneOfNode.set(net.zoneNodes[z], net.zoneIds[z]);
  const hasXY = net.coordinateSystem !== "none";
  const nodeRows: CsvCell[][] = [];
  for (let i = 0; i < net.nodeCount; i++) {
    const zone = zoneOfNode.get(i);
    nodeRows.push(hasXY ? [net.nodeIds[i], net.nodeX[i], net.nodeY[i], zone] : [net.nodeIds[i], zone]);
  }
  const l = net.links;
  const linkRows: CsvCell[][] = [];
  for (let i = 0; i < net.linkCount; i++) {
    linkRows.push([
      i + 1,
      net.nodeIds[l.from[i]],
      net.nodeIds[l.to[i]],
      l.length[i],
      1,
      l.speed[i],
      l.capacity[i],
      l.freeFlowTime[i],
      l.capacity[i],
      l.b[i],
      l.power[i],
      VDF_NAMES[l.vdf[i]],
      l.toll[i],
      l.linkType[i],
    ]);
  }
  const Z = net.zoneCount;
  const demandRows: CsvCell[][] = [];
  for (let o = 0; o < Z; o++) {
    for (let d = 0; d < Z; d++) {
      const v = net.demand[o * Z + d];
      if (v !== 0) demandRows.push([net.zoneIds[o], net.zoneIds[d], v]);
    }
  }
  return {
    node: formatCsv(hasXY ? ["node_id", "x_coord", "y_coord", "zone_id"] : ["node_id", "zone_id"], nodeRows),
    link: formatCsv(
      [
        "link_id",
        "from_node_id",
        "to_node_id",
        "length",
        "lanes",
        "free_speed",
        "capacity",
        "VDF_fftt1",
        "VDF_cap1",
        "VDF_alpha1",
        "VDF_beta1",
        "vdf_type",
        "toll",
        "link_type",
      ],
      linkRows,
    ),
    demand: formatCsv(["o_zone_id", "d_zone_id", "volume"], demandRows),
    config: formatCsv(
      [
        "dataset_name",
        "first_thru_node",
        "toll_factor",
        "distance_factor",
        "coordinate_system",
        "time_units",
        "length_units",
        "toll_units",
      ],
      [
        [
          net.name,
          net.firstThruNode,
          net.costWeights.tollFactor,
          net.costWeights.distanceFactor,
          net.coordinateSystem,
          net.units.time,
          net.units.distance,
          net.units.toll,
        ],
      ],
    ),
  };
}

/**
 * Writes a network as a GMNS folder (node.csv, link.csv, demand.csv, config.csv), creating the
 * folder if needed. Every file is first written under a temporary name and renamed only once
 * all four are complete, so a failure never leaves a half-written file behind.
 */
export function writeGmnsNetwork(net: Network, dir: string): void {
  const texts = gmnsTexts(net);
  writeFilesAtomic(
    dir,
    (Object.keys(GMNS_FILES) as (keyof typeof GMNS_FILES)[]).map((k) => ({ name: GMNS_FILES[k], content: texts[k] })),
  );
}
