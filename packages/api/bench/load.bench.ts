/**
 * `pnpm bench load`: the load test of issue 15. The built `tollkit serve` runs as a subprocess
 * on 127.0.0.1 (port 0, a temp database, concurrency 2). A Chicago-Sketch assignment is solved
 * first; then a Berlin-Center assignment is started (FW to a gap it never reaches) and, while it
 * computes, 100 concurrent keep-alive clients read for 10 s each
 * - `GET /api/health` — the baseline: the framework's floor (routing, JSON, one SQLite `SELECT 1`);
 * - `GET /api/runs/:id` of the Chicago-Sketch run (status, progress, summary) — target p99 ≤ 100 ms;
 * - `GET /api/runs/:id/flows?format=geojson` of the same run (2950 features), never requested
 *   before (the server prepares it in its map worker when the run finishes) — target p99 ≤ 1 s;
 * all with 0 errors. Clients ask as browsers do (Accept-Encoding: gzip); the first GeoJSON answer
 * is decoded and checked (a FeatureCollection of 2950 links), every later one must be the same bytes.
 *
 * Prints one JSON line per measurement (`bench: "api-load"`, route, clients, requests, errors,
 * throughput per second, p50/p90/p99/max latency in ms, server CPU per request) and a line per
 * target with the ratios to the baseline measured in the same run. Exits 1 on any error or a
 * target missed. Only 127.0.0.1 is ever contacted. Client and server share the machine (2 cores
 * here): timings are noisy while other work runs; record `uptime` with the figures.
 */
import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { gunzipSync } from "node:zlib";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TARGETS = { summary: 100, geojson: 1000 };
const CHICAGO_LINKS = 2950;
/** Extra Node options of the server process, e.g. `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile it. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: "api-load", ...o })}\n`);
}

async function startServer(db: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      ...SERVER_NODE_ARGS,
      join(ROOT, "packages", "cli", "dist", "main.js"),
      "serve",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--db",
      db,
      "--concurrency",
      "2",
    ],
    {
      cwd: ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  const port = await new Promise<number>((res, rej) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.on("exit", (c) => rej(new Error(`tollkit serve exited with ${c}`)));
  });
  return { child, port };
}

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

/**
 * One request, as a browser makes it (Accept-Encoding: gzip). The body is kept as bytes
 * (`raw`, still compressed when the server compressed it); `text()` decodes it when asked.
 * `fresh`: a connection of its own (not the load's keep-alive pool).
 */
function get(
  port: number,
  path: string,
  body?: string,
  fresh = false,
): Promise<{ status: number; raw: Buffer; gzip: boolean; text: () => string }> {
  return new Promise((res, rej) => {
    const headers: Record<string, string> = { "accept-encoding": "gzip" };
    if (body) headers["content-type"] = "application/json";
    const req = request({ host: "127.0.0.1", port, path, method: body ? "POST" : "GET", agent: fresh ? false : agent, headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (d: Buffer) => chunks.push(d));
      r.on("end", () => {
        const raw = Buffer.concat(chunks);
        const gzip = r.headers["content-encoding"] === "gzip";
        let text: string | undefined; // decoded once, when asked
        res({ status: r.statusCode!, raw, gzip, text: () => (text ??= (gzip ? gunzipSync(raw) : raw).toString("utf8")) });
      });
      r.on("error", rej);
    });
    req.on("error", rej);
    if (body) req.write(body);
    req.end();
  });
}

async function submit(port: number, body: unknown): Promise<number> {
  const r = await get(port, "/api/runs", JSON.stringify(body), true);
  if (r.status !== 202) throw new Error(`POST /api/runs: ${r.status} ${r.text()}`);
  return (JSON.parse(r.text()) as { id: number }).id;
}

async function status(port: number, id: number): Promise<{ status: string; error?: string; progress?: { iteration?: number } }> {
  return JSON.parse((await get(port, `/api/runs/${id}`, undefined, true)).text()) as { status: string; error?: string };
}

async function runToDone(port: number, body: unknown): Promise<number> {
  const id = await submit(port, body);
  for (;;) {
    const s = await status(port, id);
    if (s.status === "done") return id;
    if (s.status !== "queued" && s.status !== "running") throw new Error(`run ${id} ${s.status}: ${s.error}`);
    await new Promise((w) => setTimeout(w, 200));
  }
}

/** CPU time (user + system) a process has used, ms (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return NaN;
  }
}

/**
 * `clients` loops issuing requests back to back for `seconds`; latencies in ms. Also the
 * server's CPU time per request, which does not depend on what else the machine runs, and the
 * load generator's own (it shares the cores with the server). `check` sees each answer's bytes (still compressed) and its decoding on demand.
 */
async function load(
  server: number,
  port: number,
  route: string,
  paths: string[],
  seconds: number,
  check: (raw: Buffer, text: () => string) => boolean,
) {
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const end = performance.now() + seconds * 1000;
  let k = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const path = paths[k++ % paths.length];
      const t = performance.now();
      try {
        const r = await get(port, path);
        lat.push(performance.now() - t);
        if (r.status !== 200 || !check(r.raw, r.text)) {
          errors++;
          firstError ??= `${r.status} ${r.text().slice(0, 200)}`;
        }
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  const t0 = performance.now();
  const cpu0 = cpuMs(server);
  const own0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  const serverCpuMs = cpuMs(server) - cpu0;
  const own = process.cpuUsage(own0);
  const clientCpuMs = (own.user + own.system) / 1000;
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 100) / 100;
  const m = {
    route,
    clients: CLIENTS,
    seconds: Math.round(elapsed * 100) / 100,
    requests: lat.length,
    errors,
    throughputPerSecond: Math.round(lat.length / elapsed),
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    maxMs: Math.round(lat[lat.length - 1] * 100) / 100,
    serverCpuMsPerRequest: Math.round((serverCpuMs / lat.length) * 1000) / 1000,
    /** The load generator's own CPU per request (it shares the machine's cores with the server). */
    clientCpuMsPerRequest: Math.round((clientCpuMs / lat.length) * 1000) / 1000,
    ...(firstError ? { firstError } : {}),
  };
  emit(m);
  return m;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tollkit-bench-"));
  const { child, port } = await startServer(join(dir, "bench.db"));
  try {
    const chicago = await runToDone(port, { kind: "assign", network: "chicago-sketch", settings: { algorithm: "bush", gap: 1e-4 } });
    const berlin = await submit(port, {
      kind: "assign",
      network: "berlin-center",
      settings: { algorithm: "fw", gap: 1e-14, maxSeconds: 600 }, // FW never reaches 1e-14: it computes throughout
    });
    // wait until Berlin-Center computes (its runner has loaded the network and iterates)
    for (;;) {
      const s = await status(port, berlin);
      if (s.status === "running" && (s.progress?.iteration ?? 0) >= 1) break;
      if (s.status !== "queued" && s.status !== "running") throw new Error(`berlin run ${s.status}: ${s.error}`);
      await new Promise((w) => setTimeout(w, 200));
    }
    // warm up the JSON routes (JIT, statement caches, sockets); the GeoJSON is not asked for before its phase
    await load(child.pid!, port, "warm-up", ["/api/health", `/api/runs/${chicago}`], 1, () => true);
    emit({ route: "load average at start", loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) });
    const base = await load(child.pid!, port, "GET /api/health (baseline)", ["/api/health"], SECONDS, (_b, t) =>
      t().includes('"status":"ok"'),
    );
    const summary = await load(
      child.pid!,
      port,
      "GET /api/runs/:id (chicago-sketch)",
      [`/api/runs/${chicago}`],
      SECONDS,
      (_b, t) => t().includes('"status":"done"') && t().includes('"tstt"'),
    );
    let reference: Buffer | undefined;
    const geojson = await load(
      child.pid!,
      port,
      "GET /api/runs/:id/flows?format=geojson (chicago-sketch, first request in this phase)",
      [`/api/runs/${chicago}/flows?format=geojson`],
      SECONDS,
      // the first answer is decoded and checked; every later one must be the same bytes
      (raw, t) => {
        if (reference) return raw.equals(reference);
        const fc = JSON.parse(t()) as { type: string; features: unknown[] };
        if (fc.type !== "FeatureCollection" || fc.features.length !== CHICAGO_LINKS) return false;
        reference = raw;
        return true;
      },
    );
    const berlinAfter = await status(port, berlin);
    emit({ route: "load average at end", loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) });
    let ok = base.errors === 0;
    for (const [name, m, target] of [
      ["summary", summary, TARGETS.summary],
      ["geojson", geojson, TARGETS.geojson],
    ] as const) {
      const met = m.p99Ms <= target && m.errors === 0;
      ok &&= met;
      emit({
        route: `${name} vs health`,
        ratioP99: Math.round((m.p99Ms / base.p99Ms) * 100) / 100,
        ratioThroughput: Math.round((m.throughputPerSecond / base.throughputPerSecond) * 1000) / 1000,
        ratioServerCpu: Math.round((m.serverCpuMsPerRequest / base.serverCpuMsPerRequest) * 100) / 100,
        targetP99Ms: target,
        met,
      });
    }
    emit({ route: "berlin-center run during the load", status: berlinAfter.status, iteration: berlinAfter.progress?.iteration ?? null });
    if (berlinAfter.status !== "running") ok = false; // it must have computed throughout
    if (!ok) process.exitCode = 1;
  } finally {
    agent.destroy();
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
