/**
 * The networks the API serves: supported catalogue networks and built-ins, by id only (a
 * request can never name a file). Loaded networks are kept in a small cache; their summaries
 * are also cached in the database so that a restart does not reload large files to answer
 * `GET /api/networks/:id`.
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
import { ApiError } from "./errors.js";
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

/** The networks requests may name, with caches of loaded networks, their summaries and GeoJSON. */
export class NetworkRegistry {
  private readonly builtins = new Map<string, Network>();
  private readonly cache = new Map<string, Promise<Network>>();
  private readonly geojsonCache = new Map<string, string>();
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

  /** The summary of a network (dimensions, demand, FIRST THRU NODE, cost weights, …), cached in the store. */
  async info(id: string): Promise<Record<string, unknown>> {
    this.check(id);
    const cached = this.builtins.has(id) ? undefined : this.store.networkInfo(id);
    if (cached) return cached;
    const net = await this.load(id);
    const info = networkSummary(id, net);
    // a cache only: a database that refuses the write (a full disk) costs a reload later, not this answer
    if (info.kind === "catalogue")
      try {
        this.store.setNetworkInfo(id, info);
      } catch (e) {
        if (!storageFailure(e)) throw e;
      }
    return info;
  }

  /** The network's links as a GeoJSON FeatureCollection string (cached). */
  async geojson(id: string, build: (net: Network) => unknown): Promise<string> {
    let s = this.geojsonCache.get(id);
    if (s === undefined) {
      s = JSON.stringify(build(await this.load(id)));
      this.geojsonCache.set(id, s);
      while (this.geojsonCache.size > CACHE_SIZE) this.geojsonCache.delete(this.geojsonCache.keys().next().value!);
    }
    return s;
  }
}
