/**
 * The HTTP client of the web map: typed calls to the tollkit API (same origin), one function per
 * route of DESIGN.md. Error responses (`{error: {message, path?}}`) become {@link ApiError}s
 * whose message is the server's own.
 *
 * The types below describe only the fields the web map reads; responses carry more.
 */
import type { AnyCollection } from "./geo.js";

/** An error answered by the API (or a network failure), with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Health {
  status: string;
  version: string;
  /** Writes need a bearer token. */
  authRequired: boolean;
}

export interface NetworkSummary {
  id: string;
  name: string;
  /** `inline`: a network carried by a stored scenario (`scenario:<id>`), listed by the web map itself. */
  kind: "catalogue" | "builtin" | "inline";
  zones: number;
  nodes: number;
  links: number;
  available: "local" | "download";
  coordinateSystem: string;
}

export interface NetworkDetail extends NetworkSummary {
  totalDemand: number;
  firstThruNode: number;
  costWeights: { tollFactor: number; distanceFactor: number };
  bestKnownObjective: number | null;
  warnings: string[];
}

export interface StoredScenario {
  id: number;
  name: string;
  network: string;
  createdAt: string;
  body?: unknown;
}

export type RunStatus = "queued" | "running" | "done" | "failed" | "cancelled" | "interrupted";
export const TERMINAL: readonly RunStatus[] = ["done", "failed", "cancelled", "interrupted"];

/**
 * Progress of a run. Assignments report iterations, the relative gap and a rough fraction done;
 * designs report equilibrium solves as `iteration`, their `phase` and last objective `value`
 * (no gap, no fraction).
 */
export interface RunProgress {
  iteration: number;
  relativeGap: number | null;
  elapsedMs: number;
  fraction: number | null;
  phase?: string;
  value?: number | null;
}

export interface Run {
  id: number;
  kind: "assign" | "design";
  network: string;
  scenario: number | null;
  settings: Record<string, unknown>;
  status: RunStatus;
  progress: RunProgress | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** When done: the object printed by `assign --json` / `design --json`. */
  summary?: Record<string, unknown> | null;
  /**
   * Columnar convergence report (with `?convergence=true`): for assignments `iteration`,
   * `relativeGap`, …; for designs the search history `solves`, `value`, `accepted`, `phase`, ….
   */
  convergence?: Record<string, unknown[]>;
}

export interface Page<T> {
  total: number;
  limit: number;
  offset: number;
  items: T[];
}

export interface HeadlineDifference {
  a: number;
  b: number;
  difference: number;
  relative: number | null;
}

export interface LinkDifference {
  link: number;
  from: number;
  to: number;
  flowA: number;
  flowB: number;
  flowDifference: number;
  timeDifference: number;
  /** Null where a capacity is 0. */
  vocDifference: number | null;
  tollDifference: number;
  revenueDifference: number;
}

export interface Comparison {
  a: number;
  b: number;
  network: string;
  headline: Record<string, HeadlineDifference>;
  links: LinkDifference[];
}

/** Settings of an assignment, with the CLI's option names in camelCase. */
export interface AssignSettings {
  algorithm?: string;
  objective?: string;
  gap?: number;
  maxIterations?: number;
  maxSeconds?: number;
  tolls?: { link: number; toll: number }[];
}

export type RunRequest =
  { kind: "assign"; network: string; settings?: AssignSettings } | { kind: "design"; scenario: number; settings?: { maxSeconds?: number } };

let token: string | null = null;

/** Sets the bearer token sent with writes (servers started with `--token` require it). */
export function setToken(t: string | null): void {
  token = t;
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  const headers: Record<string, string> = { accept: "application/json" };
  if (init?.body) headers["content-type"] = "application/json";
  if (token && init?.method && init.method !== "GET") headers.authorization = `Bearer ${token}`;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (e) {
    throw new ApiError(0, `cannot reach the tollkit API (${(e as Error).message})`);
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      if (res.ok) throw new ApiError(res.status, `${path}: the API answered with something that is not JSON`);
    }
  }
  if (!res.ok) {
    const err = (body as { error?: { message?: string; path?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.message ?? `${path}: HTTP ${res.status} ${res.statusText}`, err?.path);
  }
  return body as T;
}

/** `GET /api/health`. */
export const getHealth = () => request<Health>("/api/health");
/** `GET /api/networks`. */
export const listNetworks = () => request<NetworkSummary[]>("/api/networks");
/** `GET /api/networks/:id`. */
export const getNetwork = (id: string) => request<NetworkDetail>(`/api/networks/${encodeURIComponent(id)}`);
/** `GET /api/networks/:id/geojson`: links (and nodes) as GeoJSON. */
export const getNetworkGeojson = (id: string) => request<AnyCollection>(`/api/networks/${encodeURIComponent(id)}/geojson`);
/** `GET /api/scenarios` (newest first). */
export const listScenarios = () => request<Page<StoredScenario>>("/api/scenarios?limit=1000").then((p) => p.items);
/** `GET /api/scenarios/:id`: a stored scenario with its JSON (`body`). */
export const getScenario = (id: number) => request<StoredScenario>(`/api/scenarios/${id}`);
/** `POST /api/scenarios`: stores a scenario (the JSON of a scenario file). */
export const createScenario = (body: unknown) => request<StoredScenario>("/api/scenarios", { method: "POST", body: JSON.stringify(body) });
/** `POST /api/runs` → the new run's id. */
export const startRun = (r: RunRequest) => request<{ id: number }>("/api/runs", { method: "POST", body: JSON.stringify(r) });
/** `GET /api/runs` (newest first). */
export const listRuns = () => request<Page<Run>>("/api/runs?limit=100").then((p) => p.items);
/** `GET /api/runs/:id`, with its convergence report when asked. */
export const getRun = (id: number, convergence = false) => request<Run>(`/api/runs/${id}${convergence ? "?convergence=true" : ""}`);
/** `DELETE /api/runs/:id` (cancel). */
export const cancelRun = (id: number) => request<unknown>(`/api/runs/${id}`, { method: "DELETE" });
/** `GET /api/runs/:id/flows?format=geojson`: per-link flow, voc, time, toll, revenue with geometry. */
export const getRunFlowsGeojson = (id: number) => request<AnyCollection>(`/api/runs/${id}/flows?format=geojson`);
/** `GET /api/compare?a=&b=`. */
export const compareRuns = (a: number, b: number) => request<Comparison>(`/api/compare?a=${a}&b=${b}`);

/** Handlers of a run's event stream. */
export interface RunEventHandlers {
  onProgress: (p: RunProgress) => void;
  /** The run reached a terminal status (the stream is closed). */
  onEnd: (status: RunStatus) => void;
  onError: (message: string) => void;
}

/**
 * Follows `GET /api/runs/:id/events` (Server-Sent Events: `status` at once and on every change,
 * `progress` while it runs; the server ends the stream after a terminal status). Returns a
 * function that closes the stream.
 */
export function followRun(id: number, h: RunEventHandlers): () => void {
  const es = new EventSource(`/api/runs/${id}/events`);
  let ended = false;
  const end = (status: RunStatus) => {
    if (ended) return;
    ended = true;
    es.close();
    h.onEnd(status);
  };
  const parse = (ev: Event): Record<string, unknown> | null => {
    try {
      return JSON.parse((ev as MessageEvent<string>).data) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  es.addEventListener("progress", (ev) => {
    const p = parse(ev);
    if (p && typeof p.iteration === "number") h.onProgress(p as unknown as RunProgress);
  });
  es.addEventListener("status", (ev) => {
    const d = parse(ev);
    if (!d) return;
    const p = d.progress as RunProgress | null;
    if (p && typeof p.iteration === "number") h.onProgress(p);
    if (TERMINAL.includes(d.status as RunStatus)) end(d.status as RunStatus);
  });
  es.onerror = () => {
    if (ended) return;
    // A dropped connection: ask the run itself rather than retrying blindly.
    es.close();
    getRun(id)
      .then((r) => {
        if (TERMINAL.includes(r.status)) end(r.status);
        else h.onError("lost the connection to the run's event stream; reload to follow it again");
      })
      .catch((e: Error) => h.onError(e.message));
  };
  return () => {
    ended = true;
    es.close();
  };
}
