/**
 * The networks the API serves: supported catalogue networks and built-ins, by id only (a
 * request can never name a file). Loaded networks are kept in a small cache; their summaries
 * are also cached in the database so that a restart does not reload large files to answer
 * `GET /api/networks/:id`.
 *
 * What the map and the network pages read (a network's GeoJSON, a run's flows as GeoJSON, a
 * network's summary) is built in a worker thread (./map-worker.ts), never on the event loop,
 * and kept as bytes (with a gzip copy) in small caches: networks by id, runs by run id
 * ({@link NetworkRegistry.forgetRun} drops a run's entry, e.g. when the run is deleted).
 */
import {
  BUILTIN_NETWORKS,
  buildNetwork,
  isAvailableOffline,
  isInputError,
  isNetworkId,
  loadCatalogue,
  Network,
  NetworkSpec,
  networkSummary,
} from "@tollkit/graph-core";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ComparedRun, LinkColumns } from "@tollkit/runs";
import { ApiError } from "./errors.js";
import type { MapReply, MapRequest, NetworkSource } from "./map-worker.js";
import { loadRunNetwork } from "@tollkit/runs";
import { networkIdMessage } from "./schemas.js";
import { storageFailure, Store } from "./store.js";

/** One row of `GET /api/networks`. */
export interface NetworkSummary {
  id: string;
  name: string;
  kind: "catalogue" | "builtin";
  zones: number;
  nodes: number;
  links: number;
  available: "local" | "download";
  coordinateSystem: string;
}

/** How long the availability of a catalogue network's files is remembered, ms. */
const AVAILABILITY_TTL_MS = 60_000;

/** Loaded networks kept in memory (most recently used last). */
const CACHE_SIZE = 4;

/** Runs whose flows GeoJSON is kept in memory. */
const RUN_CACHE_SIZE = 16;

/** A JSON answer as bytes, with its gzip copy. */
export interface EncodedBody {
  body: Buffer;
  gzip: Buffer;
}

/** The built map worker: beside this module in dist, or in ../dist when running from src. */
function mapWorkerPath(): string {
  for (const rel of ["./map-worker.js", "../dist/map-worker.js"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("api/networks: map-worker.js not found; build the api package first (pnpm build)");
}

type MapJob = MapRequest extends infer R ? (R extends MapRequest ? Omit<R, "id"> : never) : never;

/** One worker thread for the map's work, started on first use; requests are answered in order. */
class MapWorker {
  private worker: Worker | undefined;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: MapReply) => void; reject: (e: Error) => void }>();

  request(job: MapJob): Promise<MapReply> {
    const w = (this.worker ??= this.start());
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ ...job, id });
    });
  }

  private start(): Worker {
    const w = new Worker(mapWorkerPath());
    w.unref();
    w.on("message", (r: MapReply) => {
      const p = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      p?.resolve(r);
    });
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.waiting.values()) p.reject(new Error(`api/networks: the map worker stopped: ${e.message}`));
      this.waiting.clear();
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`exit code ${code}`)));
    return w;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

/** The networks requests may name, with caches of loaded networks, their summaries and GeoJSON. */
export class NetworkRegistry {
  private readonly builtins = new Map<string, Network>();
  private readonly cache = new Map<string, Promise<Network>>();
  private readonly geojsonCache = new Map<string, Promise<EncodedBody>>();
  private readonly runCache = new Map<string, Promise<EncodedBody>>();
  private readonly worker = new MapWorker();
  private readonly available = new Map<string, { value: "local" | "download"; at: number }>();

  constructor(private readonly store: Store) {
    for (const id of Object.keys(BUILTIN_NETWORKS)) this.builtins.set(id, BUILTIN_NETWORKS[id].make());
    store.syncNetworks([
      ...loadCatalogue()
        .networks.filter((n) => n.supported !== false)
        .map((n) => ({ id: n.id, kind: "catalogue" as const, name: n.name })),
      ...Object.entries(BUILTIN_NETWORKS).map(([id, b]) => ({ id, kind: "builtin" as const, name: b.description })),
    ]);
  }

  /** True when `id` names a network that requests may use. */
  has(id: string): boolean {
    return isNetworkId(id, { supportedOnly: true });
  }

  /** Throws a 404 (or a 400 for path-like ids) unless `id` is known. */
  check(id: string): void {
    if (this.has(id)) return;
    const looksLikePath = /[/\\]|\.\.|^\.|:/.test(id);
    throw new ApiError(looksLikePath ? 400 : 404, `api: ${networkIdMessage(id)}`, { path: "id", in: "params" });
  }

  /** Every network, catalogue first. */
  list(): NetworkSummary[] {
    return [
      ...loadCatalogue()
        .networks.filter((n) => n.supported !== false)
        .map((n) => ({
          id: n.id,
          name: n.name,
          kind: "catalogue" as const,
          zones: n.dimensions.zones,
          nodes: n.dimensions.nodes,
          links: n.dimensions.links,
          available: this.availability(n.id),
          coordinateSystem: n.coordinateSystem,
        })),
      ...[...this.builtins.entries()].map(([id, net]) => ({
        id,
        name: BUILTIN_NETWORKS[id].description,
        kind: "builtin" as const,
        zones: net.zoneCount,
        nodes: net.nodeCount,
        links: net.linkCount,
        available: "local" as const,
        coordinateSystem: net.coordinateSystem,
      })),
    ];
  }

  /**
   * Whether a catalogue network's files are here (cache or mirror) or must be downloaded.
   * Checking reads and hashes every file, so the answer is kept for {@link AVAILABILITY_TTL_MS}.
   */
  private availability(id: string): "local" | "download" {
    const now = Date.now();
    const c = this.available.get(id);
    if (c && now - c.at < AVAILABILITY_TTL_MS) return c.value;
    const value = isAvailableOffline(id) ? ("local" as const) : ("download" as const);
    this.available.set(id, { value, at: now });
    return value;
  }

  /** Number of links of a known network, without loading it. */
  linkCount(id: string): number {
    const b = this.builtins.get(id);
    if (b) return b.linkCount;
    const e = loadCatalogue().networks.find((n) => n.id === id);
    if (!e) throw new Error(`api/networks: unknown network ${id}`);
    return e.dimensions.links;
  }

  /**
   * Loads a known network (cached). A catalogue network whose files cannot be resolved here is
   * a 503 naming what to do.
   */
  async load(id: string): Promise<Network> {
    const inline = /^scenario:([0-9]+)$/.exec(id);
    if (inline) return this.loadInline(id, Number(inline[1]));
    this.check(id);
    const b = this.builtins.get(id);
    if (b) return b;
    let p = this.cache.get(id);
    if (p) {
      this.cache.delete(id);
      this.cache.set(id, p);
      return p;
    }
    p = loadRunNetwork(id).catch((e: unknown) => {
      this.cache.delete(id);
      if (isInputError(e)) throw new ApiError(503, `api: network "${id}" cannot be loaded on this server: ${(e as Error).message}`);
      throw e;
    });
    this.remember(id, p);
    return p;
  }

  /** The inline network of a stored scenario (network reference `scenario:<id>`). */
  private loadInline(ref: string, scenarioId: number): Promise<Network> {
    let p = this.cache.get(ref);
    if (!p) {
      const s = this.store.getScenario(scenarioId);
      if (!s) throw new ApiError(404, `api: scenario ${scenarioId} (the network ${ref}) does not exist`);
      p = Promise.resolve(buildNetwork((s.body as { network: NetworkSpec }).network));
      this.remember(ref, p);
    }
    return p;
  }

  private remember(ref: string, p: Promise<Network>): void {
    this.cache.set(ref, p);
    while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Where the worker finds a network: its id, or a stored scenario's inline network. */
  private source(ref: string): NetworkSource {
    const inline = /^scenario:([0-9]+)$/.exec(ref);
    if (!inline) {
      this.check(ref);
      return { ref };
    }
    const s = this.store.getScenario(Number(inline[1]));
    if (!s) throw new ApiError(404, `api: scenario ${inline[1]} (the network ${ref}) does not exist`);
    return { ref, spec: (s.body as { network: NetworkSpec }).network };
  }

  /** Asks the map worker; its errors as the API says them (503: the network cannot be loaded here; 409: a result that no longer matches). */
  private async ask(job: MapJob): Promise<MapReply & { ok: true }> {
    const r = await this.worker.request(job);
    if (r.ok) return r;
    if (r.mismatch) throw new ApiError(409, r.message);
    if (r.inputError) throw new ApiError(503, `api: network "${job.ref}" cannot be loaded on this server: ${r.message}`);
    throw new Error(`api/networks: the map worker failed on ${job.op} ${job.ref}: ${r.message}`);
  }

  /** A cached encoded answer, built once (a failure is not kept). */
  private static cached<K>(
    cache: Map<K, Promise<EncodedBody>>,
    key: K,
    size: number,
    make: () => Promise<EncodedBody>,
  ): Promise<EncodedBody> {
    let p = cache.get(key);
    if (p) cache.delete(key);
    else {
      p = make();
      p.catch(() => cache.get(key) === p && cache.delete(key));
    }
    cache.set(key, p);
    while (cache.size > size) cache.delete(cache.keys().next().value!);
    return p;
  }

  private async encodedOf(job: MapJob): Promise<EncodedBody> {
    const r = await this.ask(job);
    return {
      body: Buffer.from(r.body!.buffer, r.body!.byteOffset, r.body!.byteLength),
      gzip: Buffer.from(r.gzip!.buffer, r.gzip!.byteOffset, r.gzip!.byteLength),
    };
  }

  /**
   * A run's flows as GeoJSON bytes (built in the worker; kept by run id). `links` is read only
   * when the answer is not cached.
   */
  runGeojson(runId: number, networkRef: string, links: () => LinkColumns): Promise<EncodedBody> {
    return NetworkRegistry.cached(this.runCache, `${runId}/geojson`, RUN_CACHE_SIZE, async () =>
      this.encodedOf({ op: "run-geojson", ...this.source(networkRef), links: links() }),
    );
  }

  /**
   * A run's per-link results as the flows route serves them (`json`: `{run, network, links: [...]}`;
   * `csv`: the CLI's flows.csv), built in the worker and kept by run id.
   */
  runFlows(runId: number, networkRef: string, format: "json" | "csv", links: () => LinkColumns): Promise<EncodedBody> {
    return NetworkRegistry.cached(this.runCache, `${runId}/${format}`, RUN_CACHE_SIZE, async () =>
      this.encodedOf(
        format === "json" ? { op: "run-rows", ref: networkRef, runId, links: links() } : { op: "run-csv", ref: networkRef, links: links() },
      ),
    );
  }

  /**
   * The comparison of two done runs of one network (`GET /api/compare`: headline and per-link
   * differences, b − a), built and serialised in the worker (28 000 rows on Berlin-Center are
   * megabytes of JSON) and kept by the pair of run ids. `runs` is read only when the answer is
   * not cached.
   */
  compare(a: number, b: number, runs: () => [ComparedRun<number>, ComparedRun<number>]): Promise<EncodedBody> {
    return NetworkRegistry.cached(this.runCache, `${a}/${b}/compare`, RUN_CACHE_SIZE, async () => {
      const [ra, rb] = runs();
      return this.encodedOf({ op: "compare", ref: ra.network, a: ra, b: rb });
    });
  }

  /** Drops what is cached of a run (its flows as GeoJSON, JSON and CSV, its comparisons): call it when a run is deleted. */
  forgetRun(runId: number): void {
    for (const f of ["geojson", "json", "csv"]) this.runCache.delete(`${runId}/${f}`);
    for (const k of [...this.runCache.keys()]) {
      const m = /^(\d+)\/(\d+)\/compare$/.exec(k);
      if (m && (Number(m[1]) === runId || Number(m[2]) === runId)) this.runCache.delete(k);
    }
  }

  /** Stops the map worker. */
  close(): Promise<void> {
    return this.worker.close();
  }

  /** The summary of a network (dimensions, demand, FIRST THRU NODE, cost weights, …), cached in the store. */
  async info(id: string): Promise<Record<string, unknown>> {
    this.check(id);
    const cached = this.builtins.has(id) ? undefined : this.store.networkInfo(id);
    if (cached) return cached;
    const info = this.builtins.has(id) ? networkSummary(id, this.builtins.get(id)!) : (await this.ask({ op: "info", ref: id })).info!;
    // a cache only: a database that refuses the write (a full disk) costs a reload later, not this answer
    if (info.kind === "catalogue")
      try {
        this.store.setNetworkInfo(id, info);
      } catch (e) {
        if (!storageFailure(e)) throw e;
      }
    return info;
  }

  /** The network's links as a GeoJSON FeatureCollection (bytes, built in the worker, cached). */
  geojson(id: string): Promise<EncodedBody> {
    const src = this.source(id); // an id (checked) or a stored scenario's inline network
    return NetworkRegistry.cached(this.geojsonCache, id, CACHE_SIZE, () => this.encodedOf({ op: "network-geojson", ...src }));
  }
}
