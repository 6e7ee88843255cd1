/**
 * The map worker: a worker thread that loads networks and builds what the map and the network
 * pages read (a network's GeoJSON, a run's flows as GeoJSON, JSON rows or CSV, a network's
 * summary, the per-link comparison of two runs), so that
 * parsing a Berlin-Center file (~1 s) or serialising its 28 000 features never stalls the
 * server's event loop. Answers are UTF-8 bytes, with a gzip copy for clients that accept it
 * (compressed here once, not per request), transferred without a copy.
 *
 * Protocol: the server posts {@link MapRequest}s; the worker answers each with one
 * {@link MapReply} of the same `id`. Networks are cached here (the last few used).
 */
import { parentPort } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import { buildNetwork, isInputError, linksToGeojson, Network, NetworkSpec, networkSummary } from "@tollkit/graph-core";
import { compareRuns, linkCsv, linkGeojson, linkRows, loadRunNetwork } from "@tollkit/runs";
import type { ComparedRun, LinkColumns } from "@tollkit/runs";

/** Where a network comes from: an id, or the inline network of a stored scenario (`scenario:<id>`). */
export interface NetworkSource {
  ref: string;
  /** The inline network (for `scenario:<id>` refs). */
  spec?: NetworkSpec;
}

/** A request to the map worker. */
export type MapRequest = { id: number } & NetworkSource &
  (
    | { op: "network-geojson" }
    | { op: "run-geojson"; links: LinkColumns }
    | { op: "info" }
    /** `GET /api/runs/:id/flows?format=json` (needs no network) */
    | { op: "run-rows"; runId: number; links: LinkColumns }
    /** `GET /api/runs/:id/flows?format=csv` (needs no network) */
    | { op: "run-csv"; links: LinkColumns }
    /** `GET /api/compare` (needs no network; the runs are checked to be of one network before) */
    | { op: "compare"; a: ComparedRun<number>; b: ComparedRun<number> }
  );

/** The worker's answer. */
export type MapReply =
  | { id: number; ok: true; body?: Uint8Array; gzip?: Uint8Array; info?: Record<string, unknown> }
  | { id: number; ok: false; message: string; inputError: boolean; mismatch?: boolean };

const CACHE_SIZE = 4;
const cache = new Map<string, Promise<Network>>();

function network(src: NetworkSource): Promise<Network> {
  let p = cache.get(src.ref);
  if (p) {
    cache.delete(src.ref);
  } else {
    p = src.spec ? Promise.resolve().then(() => buildNetwork(src.spec!)) : loadRunNetwork(src.ref);
    p.catch(() => cache.delete(src.ref));
  }
  cache.set(src.ref, p);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return p;
}

function encoded(value: unknown, text = false): { body: Uint8Array; gzip: Uint8Array } {
  // arrays of their own (a small Buffer may share Node's pool, which must not be transferred)
  const body = new TextEncoder().encode(text ? (value as string) : JSON.stringify(value));
  return { body, gzip: new Uint8Array(gzipSync(body, { level: 6 })) };
}

async function answer(r: MapRequest): Promise<MapReply> {
  try {
    if (r.op === "run-rows") return { id: r.id, ok: true, ...encoded({ run: r.runId, network: r.ref, links: linkRows(r.links) }) };
    if (r.op === "run-csv") return { id: r.id, ok: true, ...encoded(linkCsv(r.links), true) };
    if (r.op === "compare") return { id: r.id, ok: true, ...encoded(compareRuns(r.a, r.b)) };
    const net = await network(r);
    if (r.op === "info") return { id: r.id, ok: true, info: networkSummary(r.ref, net) as unknown as Record<string, unknown> };
    if (r.op === "network-geojson") return { id: r.id, ok: true, ...encoded(linksToGeojson(net)) };
    if (net.linkCount !== r.links.linkCount)
      return {
        id: r.id,
        ok: false,
        inputError: false,
        mismatch: true,
        message: `api: network ${net.name} now has ${net.linkCount} links but the run's result has ${r.links.linkCount}`,
      };
    return { id: r.id, ok: true, ...encoded(linkGeojson(net, r.links)) };
  } catch (e) {
    return { id: r.id, ok: false, inputError: isInputError(e), message: (e as Error).message ?? String(e) };
  }
}

parentPort?.on("message", (r: MapRequest) => {
  void answer(r).then((reply) => {
    const transfer = reply.ok ? [reply.body?.buffer, reply.gzip?.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer) : [];
    parentPort!.postMessage(reply, transfer);
  });
});
