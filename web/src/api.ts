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
}

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

export interface RunProgress {
  iteration: number;
  relativeGap: number;
  elapsedMs: number;
  fraction: number;
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
  /** Columnar convergence report (`iteration`, `relativeGap`, …). */
  convergence?: Record<string, number[]>;
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
  | { kind: "assign"; network: string; settings?: AssignSettings }
  | { kind: "assign"; scenario: number; settings?: AssignSettings }
  | { kind: "design"; scenario: number; settings?: { maxSeconds?: number } };

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      ...init,
      headers: { accept: "application/json", ...(init?.body ? { "content-type": "application/json" } : {}) },
    });
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
export const listNetworks = () => request<Page<NetworkSummary> | NetworkSummary[]>("/api/networks").then(items);
/** `GET /api/networks/:id`. */
export const getNetwork = (id: string) => request<NetworkDetail>(`/api/networks/${encodeURIComponent(id)}`);
/** `GET /api/networks/:id/geojson`: links (and nodes) as GeoJSON. */
export const getNetworkGeojson = (id: string) => request<AnyCollection>(`/api/networks/${encodeURIComponent(id)}/geojson`);
/** `GET /api/scenarios`. */
export const listScenarios = () => request<Page<StoredScenario> | StoredScenario[]>("/api/scenarios?limit=1000").then(items);
/** `POST /api/runs` → the new run's id. */
export const startRun = (r: RunRequest) => request<{ id: number }>("/api/runs", { method: "POST", body: JSON.stringify(r) });
/** `GET /api/runs` (newest first as the API orders them). */
export const listRuns = () => request<Page<Run> | Run[]>("/api/runs?limit=100").then(items);
/** `GET /api/runs/:id`. */
export const getRun = (id: number) => request<Run>(`/api/runs/${id}`);
/** `DELETE /api/runs/:id` (cancel). */
export const cancelRun = (id: number) => request<unknown>(`/api/runs/${id}`, { method: "DELETE" });
/** `GET /api/runs/:id/flows?format=geojson`: per-link flow, voc, time, toll, revenue with geometry. */
export const getRunFlowsGeojson = (id: number) => request<AnyCollection>(`/api/runs/${id}/flows?format=geojson`);
/** `GET /api/compare?a=&b=`. */
export const compareRuns = (a: number, b: number) => request<Comparison>(`/api/compare?a=${a}&b=${b}`);

function items<T>(p: Page<T> | T[]): T[] {
  return Array.isArray(p) ? p : p.items;
}

/** Handlers of a run's event stream. */
export interface RunEventHandlers {
  onProgress: (p: RunProgress) => void;
  /** The run reached a terminal status (the stream is closed). */
  onEnd: (status: RunStatus) => void;
  onError: (message: string) => void;
}

/**
 * Follows `GET /api/runs/:id/events` (Server-Sent Events). Returns a function that closes the
 * stream. The stream ends when the run reaches a terminal status.
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
  const onData = (ev: MessageEvent<string>) => {
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(ev.data);
    } catch {
      return;
    }
    const status = (d.status ?? (d.run as Record<string, unknown> | undefined)?.status) as RunStatus | undefined;
    const progress = (d.progress ?? (typeof d.iteration === "number" ? d : undefined)) as RunProgress | undefined;
    if (progress && typeof progress.iteration === "number") h.onProgress(progress);
    if (status && TERMINAL.includes(status)) end(status);
  };
  es.addEventListener("message", onData);
  for (const name of ["progress", "status", "done", "failed", "cancelled", "interrupted", "snapshot", "run"])
    es.addEventListener(name, onData as EventListener);
  es.onerror = () => {
    if (ended) return;
    // The server closes the stream after the terminal event; anything else: ask the run itself.
    es.close();
    getRun(id)
      .then((r) => {
        if (TERMINAL.includes(r.status)) end(r.status);
        else h.onError("lost the connection to the run's event stream");
      })
      .catch((e: Error) => h.onError(e.message));
  };
  return () => {
    ended = true;
    es.close();
  };
}
