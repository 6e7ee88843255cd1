/**
 * The Express 5 application: the route table ({@link apiRoutes}) behind validation, bearer-token
 * checks on writes, a JSON body limit and configurable CORS; JSON errors that never carry a
 * stack trace; JSON 404s and 405s under /api; and the built web app (web/dist) as static files
 * with a single-page-app fallback.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import accepts from "accepts";
import compression from "compression";
import express, { Express, NextFunction, Request, RequestHandler, Response } from "express";
import type { ZodType } from "zod";
import { repositoryRoot } from "@tollkit/graph-core";
import { ApiError, RequestPart, toErrorResponse, validationError } from "./errors.js";
import { DEFAULT_WORK_LIMITS, WorkLimits } from "./checks.js";
import { NetworkRegistry } from "./networks.js";
import { openApiDocument } from "./openapi.js";
import { ProcessRunQueue, RunQueue } from "./queue.js";
import { apiRoutes, RouteDeps, RouteSpec } from "./routes.js";
import { studioRoutes } from "./studio.js";
import { RunService } from "./service.js";
import type { Store } from "./store.js";

/** The API package's version. */
export const API_VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** The host name of a Host header or an origin URL, lower case, without the port. */
function hostName(h: string): string {
  const s = h.replace(/^[a-z]+:\/\//i, "").toLowerCase();
  if (s.startsWith("[")) return s.slice(0, s.indexOf("]") + 1);
  return s.split(":")[0].split("/")[0];
}

/**
 * The Host and Origin rule: a request whose Host is not this server's (DNS rebinding) and a write
 * whose Origin is neither this server, a public origin nor a CORS origin are refused (403).
 * Returns the refusal, or undefined when the request may go on.
 */
function hostRule(opts: AppOptions): (req: IncomingMessage) => ApiError | undefined {
  const publicHosts = new Set((opts.publicOrigins ?? []).map(hostName));
  const anyHost = opts.loopbackOnly === false && publicHosts.size === 0;
  const okHost = (h: string) => LOOPBACK_HOSTS.has(h) || /^127(\.\d{1,3}){3}$/.test(h) || publicHosts.has(h);
  const corsHosts = new Set((opts.corsOrigins ?? []).filter((o) => o !== "*").map(hostName));
  return (req) => {
    const host = hostName(req.headers.host ?? "");
    if (!anyHost && !okHost(host))
      return new ApiError(
        403,
        `api: this server does not answer to the host "${req.headers.host ?? ""}" (allowed: loopback names${publicHosts.size ? `, ${[...publicHosts].join(", ")}` : ""}; add one with tollkit serve --public-origin)`,
      );
    const origin = req.headers.origin;
    if (origin && req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS") {
      const o = hostName(origin);
      if (!(o === host || okHost(o) || corsHosts.has(o) || opts.corsOrigins?.includes("*")))
        return new ApiError(
          403,
          `api: writes from the origin ${origin} are refused (allowed: this server, --public-origin or --cors origins)`,
        );
    }
    return undefined;
  };
}

/**
 * The answers kept as bytes ({@link RouteSpec.prepared}), sent before the framework: a plain GET
 * of such a route (no query string, no percent-encoding in the path, a Host the {@link hostRule}
 * accepts, no Origin when CORS is configured) whose answer is kept gets the same status, headers
 * and bytes as through Express, without its routing, compression wrapper and response helpers —
 * what a dashboard polling a done run's summary costs the event loop. Anything else returns
 * false and goes to the Express app, which answers it (errors included) as before.
 */
function preparedAnswers(routes: RouteSpec[], opts: AppOptions, hostRefusal: (req: IncomingMessage) => ApiError | undefined) {
  const table = routes
    .filter((r) => r.method === "get" && r.prepared)
    .map((r) => ({
      route: r,
      pattern: new RegExp(`^${r.path.replace(/:(\w+)/g, "(?<$1>[^/%]+)")}$`),
    }));
  const withCors = !!opts.corsOrigins?.length;
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "GET" || !req.url || req.url.includes("?") || (withCors && req.headers.origin)) return false;
    for (const { route, pattern } of table) {
      const m = pattern.exec(req.url);
      if (!m) continue;
      if (hostRefusal(req)) return false;
      const params = route.params ? route.params.safeParse({ ...m.groups }) : { success: true as const, data: {} };
      if (!params.success) return false;
      const answer = route.prepared!(params.data as Record<string, unknown>);
      if (!answer) return false;
      const gzip = accepts(req).encodings("gzip", "identity") === "gzip";
      const bytes = gzip ? answer.body.gzip : answer.body.body;
      res.writeHead(200, {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Type": answer.type,
        Vary: "Accept-Encoding",
        ...(gzip ? { "Content-Encoding": "gzip" } : {}),
        "Content-Length": bytes.length,
      });
      res.end(bytes);
      return true;
    }
    return false;
  };
}

/** Options of {@link createApp}. */
export interface AppOptions {
  store: Store;
  /** The run queue (default: a {@link ProcessRunQueue} with `concurrency`). */
  queue?: RunQueue;
  /** Runs at once with the default queue (default 1). */
  concurrency?: number;
  /** Scheduling niceness of the default queue's run processes (0..19, default 10: runs yield the CPU to the server). */
  runNiceness?: number;
  /** Bearer token required by write endpoints; none: writes are open. */
  token?: string;
  /** Origins allowed by CORS (`*` for any); none: no CORS headers (same origin only). */
  corsOrigins?: string[];
  /** Largest JSON body (bytes, or a string such as "1mb"). Default "1mb". */
  bodyLimit?: string | number;
  /** Limits on the work one request may ask for (defaults: {@link DEFAULT_WORK_LIMITS}). */
  limits?: Partial<WorkLimits>;
  /** Longest run, seconds: the default and the maximum of `maxSeconds` (as `limits.maxRunSeconds`). */
  maxRunSeconds?: number;
  /** Largest inline network in a scenario, links and nodes (as `limits.maxInlineLinks`). */
  maxInlineLinks?: number;
  /** Folder of the built web app; null: none. Default `<repo>/web/dist` when it exists. */
  webDir?: string | null;
  /** Most runs waiting in the queue, POST /api/runs answers 429 beyond (as `limits.maxQueued`). */
  maxQueued?: number;
  /** SSE heartbeat interval, ms. Default 15000. */
  heartbeatMs?: number;
  /**
   * Host names (with or without a port) the server answers to besides the loopback names; a
   * request with another Host header is refused (403), so a page on another site cannot reach a
   * loopback server through DNS rebinding. Write requests with an Origin header must come from
   * one of these, the server itself or a CORS origin. Default: loopback names only, or any host
   * when the server listens on a non-loopback interface and none is given.
   */
  publicOrigins?: string[];
  /** Whether the server listens on loopback only (default true): decides the default of the Host check. */
  loopbackOnly?: boolean;
  /** Re-queue and mark interrupted runs left by a previous server (default true). */
  recover?: boolean;
  log?: (line: string) => void;
}

/** The app and the parts a server needs to shut down. */
export interface TollkitApp {
  app: Express;
  /**
   * The HTTP server's request listener: kept answers ({@link RouteSpec.prepared}) are sent
   * directly, everything else goes to `app`.
   */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  service: RunService;
  networks: NetworkRegistry;
  routes: RouteSpec[];
  /** Stops the run queue (waiting up to `graceMs` for running runs). Does not close the store. */
  close(graceMs: number): Promise<void>;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

function bearerAuth(token: string): RequestHandler {
  const want = digest(token);
  return (req, _res, next) => {
    const h = req.headers.authorization;
    const m = typeof h === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
    if (!m)
      return next(
        new ApiError(
          401,
          "api: this server requires a bearer token for writes (header Authorization: Bearer <token>)",
          { path: "authorization", in: "headers" },
          {
            "WWW-Authenticate": 'Bearer realm="tollkit"',
          },
        ),
      );
    if (!timingSafeEqual(digest(m[1]), want))
      return next(
        new ApiError(
          401,
          "api: the bearer token is not valid",
          { path: "authorization", in: "headers" },
          { "WWW-Authenticate": 'Bearer realm="tollkit", error="invalid_token"' },
        ),
      );
    next();
  };
}

function cors(origins: string[]): RequestHandler {
  const any = origins.includes("*");
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && (any || origins.includes(origin))) {
      res.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
      if (!any) res.setHeader("Vary", "Origin");
      res.setHeader("Access-Control-Expose-Headers", "Location");
      if (req.method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.setHeader("Access-Control-Max-Age", "600");
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

function hasBody(req: Request): boolean {
  return (
    req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0")
  );
}

function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (!hasBody(req)) return next(new ApiError(400, "api: request body is missing (expected a JSON object)", { in: "body" }));
  if (!req.is("application/json"))
    return next(
      new ApiError(
        415,
        `api: request body must be JSON (Content-Type: application/json), got ${req.headers["content-type"] ?? "no Content-Type"}`,
        { in: "headers", path: "content-type" },
      ),
    );
  next();
}

function parsePart(schema: ZodType, value: unknown, part: RequestPart): unknown {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw validationError(part, r.error, value ?? {});
  return r.data;
}

/**
 * Builds the Express app over a store: routes, validation, auth, CORS, errors, static web app.
 * Starts nothing (no listening); `recover` re-queues or interrupts runs left by a previous server.
 */
export function createApp(opts: AppOptions): TollkitApp {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const queue = opts.queue ?? new ProcessRunQueue({ concurrency: opts.concurrency ?? 1, niceness: opts.runNiceness });
  const networks = new NetworkRegistry(opts.store);
  // a finished run's map layer is built in the map worker at once, so that the studio's first
  // request for it is served from the cache (a failure here is only logged: the request rebuilds it)
  const service = new RunService(opts.store, queue, {
    log,
    onResult: (run) =>
      void networks
        .runGeojson(run.id, run.network, () => opts.store.getLinks(run.id)!)
        .catch((e: unknown) => log(`tollkit serve: run ${run.id}: its GeoJSON could not be prepared: ${(e as Error).message}`)),
  });
  let doc: unknown;
  const deps: RouteDeps = {
    store: opts.store,
    service,
    networks,
    version: API_VERSION,
    startedAt: Date.now(),
    authRequired: !!opts.token,
    limits: {
      ...DEFAULT_WORK_LIMITS,
      ...opts.limits,
      ...(opts.maxRunSeconds !== undefined ? { maxRunSeconds: opts.maxRunSeconds } : {}),
      ...(opts.maxInlineLinks !== undefined ? { maxInlineLinks: opts.maxInlineLinks } : {}),
      ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}),
    },
    heartbeatMs: opts.heartbeatMs ?? 15000,
    openApi: () => (doc ??= openApiDocument(routes, { version: API_VERSION, authRequired: !!opts.token })),
  };
  // The studio's routes (scenario checks, run names) live in their own file.
  const routes: RouteSpec[] = [...apiRoutes(deps), ...studioRoutes(deps)];

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false); // API answers are no-store; static files keep serve-static's own ETags
  app.set("query parser", "simple");
  app.use((_req, res, next) => {
    res.setHeader("X-Content-Type-Options", "nosniff");
    next();
  });
  const hostRefusal = hostRule(opts);
  app.use((req, _res, next) => next(hostRefusal(req)));
  app.use(
    compression({
      // Server-Sent Events are streamed as they happen, never buffered by a compressor
      filter: (req, res) => !req.path.endsWith("/events") && compression.filter(req, res),
    }),
  );
  if (opts.corsOrigins?.length) app.use(cors(opts.corsOrigins));
  app.use("/api", (_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  // strict: false, so that a body of valid JSON that is not an object ("hi", null, 3) is said as
  // such below instead of being called "not valid JSON"
  const json = express.json({ limit: opts.bodyLimit ?? "1mb", strict: false, type: "application/json" });
  const auth = opts.token ? bearerAuth(opts.token) : undefined;
  const methodsByPath = new Map<string, string[]>();
  for (const r of routes) {
    const chain: RequestHandler[] = [];
    if (r.write && auth) chain.push(auth);
    if (r.body) chain.push(requireJson, json);
    chain.push(async (req, res) => {
      const params = r.params ? (parsePart(r.params, req.params, "params") as Record<string, unknown>) : {};
      const query = parsePart(r.query, req.query, "query") as Record<string, unknown>;
      if (r.body && (req.body === null || typeof req.body !== "object"))
        throw new ApiError(400, `api: request body: got ${JSON.stringify(req.body)?.slice(0, 60) ?? "nothing"} (expected a JSON object)`, {
          in: "body",
        });
      const body = r.body ? parsePart(r.body, req.body, "body") : undefined;
      const out = await r.handler({ params, query, body, req, res });
      if (out !== undefined && !res.headersSent) res.json(out);
    });
    app[r.method](r.path, ...chain);
    methodsByPath.set(r.path, [...(methodsByPath.get(r.path) ?? []), r.method.toUpperCase()]);
  }
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
    app.all(path, (req, _res, next) =>
      next(new ApiError(405, `api: ${req.method} is not allowed on ${req.path} (allowed: ${allow})`, {}, { Allow: allow })),
    );
  }
  app.use("/api", (req, _res, next) =>
    next(new ApiError(404, `api: no route ${req.method} ${req.originalUrl.split("?")[0]} (see GET /api/openapi.json)`)),
  );

  const webDir = opts.webDir === undefined ? join(repositoryRoot(), "web", "dist") : opts.webDir;
  const index = webDir ? join(webDir, "index.html") : undefined;
  if (webDir && index && existsSync(index) && statSync(webDir).isDirectory()) {
    app.use(express.static(webDir, { index: "index.html", dotfiles: "ignore", fallthrough: true }));
    app.use((req, res, next) => {
      // client-side routes (no file extension) get the app; a missing asset stays a 404
      const last = req.path.slice(req.path.lastIndexOf("/") + 1);
      if ((req.method === "GET" || req.method === "HEAD") && !last.includes(".") && req.accepts("html")) res.sendFile(index);
      else next();
    });
  } else {
    app.get("/", (_req, res) => {
      res.json({ name: "tollkit", api: "/api/health", openapi: "/api/openapi.json", web: "not built (pnpm --filter @tollkit/web build)" });
    });
  }
  app.use((req, _res, next) => next(new ApiError(404, `api: nothing at ${req.method} ${req.originalUrl.split("?")[0]}`)));

  // Errors: JSON, no stack traces; internal errors are logged with their stack.
  app.use((e: unknown, req: Request, res: Response, _next: NextFunction) => {
    const r = toErrorResponse(e);
    if (r.internal) log(`tollkit serve: ${req.method} ${req.originalUrl}: ${(e as Error)?.stack ?? String(e)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(r.status).set(r.headers).json(r.body);
  });

  const prepared = preparedAnswers(routes, opts, hostRefusal);
  if (opts.recover !== false) service.recover();
  return {
    app,
    handle: (req, res) => {
      if (!prepared(req, res)) app(req, res);
    },
    service,
    networks,
    routes,
    close: async (graceMs) => {
      await service.close(graceMs);
      await networks.close();
    },
  };
}
