/**
 * The rules a request must pass before any work is queued: run and scenario lookups, the
 * server's limits on work (grid points, solves, seconds, inline network size, queue length),
 * inline networks that build, tolls on existing links. Every refusal is an {@link ApiError}
 * naming the JSON path, what was given, and the limit with the option that raises it.
 * Routes call these; they hold no rules of their own.
 */
import { buildNetwork, isInputError, jsonPath, NetworkSpec, schemaInputError } from "@tollkit/graph-core";
import { ApiError, bodyError } from "./errors.js";
import { AssignSettings, NetworkId } from "./schemas.js";
import type { RunService } from "./service.js";
import type { RunRow, Store } from "./store.js";

/** The server's limits on the work one request may ask for (checked before a run is queued). */
export interface WorkLimits {
  /** Longest run, seconds (the default `maxSeconds`): `serve --max-run-seconds`. */
  maxRunSeconds: number;
  /** Most nodes or links of an inline network: `serve --max-inline-links`. */
  maxInlineLinks: number;
  /** Most zones of an inline network (its demand matrix has zones² cells): `serve --max-inline-zones`. */
  maxInlineZones: number;
  /** Most demand entries (OD pairs) of an inline network: `serve --max-inline-od-pairs`. */
  maxInlineOdPairs: number;
  /** Most grid points of a grid design (the product over its axes): `serve --max-grid-points`. */
  maxGridPoints: number;
  /** Largest solve budget (`method.maxSolves`) of a search: `serve --max-solves`. */
  maxSolves: number;
  /** Most runs waiting in the queue; beyond it POST /api/runs answers 429: `serve --max-queued`. */
  maxQueued: number;
}

/** Defaults that fit a 2-core machine with a few GiB for runs. */
export const DEFAULT_WORK_LIMITS: Readonly<WorkLimits> = Object.freeze({
  maxRunSeconds: 3600,
  maxInlineLinks: 20_000,
  maxInlineZones: 2_000,
  maxInlineOdPairs: 200_000,
  maxGridPoints: 2_500,
  maxSolves: 5_000,
  maxQueued: 1000,
});

/** The `serve` option that raises each limit (named in refusals). */
export const LIMIT_OPTIONS: Record<keyof WorkLimits, string> = {
  maxRunSeconds: "--max-run-seconds",
  maxInlineLinks: "--max-inline-links",
  maxInlineZones: "--max-inline-zones",
  maxInlineOdPairs: "--max-inline-od-pairs",
  maxGridPoints: "--max-grid-points",
  maxSolves: "--max-solves",
  maxQueued: "--max-queued",
};

type Where = { path: string; in: "params" | "query" };

/** A refusal for a value above a limit: 400 (413 for sizes), naming the path, the limit and its option. */
function overLimit(path: string, got: string, key: keyof WorkLimits, limit: number, status = 400, unit = ""): ApiError {
  return bodyError(
    path,
    `${got} is above this server's limit of ${limit}${unit}`,
    `at most ${limit}${unit} (raise it with tollkit serve ${LIMIT_OPTIONS[key]})`,
    status,
  );
}

/** The run, or 404. */
export function runOr404(service: RunService, id: number, where: Where = { path: "id", in: "params" }): RunRow {
  const run = service.get(id);
  if (!run) throw new ApiError(404, `api: run ${id} does not exist`, where);
  return run;
}

/** Whether a run has results to show: done, or a failed design that kept its best design so far. */
export function hasResults(store: Store, run: RunRow): boolean {
  return run.status === "done" || (run.status === "failed" && store.hasResults(run.id));
}

/** Refuses (409) a run without results. */
export function doneOr409(run: RunRow, store: Store, where: Where = { path: "id", in: "params" }): void {
  if (!hasResults(store, run))
    throw new ApiError(409, `api: run ${run.id} is ${run.status}; its results exist only once it is done`, where);
}

/** Prefixes the JSON path of a scenario inside its request (`scenario` in a run request) to a path. */
export function under(at: string, path: string): string {
  return at ? `${at}.${path}` : path;
}

/**
 * Refuses an inline network larger than the server accepts (before anything else looks at it):
 * nodes and links, zones, demand entries; `at` is the scenario's path in the body.
 */
export function checkInlineSize(network: unknown, limits: WorkLimits, at: string): void {
  if (!network || typeof network !== "object") return;
  const spec = network as Record<string, unknown>;
  for (const [k, key] of [
    ["nodes", "maxInlineLinks"],
    ["links", "maxInlineLinks"],
    ["demand", "maxInlineOdPairs"],
  ] as const) {
    const n = Array.isArray(spec[k]) ? (spec[k] as unknown[]).length : 0;
    if (n > limits[key]) throw overLimit(under(at, `network.${k}`), `the inline network has ${n} ${k} entries`, key, limits[key], 413);
  }
  const zones = spec.zones;
  if (typeof zones === "number" && zones > limits.maxInlineZones)
    throw overLimit(under(at, "network.zones"), `got ${zones} zones`, "maxInlineZones", limits.maxInlineZones, 413);
}

/**
 * Refuses a scenario that asks for more work than the server allows: grid points (the product
 * over the axes), a search's solve budget, the follower's time limit. Checked on the posted JSON
 * (after it parsed), so nothing is solved before the refusal.
 */
export function checkScenarioWork(body: unknown, limits: WorkLimits, at: string): void {
  const s = body as { method?: { type?: string; points?: number | number[]; maxSolves?: number }; follower?: { maxSeconds?: number } };
  const m = s?.method;
  if (m?.type === "grid") {
    const pts = m.points === undefined ? [21] : Array.isArray(m.points) ? m.points : [m.points];
    const total = pts.reduce((a, b) => a * b, 1);
    if (total > limits.maxGridPoints)
      throw overLimit(
        under(at, "method.points"),
        `${pts.join(" × ")} = ${total} grid points (an equilibrium each)`,
        "maxGridPoints",
        limits.maxGridPoints,
      );
  }
  if (typeof m?.maxSolves === "number" && m.maxSolves > limits.maxSolves)
    throw overLimit(under(at, "method.maxSolves"), `a budget of ${m.maxSolves} solves`, "maxSolves", limits.maxSolves);
  const fs = s?.follower?.maxSeconds;
  if (typeof fs === "number" && fs > limits.maxRunSeconds)
    throw overLimit(under(at, "follower.maxSeconds"), `${fs} s`, "maxRunSeconds", limits.maxRunSeconds, 400, " s");
}

/** The run's time limit: the request's, at most the server's (the server's by default). */
export function checkMaxSeconds(maxSeconds: number | undefined, limits: WorkLimits): number {
  if (maxSeconds !== undefined && maxSeconds > limits.maxRunSeconds)
    throw overLimit("settings.maxSeconds", `${maxSeconds} s`, "maxRunSeconds", limits.maxRunSeconds, 400, " s");
  return maxSeconds ?? limits.maxRunSeconds;
}

/** Checks a valid scenario's `network`: an allowed id (never a path), or an inline network that builds; `at`: the scenario's path in the body. */
export function checkScenarioNetwork(network: unknown, at: string): { ref: string | null } {
  if (typeof network === "string") {
    const r = NetworkId.safeParse(network);
    if (!r.success) {
      const e = schemaInputError(r.error.issues, network, { module: "api", file: "request body", at: [under(at, "network")] });
      throw new ApiError(400, e.message, { path: e.field, in: "body" });
    }
    return { ref: network };
  }
  checkBody(() => buildNetwork(network as NetworkSpec, { file: "request body", path: under(at, "network") }));
  return { ref: null };
}

/**
 * Runs a check of the request body that throws InputError (the leader's scenario parser, the
 * follower's classes check) and turns its error into a 400 naming the JSON path.
 */
export function checkBody(check: () => unknown): void {
  try {
    check();
  } catch (e) {
    if (!isInputError(e)) throw e;
    const field = (e as { field?: string }).field;
    throw new ApiError(
      400,
      `api: ${(e as Error).message}`,
      field && field !== "(top level)" ? { path: field, in: "body" } : { in: "body" },
    );
  }
}

/** Resolves an assign run's settings (user classes are checked by their schema): tolls on existing links, the stopping rules, the server's time limit. */
export function effectiveAssignSettings(s: AssignSettings, linkCount: number, limits: WorkLimits): AssignSettings {
  const seen = new Set<number>();
  (s.tolls ?? []).forEach((t, k) => {
    const path = jsonPath(["settings", "tolls", k, "link"]);
    if (t.link > linkCount)
      throw bodyError(path, `link ${t.link} does not exist`, `a link id in 1..${linkCount}: the network has ${linkCount} links`);
    if (seen.has(t.link)) throw bodyError(path, `link ${t.link} is tolled twice`, "each link listed once");
    seen.add(t.link);
  });
  return { ...s, maxSeconds: checkMaxSeconds(s.maxSeconds, limits) };
}

/** Refuses (429, with Retry-After) a run when the queue is full. */
export function checkQueueRoom(service: RunService, limits: WorkLimits): void {
  if (service.queue.stats().queued >= limits.maxQueued)
    throw new ApiError(
      429,
      `api: ${limits.maxQueued} runs are already waiting (this server's limit; raise it with tollkit serve ${LIMIT_OPTIONS.maxQueued}); try again when some have finished`,
      {},
      { "Retry-After": "30" },
    );
}
