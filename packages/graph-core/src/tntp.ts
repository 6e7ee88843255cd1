/**
 * TNTP readers and writers (the TransportationNetworks format): `*_net.tntp`, `*_trips.tntp`,
 * `*_node.tntp` and `*_flow.tntp`.
 *
 * Conventions honoured: metadata tags up to `<END OF METADATA>`; the `<ORIGINAL HEADER>~…`
 * tag is metadata, the column header is the first line that *starts* with `~`; other `~`
 * lines are comments; fields end with `;`; node ids need not be 1..N; parallel links are kept
 * as separate links; `<TOLL FACTOR>` and `<DISTANCE FACTOR>` become cost weights; header
 * counts that disagree with the body are warnings. Everything else that is wrong is an
 * {@link InputError} naming file, line and field.
 */

import { readFileSync, existsSync } from "node:fs";
import { checkInputSize } from "./io.js";
import { basename } from "node:path";
import { InputError } from "./errors.js";
import { VDF_BPR, VDF_NAMES } from "./vdf.js";
import { CostWeights, CoordinateSystem, emptyLinkTable, Network, throughBlockedFor } from "./network.js";

const MOD = "graph-core/tntp";

/** The standard column order of a TNTP net file. */
export const TNTP_LINK_FIELDS = [
  "init_node",
  "term_node",
  "capacity",
  "length",
  "free_flow_time",
  "b",
  "power",
  "speed",
  "toll",
  "link_type",
] as const;

interface Line {
  text: string;
  no: number;
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

function tokens(s: string): string[] {
  const out = s.split(/[\s;]+/);
  let k = 0;
  for (const t of out) if (t !== "") out[k++] = t;
  out.length = k;
  return out;
}

/** The number of the last non-blank line (where a truncated file stops). */
function lastContentLine(body: Line[]): number {
  for (let k = body.length - 1; k >= 0; k--) if (body[k].text.trim() !== "") return body[k].no;
  return body.length ? body[0].no - 1 : 1;
}

/** Reads `<TAG> value` lines up to `<END OF METADATA>`; returns the tags and the remaining lines. */
function readMetadata(text: string, file: string): { meta: Map<string, { value: string; line: number }>; body: Line[] } {
  const lines = splitLines(text);
  const meta = new Map<string, { value: string; line: number }>();
  let i = 0;
  let sawEnd = false;
  let afterTags = -1; // the first comment line after the last tag: where <END OF METADATA> was due
  for (; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === "") continue;
    if (t.startsWith("~")) {
      // comment lines are allowed among the metadata too
      if (afterTags < 0) afterTags = i;
      continue;
    }
    const m = /^<([^>]+)>(.*)$/.exec(t);
    if (!m) {
      if (afterTags >= 0) i = afterTags;
      break;
    }
    afterTags = -1;
    const tag = m[1].trim().toUpperCase();
    if (tag === "END OF METADATA") {
      sawEnd = true;
      i++;
      break;
    }
    meta.set(tag, { value: m[2].trim(), line: i + 1 });
  }
  if (!sawEnd) {
    throw new InputError(
      MOD,
      "no <END OF METADATA> line",
      { file: basename(file), line: Math.min(i + 1, lines.length), field: "<END OF METADATA>" },
      "a metadata block closed by <END OF METADATA>",
    );
  }
  const body: Line[] = [];
  for (; i < lines.length; i++) body.push({ text: lines[i], no: i + 1 });
  return { meta, body };
}

/** A decimal number (no hex, no `Infinity`, no `NaN`, no digit separators). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function metaNumber(meta: Map<string, { value: string; line: number }>, tag: string, file: string, integer: boolean): number | undefined {
  const e = meta.get(tag);
  if (!e) return undefined;
  const tok = tokens(e.value)[0] ?? "";
  const v = NUMBER.test(tok) ? Number(tok) : NaN;
  if (!Number.isFinite(v) || (integer && (!Number.isInteger(v) || v < 0))) {
    throw new InputError(
      MOD,
      `bad value "${e.value}"`,
      { file: basename(file), line: e.line, field: `<${tag}>` },
      integer ? "a non-negative integer" : "a number",
    );
  }
  return v;
}

function num(tok: string | undefined, file: string, line: number, field: string, expected = "a finite number"): number {
  if (tok === undefined) throw new InputError(MOD, "missing value (truncated line?)", { file, line, field }, expected);
  const v = Number(tok);
  if (!NUMBER.test(tok.trim()) || !Number.isFinite(v))
    throw new InputError(MOD, `"${tok}" is not a finite number`, { file, line, field }, expected);
  return v;
}

function nodeId(tok: string | undefined, file: string, line: number, field: string): number {
  const v = num(tok, file, line, field, "a positive integer node id");
  if (!Number.isInteger(v) || v <= 0)
    throw new InputError(MOD, `"${tok}" is not a valid node id`, { file, line, field }, "a positive integer node id");
  return v;
}

/** A parsed net file before demand and coordinates are attached. */
export interface TntpNetPart {
  zoneCount: number;
  firstThruNode: number;
  nodeIds: Float64Array;
  links: Network["links"];
  linkCount: number;
  costWeights: CostWeights;
  warnings: string[];
  /** Where the part came from, for messages: file name, line of every link, line of each tag. */
  source: { file: string; linkLines: Int32Array; tagLines: Record<string, number> };
}

/**
 * Parses the text of a TNTP net file.
 * @param text file contents
 * @param file name used in messages
 * @throws InputError naming file, line and field for any malformed content
 */
export function parseTntpNet(text: string, file = "net.tntp"): TntpNetPart {
  const name = basename(file);
  const { meta, body } = readMetadata(text, file);
  const warnings: string[] = [];
  const zoneCount = metaNumber(meta, "NUMBER OF ZONES", file, true);
  if (zoneCount === undefined)
    throw new InputError(
      MOD,
      "missing <NUMBER OF ZONES>",
      { file: name, line: 1, field: "<NUMBER OF ZONES>" },
      "a <NUMBER OF ZONES> metadata tag",
    );
  const declaredNodes = metaNumber(meta, "NUMBER OF NODES", file, true);
  if (declaredNodes !== undefined && zoneCount > declaredNodes)
    throw new InputError(
      MOD,
      `${zoneCount} zones but <NUMBER OF NODES> is ${declaredNodes}`,
      { file: name, line: meta.get("NUMBER OF ZONES")!.line, field: "<NUMBER OF ZONES>" },
      "zones numbered 1..NUMBER OF ZONES among the nodes",
    );
  const declaredLinks = metaNumber(meta, "NUMBER OF LINKS", file, true);
  const firstThru = metaNumber(meta, "FIRST THRU NODE", file, true) ?? 1;
  const tollFactor = metaNumber(meta, "TOLL FACTOR", file, false) ?? 0;
  const distanceFactor = metaNumber(meta, "DISTANCE FACTOR", file, false) ?? 0;

  // Column header: the first body line that starts with "~".
  let columns: string[] = [...TNTP_LINK_FIELDS];
  const rows: Line[] = [];
  let headerSeen = false;
  for (const l of body) {
    const t = l.text.trim();
    if (t === "") continue;
    if (t.startsWith("~")) {
      if (!headerSeen) {
        const cols = tokens(t.slice(1)).map((c) => c.toLowerCase());
        if (cols.length >= 2) columns = cols;
        headerSeen = true;
      }
      continue;
    }
    rows.push(l);
  }
  const col = (f: string): number => {
    const k = columns.indexOf(f);
    return k >= 0 ? k : TNTP_LINK_FIELDS.indexOf(f as (typeof TNTP_LINK_FIELDS)[number]);
  };
  const idx = TNTP_LINK_FIELDS.map((f) => col(f));
  const nFields = Math.max(columns.length, ...idx.map((k) => k + 1));
  const m = rows.length;
  if (m === 0)
    throw new InputError(
      MOD,
      "no links after <END OF METADATA> (truncated file?)",
      { file: name, line: lastContentLine(body), field: "init_node" },
      "one link per line",
    );
  const links = emptyLinkTable(m);
  const fromIds = new Float64Array(m);
  const toIds = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const { text: lt, no } = rows[i];
    const tk = tokens(lt);
    if (tk.length < nFields) {
      throw new InputError(
        MOD,
        `${tk.length} fields, expected ${nFields} (truncated line?)`,
        { file: name, line: no, field: TNTP_LINK_FIELDS[Math.min(tk.length, TNTP_LINK_FIELDS.length - 1)] },
        columns.join(" "),
      );
    }
    fromIds[i] = nodeId(tk[idx[0]], name, no, "init_node");
    toIds[i] = nodeId(tk[idx[1]], name, no, "term_node");
    const cap = num(tk[idx[2]], name, no, "capacity");
    const len = num(tk[idx[3]], name, no, "length");
    const fft = num(tk[idx[4]], name, no, "free_flow_time");
    const b = num(tk[idx[5]], name, no, "b");
    const pw = num(tk[idx[6]], name, no, "power");
    links.capacity[i] = cap;
    links.length[i] = len;
    links.freeFlowTime[i] = fft;
    links.b[i] = b;
    links.power[i] = pw;
    links.speed[i] = idx[7] < tk.length ? num(tk[idx[7]], name, no, "speed") : 0;
    links.toll[i] = idx[8] < tk.length ? num(tk[idx[8]], name, no, "toll") : 0;
    links.linkType[i] = idx[9] < tk.length ? Math.trunc(num(tk[idx[9]], name, no, "link_type")) : 0;
    if (fft < 0)
      throw new InputError(MOD, `negative free-flow time ${fft}`, { file: name, line: no, field: "free_flow_time" }, "a number ≥ 0");
    if (b < 0) throw new InputError(MOD, `negative b ${b}`, { file: name, line: no, field: "b" }, "a number ≥ 0");
    if (pw < 0) throw new InputError(MOD, `negative power ${pw}`, { file: name, line: no, field: "power" }, "a number ≥ 0");
    if (len < 0) throw new InputError(MOD, `negative length ${len}`, { file: name, line: no, field: "length" }, "a number ≥ 0");
    if (b !== 0 && pw !== 0 && !(cap > 0)) {
      throw new InputError(
        MOD,
        `capacity ${cap} on a flow-dependent link (b = ${b}, power = ${pw})`,
        { file: name, line: no, field: "capacity" },
        "a positive capacity",
      );
    }
    if (fromIds[i] === toIds[i])
      throw new InputError(
        MOD,
        `a loop link from node ${fromIds[i]} to itself`,
        { file: name, line: no, field: "term_node" },
        "two different nodes",
      );
  }
  if (declaredLinks !== undefined && declaredLinks > m)
    throw new InputError(
      MOD,
      `<NUMBER OF LINKS> says ${declaredLinks}, the file ends after ${m} links (truncated file?)`,
      { file: name, line: rows[m - 1].no, field: "<NUMBER OF LINKS>" },
      `${declaredLinks} links`,
    );
  if (declaredLinks !== undefined && declaredLinks < m)
    warnings.push(`${name}: <NUMBER OF LINKS> says ${declaredLinks}, the file has ${m} links`);

  // Node numbering: ids 1..N keep their order (index = id − 1); anything else is sorted.
  let maxId = 0;
  const idSet = new Set<number>();
  for (let i = 0; i < m; i++) {
    idSet.add(fromIds[i]);
    idSet.add(toIds[i]);
    if (fromIds[i] > maxId) maxId = fromIds[i];
    if (toIds[i] > maxId) maxId = toIds[i];
  }
  let nodeIds: Float64Array;
  const dense = maxId <= Math.max(declaredNodes ?? 0, idSet.size, zoneCount) && maxId < 10_000_000;
  if (dense) {
    const n = Math.max(maxId, declaredNodes ?? 0, zoneCount);
    nodeIds = new Float64Array(n);
    for (let i = 0; i < n; i++) nodeIds[i] = i + 1;
    for (let i = 0; i < m; i++) {
      links.from[i] = fromIds[i] - 1;
      links.to[i] = toIds[i] - 1;
    }
  } else {
    nodeIds = Float64Array.from([...idSet].sort((a, b) => a - b));
    const index = new Map<number, number>();
    nodeIds.forEach((id, k) => index.set(id, k));
    for (let i = 0; i < m; i++) {
      links.from[i] = index.get(fromIds[i])!;
      links.to[i] = index.get(toIds[i])!;
    }
  }
  if (declaredNodes !== undefined && declaredNodes !== idSet.size && !(dense && declaredNodes >= idSet.size)) {
    warnings.push(`${name}: <NUMBER OF NODES> says ${declaredNodes}, the links use ${idSet.size} distinct nodes`);
  }
  const tagLines: Record<string, number> = {};
  for (const [k, v] of meta) tagLines[k] = v.line;
  return {
    source: { file: name, linkLines: Int32Array.from(rows, (r) => r.no), tagLines },
    zoneCount,
    firstThruNode: firstThru,
    nodeIds,
    links,
    linkCount: m,
    costWeights: { tollFactor, distanceFactor },
    warnings,
  };
}

/** A zone id of a trips file (`origin` or `destination`), checked against the zone count. */
function zoneId(z: number, field: "origin" | "destination", zoneCount: number, file: string, line: number): number {
  if (z > zoneCount)
    throw new InputError(
      MOD,
      `${field} ${z} is not a zone (zones are 1..${zoneCount})`,
      { file, line, field },
      `a zone id in 1..${zoneCount}`,
    );
  return z;
}

/**
 * Parses the text of a TNTP trips file into a dense zone × zone matrix (row = origin).
 * @param zoneCount number of zones of the network; zone ids are 1..zoneCount
 * @throws InputError for duplicate origins or destinations, non-zones, bad numbers
 */
export function parseTntpTrips(text: string, file: string, zoneCount: number, warnings: string[] = []): Float64Array {
  const name = basename(file);
  const { meta, body } = readMetadata(text, file);
  const declaredZones = metaNumber(meta, "NUMBER OF ZONES", file, true);
  if (declaredZones !== undefined && declaredZones !== zoneCount) {
    throw new InputError(
      MOD,
      `<NUMBER OF ZONES> is ${declaredZones} but the net file has ${zoneCount} zones`,
      { file: name, line: meta.get("NUMBER OF ZONES")!.line, field: "<NUMBER OF ZONES>" },
      `${zoneCount}`,
    );
  }
  const declaredTotal = metaNumber(meta, "TOTAL OD FLOW", file, false);
  const demand = new Float64Array(zoneCount * zoneCount);
  const seenOrigin = new Uint8Array(zoneCount + 1);
  const seenDest = new Int32Array(zoneCount + 1).fill(-1);
  let origin = -1;
  let total = 0;
  let entries = 0;
  for (const { text: raw, no } of body) {
    const t = raw.trim();
    if (t === "" || t.startsWith("~")) continue;
    const om = /^origin\b\s*(.*)$/i.exec(t);
    if (om) {
      const o = zoneId(nodeId(tokens(om[1])[0], name, no, "origin"), "origin", zoneCount, name, no);
      if (seenOrigin[o])
        throw new InputError(MOD, `origin ${o} appears twice`, { file: name, line: no, field: "origin" }, "each origin once");
      seenOrigin[o] = 1;
      origin = o;
      continue;
    }
    if (origin < 0)
      throw new InputError(
        MOD,
        `"${t.slice(0, 30)}" before any "Origin" line`,
        { file: name, line: no, field: "origin" },
        'an "Origin N" line first',
      );
    for (const piece of t.split(";")) {
      const p = piece.trim();
      if (p === "") continue;
      const kv = p.split(":");
      if (kv.length !== 2)
        throw new InputError(
          MOD,
          `"${p}" is not "destination : trips"`,
          { file: name, line: no, field: "destination" },
          "destination : trips;",
        );
      const d = nodeId(kv[0].trim(), name, no, "destination");
      const v = num(kv[1].trim(), name, no, `trips ${origin}→${d}`, "a finite number of trips ≥ 0");
      zoneId(d, "destination", zoneCount, name, no);
      if (v < 0)
        throw new InputError(
          MOD,
          `negative trips ${v} from ${origin} to ${d}`,
          { file: name, line: no, field: `trips ${origin}→${d}` },
          "trips ≥ 0",
        );
      if (seenDest[d] === origin)
        throw new InputError(
          MOD,
          `destination ${d} appears twice for origin ${origin}`,
          { file: name, line: no, field: "destination" },
          "each destination once per origin",
        );
      seenDest[d] = origin;
      demand[(origin - 1) * zoneCount + (d - 1)] = v;
      total += v;
      entries++;
    }
  }
  if (origin < 0 || entries === 0)
    throw new InputError(
      MOD,
      "no demand found (truncated file?)",
      { file: name, line: lastContentLine(body), field: "origin" },
      '"Origin N" blocks of "destination : trips;"',
    );
  if (declaredTotal !== undefined && Math.abs(declaredTotal - total) > 1e-6 * Math.max(1, Math.abs(declaredTotal))) {
    // A shortfall is what a truncated file looks like; an excess is only a stale header.
    if (total < declaredTotal)
      throw new InputError(
        MOD,
        `<TOTAL OD FLOW> says ${declaredTotal}, the file sums to ${total} (truncated file?)`,
        { file: name, line: lastContentLine(body), field: "<TOTAL OD FLOW>" },
        `trips summing to ${declaredTotal}`,
      );
    warnings.push(`${name}: <TOTAL OD FLOW> says ${declaredTotal}, the file sums to ${total}`);
  }
  return demand;
}

/** Node coordinates from a TNTP node file. */
export interface NodeCoordinates {
  ids: Float64Array;
  x: Float64Array;
  y: Float64Array;
}

/** Parses a TNTP node file (`Node X Y ;`). */
export function parseTntpNodes(text: string, file = "node.tntp"): NodeCoordinates {
  const name = basename(file);
  const ids: number[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  const lines = splitLines(text);
  let headerSkipped = false;
  const seen = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === "" || t.startsWith("~")) continue;
    const tk = tokens(t);
    if (!headerSkipped && !/^[-+\d.]/.test(tk[0])) {
      headerSkipped = true;
      continue;
    }
    if (tk.length < 3)
      throw new InputError(
        MOD,
        `${tk.length} fields, expected 3 (truncated line?)`,
        { file: name, line: i + 1, field: ["node", "x", "y"][tk.length] },
        "node x y",
      );
    const id = nodeId(tk[0], name, i + 1, "node");
    if (seen.has(id))
      throw new InputError(
        MOD,
        `node ${id} appears twice (first on line ${seen.get(id)})`,
        { file: name, line: i + 1, field: "node" },
        "each node once",
      );
    seen.set(id, i + 1);
    ids.push(id);
    xs.push(num(tk[1], name, i + 1, "x"));
    ys.push(num(tk[2], name, i + 1, "y"));
  }
  return { ids: Float64Array.from(ids), x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

/** One row of a TNTP flow file. */
export interface FlowRow {
  from: number;
  to: number;
  volume: number;
  cost: number;
  line: number;
}

/** Parses a TNTP flow (best-known solution) file: `From To Volume Cost`. */
export function parseTntpFlow(text: string, file = "flow.tntp"): FlowRow[] {
  const name = basename(file);
  const rows: FlowRow[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === "" || t.startsWith("~") || t.startsWith("<")) continue;
    const tk = tokens(t);
    if (/^[a-z]/i.test(tk[0])) continue; // header
    if (tk.length < 3)
      throw new InputError(
        MOD,
        `${tk.length} fields, expected 4 (truncated line?)`,
        { file: name, line: i + 1, field: ["from", "to", "volume", "cost"][tk.length] },
        "from to volume cost",
      );
    rows.push({
      from: nodeId(tk[0], name, i + 1, "from"),
      to: nodeId(tk[1], name, i + 1, "to"),
      volume: num(tk[2], name, i + 1, "volume"),
      cost: tk.length > 3 ? num(tk[3], name, i + 1, "cost") : NaN,
      line: i + 1,
    });
  }
  return rows;
}

/**
 * Maps flow-file rows onto a network's links: by position where the rows follow the net file's
 * order (the TNTP convention, needed for parallel links), otherwise by (from, to).
 * @returns link volumes indexed by link index
 * @throws InputError when a row names a link the network does not have
 */
export function flowsByLink(net: Network, rows: FlowRow[], file = "flow.tntp"): Float64Array {
  const out = new Float64Array(net.linkCount);
  const l = net.links;
  const sameOrder =
    rows.length === net.linkCount && rows.every((r, i) => net.nodeIds[l.from[i]] === r.from && net.nodeIds[l.to[i]] === r.to);
  if (sameOrder) {
    rows.forEach((r, i) => (out[i] = r.volume));
    return out;
  }
  const byPair = new Map<string, number>();
  for (let i = 0; i < net.linkCount; i++) byPair.set(`${net.nodeIds[l.from[i]]},${net.nodeIds[l.to[i]]}`, i);
  for (const r of rows) {
    const i = byPair.get(`${r.from},${r.to}`);
    if (i === undefined)
      throw new InputError(
        MOD,
        `no link from ${r.from} to ${r.to} in ${net.name}`,
        { file: basename(file), line: r.line, field: "from" },
        "a link of the network",
      );
    out[i] = r.volume;
  }
  return out;
}

/**
 * The files {@link readTntpNetwork} reads beside a net file: `*_trips.tntp` (required) and
 * `*_node.tntp` (when it exists).
 * @throws InputError when the net file is not named `*_net.tntp`
 */
export function tntpCompanionFiles(netPath: string): { tripsPath: string; nodePath?: string } {
  const tripsPath = netPath.replace(/_net\.tntp$/i, "_trips.tntp");
  if (tripsPath === netPath)
    throw new InputError(
      MOD,
      "cannot find the trips file beside a net file not named *_net.tntp",
      { file: netPath },
      "a *_net.tntp file with *_trips.tntp beside it",
    );
  const guess = netPath.replace(/_net\.tntp$/i, "_node.tntp");
  return { tripsPath, nodePath: existsSync(guess) ? guess : undefined };
}

/** Options of {@link readTntpNetwork}. */
export interface ReadTntpOptions {
  /** Cost weights that override the file's (a catalogue entry supplies Chicago-Sketch's). */
  costWeights?: Partial<CostWeights>;
}

function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new InputError(MOD, `${what} not found`, { file: path }, `an existing ${what}`);
  checkInputSize(path, MOD);
  return readFileSync(path, "utf8");
}

/** Assembles a network from parsed parts; validates coordinates against nodes. */
export function assembleTntp(
  part: TntpNetPart,
  demand: Float64Array,
  coords: NodeCoordinates | undefined,
  opts: {
    name: string;
    nodeFile?: string;
    costWeights?: Partial<CostWeights>;
    coordinateSystem?: CoordinateSystem;
    units?: Network["units"];
  },
): Network {
  const n = part.nodeIds.length;
  const index = new Map<number, number>();
  part.nodeIds.forEach((id, k) => index.set(id, k));
  const zoneNodes = new Int32Array(part.zoneCount);
  const zoneIds = new Float64Array(part.zoneCount);
  for (let z = 0; z < part.zoneCount; z++) {
    const k = index.get(z + 1);
    if (k === undefined)
      throw new InputError(
        MOD,
        `zone ${z + 1} is not a node of the network`,
        { file: part.source.file, line: part.source.tagLines["NUMBER OF ZONES"], field: "<NUMBER OF ZONES>" },
        "zones numbered 1..NUMBER OF ZONES among the nodes",
      );
    zoneNodes[z] = k;
    zoneIds[z] = z + 1;
  }
  const throughBlocked = throughBlockedFor(n, part.nodeIds, zoneNodes, part.firstThruNode);
  const nodeX = new Float64Array(n).fill(NaN);
  const nodeY = new Float64Array(n).fill(NaN);
  if (coords) {
    const placed = new Uint8Array(n);
    for (let k = 0; k < coords.ids.length; k++) {
      const i = index.get(coords.ids[k]);
      if (i === undefined) continue; // coordinates of nodes without links are harmless
      nodeX[i] = coords.x[k];
      nodeY[i] = coords.y[k];
      placed[i] = 1;
    }
    // A link to a node the node file does not know is an error in the net file.
    const l = part.links;
    for (let i = 0; i < part.linkCount; i++) {
      for (const [end, field] of [
        [l.from[i], "init_node"],
        [l.to[i], "term_node"],
      ] as const) {
        if (placed[end]) continue;
        throw new InputError(
          MOD,
          `node ${part.nodeIds[end]} is not in the node file${opts.nodeFile ? ` ${basename(opts.nodeFile)}` : ""}`,
          { file: part.source.file, line: part.source.linkLines[i], field },
          "a node listed in the node file",
        );
      }
    }
  }
  const net: Network = {
    name: opts.name,
    nodeCount: n,
    nodeIds: part.nodeIds,
    nodeX,
    nodeY,
    coordinateSystem: coords ? (opts.coordinateSystem ?? "local") : "none",
    zoneCount: part.zoneCount,
    zoneIds,
    zoneNodes,
    firstThruNode: part.firstThruNode,
    throughBlocked,
    linkCount: part.linkCount,
    links: part.links,
    demand,
    costWeights: { ...part.costWeights, ...(opts.costWeights ?? {}) },
    units: opts.units ?? {},
    warnings: part.warnings,
  };
  return net;
}

/**
 * Reads a TNTP network: the net file, the trips file beside it (`*_net.tntp` → `*_trips.tntp`)
 * and, when present, the node file beside it (`*_node.tntp`). The network is named after the
 * file stem; coordinates from a node file are in a local frame.
 * @throws InputError naming file, line and field for any malformed content
 */
export function readTntpNetwork(netPath: string, opts: ReadTntpOptions = {}): Network {
  const part = parseTntpNet(readText(netPath, "net file"), netPath);
  const { tripsPath, nodePath } = tntpCompanionFiles(netPath);
  const demand = parseTntpTrips(readText(tripsPath, "trips file"), tripsPath, part.zoneCount, part.warnings);
  const coords = nodePath ? parseTntpNodes(readText(nodePath, "node file"), nodePath) : undefined;
  const stem = basename(netPath).replace(/_net\.tntp$/i, "");
  return assembleTntp(part, demand, coords, {
    name: stem,
    nodeFile: nodePath,
    costWeights: opts.costWeights,
  });
}

/** TNTP has no zone ids of its own: zone z must be node z (ids 1..Z, in order). */
function checkTntpZones(net: Network): void {
  for (let z = 0; z < net.zoneCount; z++) {
    if (net.zoneIds[z] !== z + 1 || net.nodeIds[net.zoneNodes[z]] !== z + 1)
      throw new InputError(
        MOD,
        `zone ${net.zoneIds[z]} (the ${z + 1}th zone) is node ${net.nodeIds[net.zoneNodes[z]]}; TNTP cannot say so`,
        { file: net.name, field: `zones[${z}]` },
        "zones 1..Z on nodes 1..Z (write GMNS instead)",
      );
  }
}

/**
 * Writes a network's links as a TNTP net file (text). Round-trips through {@link parseTntpNet}.
 * @throws InputError when the zones are not nodes 1..Z or a link is not BPR (TNTP cannot say so)
 */
export function writeTntpNet(net: Network): string {
  checkTntpZones(net);
  const l = net.links;
  for (let i = 0; i < net.linkCount; i++) {
    if (l.vdf[i] !== VDF_BPR)
      throw new InputError(
        MOD,
        `link ${i + 1} has a ${VDF_NAMES[l.vdf[i]]} volume-delay function; TNTP net files hold BPR links only`,
        { file: net.name, field: `links[${i}].vdf` },
        "BPR links (write GMNS, which has a vdf_type column, instead)",
      );
  }
  const out: string[] = [
    `<NUMBER OF ZONES> ${net.zoneCount}`,
    `<NUMBER OF NODES> ${net.nodeCount}`,
    `<FIRST THRU NODE> ${net.firstThruNode}`,
    `<NUMBER OF LINKS> ${net.linkCount}`,
  ];
  if (net.costWeights.tollFactor) out.push(`<TOLL FACTOR> ${net.costWeights.tollFactor}`);
  if (net.costWeights.distanceFactor) out.push(`<DISTANCE FACTOR> ${net.costWeights.distanceFactor}`);
  out.push("<END OF METADATA>", "", "", `~\t${TNTP_LINK_FIELDS.join("\t")}\t;`);
  for (let i = 0; i < net.linkCount; i++) {
    out.push(
      `\t${net.nodeIds[l.from[i]]}\t${net.nodeIds[l.to[i]]}\t${l.capacity[i]}\t${l.length[i]}\t${l.freeFlowTime[i]}\t${l.b[i]}\t${l.power[i]}\t${l.speed[i]}\t${l.toll[i]}\t${l.linkType[i]}\t;`,
    );
  }
  return out.join("\n") + "\n";
}

/**
 * Writes a network's demand as a TNTP trips file (text). Round-trips through {@link parseTntpTrips}.
 * @throws InputError when the zones are not nodes 1..Z
 */
export function writeTntpTrips(net: Network): string {
  checkTntpZones(net);
  const Z = net.zoneCount;
  let total = 0;
  for (const v of net.demand) total += v;
  const out: string[] = [`<NUMBER OF ZONES> ${Z}`, `<TOTAL OD FLOW> ${total}`, "<END OF METADATA>", ""];
  for (let o = 0; o < Z; o++) {
    out.push("", `Origin \t${net.zoneIds[o]}`);
    let row: string[] = [];
    for (let d = 0; d < Z; d++) {
      row.push(`${net.zoneIds[d]} : ${net.demand[o * Z + d]};`);
      if (row.length === 5) {
        out.push("    " + row.join(" "));
        row = [];
      }
    }
    if (row.length) out.push("    " + row.join(" "));
  }
  return out.join("\n") + "\n";
}
