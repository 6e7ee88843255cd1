/**
 * The HTTP client of the web map: typed calls to the tollkit API (same origin), one function per
 * route of DESIGN.md. Error responses (`{error: {message, path?}}`) become {@link ApiError}s
 * whose message is the server's own.
 *
 * The types come from `api-types.ts`, generated from the server's own OpenAPI document
 * (`pnpm --filter @tollkit/web gen:api`). Every call takes an optional AbortSignal: a view
 * aborts the requests of the view it replaces.
 */
import type { components, paths } from "./api-types.js";
import type { AnyCollection } from "./geo.js";

/** An error answered by the API (or a network failure), with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path?: string,
    /** The answer's JSON body, when it had one. */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Schemas = components["schemas"];

export type Health = Schemas["Health"];

/** A network of `GET /api/networks`; `inline`: a network carried by a stored scenario (`scenario:<id>`), listed by the web map itself. */
export type NetworkSummary = Omit<Schemas["NetworkSummary"], "kind"> & { kind: Schemas["NetworkSummary"]["kind"] | "inline" };

/** Units as the catalogue states them (free text: `minutes`, `0.01 h (read as minutes)`, `cents`). */
export interface NetworkUnits {
  time?: string;
  distance?: string;
  toll?: string;
}

/** `GET /api/networks/:id` (with the fields the document leaves open, such as `units`). */
export type NetworkDetail = Schemas["NetworkDetail"] & { kind?: string; units?: NetworkUnits };

export type StoredScenario = Schemas["StoredScenario"];

/** A scenario file's JSON, as `POST /api/scenarios` and `tollkit design` take it (the leader's schema). */
export type ScenarioInput = paths["/api/scenarios"]["post"]["requestBody"]["content"]["application/json"];

/** The answer of `POST /api/scenarios/check`. */
export type ScenarioCheck = Schemas["ScenarioCheck"];

export type RunStatus = Schemas["Run"]["status"];
export const TERMINAL: readonly RunStatus[] = ["done", "failed", "cancelled", "interrupted"];

/**
 * Progress of a run. Assignments report iterations, the relative gap and a rough fraction done;
 * designs report equilibrium solves as `iteration`, their `phase` and last objective `value`
 * (no gap, no fraction).
 */
export type RunProgress = Schemas["RunProgress"];

/** A run; `summary` once done is the object printed by `assign --json` / `design --json`. */
export type Run = Schemas["Run"];
export type ConvergencePage = Schemas["ConvergencePage"];

export interface Page<T> {
  total: number;
  limit: number;
  offset: number;
  items: T[];
}

export type Comparison = Schemas["Comparison"];
export type HeadlineDifference = Comparison["headline"][string];
export type LinkDifference = Comparison["links"][number];

/** Settings of an assignment, with the CLI's option names in camelCase. */
export type AssignSettings = Partial<Schemas["AssignSettings"]>;

export type RunRequest =
  | { kind: "assign"; network: string; settings?: AssignSettings }
  | { kind: "design"; scenario: number | ScenarioInput; settings?: { maxSeconds?: number } };

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
    if ((e as Error).name === "AbortError") throw e;
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
    throw new ApiError(res.status, err?.message ?? `${path}: HTTP ${res.status} ${res.statusText}`, err?.path, body);
  }
  return body as T;
}

type Signal = AbortSignal | undefined;

/**
 * `GET /api/health`. A degraded server (its database refuses writes) answers 503 with the same
 * body: that is a connected server with a storage problem, returned as such, not an error.
 */
export async function getHealth(signal?: Signal): Promise<Health> {
  try {
    return await request<Health>("/api/health", { signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 503 && (e.body as Health | undefined)?.status === "degraded") return e.body as Health;
    throw e;
  }
}
/** `GET /api/networks`. */
export const listNetworks = (signal?: Signal) => request<NetworkSummary[]>("/api/networks", { signal });
/** `GET /api/networks/:id`: dimensions, cost weights and units. */
export const getNetwork = (id: string, signal?: Signal) => request<NetworkDetail>(`/api/networks/${encodeURIComponent(id)}`, { signal });
/** `GET /api/networks/:id/geojson`: links (and nodes) as GeoJSON. */
export const getNetworkGeojson = (id: string, signal?: Signal) =>
  request<AnyCollection>(`/api/networks/${encodeURIComponent(id)}/geojson`, { signal });
/** `GET /api/scenarios` (newest first). */
export const listScenarios = (signal?: Signal) =>
  request<Page<StoredScenario>>("/api/scenarios?limit=1000", { signal }).then((p) => p.items);
/** `GET /api/scenarios/:id`: a stored scenario with its JSON (`body`). */
export const getScenario = (id: number, signal?: Signal) => request<StoredScenario>(`/api/scenarios/${id}`, { signal });
/** `POST /api/scenarios`: stores a scenario (the JSON of a scenario file). */
export const createScenario = (body: unknown) => request<StoredScenario>("/api/scenarios", { method: "POST", body: JSON.stringify(body) });
/** `POST /api/scenarios/check`: the leader's verdict on a draft scenario (every problem with its JSON path), nothing stored. */
export const checkScenario = (body: unknown, signal?: Signal) =>
  request<ScenarioCheck>("/api/scenarios/check", { method: "POST", body: JSON.stringify(body), signal });
/** `POST /api/runs` → the new run's id. */
export const startRun = (r: RunRequest) => request<{ id: number }>("/api/runs", { method: "POST", body: JSON.stringify(r) });
/** `GET /api/runs` (newest first). */
export const listRuns = (signal?: Signal) => request<Page<Run>>("/api/runs?limit=100", { signal }).then((p) => p.items);
/** `GET /api/runs/:id`, with its convergence report when asked. */
export const getRun = (id: number, convergence = false, signal?: Signal) =>
  request<Run>(`/api/runs/${id}${convergence ? "?convergence=true" : ""}`, { signal });
/**
 * A run's whole convergence report (or search history), read page by page from
 * `GET /api/runs/:id/convergence` (2000 rows a page), at most `maxRows` rows.
 */
export async function getRunConvergence(id: number, signal?: Signal, maxRows = 50_000): Promise<Record<string, unknown[]>> {
  const columns: Record<string, unknown[]> = {};
  for (let offset = 0; offset < maxRows;) {
    const p = await request<ConvergencePage>(`/api/runs/${id}/convergence?offset=${offset}`, { signal });
    for (const [k, v] of Object.entries(p.columns)) (columns[k] ??= []).push(...v);
    offset += p.limit;
    if (offset >= p.total) break;
  }
  return columns;
}
/** `POST /api/runs/:id/cancel`: cancels a queued or running run. */
export const cancelRun = (id: number) => request<Run>(`/api/runs/${id}/cancel`, { method: "POST" });
/** `DELETE /api/runs/:id?purge=true`: deletes a finished run and its results (a live run: 409, cancel it first). */
export const deleteRun = (id: number) => request<void>(`/api/runs/${id}?purge=true`, { method: "DELETE" });
/** `PATCH /api/runs/:id`: names a run (null clears the name). */
export const renameRun = (id: number, name: string | null) =>
  request<Run>(`/api/runs/${id}`, { method: "PATCH", body: JSON.stringify({ name }) });
/** `GET /api/runs/:id/flows?format=geojson`: per-link flow, voc, time, toll, revenue with geometry. */
export const getRunFlowsGeojson = (id: number, signal?: Signal) =>
  request<AnyCollection>(`/api/runs/${id}/flows?format=geojson`, { signal });
/** `GET /api/compare?a=&b=`. */
export const compareRuns = (a: number, b: number, signal?: Signal) => request<Comparison>(`/api/compare?a=${a}&b=${b}`, { signal });

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

// ---------------------------------------------------------------- OD analyses (docs/incidence.md)

/** One group (zone or OD pair, per class) of `GET /api/compare/incidence`: b − a, costs in time units per trip, tolls in money. */
export type IncidenceRow = Schemas["IncidenceRow"];

/** Totals of an incidence (time units × trips, money for revenue). */
export type IncidenceTotals = Schemas["IncidenceTotals"];

/** `GET /api/compare/incidence` (a page of rows with totals, winners and losers). */
export type IncidenceAnswer = Schemas["Incidence"];

/** Query of the incidence route (`threshold` in time units per trip). */
export interface IncidenceQuery {
  a: number;
  b: number;
  by: "origin" | "destination" | "od";
  threshold?: number;
}

/** Rows per page the OD routes answer at most. */
const OD_PAGE = 10000;

/** The URL of `GET /api/compare/incidence` (format csv: every row, the CSV `tollkit incidence --csv` writes). */
export function incidenceUrl(q: IncidenceQuery, format: "json" | "csv" = "json", offset = 0): string {
  const p = new URLSearchParams({ a: String(q.a), b: String(q.b), by: q.by, format });
  if (q.threshold !== undefined) p.set("threshold", String(q.threshold));
  if (format === "json") p.set("limit", String(OD_PAGE));
  if (offset > 0) p.set("offset", String(offset));
  return `/api/compare/incidence?${p}`;
}

/** Every page of a paged OD answer (`total` rows), concatenated: nothing is dropped beyond one page. */
async function allPages<T extends { total: number; rows: R[] }, R>(url: (offset: number) => string, signal?: Signal): Promise<T> {
  const first = await request<T>(url(0), { signal });
  const rows = [...first.rows];
  while (rows.length < first.total) {
    const next = await request<T>(url(rows.length), { signal });
    if (next.rows.length === 0) break;
    rows.push(...next.rows);
  }
  return { ...first, rows };
}

/** `GET /api/compare/incidence?a=&b=&by=`, every row (paged 10,000 at a time). */
export const getIncidence = (q: IncidenceQuery, signal?: Signal) =>
  allPages<IncidenceAnswer, IncidenceRow>((offset) => incidenceUrl(q, "json", offset), signal);

/** Headline of a select-link analysis: per class, the selected links' assigned flow and the trips using them. */
export type SelectLinkHead = Omit<Schemas["SelectLink"], "rows" | "by" | "offset" | "limit">;

/** The URL of `GET /api/runs/:id/select-link` (`links` empty: the run's tolled links). */
export function selectLinkUrl(
  id: number,
  links: readonly number[],
  by: "zone" | "od" | "link",
  format: "json" | "csv" = "json",
  offset = 0,
): string {
  const p = new URLSearchParams({ by, format });
  if (links.length) p.set("links", links.join(","));
  if (format === "json") p.set("limit", String(OD_PAGE));
  if (offset > 0) p.set("offset", String(offset));
  return `/api/runs/${id}/select-link?${p}`;
}

type SelectLinkLinkRow = Schemas["SelectLinkLinkRow"];
type SelectLinkZoneRow = Schemas["SelectLinkZoneRow"];

/** `GET /api/runs/:id/select-link?by=link`: per link, its flow and the flow of the trips using the selected links (PCE); every page. */
export const getSelectLinkFlows = (id: number, links: readonly number[], signal?: Signal) =>
  allPages<SelectLinkHead & { rows: SelectLinkLinkRow[] }, SelectLinkLinkRow>((o) => selectLinkUrl(id, links, "link", "json", o), signal);

/** `GET /api/runs/:id/select-link?by=zone`: per zone and class, trips from and to it that use the links, its exact flow on them; every page. */
export const getSelectLinkZones = (id: number, links: readonly number[], signal?: Signal) =>
  allPages<SelectLinkHead & { rows: SelectLinkZoneRow[] }, SelectLinkZoneRow>((o) => selectLinkUrl(id, links, "zone", "json", o), signal);
