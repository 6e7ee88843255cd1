/**
 * The API's routes as one table: method, path, the zod schemas of their parameters, query and
 * body, their responses, and their handler. The Express app ({@link createApp}) and the
 * OpenAPI document ({@link openApiDocument}) are both built from this table. Handlers hold no
 * rules and no SQL: the rules are in ./checks.ts, the write actions in ./requests.ts, the data
 * in the store.
 */
import type { Request, Response } from "express";
import { z } from "zod";
import { linksToGeojson } from "@tollkit/graph-core";
import { ScenarioSchema } from "@tollkit/leader";
import { doneOr409, hasResults, runOr404, WorkLimits } from "./checks.js";
import { ApiError } from "./errors.js";
import { createScenario, RequestDeps, startRun } from "./requests.js";
import type { NetworkRegistry } from "./networks.js";
import { odRoutes } from "./od-routes.js";
import { compareRuns, linkCsv, linkGeojson, linkRows } from "./results.js";
import {
  CompareQuery,
  ComparisonSchema,
  ErrorSchema,
  FlowsQuery,
  HealthSchema,
  IdParams,
  LinkFlowSchema,
  ListQuery,
  NetworkDetailSchema,
  NetworkParams,
  NetworkSummarySchema,
  NoQuery,
  PageSchema,
  RunCreatedSchema,
  RunListQuery,
  RunQuery,
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

/** The run as the API shows it, with its summary once it has results. */
function runView(store: Store, run: RunRow, convergence = false): Record<string, unknown> {
  const done = hasResults(store, run);
  return {
    ...run,
    summary: (done ? store.getSummary(run.id) : undefined) ?? null,
    ...(convergence && done ? { convergence: store.getConvergence(run.id) } : {}),
  };
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
  const runGeojson = new Map<number, string>();
  service.onDeleted((id) => runGeojson.delete(id));
  return [
    {
      method: "get",
      path: "/api/health",
      tag: "service",
      summary: "Health of the server, its database and its run queue",
      query: NoQuery,
      responses: { 200: { description: "The server is up", schema: HealthSchema } },
      handler: () => {
        healthCheck.get();
        return {
          status: "ok",
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
      handler: async ({ params, res }) => {
        const body = await networks.geojson(params.id as string, (net) => linksToGeojson(net));
        res.type("application/geo+json").send(body);
      },
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
        return { ...store.listRuns(limit, offset, status), limit, offset };
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
      handler: ({ params, query }) =>
        runView(store, runOr404(service, params.id as number), (query as { convergence?: boolean }).convergence),
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
      summary: "Delete a finished run and its results (its id is never given to another run)",
      description:
        "Only finished runs (done, failed, cancelled, interrupted) can be deleted: a queued or running run is refused with 409 and must be cancelled first (POST /api/runs/{id}/cancel), so that a cancel can never delete a run that has just finished. Afterwards every route answers 404 for the run.",
      write: true,
      params: IdParams,
      query: NoQuery,
      responses: {
        204: { description: "Deleted" },
        401: err(401, "Missing or wrong bearer token"),
        404: err(404, "Unknown (or already deleted) run"),
        409: err(409, "The run is queued or running: cancel it first"),
      },
      handler: ({ params, res }) => {
        const id = params.id as number;
        const outcome = service.delete(id);
        if (outcome === "missing") throw new ApiError(404, `api: run ${id} does not exist`, { path: "id", in: "params" });
        if (outcome === "live")
          throw new ApiError(409, `api: run ${id} is ${service.get(id)?.status ?? "live"}: cancel it first (POST /api/runs/${id}/cancel)`, {
            path: "id",
            in: "params",
          });
        res.status(204).end();
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
      handler: async ({ params, query, res }) => {
        const run = runOr404(service, params.id as number);
        doneOr409(run, store);
        const links = () => store.getLinks(run.id)!;
        const format = (query as { format: "json" | "csv" | "geojson" }).format;
        if (format === "csv") {
          res.type("text/csv").attachment(`run-${run.id}-flows.csv`).send(linkCsv(links()));
          return;
        }
        if (format === "geojson") {
          // a done run's result never changes: keep the last few GeoJSON answers
          let text = runGeojson.get(run.id);
          if (text === undefined) {
            const net = await networks.load(run.network);
            text = JSON.stringify(linkGeojson(net, links()));
            runGeojson.set(run.id, text);
            while (runGeojson.size > 8) runGeojson.delete(runGeojson.keys().next().value!);
          }
          res.type("application/geo+json").send(text);
          return;
        }
        return { run: run.id, network: run.network, links: linkRows(links()) };
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
      handler: ({ query }) => {
        const { a, b } = query as { a: number; b: number };
        const ra = runOr404(service, a, { path: "a", in: "query" });
        const rb = runOr404(service, b, { path: "b", in: "query" });
        doneOr409(ra, store, { path: "a", in: "query" });
        doneOr409(rb, store, { path: "b", in: "query" });
        return compareRuns(
          { id: a, network: ra.network, summary: store.getSummary(a)!, links: store.getLinks(a)! },
          { id: b, network: rb.network, summary: store.getSummary(b)!, links: store.getLinks(b)! },
        );
      },
    },
    ...odRoutes(deps),
  ];
}
