/**
 * `pnpm bench load`: a bounded load test of the HTTP API. The built `tollkit serve` runs as a
 * subprocess on 127.0.0.1 (port 0, a temp database); three runs are solved first (Braess,
 * two-route, Sioux Falls); then 100 concurrent keep-alive clients read
 * - `GET /api/health` for 10 s — the baseline: the framework's floor (routing, JSON, one
 *   SQLite `SELECT 1`);
 * - `GET /api/runs/:id` (status, progress and summary of a done run, cycling over the three)
 *   for 10 s — the target: p99 ≤ 50 ms with no errors.
 *
 * Prints one JSON line per measurement (`bench: "api-load"`, route, clients, requests, errors,
 * throughput per second, p50/p90/p99/max latency in ms) and a comparison line (`ratio` of the
 * target's p99 to the baseline's). Exits 1 on any error. Only 127.0.0.1 is ever contacted.
 * Client and server share the machine (2 cores here): timings are noisy while other work runs.
 */
import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TARGET_P99_MS = 50;

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: "api-load", ...o })}\n`);
}

async function startServer(db: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "packages", "cli", "dist", "main.js"), "serve", "--port", "0", "--host", "127.0.0.1", "--db", db],
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

function get(port: number, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((res, rej) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: body ? "POST" : "GET", agent, headers: body ? { "content-type": "application/json" } : {} },
      (r) => {
        let text = "";
        r.setEncoding("utf8");
        r.on("data", (d) => (text += d));
        r.on("end", () => res({ status: r.statusCode!, text }));
      },
    );
    req.on("error", rej);
    if (body) req.write(body);
    req.end();
  });
}

async function runToDone(port: number, body: unknown): Promise<number> {
  const r = await get(port, "/api/runs", JSON.stringify(body));
  if (r.status !== 202) throw new Error(`POST /api/runs: ${r.status} ${r.text}`);
  const id = (JSON.parse(r.text) as { id: number }).id;
  for (;;) {
    const s = JSON.parse((await get(port, `/api/runs/${id}`)).text) as { status: string; error?: string };
    if (s.status === "done") return id;
    if (s.status !== "queued" && s.status !== "running") throw new Error(`run ${id} ${s.status}: ${s.error}`);
    await new Promise((w) => setTimeout(w, 100));
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
 * server's CPU time per request, which does not depend on what else the machine runs.
 */
async function load(server: number, port: number, route: string, paths: string[], seconds: number, check: (text: string) => boolean) {
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
        if (r.status !== 200 || !check(r.text)) {
          errors++;
          firstError ??= `${r.status} ${r.text.slice(0, 200)}`;
        }
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  const t0 = performance.now();
  const cpu0 = cpuMs(server);
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  const serverCpuMs = cpuMs(server) - cpu0;
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
    ...(firstError ? { firstError } : {}),
  };
  emit(m);
  return m;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tollkit-bench-"));
  const { child, port } = await startServer(join(dir, "bench.db"));
  try {
    const ids = [
      await runToDone(port, { kind: "assign", network: "braess-builtin", settings: { algorithm: "bfw", gap: 1e-8 } }),
      await runToDone(port, {
        kind: "assign",
        network: "two-route",
        settings: { algorithm: "bfw", gap: 1e-8, tolls: [{ link: 1, toll: 2.5 }] },
      }),
      await runToDone(port, { kind: "assign", network: "sioux-falls", settings: { algorithm: "bfw", gap: 1e-4 } }),
    ];
    // warm up both routes (JIT, statement caches, sockets)
    await load(child.pid!, port, "warm-up", ["/api/health", ...ids.map((i) => `/api/runs/${i}`)], 1, () => true);
    const base = await load(child.pid!, port, "GET /api/health (baseline)", ["/api/health"], SECONDS, (t) => t.includes('"status":"ok"'));
    const target = await load(
      child.pid!,
      port,
      "GET /api/runs/:id",
      ids.map((i) => `/api/runs/${i}`),
      SECONDS,
      (t) => t.includes('"status":"done"') && t.includes('"tstt"'),
    );
    emit({
      route: "summary vs health",
      ratioP99: Math.round((target.p99Ms / base.p99Ms) * 100) / 100,
      ratioThroughput: Math.round((target.throughputPerSecond / base.throughputPerSecond) * 100) / 100,
      ratioServerCpu: Math.round((target.serverCpuMsPerRequest / base.serverCpuMsPerRequest) * 100) / 100,
      targetP99Ms: TARGET_P99_MS,
      met: target.p99Ms <= TARGET_P99_MS && target.errors === 0,
    });
    if (base.errors || target.errors) process.exitCode = 1;
  } finally {
    agent.destroy();
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
