/**
 * The network catalogue (`networks/catalogue.json`) and network resolution.
 *
 * A catalogue file resolves in this order: the cache folder (`networks/.cache/<folder>/`, or
 * `TOLLKIT_NETWORK_CACHE`), the mirror folder named by `TOLLKIT_NETWORK_MIRROR`
 * (`<mirror>/<folder>/<file>`), then a download from the public source. Every file is checked
 * against its sha256 wherever it came from; a mismatch is an error.
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "./errors.js";
import { CoordinateSystem, CostWeights, Network } from "./network.js";
import {
  assembleTntp,
  NodeCoordinates,
  parseTntpFlow,
  parseTntpNet,
  parseTntpNodes,
  parseTntpTrips,
  flowsByLink,
  readTntpNetwork,
  tntpCompanionFiles,
} from "./tntp.js";
import { loadThroughCache, networkCacheEnabled, networkCacheKey, networkCachePath } from "./network-cache.js";
import { BUILTIN_NETWORKS, builtinNetwork } from "./builtins.js";
import { readGmnsNetwork } from "./gmns.js";
import { checkInputSize, parseJsonText, writeFileAtomic } from "./io.js";

const MOD = "graph-core/catalogue";

/** One file of a catalogue network. */
export interface CatalogueFile {
  name: string;
  sha256: string;
  url: string;
}

/** One catalogue entry. */
export interface CatalogueEntry {
  id: string;
  name: string;
  folder: string;
  files: { net: CatalogueFile; trips: CatalogueFile; node?: CatalogueFile; nodeGeojson?: CatalogueFile; flow?: CatalogueFile };
  dimensions: { zones: number; nodes: number; links: number; trips: number };
  firstThruNode: number;
  costWeights: CostWeights;
  coordinateSystem: CoordinateSystem;
  units: Network["units"];
  /** Best-known Beckmann objective at user equilibrium, where published. */
  bestKnownObjective: number | null;
  bestKnownTstt?: number;
  approximateObjective?: number;
  /** false when tollkit knows the files cannot be loaded (see notes). */
  supported?: boolean;
  notes?: string;
}

export interface Catalogue {
  description: string;
  source: string;
  networks: CatalogueEntry[];
}

/** The repository root (where `networks/` lives), found relative to this module. */
export function repositoryRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}

let cached: Catalogue | undefined;

/** Reads `networks/catalogue.json`. */
export function loadCatalogue(): Catalogue {
  if (!cached) cached = JSON.parse(readFileSync(join(repositoryRoot(), "networks", "catalogue.json"), "utf8")) as Catalogue;
  return cached;
}

/**
 * What kind of network id `ref` is: a built-in network (`two-route`, `grid-city`, …), a
 * catalogue network (`sioux-falls`, …), or `undefined` when it is not an id (then it names a
 * file or folder). Built-in ids are looked up first, as {@link loadNetwork} does.
 */
export function networkIdKind(ref: string): "builtin" | "catalogue" | undefined {
  if (Object.hasOwn(BUILTIN_NETWORKS, ref)) return "builtin";
  if (loadCatalogue().networks.some((n) => n.id === ref)) return "catalogue";
  return undefined;
}

/**
 * True when `ref` is a built-in or catalogue network id rather than a path. This is the one
 * answer to "is this a network id?" for the CLI, scenarios, batch plans and the API.
 * @param opts.supportedOnly also require that a catalogue network can be loaded (its entry is
 *   not marked `supported: false`)
 */
export function isNetworkId(ref: string, opts: { supportedOnly?: boolean } = {}): boolean {
  const kind = networkIdKind(ref);
  if (kind !== "catalogue" || !opts.supportedOnly) return kind !== undefined;
  return loadCatalogue().networks.some((n) => n.id === ref && n.supported !== false);
}

/**
 * What {@link loadNetwork} should be given for a network named in a file: a network id as it
 * is, an absolute path as it is, and a relative path joined to `baseDir` (the folder of the
 * file that names it). Without `baseDir`, `ref` is returned unchanged.
 */
export function resolveNetworkRef(ref: string, baseDir?: string): string {
  if (baseDir === undefined || isAbsolute(ref) || isNetworkId(ref)) return ref;
  return join(baseDir, ref);
}

/** The catalogue entry with this id; an unknown id is an error listing the known ones. */
export function catalogueEntry(id: string): CatalogueEntry {
  const e = loadCatalogue().networks.find((n) => n.id === id);
  if (!e) {
    const known = [...loadCatalogue().networks.map((n) => n.id), ...Object.keys(BUILTIN_NETWORKS)].join(", ");
    throw new InputError(MOD, `unknown network "${id}"`, {}, `one of ${known}, a path to a *_net.tntp file, or a GMNS folder`);
  }
  return e;
}

/** The cache folder for downloaded files. */
export function cacheDir(): string {
  return process.env.TOLLKIT_NETWORK_CACHE ?? join(repositoryRoot(), "networks", ".cache");
}

function sha256(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}

/** Where a file was found. */
export type FileOrigin = "cache" | "mirror" | "download";

/** A resolved file: its bytes checked, its path on disk. */
export interface ResolvedFile {
  path: string;
  origin: FileOrigin;
}

function checked(path: string, f: CatalogueFile): Buffer {
  const buf = readFileSync(path);
  const got = sha256(buf);
  if (got !== f.sha256)
    throw new InputError(
      MOD,
      `sha256 mismatch: got ${got}`,
      { file: path },
      `sha256 ${f.sha256} (the file may be corrupt or a different version)`,
    );
  return buf;
}

/** Finds a catalogue file in the cache or the mirror, without downloading. */
export function locateFile(entry: CatalogueEntry, f: CatalogueFile): ResolvedFile | undefined {
  const inCache = join(cacheDir(), entry.folder, f.name);
  if (existsSync(inCache)) {
    checked(inCache, f);
    return { path: inCache, origin: "cache" };
  }
  const mirror = process.env.TOLLKIT_NETWORK_MIRROR;
  if (mirror) {
    const p = resolve(mirror, entry.folder, f.name);
    if (existsSync(p) && statSync(p).isFile()) {
      checked(p, f);
      return { path: p, origin: "mirror" };
    }
  }
  return undefined;
}

/** Downloads a catalogue file into the cache (atomically, sha256-checked). */
async function download(entry: CatalogueEntry, f: CatalogueFile): Promise<ResolvedFile> {
  let res: Response;
  try {
    res = await fetch(f.url, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new InputError(
      MOD,
      `cannot download ${f.url}: ${(e as Error).message}. Set TOLLKIT_NETWORK_MIRROR to a folder holding ${entry.folder}/${f.name}, or run \`tollkit networks fetch ${entry.id}\` where the internet is reachable`,
      { file: f.name },
    );
  }
  if (!res.ok) throw new InputError(MOD, `download of ${f.url} failed: HTTP ${res.status}`, { file: f.name });
  const buf = Buffer.from(await res.arrayBuffer());
  const got = sha256(buf);
  if (got !== f.sha256) throw new InputError(MOD, `downloaded ${f.url} has sha256 ${got}`, { file: f.name }, `sha256 ${f.sha256}`);
  const dest = join(cacheDir(), entry.folder, f.name);
  writeFileAtomic(dest, buf);
  return { path: dest, origin: "download" };
}

/** Resolves one file: cache, mirror, then download. */
export async function resolveFile(entry: CatalogueEntry, f: CatalogueFile): Promise<ResolvedFile> {
  return locateFile(entry, f) ?? download(entry, f);
}

/** Resolves every file of a catalogue network (fetching what is missing into the cache). */
export async function fetchNetworkFiles(id: string): Promise<Record<string, ResolvedFile>> {
  const e = catalogueEntry(id);
  const out: Record<string, ResolvedFile> = {};
  for (const [k, f] of Object.entries(e.files)) if (f) out[k] = await resolveFile(e, f);
  return out;
}

/** True when every file of a catalogue network is in the cache or the mirror. */
export function isAvailableOffline(id: string): boolean {
  const e = catalogueEntry(id);
  try {
    return Object.values(e.files).every((f) => f && locateFile(e, f) !== undefined);
  } catch {
    return false;
  }
}

/** Parses node points from a GeoJSON FeatureCollection (`properties.id`, Point geometry). */
export function parseGeojsonNodes(text: string, file: string): NodeCoordinates {
  const doc = parseJsonText(text, file, MOD, "a GeoJSON FeatureCollection of node points") as {
    features?: { properties?: { id?: unknown }; geometry?: { type?: string; coordinates?: unknown } }[];
  };
  const ids: number[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  (doc.features ?? []).forEach((ft, k) => {
    const id = Number(ft.properties?.id);
    const c = ft.geometry?.coordinates as number[] | undefined;
    if (!Number.isInteger(id) || ft.geometry?.type !== "Point" || !Array.isArray(c) || !Number.isFinite(c[0]) || !Number.isFinite(c[1])) {
      throw new InputError(MOD, "not a node point", { file, field: `features[${k}]` }, "a Point feature with a numeric properties.id");
    }
    ids.push(id);
    xs.push(c[0]);
    ys.push(c[1]);
  });
  return { ids: Float64Array.from(ids), x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

/**
 * Loads a catalogue network (resolving its files) with the catalogue's cost weights, through the
 * binary network cache (`./network-cache.ts`): the files are checked against their sha256 as
 * always, and the parsed network is taken from the cache when it was made from exactly those
 * files and catalogue settings.
 */
export async function loadCatalogueNetwork(id: string): Promise<Network> {
  const e = catalogueEntry(id);
  const files = await fetchNetworkFiles(id);
  const sources: [string, string][] = [
    ["net", e.files.net.sha256],
    ["trips", e.files.trips.sha256],
  ];
  if (e.files.node) sources.push(["node", e.files.node.sha256]);
  else if (e.files.nodeGeojson) sources.push(["nodeGeojson", e.files.nodeGeojson.sha256]);
  const options = { id: e.id, costWeights: e.costWeights, coordinateSystem: e.coordinateSystem, units: e.units };
  return loadThroughCache(networkCachePath(cacheDir(), { id: e.id }), networkCacheKey(sources, options), () =>
    parseCatalogueNetwork(e, files),
  );
}

/** Parses the resolved files of a catalogue network. */
function parseCatalogueNetwork(e: CatalogueEntry, files: Record<string, ResolvedFile>): Network {
  const netText = readFileSync(files.net.path, "utf8");
  const part = parseTntpNet(netText, files.net.path);
  const demand = parseTntpTrips(readFileSync(files.trips.path, "utf8"), files.trips.path, part.zoneCount, part.warnings);
  let coords: NodeCoordinates | undefined;
  if (files.node) coords = parseTntpNodes(readFileSync(files.node.path, "utf8"), files.node.path);
  else if (files.nodeGeojson) coords = parseGeojsonNodes(readFileSync(files.nodeGeojson.path, "utf8"), files.nodeGeojson.path);
  return assembleTntp(part, demand, coords, {
    name: e.id,
    nodeFile: files.node?.path ?? files.nodeGeojson?.path,
    costWeights: e.costWeights,
    coordinateSystem: e.coordinateSystem,
    units: e.units,
  });
}

/** The best-known link flows of a catalogue network (its flow file), indexed by link. */
export async function loadBestKnownFlows(net: Network, id: string): Promise<Float64Array | undefined> {
  const e = catalogueEntry(id);
  if (!e.files.flow) return undefined;
  const f = await resolveFile(e, e.files.flow);
  return flowsByLink(net, parseTntpFlow(readFileSync(f.path, "utf8"), f.path), f.path);
}

/**
 * The summary of a network that `tollkit networks info` prints and `GET /api/networks/:id`
 * returns: dimensions, total demand, FIRST THRU NODE, cost weights, coordinate system, units,
 * the best-known objective where published, the source and any warnings from reading it.
 * @param id how the network was named (catalogue id, built-in id or path)
 */
export function networkSummary(id: string, net: Network) {
  const entry = loadCatalogue().networks.find((n) => n.id === id);
  const builtin = !entry && networkIdKind(id) === "builtin";
  let total = 0;
  for (let i = 0; i < net.demand.length; i++) total += net.demand[i];
  return {
    id,
    name: entry?.name ?? (builtin ? BUILTIN_NETWORKS[id].description : net.name),
    kind: entry ? "catalogue" : builtin ? "builtin" : "file",
    zones: net.zoneCount,
    nodes: net.nodeCount,
    links: net.linkCount,
    totalDemand: total,
    firstThruNode: net.firstThruNode,
    costWeights: net.costWeights,
    coordinateSystem: net.coordinateSystem,
    units: net.units,
    bestKnownObjective: entry?.bestKnownObjective ?? null,
    source: entry ? entry.files.net.url : builtin ? "built-in" : id,
    warnings: net.warnings,
  };
}

/**
 * Networks named by path are cached only when their files add up to at least this many bytes:
 * smaller ones parse in a few milliseconds, and every folder of files would otherwise leave a
 * cache file behind (tests write many).
 */
const MIN_CACHED_BYTES = 1 << 20;

/**
 * Reads a `*_net.tntp` network (with its trips and node files beside it) through the binary
 * network cache, keyed by the sha256 of the files as they are now: a changed file is parsed
 * again. A file that cannot be read is left to {@link readTntpNetwork}'s own message.
 */
function readTntpNetworkCached(netPath: string): Network {
  const parse = () => readTntpNetwork(netPath);
  if (!networkCacheEnabled()) return parse();
  const sources: [string, string][] = [];
  try {
    const { tripsPath, nodePath } = tntpCompanionFiles(netPath);
    const files: [string, string][] = [
      ["net", netPath],
      ["trips", tripsPath],
    ];
    if (nodePath !== undefined) files.push(["node", nodePath]);
    let bytes = 0;
    for (const [, p] of files) bytes += statSync(p).size;
    if (bytes < MIN_CACHED_BYTES) return parse();
    for (const [role, p] of files) {
      checkInputSize(p, MOD);
      sources.push([role, sha256(readFileSync(p))]);
    }
  } catch {
    return parse(); // the reader says what is wrong with the files
  }
  const full = resolve(netPath);
  return loadThroughCache(networkCachePath(cacheDir(), { path: full }), networkCacheKey(sources, { path: full }), parse);
}

/**
 * Loads a network from any of the ways a user names one: a catalogue id (`sioux-falls`), a
 * built-in id (`two-route`, `braess-builtin`, `pigou`, `grid-city`), a path to a `*_net.tntp`
 * file (its `*_trips.tntp` beside it), or a GMNS folder (node.csv, link.csv, demand.csv).
 */
export async function loadNetwork(spec: string): Promise<Network> {
  const kind = networkIdKind(spec);
  if (kind === "builtin") return builtinNetwork(spec);
  if (kind === "catalogue") return loadCatalogueNetwork(spec);
  if (existsSync(spec)) {
    const st = statSync(spec);
    if (st.isDirectory()) return readGmnsNetwork(spec);
    if (/_net\.tntp$/i.test(spec)) return readTntpNetworkCached(spec);
    throw new InputError(MOD, "not a network file", { file: spec }, "a *_net.tntp file or a GMNS folder");
  }
  return catalogueEntry(spec) as never; // throws the unknown-network message
}
