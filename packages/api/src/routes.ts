/**
 * The API's routes as one table: method, path, the zod schemas of their parameters, query and
 * body, their responses, and their handler. The Express app ({@link createApp}) and the
 * OpenAPI document ({@link openApiDocument}) are both built from this table. Handlers hold no
 * rules and no SQL: the rules are in ./checks.ts, the write actions in ./requests.ts, the data
 * in the store.
 */
import type { Request, Response } from "express";
import { gzipSync } from "node:zlib";
import * as z from "zod";
import { ScenarioSchema } from "@tollkit/leader";
import { doneOr409, hasResults, runOr404, WorkLimits } from "./checks.js";
import { ApiError } from "./errors.js";
import { createScenario, RequestDeps, startRun } from "./requests.js";
import type { EncodedBody, NetworkRegistry } from "./networks.js";
import { odRoutes } from "./od-routes.js";
import { comparableOr409 } from "./results.js";
import {
  CompareQuery,
  ComparisonSchema,
  ErrorSchema,
  FlowsQuery,
  HealthSchema,
  IdParams,
  LinkFlowSchema,
  ListQuery,
  MAX_PAGE,
  ConvergencePageSchema,
  ConvergenceQuery,
  NetworkDetailSchema,
  NetworkParams,
  NetworkSummarySchema,
  NoQuery,
  PageSchema,
  RunCreatedSchema,
  RunListQuery,
  RunQuery,
  DeleteRunQuery,
  RunRequest,
  RunSchema,
  ScenarioBody,
  StoredScenarioSchema,
} from "./schemas.js";
import type { RunEvent, RunService } from "./service.js";
import { RunRow, Store, TERMINAL_STATUSES } from "./store.js";

/** What a handler receives: the validated parts of the request. */
export interface RouteInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  req: Request;
  res: Response;
}

/** A documented response. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
  /** Other content types of the same status (documented without a schema). */
  alternatives?: string[];
}

/** One route of the table. */
export interface RouteSpec {
  method: "get" | "post" | "patch" | "delete";
  /** Express path syntax (`/api/runs/:id`). */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** Needs the bearer token when one is configured. */
  write?: boolean;
  params?: z.ZodType;
  query: z.ZodType;
  body?: z.ZodType;
  /** The body schema shown in the OpenAPI document when it is richer than `body` (which does a first pass). */
  docBody?: z.ZodType;
  responses: Record<number, ResponseSpec>;
  /** Returns a JSON value to send with status 200, or undefined when it answered itself. */
  handler: (input: RouteInput) => unknown;
  /**
   * A GET route's answer when it is kept as bytes (with its parsed path parameters; the request
   * has no query string), else undefined. The server sends a kept answer before the framework
   * (see `createApp`); `handler` must give the same answer for the same request.
   */
  prepared?: (params: Record<string, unknown>) => PreparedAnswer | undefined;
}

/** An answer kept as bytes: its Content-Type and its plain and gzip bytes. */
export interface PreparedAnswer {
  type: string;
  body: EncodedBody;
}

/** What the routes need. */
export interface RouteDeps extends RequestDeps {
  store: Store;
  service: RunService;
  networks: NetworkRegistry;
  version: string;
  startedAt: number;
  authRequired: boolean;
  /** The limits on the work one request may ask for. */
  limits: WorkLimits;
  /** Interval of SSE heartbeat comments, ms. */
  heartbeatMs: number;
  openApi: () => unknown;
}

const err = (status: number, description: string): ResponseSpec => ({ description, schema: ErrorSchema });

/**
 * The run as the API shows it, with its summary once it has results; with `convergence`, the
 * first {@link MAX_PAGE} rows of its convergence report and their total (the rest through
 * `GET /api/runs/:id/convergence`).
 */
function runView(store: Store, run: RunRow, convergence = false): Record<string, unknown> {
  const done = hasResults(store, run);
  const page = convergence && done ? store.getConvergencePage(run.id, 0, MAX_PAGE) : undefined;
  return {
    ...run,
    summary: (done ? store.getSummary(run.id) : undefined) ?? null,
    ...(page ? { convergence: page.columns, convergenceTotal: page.total } : {}),
  };
}

/**
 * Sends prepared bytes: the gzip copy to a client that accepts gzip (the compression middleware
 * leaves an encoded answer alone), else the plain bytes.
 */
function sendEncoded(req: Request, res: Response, type: string, e: EncodedBody): void {
  res.type(type).vary("Accept-Encoding");
  if (req.acceptsEncodings("gzip", "identity") === "gzip") res.set("Content-Encoding", "gzip").send(e.gzip);
  else res.send(e.body);
}

const JSON_TYPE = "application/json; charset=utf-8";

/** Done runs' answers kept encoded (most recently used last). */
const VIEW_CACHE_SIZE = 64;

/**
 * The encoded answers of `GET /api/runs/:id` for done runs: a done run's row and summary never
 * change but for its name, so its answer is serialised and compressed once, not per request
 * (what a dashboard polling a run's summary asks for most). An entry is used only while the
 * run's name is the one it was built with, and dropped when the run is deleted.
 */
class DoneViewCache {
  private readonly entries = new Map<number, { name: string | null; body: EncodedBody }>();

  /** The kept answer of a run that is done and still has the name it was built with. */
  peek(id: number, state: { status: string; name: string | null } | undefined): EncodedBody | undefined {
    const e = this.entries.get(id);
    if (!e || state?.status !== "done" || state.name !== e.name) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.body;
  }

  get(run: RunRow, build: () => Record<string, unknown>): EncodedBody {
    const e = this.peek(run.id, run);
    if (e) return e;
    const body = Buffer.from(JSON.stringify(build()));
    const entry = { name: run.name, body: { body, gzip: gzipSync(body, { level: 6 }) } };
    this.entries.set(run.id, entry);
    while (this.entries.size > VIEW_CACHE_SIZE) this.entries.delete(this.entries.keys().next().value!);
    return entry.body;
  }

  forget(id: number): void {
    this.entries.delete(id);
  }
}

/** Writes one Server-Sent Event. */
function sse(res: Response, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function statusPayload(store: Store, run: RunRow): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id: run.id,
    status: run.status,
    progress: run.progress,
    error: run.error,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
  if (hasResults(store, run)) base.summary = store.getSummary(run.id) ?? null;
  return base;
}

/** The route table. */
export function apiRoutes(deps: RouteDeps): RouteSpec[] {
  const { store, service, networks } = deps;
  const healthCheck = store.db.prepare("SELECT 1 AS ok");
  const doneViews = new DoneViewCache();
  service.onDeleted((id) => (networks.forgetRun(id), doneViews.forget(id)));
  // a done run's kept answer needs only its status and name read (not its whole row)
  const keptRun = (id: number) => doneViews.peek(id, service.state(id));
  return [
    {
      method: "get",
      path: "/api/health",
      tag: "service",
      summary: "Health of the server, its database and its run queue",
      query: NoQuery,
      description:
        "`status` is `degraded` (HTTP 503) while the database refuses writes (a full disk, an I/O error): `storage` gives the reason and the runs whose state waits to be written. The server writes them by itself once the storage takes writes again.",
      responses: {
        200: { description: "The server is up", schema: HealthSchema },
        503: { description: "Degraded: the database refuses writes (see `storage.reason`)", schema: HealthSchema },
      },
      handler: ({ res }) => {
        healthCheck.get();
        // a degraded store is probed with a write, so that health says ok as soon as space returns
        const storage = store.storage.status === "ok" ? store.storage : store.probeStorage();
        if (storage.status === "ok") service.retryWrites();
        const pending = service.pendingStorage();
        const degraded = storage.status !== "ok" || pending.runs.length > 0;
        if (degraded) res.status(503);
        return {
          status: degraded ? "degraded" : "ok",
          storage:
            storage.status === "ok" && !pending.runs.length
              ? { status: "ok" }
              : {
                  status: "degraded",
                  reason:
                    storage.status === "degraded"
                      ? `the database refuses writes (${storage.code}: ${storage.reason}) since ${storage.since}`
                      : `run states wait to be written (${pending.reason})`,
                  pendingRuns: pending.runs,
                },
          version: deps.version,
          schemaVersion: store.schemaVersion,
          uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 100) / 10,
          queue: service.queue.stats(),
          authRequired: deps.authRequired,
        };
      },
    },
    {
      method: "get",
      path: "/api/openapi.json",
      tag: "service",
      summary: "This API's OpenAPI 3.1 document, generated from the schemas that validate requests",
      query: NoQuery,
      responses: { 200: { description: "OpenAPI 3.1 document" } },
      handler: () => deps.openApi(),
    },
    {
      method: "get",
      path: "/api/networks",
      tag: "networks",
      summary: "Catalogue and built-in networks",
      query: NoQuery,
      responses: { 200: { description: "Every network requests may name", schema: z.array(NetworkSummarySchema) } },
      handler: () => networks.list(),
    },
    {
      method: "get",
      path: "/api/networks/:id",
      tag: "networks",
      summary: "A network's dimensions, total demand, FIRST THRU NODE, cost weights and coordinate system",
      params: NetworkParams,
      query: NoQuery,
      responses: {
        200: { description: "The network", schema: NetworkDetailSchema },
        400: err(400, "A path instead of an id"),
        404: err(404, "Unknown network"),
        503: err(503, "The network's files cannot be resolved on this server"),
      },
      handler: ({ params }) => networks.info(params.id as string),
    },
    {
      method: "get",
      path: "/api/networks/:id/geojson",
      tag: "networks",
      summary: "A network's links as a GeoJSON FeatureCollection (see `tollkit.frame` for lon/lat or a local frame)",
      params: NetworkParams,
      query: NoQuery,
      responses: {
        200: { description: "FeatureCollection of LineStrings, one per link", contentType: "application/geo+json" },
        400: err(400, "A path instead of an id"),
        404: err(404, "Unknown network"),
        503: err(503, "The network's files cannot be resolved on this server"),
      },
      handler: async ({ params, req, res }) => sendEncoded(req, res, "application/geo+json", await networks.geojson(params.id as string)),
    },
    {
      method: "post",
      path: "/api/scenarios",
      tag: "scenarios",
      summary: "Store a scenario (the JSON of a scenario file)",
      write: true,
      query: NoQuery,
      body: ScenarioBody,
      docBody: ScenarioSchema,
      responses: {
        201: { description: "Stored", schema: StoredScenarioSchema },
        400: err(400, "Invalid scenario (the message names the JSON path)"),
        401: err(401, "Missing or wrong bearer token"),
        413: err(413, "Body or inline network too large"),
        503: err(503, "The database refuses writes (its storage failed)"),
        507: err(507, "The database's disk is full: nothing was stored"),
      },
      handler: async ({ body, res }) => {
        const row = createScenario(deps, body as z.infer<typeof ScenarioBody>);
        res
          .status(201)
          .location(`/api/scenarios/${row.id}`)
          .json({ id: row.id, name: row.name, network: row.network, createdAt: row.createdAt });
      },
    },
    {
      method: "get",
      path: "/api/scenarios",
      tag: "scenarios",
      summary: "Stored scenarios, newest first",
      query: ListQuery,
      responses: { 200: { description: "A page of scenarios", schema: PageSchema(StoredScenarioSchema) } },
      handler: ({ query }) => {
        const { limit, offset } = query as { limit: number; offset: number };
        return { ...store.listScenarios(limit, offset), limit, offset };
      },
    },
    {
      method: "get",
      path: "/api/scenarios/:id",
      tag: "scenarios",
      summary: "A stored scenario with its JSON",
      params: IdParams,
      query: NoQuery,
      responses: { 200: { description: "The scenario", schema: StoredScenarioSchema }, 404: err(404, "Unknown scenario") },
      handler: ({ params }) => {
        const s = store.getScenario(params.id as number);
        if (!s) throw new ApiError(404, `api: scenario ${String(params.id)} does not exist`, { path: "id", in: "params" });
        return s;
      },
    },
    {
      method: "post",
      path: "/api/runs",
      tag: "runs",
      summary: "Start a run: an assignment on a network, or a toll design for a scenario",
      description:
        "Settings use the CLI's option names in camelCase. The run is queued and executed off the request thread; follow it with GET /api/runs/{id}/events.",
      write: true,
      query: NoQuery,
      body: RunRequest,
      responses: {
        202: { description: "Queued", schema: RunCreatedSchema },
        400: err(400, "Invalid request (the message names the JSON path)"),
        401: err(401, "Missing or wrong bearer token"),
        429: err(429, "Too many runs waiting"),
        503: err(503, "The database refuses writes (its storage failed)"),
        507: err(507, "The database's disk is full: nothing was stored"),
      },
      handler: async ({ body, res }) => {
        const run = startRun(deps, body as RunRequest);
        res
          .status(202)
          .location(`/api/runs/${run.id}`)
          .json({ id: run.id, status: run.status, href: `/api/runs/${run.id}` });
      },
    },
    {
      method: "get",
      path: "/api/runs",
      tag: "runs",
      summary: "Runs, newest first (optionally of one status)",
      query: RunListQuery,
      responses: { 200: { description: "A page of runs", schema: PageSchema(RunSchema) } },
      handler: ({ query }) => {
        const { limit, offset, status } = query as { limit: number; offset: number; status?: RunRow["status"] };
        const page = store.listRuns(limit, offset, status);
        return { ...page, items: page.items.map((r) => service.view(r)), limit, offset };
      },
    },
    {
      method: "get",
      path: "/api/runs/:id",
      tag: "runs",
      summary: "A run: status, progress, settings, timings and (once done) its summary",
      params: IdParams,
      query: RunQuery,
      responses: { 200: { description: "The run", schema: RunSchema }, 404: err(404, "Unknown run") },
      prepared: ({ id }) => {
        const kept = keptRun(id as number);
        return kept && { type: JSON_TYPE, body: kept };
      },
      handler: ({ params, query, req, res }) => {
        const convergence = (query as { convergence?: boolean }).convergence;
        const kept = convergence ? undefined : keptRun(params.id as number);
        if (kept) return sendEncoded(req, res, JSON_TYPE, kept);
        const run = runOr404(service, params.id as number);
        if (run.status !== "done" || convergence) return runView(store, run, convergence);
        sendEncoded(
          req,
          res,
          JSON_TYPE,
          doneViews.get(run, () => runView(store, run)),
        );
      },
    },
    {
      method: "get",
      path: "/api/runs/:id/convergence",
      tag: "runs",
      summary:
        "A page of a run's convergence report (assignment: one row per iteration) or search history (design: one row per evaluated design)",
      description: `Columnar: each column holds the rows offset … offset + limit − 1. \`limit\` defaults to ${MAX_PAGE} and is at most ${MAX_PAGE}; \`total\` is the number of rows in all.`,
      params: IdParams,
      query: ConvergenceQuery,
      responses: {
        200: { description: "One page of rows", schema: ConvergencePageSchema },
        400: err(400, "offset or limit out of range"),
        404: err(404, "Unknown run"),
        409: err(409, "The run has no results"),
      },
      handler: ({ params, query }) => {
        const run = runOr404(service, params.id as number);
        doneOr409(run, store);
        const { offset, limit } = query as { offset: number; limit: number };
        const page = store.getConvergencePage(run.id, offset, limit)!;
        return { run: run.id, kind: run.kind, total: page.total, offset, limit, columns: page.columns };
      },
    },
    {
      method: "post",
      path: "/api/runs/:id/cancel",
      tag: "runs",
      summary: "Cancel a queued or running run (answers once it has stopped)",
      write: true,
      params: IdParams,
      query: NoQuery,
      responses: {
        200: { description: "The run, now cancelled (or done, if it finished first)", schema: RunSchema },
        401: err(401, "Missing or wrong bearer token"),
        404: err(404, "Unknown run"),
        409: err(409, "The run has already finished"),
        503: err(503, "The database refuses writes (its storage failed)"),
        507: err(507, "The database's disk is full"),
      },
      handler: async ({ params }) => {
        const run = runOr404(service, params.id as number);
        if (TERMINAL_STATUSES.includes(run.status))
          throw new ApiError(409, `api: run ${run.id} is already ${run.status}`, { path: "id", in: "params" });
        return runView(store, (await service.cancel(run.id))!);
      },
    },
    {
      method: "delete",
      path: "/api/runs/:id",
      tag: "runs",
      summary: "Cancel a queued or running run; with ?purge=true, delete a finished run and its results",
      description:
        "Without `purge`, as before: a queued or running run is cancelled and the answer (200, the run) comes once it has stopped; a finished run is refused with 409, so that a cancel that arrives just after the run finished never deletes it. With `purge=true`, a finished run (done, failed, cancelled, interrupted) is deleted with its results (204) and its id is never given to another run; afterwards every route answers 404 for it. A queued or running run is refused with 409 (cancel it first). `POST /api/runs/{id}/cancel` cancels, too.",
      write: true,
      params: IdParams,
      query: DeleteRunQuery,
      responses: {
        200: { description: "The run, now cancelled (or done, if it finished first)", schema: RunSchema },
        204: { description: "Deleted (purge=true)" },
        401: err(401, "Missing or wrong bearer token"),
        404: err(404, "Unknown (or deleted) run"),
        409: err(409, "Without purge: the run has already finished. With purge: the run is queued or running (cancel it first)"),
        503: err(503, "The database refuses writes (its storage failed)"),
        507: err(507, "The database's disk is full"),
      },
      handler: async ({ params, query, res }) => {
        const id = params.id as number;
        const run = runOr404(service, id);
        if (!(query as { purge?: boolean }).purge) {
          if (TERMINAL_STATUSES.includes(run.status))
            throw new ApiError(
              409,
              `api: run ${run.id} is already ${run.status} (to delete it and its results: DELETE /api/runs/${run.id}?purge=true)`,
              { path: "id", in: "params" },
            );
          return runView(store, (await service.cancel(run.id))!);
        }
        const outcome = service.delete(id);
        if (outcome === "missing") throw new ApiError(404, `api: run ${id} does not exist`, { path: "id", in: "params" });
        if (outcome === "live")
          throw new ApiError(
            409,
            `api: run ${id} is ${service.get(id)?.status ?? "live"}: cancel it first (DELETE /api/runs/${id} without purge)`,
            {
              path: "purge",
              in: "query",
            },
          );
        res.status(204).end();
        return undefined;
      },
    },
    {
      method: "get",
      path: "/api/runs/:id/events",
      tag: "runs",
      summary: "Server-Sent Events of a run",
      description:
        "Events: `status` (data: {id, status, progress, error, startedAt, finishedAt, summary when done}) at once with the current state and on every change; `progress` (data: {iteration, relativeGap, elapsedMs, fraction}) at most every 100 ms while it runs. The stream ends after a terminal status (done, failed, cancelled, interrupted).",
      params: IdParams,
      query: NoQuery,
      responses: { 200: { description: "An event stream", contentType: "text/event-stream" }, 404: err(404, "Unknown run") },
      handler: ({ params, req, res }) => {
        const run = runOr404(service, params.id as number);
        res.writeHead(200, {
          "Content-Type": "text/event-stream; charset=utf-8",
          "Cache-Control": "no-cache, no-transform",
          Connection: "keep-alive",
          "X-Accel-Buffering": "no",
        });
        res.write("retry: 2000\n\n");
        sse(res, "status", statusPayload(store, run));
        if (TERMINAL_STATUSES.includes(run.status)) {
          res.end();
          return;
        }
        if (run.progress) sse(res, "progress", run.progress);
        const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), deps.heartbeatMs);
        const stop = () => {
          clearInterval(heartbeat);
          unsubscribe();
        };
        const unsubscribe = service.subscribe(run.id, (e: RunEvent) => {
          if (e.type === "progress") sse(res, "progress", e.progress);
          else {
            sse(res, "status", statusPayload(store, e.run));
            if (TERMINAL_STATUSES.includes(e.run.status)) {
              stop();
              res.end();
            }
          }
        });
        req.on("close", stop);
        res.on("close", stop);
      },
    },
    {
      method: "get",
      path: "/api/runs/:id/flows",
      tag: "runs",
      summary: "Per-link results of a done run: JSON rows, CSV (the CLI's flows.csv) or GeoJSON for maps",
      params: IdParams,
      query: FlowsQuery,
      responses: {
        200: {
          description:
            "format=json: {run, network, links: [...]}; csv: link,from,to,flow,time,cost,toll,voc; geojson: FeatureCollection with flow, voc, time, cost, toll, revenue per link",
          schema: z.object({ run: z.int(), network: z.string(), links: z.array(LinkFlowSchema) }),
          alternatives: ["text/csv", "application/geo+json"],
        },
        404: err(404, "Unknown run"),
        409: err(409, "The run is not done"),
      },
      handler: async ({ params, query, req, res }) => {
        const run = runOr404(service, params.id as number);
        doneOr409(run, store);
        const links = () => store.getLinks(run.id)!;
        const format = (query as { format: "json" | "csv" | "geojson" }).format;
        if (format === "csv") {
          res.attachment(`run-${run.id}-flows.csv`);
          sendEncoded(req, res, "text/csv; charset=utf-8", await networks.runFlows(run.id, run.network, "csv", links));
          return;
        }
        if (format === "geojson") {
          // built in the map worker, kept by run id (a done run's result never changes)
          sendEncoded(req, res, "application/geo+json", await networks.runGeojson(run.id, run.network, links));
          return;
        }
        sendEncoded(req, res, "application/json; charset=utf-8", await networks.runFlows(run.id, run.network, "json", links));
      },
    },
    {
      method: "get",
      path: "/api/compare",
      tag: "runs",
      summary: "Compare two done runs of one network: headline and per-link differences (b − a)",
      query: CompareQuery,
      responses: {
        200: { description: "The comparison", schema: ComparisonSchema },
        404: err(404, "Unknown run"),
        409: err(409, "A run is not done, or the runs are on different networks"),
      },
      handler: async ({ query, req, res }) => {
        const { a, b } = query as { a: number; b: number };
        const ra = runOr404(service, a, { path: "a", in: "query" });
        const rb = runOr404(service, b, { path: "b", in: "query" });
        doneOr409(ra, store, { path: "a", in: "query" });
        doneOr409(rb, store, { path: "b", in: "query" });
        // headline and per-link differences built and serialised in the map worker (kept by the pair)
        const body = await networks.compare(a, b, () =>
          comparableOr409(
            { id: a, network: ra.network, summary: store.getSummary(a)!, links: store.getLinks(a)! },
            { id: b, network: rb.network, summary: store.getSummary(b)!, links: store.getLinks(b)! },
          ),
        );
        sendEncoded(req, res, "application/json; charset=utf-8", body);
      },
    },
    ...odRoutes(deps),
  ];
}
