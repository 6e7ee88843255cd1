/**
 * The binary network cache: a parsed network (its typed arrays and the fields around them)
 * kept next to the catalogue's file cache, in `<cache>/parsed/`, so that loading Chicago-Sketch or
 * Berlin-Center does not parse megabytes of TNTP text again.
 *
 * Format: one file per network source (`<catalogue id>.bin`, or `file-<hash of the path>.bin` for
 * a network named by its `*_net.tntp` path) holding Node's structured serialisation
 * (`node:v8` `serialize`, the format `structuredClone` and worker messages use) of
 * `{ format, key, network }`. Typed arrays are stored as their raw bytes, so a cached network is
 * bit-identical to the parsed one (every Float64Array compares equal bit for bit).
 *
 * Key: the sha256 of the cache format, of the reader modules' own code (so that a new version of
 * the TNTP reader never meets an old cache), of every source file's own sha256 (net, trips, node
 * coordinates: whichever were read) and of the options that shaped the network (a catalogue
 * entry's name, cost weights, coordinate system, units). A network is taken from the cache only
 * when the key stored in the file equals the key of the files as they are now: a changed file (or
 * catalogue entry) is parsed again and its cache file replaced. A cache file that cannot be read
 * (truncated, another serialisation version) counts as absent. Files are written atomically (a
 * temporary name, then a rename), so a reader never sees half of one.
 *
 * `TOLLKIT_NETWORK_BINARY_CACHE=0` turns the cache off (parse every time; benchmarks compare both).
 * {@link CACHE_FORMAT} names the layout of the cached object; bump it when that layout changes.
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import { writeFileAtomic } from "./io.js";
import { Network } from "./network.js";

/** Version of the cached content; part of every key. */
export const CACHE_FORMAT = "tollkit-network-1";

/** True unless `TOLLKIT_NETWORK_BINARY_CACHE` is `0`, `off` or `false`. */
export function networkCacheEnabled(): boolean {
  const v = process.env.TOLLKIT_NETWORK_BINARY_CACHE;
  return v === undefined || !/^(0|off|false|no)$/i.test(v.trim());
}

/** sha256 (hex) of some bytes. */
export function sha256Hex(buf: Uint8Array | string): string {
  return createHash("sha256").update(buf).digest("hex");
}

/**
 * The cache key of a network: the format, the sha256 of each source file (in a fixed order, each
 * labelled by its role, e.g. `net`, `trips`, `node`) and the options that shaped it (as JSON).
 */
export function networkCacheKey(sources: readonly [role: string, sha256: string][], options: unknown): string {
  const h = createHash("sha256");
  h.update(CACHE_FORMAT);
  h.update(readerCodeHash());
  for (const [role, sha] of sources) h.update(`\n${role}:${sha}`);
  h.update(`\noptions:${JSON.stringify(options ?? null)}`);
  return h.digest("hex");
}

/** The modules whose code decides what a network file parses to (their compiled files sit beside this one). */
const READER_MODULES = ["tntp.js", "network.js", "vdf.js", "catalogue.js", "network-cache.js"];
let readerHash: string | undefined;

/**
 * Set by the CLI bundle (packages/cli/scripts/bundle.ts, esbuild `define`) to
 * {@link readerCodeHashIn} of the graph-core build it bundled, whose files no longer sit beside
 * the bundled code; undefined everywhere else.
 */
declare const __TOLLKIT_READER_HASH__: string | undefined;

/**
 * sha256 of the reader modules' code in `dir` (a graph-core `dist/`, or `src/` under tsx, where
 * they are .ts files), so that a cache made by another version of the TNTP reader (or of the
 * network model it fills) is never used, even when {@link CACHE_FORMAT} was not bumped.
 */
export function readerCodeHashIn(dir: string): string {
  const h = createHash("sha256");
  for (const m of READER_MODULES) {
    const p = join(dir, m);
    const file = existsSync(p) ? p : p.replace(/\.js$/, ".ts");
    h.update(`${m}:`);
    h.update(existsSync(file) ? readFileSync(file) : "missing");
  }
  return h.digest("hex");
}

function readerCodeHash(): string {
  if (readerHash === undefined)
    readerHash =
      typeof __TOLLKIT_READER_HASH__ === "string" ? __TOLLKIT_READER_HASH__ : readerCodeHashIn(dirname(fileURLToPath(import.meta.url)));
  return readerHash;
}

/** Where the cached network of `identity` lives (`identity` is a catalogue id, or a file path). */
export function networkCachePath(cacheDir: string, identity: { id: string } | { path: string }): string {
  const name = "id" in identity ? identity.id.replace(/[^A-Za-z0-9._-]/g, "_") : `file-${sha256Hex(identity.path).slice(0, 24)}`;
  return join(cacheDir, "parsed", `${name}.bin`);
}

interface CachedFile {
  format: string;
  key: string;
  network: Network;
}

/**
 * The network cached at `file` when its key is `key`; undefined when there is no such file, it
 * holds another key (its sources changed) or it cannot be read.
 */
export function readCachedNetwork(file: string, key: string): Network | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  try {
    const c = deserialize(buf) as CachedFile;
    if (c && c.format === CACHE_FORMAT && c.key === key && c.network && typeof c.network === "object") return c.network;
  } catch {
    // truncated, or written by another serialisation version: parse again
  }
  return undefined;
}

/**
 * Writes `net` to the cache file under `key` (atomically).
 * @returns undefined, or a warning when the file could not be written (the load goes on without it)
 */
export function writeCachedNetwork(file: string, key: string, net: Network): string | undefined {
  const c: CachedFile = { format: CACHE_FORMAT, key, network: net };
  try {
    writeFileAtomic(file, serialize(c));
    return undefined;
  } catch (e) {
    return `network cache: not written (${(e as Error).message}); the network is parsed from its files every time`;
  }
}

/**
 * Loads a network through the cache: the cached copy when its key matches, otherwise `parse()`,
 * whose result is then cached. A failure to write the cache is added to the network's warnings.
 * With the cache turned off ({@link networkCacheEnabled}), `parse()` alone.
 */
export function loadThroughCache(file: string, key: string, parse: () => Network): Network {
  if (!networkCacheEnabled()) return parse();
  const hit = readCachedNetwork(file, key);
  if (hit) return hit;
  const net = parse();
  const warning = writeCachedNetwork(file, key, net);
  if (warning) net.warnings.push(warning);
  return net;
}
