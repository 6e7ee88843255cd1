/**
 * `tollkit batch --queue` with `tollkit worker` processes on a real Redis (Debian's
 * redis-server on a free port, in a temporary folder):
 * - a 30-run batch (assignments on Braess, the two-route network and Sioux Falls at a loose gap)
 *   on 3 workers gives the local batch's results.csv, number for number, while one worker is
 *   killed (SIGKILL) mid-run: its run is retried on another worker and all 30 results are
 *   present exactly once;
 * - Redis restarted during a batch: workers and the batch reconnect and the batch completes;
 * - a malformed scenario (refused by the planner) and a run that fails for its input on the
 *   worker (a toll on a link that does not exist) each fail once, clearly, never retried, and
 *   the other runs complete.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseCsv } from "@tollkit/graph-core";
import { ROOT, spawnTollkit, tollkit } from "./helpers/cli.js";
import { hasRedis, startRedis, startWorker, stopWorker, TestRedis, TestWorker } from "./helpers/redis.js";

const work = join(ROOT, "tests", ".out", "queue-batch");
const sweep = join(work, "sweep30.json");
/** Columns of results.csv that hold a run's numbers (not its timing or folder). */
const NUMBERS = ["status", "converged", "stopReason", "iterations", "relativeGap", "tstt", "totalCost", "sptt", "beckmann", "revenue"];

/** Runs `tollkit batch` in the background; resolves with its exit code and JSON lines. */
function batch(
  args: string[],
  onLine?: (e: Record<string, unknown>) => void,
): Promise<{ code: number | null; events: Record<string, unknown>[]; stderr: string }> {
  const p = spawnTollkit(["batch", ...args, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  const events: Record<string, unknown>[] = [];
  let buf = "";
  let stderr = "";
  p.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let k: number;
    while ((k = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, k);
      buf = buf.slice(k + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      events.push(e);
      onLine?.(e);
    }
  });
  p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => p.once("exit", (code) => r({ code, events, stderr })));
}

function results(out: string): Record<string, string>[] {
  return parseCsv(readFileSync(join(out, "results.csv"), "utf8"), "results.csv").rows;
}

function numbers(rows: Record<string, string>[]): Record<string, Record<string, string>> {
  return Object.fromEntries(rows.map((r) => [r.run, Object.fromEntries(NUMBERS.map((c) => [c, r[c]]))]));
}

// CI installs redis-server (.ci/run); a machine without it says so instead of passing silently
test.runIf(!hasRedis())("redis-server is installed (apt-get install redis-server)", () => {
  expect(hasRedis()).toBe(true);
});

test("a malformed or unreachable Redis URL is one line and exit 2", () => {
  const w = tollkit("worker", "--redis", "http://127.0.0.1:6379");
  expect(w.code).toBe(2);
  expect(w.stderr).toMatch(/field "--redis": got "http:\/\/127\.0\.0\.1:6379" \(expected a Redis URL/);
  const b = tollkit("batch", "scenarios/braess.json", "--out", join(work, "unreachable"), "--queue", "redis://127.0.0.1:1");
  expect(b.code).toBe(2);
  expect(b.stderr.trim().split("\n")).toHaveLength(1);
  expect(b.stderr).toMatch(/field "--queue": cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
});

describe.skipIf(!hasRedis())("tollkit batch --queue on a real Redis", () => {
  let redis: TestRedis;
  let local: Record<string, Record<string, string>>;
  const workers: TestWorker[] = [];

  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(
      sweep,
      JSON.stringify({
        kind: "sweep",
        name: "queue-30",
        runs: [
          {
            kind: "assign",
            objective: "ue",
            grid: {
              network: ["braess-builtin", "two-route", "sioux-falls"],
              algorithm: ["fw", "bfw"],
              gap: [1e-3],
              demandScale: [1, 0.95, 0.9, 0.85, 0.8],
            },
          },
        ],
      }),
    );
    redis = await startRedis();
    // the reference: the same batch on local child processes
    const r = tollkit("batch", sweep, "--out", join(work, "local"), "--concurrency", "2", "--progress", "none");
    expect(r.code, r.stderr).toBe(0);
    local = numbers(results(join(work, "local")));
    expect(Object.keys(local)).toHaveLength(30);
    for (let k = 0; k < 3; k++) workers.push(await startWorker(redis.url));
  });

  afterAll(async () => {
    await Promise.all(workers.map(stopWorker));
    await redis?.stop();
  });

  test("30 runs on 3 workers, one killed mid-run: the local batch's results, each exactly once", async () => {
    const out = join(work, "queued");
    let finished = 0;
    let killed: TestWorker | undefined;
    const r = await batch([sweep, "--out", out, "--queue", redis.url], (e) => {
      if (e.event === "finish" && ++finished === 6) {
        // every worker is busy (24 runs wait): the first one is mid-run when it dies
        killed = workers[0];
        killed.proc.kill("SIGKILL");
      }
    });
    expect(r.code, r.stderr).toBe(0);
    expect(killed).toBeDefined();
    const rows = results(out);
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((x) => x.run)).size).toBe(30);
    expect(rows.every((x) => x.status === "done")).toBe(true);
    expect(numbers(rows)).toEqual(local);
    expect(r.events.filter((e) => e.event === "finish")).toHaveLength(30);
    // the killed worker's run was taken again by another worker (stalled-job detection)
    const logs = workers
      .slice(1)
      .map((w) => w.log())
      .join("");
    expect(logs).toMatch(/attempt 2\/3/);
    for (const row of rows) expect(existsSync(join(out, row.folder, "summary.json"))).toBe(true);
    // the finished jobs left Redis: the coordinator removed each once it wrote the folder
    const again = tollkit("batch", sweep, "--out", out, "--queue", redis.url, "--progress", "none");
    expect(again.code, again.stderr).toBe(0);
    workers[0] = await startWorker(redis.url); // the other tests have three workers again
  });

  test("Redis restarted during a batch: the batch completes", async () => {
    const out = join(work, "restart");
    let finished = 0;
    let restarted: Promise<void> | undefined;
    const r = await batch([sweep, "--out", out, "--queue", redis.url], (e) => {
      if (e.event === "finish" && ++finished === 4) restarted = redis.restart(1500);
    });
    await restarted;
    expect(restarted).toBeDefined();
    expect(r.code, r.stderr).toBe(0);
    const rows = results(out);
    expect(rows).toHaveLength(30);
    expect(numbers(rows)).toEqual(local);
    expect(workers.some((w) => /connected to .* again|reconnecting/.test(w.log()))).toBe(true);
  });

  test("a malformed scenario and a run with a bad toll fail once, clearly; the rest completes", async () => {
    const dir = join(work, "bad");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "malformed.json"), JSON.stringify({ network: "braess-builtin", objective: "fastest" }));
    writeFileSync(join(dir, "bad-tolls.csv"), "link,toll\n999,1\n");
    writeFileSync(join(dir, "good-tolls.csv"), "link,toll\n1,5\n");
    writeFileSync(
      join(dir, "sweep.json"),
      JSON.stringify({
        kind: "sweep",
        name: "bad",
        runs: [
          { kind: "assign", network: "braess-builtin", algorithm: "bfw", gap: 1e-4, tolls: "bad-tolls.csv" },
          { kind: "assign", network: "braess-builtin", algorithm: "bfw", gap: 1e-4, tolls: "good-tolls.csv" },
          { kind: "assign", grid: { network: ["braess-builtin", "two-route"], algorithm: ["bfw"], gap: [1e-4] } },
        ],
      }),
    );
    const before = workers.map((w) => w.log().length);
    const out = join(work, "bad-out");
    const r = await batch([join(dir, "malformed.json"), join(dir, "sweep.json"), "--out", out, "--queue", redis.url]);
    expect(r.code).toBe(1);
    const rows = results(out);
    expect(rows).toHaveLength(5);
    const failed = rows.filter((x) => x.status === "failed");
    expect(failed).toHaveLength(2);
    expect(rows.filter((x) => x.status === "done")).toHaveLength(3);
    // a tolls file named by path travelled as its path: the worker (same machine) read it
    const tolled = rows.find((x) => x.tollsFile === "good-tolls.csv")!;
    expect(tolled.status).toBe("done");
    const ref = tollkit(
      "assign",
      "braess-builtin",
      "--algorithm",
      "bfw",
      "--gap",
      "1e-4",
      "--tolls",
      join(dir, "good-tolls.csv"),
      "--json",
    );
    expect(Number(tolled.tstt)).toBe((JSON.parse(ref.stdout) as { tstt: number }).tstt);
    expect(Number(tolled.revenue)).toBeGreaterThan(0);
    const malformed = failed.find((x) => x.source.endsWith("malformed.json"))!;
    expect(malformed.error).toMatch(/malformed\.json, field "instrument"/);
    const tolls = failed.find((x) => x.source.includes("sweep.json"))!;
    expect(tolls.error).toMatch(/bad-tolls\.csv.*999|999.*bad-tolls\.csv/s);
    const err = JSON.parse(readFileSync(join(out, tolls.folder, "error.json"), "utf8")) as { inputError: boolean };
    expect(err.inputError).toBe(true);
    // the input error ran once, on one worker, and was not retried
    const newLogs = workers.map((w, k) => w.log().slice(before[k])).join("");
    expect(newLogs.match(/failed for its input/g)).toHaveLength(1);
    expect(newLogs).not.toMatch(/attempt 2\//);
  });
});
