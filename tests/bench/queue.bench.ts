/**
 * `pnpm bench queue`: what running runs through BullMQ on Redis costs and what it gains.
 *
 * Starts Debian's redis-server on a free port in a temporary folder (tests/helpers/redis.ts)
 * and real `tollkit worker` processes (the built CLI).
 * - Per-run overhead: small runs (Braess design; Sioux Falls BFW to 1e-4), one at a time,
 *   through the queue with one worker versus {@link startChildRun} on this machine (the
 *   baseline, measured in the same run; the in-process solve is reported too). Target: the
 *   queue adds ≤ 30 ms per run.
 * - Throughput: a 40-run batch (Sioux Falls and Anaheim, CFW and BFW to 1e-4, ten demand levels)
 *   with `tollkit batch --queue` and 1, 2 and 4 workers, against the local batch with
 *   --concurrency 1 and 2 (the baseline): wall seconds, runs per second, the speed-up over the
 *   local batch with one process, and CPU seconds per run (coordinator + workers + their run
 *   processes, from the kernel's accounting).
 * One JSON line per measurement, then a summary line.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { executeTask, RunTask, startChildRun } from "@tollkit/runs";
import { QueueClient } from "@tollkit/runs/queue";
import { CLI, ROOT } from "../helpers/cli.js";
import { startRedis, startWorker, stopWorker, TestWorker } from "../helpers/redis.js";

const REPEATS = Number(process.env.TOLLKIT_BENCH_REPEATS ?? 12);
const TARGET_OVERHEAD_MS = 30;
const TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: "queue", ...o })}\n`);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** CPU seconds of a live process and its reaped children (/proc/<pid>/stat utime+stime+cutime+cstime). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
}

/** Runs a command under bash and returns its wall seconds and the CPU seconds of it and its children (`times`). */
function timed(args: string[]): { seconds: number; cpu: number; code: number | null; stderr: string } {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const t0 = performance.now();
  const r = spawnSync("bash", ["-c", `${quoted} >/dev/null; code=$?; times >&2; exit $code`], {
    cwd: ROOT,
    encoding: "utf8",
    env: process.env,
  });
  const seconds = (performance.now() - t0) / 1000;
  const lines = r.stderr.trim().split("\n");
  const children = lines.at(-1)!.match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpu = children.reduce((s, t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t)!;
    return s + Number(m[1]) * 60 + Number(m[2]);
  }, 0);
  return { seconds, cpu, code: r.status, stderr: lines.slice(0, -2).join("\n") };
}

async function overhead(redisUrl: string): Promise<Record<string, number>> {
  const cases: [string, RunTask][] = [
    [
      "braess-design",
      {
        kind: "design",
        scenario: JSON.parse(readFileSync(join(ROOT, "scenarios", "braess.json"), "utf8")),
        label: join(ROOT, "scenarios", "braess.json"),
        form: "cli",
        files: true,
      },
    ],
    ["sioux-falls-bfw-1e-4", { kind: "assign", network: "sioux-falls", settings: { algorithm: "bfw", gap: 1e-4 }, files: true }],
  ];
  const worker = await startWorker(redisUrl);
  const client = await QueueClient.open({ redis: redisUrl });
  const out: Record<string, number> = {};
  try {
    for (const [name, task] of cases) {
      const inProcess: number[] = [];
      const local: number[] = [];
      const queued: number[] = [];
      for (let k = 0; k < REPEATS + 1; k++) {
        let t = performance.now();
        await executeTask(task);
        const a = performance.now() - t;
        t = performance.now();
        const o1 = await startChildRun(task).outcome;
        const b = performance.now() - t;
        t = performance.now();
        const o2 = await client.submit(`bench-${process.pid}-${name}-${k}`, { task, label: `${name} ${k}` }).outcome;
        const c = performance.now() - t;
        if (o1.status !== "done" || o2.status !== "done") throw new Error(`bench queue: ${name}: ${o1.status} / ${o2.status}`);
        if (k === 0) continue; // warm-up: network caches, redis scripts
        inProcess.push(a);
        local.push(b);
        queued.push(c);
      }
      const row = {
        case: name,
        runs: REPEATS,
        inProcessMs: round(median(inProcess)),
        localChildMs: round(median(local)),
        queueMs: round(median(queued)),
        // paired: each queued run is measured right after a local one, so load drifts cancel out
        overheadMs: round(median(queued.map((q, k) => q - local[k]))),
        overheadOfMinimaMs: round(Math.min(...queued) - Math.min(...local)),
        queueOverLocal: round(median(queued) / median(local), 2),
        targetMs: TARGET_OVERHEAD_MS,
        withinTarget: median(queued.map((q, k) => q - local[k])) <= TARGET_OVERHEAD_MS,
      };
      emit({ measure: "overhead", ...row });
      out[name] = row.overheadMs;
      emit({ measure: "load", loadavg: loadavg().map((x) => round(x, 2)) });
    }
  } finally {
    await client.close();
    await stopWorker(worker);
  }
  return out;
}

async function throughput(redisUrl: string, work: string): Promise<Record<string, unknown>[]> {
  const sweep = join(work, "sweep40.json");
  writeFileSync(
    sweep,
    JSON.stringify({
      kind: "sweep",
      name: "bench-queue-40",
      runs: [
        {
          kind: "assign",
          objective: "ue",
          grid: {
            network: ["sioux-falls", "anaheim"],
            algorithm: ["cfw", "bfw"],
            gap: [1e-4],
            demandScale: [1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55],
          },
        },
      ],
    }),
  );
  const rows: Record<string, unknown>[] = [];
  let base: number | undefined;
  for (const c of [1, 2]) {
    const out = join(work, `local-${c}`);
    const r = timed([process.execPath, CLI, "batch", sweep, "--out", out, "--concurrency", String(c), "--progress", "none"]);
    if (r.code !== 0) throw new Error(`bench queue: local batch failed: ${r.stderr}`);
    base ??= r.seconds;
    const row = {
      measure: "throughput",
      mode: "local",
      processes: c,
      runs: 40,
      seconds: round(r.seconds, 2),
      runsPerSecond: round(40 / r.seconds, 2),
      speedupOverLocal1: round(base / r.seconds, 2),
      cpuSecondsPerRun: round(r.cpu / 40, 3),
    };
    emit(row);
    rows.push(row);
  }
  for (const n of [1, 2, 4]) {
    const workers: TestWorker[] = [];
    for (let k = 0; k < n; k++) workers.push(await startWorker(redisUrl));
    const before = workers.map((w) => cpuSeconds(w.proc.pid!));
    const out = join(work, `queue-${n}`);
    // the coordinator runs in the background so that this process's event loop keeps the workers' pipes drained
    const r = await new Promise<ReturnType<typeof timed>>((res) => {
      const t0 = performance.now();
      const quoted = [process.execPath, CLI, "batch", sweep, "--out", out, "--queue", redisUrl, "--progress", "none"]
        .map((a) => `'${a}'`)
        .join(" ");
      const p = spawn("bash", ["-c", `${quoted} >/dev/null; code=$?; times >&2; exit $code`], { cwd: ROOT, env: process.env });
      let err = "";
      p.stderr.on("data", (d: Buffer) => (err += d.toString()));
      p.on("exit", (code) => {
        const lines = err.trim().split("\n");
        const cpu = (lines.at(-1)!.match(/(\d+)m([\d.]+)s/g) ?? []).reduce((s, t) => {
          const m = /(\d+)m([\d.]+)s/.exec(t)!;
          return s + Number(m[1]) * 60 + Number(m[2]);
        }, 0);
        res({ seconds: (performance.now() - t0) / 1000, cpu, code, stderr: err });
      });
    });
    if (r.code !== 0) throw new Error(`bench queue: queued batch failed: ${r.stderr}`);
    const workerCpu = workers.reduce((s, w, k) => s + cpuSeconds(w.proc.pid!) - before[k], 0);
    await Promise.all(workers.map(stopWorker));
    const row = {
      measure: "throughput",
      mode: "queue",
      workers: n,
      runs: 40,
      seconds: round(r.seconds, 2),
      runsPerSecond: round(40 / r.seconds, 2),
      speedupOverLocal1: round(base! / r.seconds, 2),
      cpuSecondsPerRun: round((r.cpu + workerCpu) / 40, 3),
      coordinatorCpuSecondsPerRun: round(r.cpu / 40, 3),
    };
    emit(row);
    rows.push(row);
  }
  return rows;
}

async function main(): Promise<void> {
  const work = resolve(tmpdir(), `tollkit-bench-queue-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const redis = await startRedis();
  try {
    const o = await overhead(redis.url);
    // TOLLKIT_BENCH_QUEUE_OVERHEAD_ONLY=1: the per-run overhead alone (a minute instead of several)
    const t = process.env.TOLLKIT_BENCH_QUEUE_OVERHEAD_ONLY ? [] : await throughput(redis.url, work);
    emit({
      measure: "summary",
      overheadMs: o,
      throughput: t.map((r) => ({ mode: r.mode, n: r.workers ?? r.processes, seconds: r.seconds })),
      cores: cpus().length,
      loadavg: loadavg().map((x) => round(x, 2)),
    });
  } finally {
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
