/**
 * `tollkit serve [--port 8080] [--db FILE] …`: the HTTP API (and the built web app) on one port.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { InputError, isInputError, readJsonFile } from "@tollkit/graph-core";

function integer(flag: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^[0-9]+$/.test(v) || !(n >= min && n <= max))
      throw new InputError("cli/serve", `${flag} ${v}`, { field: flag }, `an integer in ${min}..${max}`);
    return n;
  };
}

/**
 * Stores the scenario files of a folder through the server's own `POST /api/scenarios`, so they
 * are validated exactly as uploads are. Files whose `name` is already stored are skipped; a
 * file the API refuses is reported in one line and the others still load.
 */
async function loadScenarioFolder(dir: string, url: string, stored: { name: string }[], token?: string): Promise<void> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new InputError("cli/serve", `${dir} is not a folder`, { field: "--scenarios" }, "a folder of scenario files");
  const names = new Set(stored.map((s) => s.name));
  let loaded = 0;
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith(".json") && !n.endsWith(".schema.json"))
    .sort()) {
    const file = join(dir, f);
    let body: { name?: unknown };
    try {
      body = readJsonFile(file, "cli/serve", "a JSON scenario") as { name?: unknown };
    } catch (e) {
      if (!isInputError(e)) throw e;
      process.stderr.write(`tollkit serve: ${e.message}; skipped\n`);
      continue;
    }
    if (typeof body.name === "string" && names.has(body.name)) continue;
    const res = await fetch(`${url}/api/scenarios`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.ok) loaded++;
    else {
      const err = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      process.stderr.write(`tollkit serve: ${file}: ${err.error?.message ?? `HTTP ${res.status}`}; skipped\n`);
    }
  }
  process.stdout.write(`tollkit serve: ${loaded} scenario(s) loaded from ${dir}\n`);
}

/**
 * An integer option in `min..max` (a limit: ≥ 1), by default the environment variable `env`, else
 * the server's own default (the API's DEFAULT_WORK_LIMITS and run niceness, listed in the README).
 */
function limitOption(flags: string, what: string, env: string, min = 1, max = 1e12): Option {
  const flag = flags.split(" ")[0];
  const fromEnv = process.env[env];
  const o = new Option(flags, `${what} (default $${env} or the server's default)`).argParser(integer(flag, min, max));
  return fromEnv !== undefined && fromEnv !== "" ? o.default(integer(env, min, max)(fromEnv)) : o;
}

/** Adds `tollkit serve` to the program. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("Serve the HTTP API (and the web app, when web/dist is built) on one port")
    .addOption(new Option("--port <port>", "port (0: any free port)").default(8080).argParser(integer("--port", 0, 65535)))
    .option("--host <host>", "interface to listen on (0.0.0.0 for every interface)", "127.0.0.1")
    .option("--db <file>", "SQLite database file (default $TOLLKIT_DB or ./tollkit.db)")
    .option("--token <token>", "bearer token required by write endpoints (default $TOLLKIT_API_TOKEN; none: writes are open)")
    .option("--cors <origins>", "comma-separated origins allowed by CORS, or * (default $TOLLKIT_CORS_ORIGINS; none: same origin only)")
    .addOption(new Option("--concurrency <n>", "runs executed at once").default(1).argParser(integer("--concurrency", 1, 64)))
    .addOption(
      limitOption(
        "--run-niceness <n>",
        "scheduling niceness of the run processes, 0..19 (server default 10): runs yield the CPU to the server",
        "TOLLKIT_RUN_NICENESS",
        0,
        19,
      ),
    )
    .addOption(
      new Option("--max-run-seconds <s>", "longest run, seconds (default and cap of maxSeconds)")
        .default(3600)
        .argParser(integer("--max-run-seconds", 1, 604800)),
    )
    .addOption(limitOption("--max-grid-points <n>", "most grid points of one grid design", "TOLLKIT_MAX_GRID_POINTS"))
    .addOption(limitOption("--max-solves <n>", "largest solve budget (method.maxSolves) of one search", "TOLLKIT_MAX_SOLVES"))
    .addOption(limitOption("--max-inline-links <n>", "most nodes or links of an inline network", "TOLLKIT_MAX_INLINE_LINKS"))
    .addOption(limitOption("--max-inline-zones <n>", "most zones of an inline network", "TOLLKIT_MAX_INLINE_ZONES"))
    .addOption(limitOption("--max-inline-od-pairs <n>", "most demand entries of an inline network", "TOLLKIT_MAX_INLINE_OD_PAIRS"))
    .addOption(limitOption("--max-queued <n>", "most runs waiting in the queue (then 429)", "TOLLKIT_MAX_QUEUED"))
    .option(
      "--public-origin <origins>",
      "comma-separated host names or origins this server is reached by, besides loopback (checked against Host and, on writes, Origin)",
    )
    .option("--allow-anonymous-writes", "listen on a non-loopback --host without a token (anyone who reaches it can start runs)")
    .addOption(
      new Option("--grace-seconds <s>", "at SIGTERM, how long running runs may take to finish before they are marked interrupted")
        .default(1)
        .argParser(integer("--grace-seconds", 0, 3600)),
    )
    .option("--body-limit <size>", "largest JSON request body, e.g. 1mb", "1mb")
    .option("--web <dir>", "folder of the built web app (default web/dist when it exists)")
    .option("--no-web", "do not serve the web app")
    .option(
      "--redis <url>",
      "execute runs on tollkit worker processes, through a BullMQ queue on this Redis (default: child processes here)",
    )
    .option("--queue <name>", "queue name with --redis", "tollkit-runs")
    .option("--scenarios <dir>", "load every scenario file (*.json) of this folder at start, unless one of the same name is stored")
    .addHelpText(
      "after",
      `
Routes (JSON): GET /api/health, /api/openapi.json, /api/networks[/:id[/geojson]],
POST|GET /api/scenarios, GET /api/scenarios/:id, POST|GET /api/runs, GET|PATCH|DELETE /api/runs/:id (DELETE cancels; ?purge=true deletes a finished run), POST /api/runs/:id/cancel,
GET /api/runs/:id/events (Server-Sent Events), /api/runs/:id/flows?format=json|csv|geojson,
GET /api/compare?a=RUN&b=RUN. SIGTERM stops within --grace-seconds (running runs are marked interrupted).

Examples:
  tollkit serve
  tollkit serve --scenarios scenarios
  tollkit serve --port 9000 --db /var/lib/tollkit/tollkit.db --token "$(cat token.txt)"
  tollkit serve --redis redis://127.0.0.1:6379      # runs go to tollkit worker processes
  curl -X POST localhost:8080/api/runs -H 'Content-Type: application/json' \\
       -d '{"kind":"assign","network":"sioux-falls","settings":{"algorithm":"bfw","gap":1e-5}}'`,
    )
    .action(
      async (opts: {
        port: number;
        host: string;
        db?: string;
        token?: string;
        cors?: string;
        concurrency: number;
        runNiceness?: number;
        maxRunSeconds: number;
        maxGridPoints?: number;
        maxSolves?: number;
        maxInlineLinks?: number;
        maxInlineZones?: number;
        maxInlineOdPairs?: number;
        maxQueued?: number;
        publicOrigin?: string;
        graceSeconds: number;
        allowAnonymousWrites?: boolean;
        bodyLimit: string;
        web?: string | boolean;
        scenarios?: string;
        redis?: string;
        queue: string;
      }) => {
        const token = opts.token ?? process.env.TOLLKIT_API_TOKEN ?? undefined;
        const cors = (opts.cors ?? process.env.TOLLKIT_CORS_ORIGINS ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        if (!/^[0-9]+(b|kb|mb)?$/i.test(opts.bodyLimit))
          throw new InputError("cli/serve", `--body-limit ${opts.bodyLimit}`, { field: "--body-limit" }, "a size such as 512kb or 1mb");
        const { BullRunQueue, defaultDbPath, startServer } = await import("@tollkit/api"); // express and SQLite load only for serve
        const dbPath = opts.db ?? defaultDbPath();
        const queue = opts.redis ? await BullRunQueue.open({ redis: opts.redis, queue: opts.queue, dbPath }) : undefined;
        let srv: Awaited<ReturnType<typeof startServer>>;
        try {
          srv = await startServer({
            queue,
            port: opts.port,
            host: opts.host,
            dbPath,
            token: token || undefined,
            corsOrigins: cors,
            concurrency: opts.concurrency,
            runNiceness: opts.runNiceness,
            limits: Object.fromEntries(
              Object.entries({
                maxRunSeconds: opts.maxRunSeconds,
                maxGridPoints: opts.maxGridPoints,
                maxSolves: opts.maxSolves,
                maxInlineLinks: opts.maxInlineLinks,
                maxInlineZones: opts.maxInlineZones,
                maxInlineOdPairs: opts.maxInlineOdPairs,
                maxQueued: opts.maxQueued,
              }).filter(([, v]) => v !== undefined),
            ),
            publicOrigins: (opts.publicOrigin ?? "")
              .split(",")
              .map((x) => x.trim())
              .filter(Boolean),
            allowAnonymousWrites: opts.allowAnonymousWrites,
            graceMs: opts.graceSeconds * 1000,
            bodyLimit: opts.bodyLimit,
            webDir: opts.web === false ? null : typeof opts.web === "string" ? opts.web : undefined,
          });
        } catch (e) {
          await queue?.close(0);
          throw e;
        }
        process.stdout.write(
          `tollkit serve: listening on ${srv.url} (database ${srv.store.path}${token ? ", writes need the bearer token" : ""}${opts.redis ? `, runs on the workers of queue "${opts.queue}"` : ""})\n`,
        );
        if (opts.scenarios) await loadScenarioFolder(opts.scenarios, srv.url, srv.store.listScenarios(1_000_000, 0).items, token);
        await srv.closed;
      },
    );
}
