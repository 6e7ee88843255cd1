/**
 * `tollkit serve --redis` with two `tollkit worker` processes on a real Redis (Debian's
 * redis-server on a free port, in a temporary folder): runs complete with the numbers of an
 * in-process solve; GET /api/health reports the queue and its workers; the SSE stream shows
 * progress from the queue's events; POST /api/runs/:id/cancel stops the run on the worker running it (its child
 * process ends); a worker killed (SIGKILL) mid-run leads to the run being retried on the other
 * worker and completing, recorded once; the server killed mid-run and started again on its
 * database adopts the run from the queue (not interrupted, not run twice).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses are untyped here; tests assert their fields */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { solveSync } from "@tollkit/follower";
import { loadNetwork } from "@tollkit/graph-core";
import { call, readEvents, ServeProcess, startServe, stopServe, tempDir, waitForRun } from "../packages/api/test/helpers.js";
import { hasRedis, startRedis, startWorker, stopWorker, TestRedis, TestWorker } from "./helpers/redis.js";

/** Pids of the direct children of a process (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 60000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasRedis())("tollkit serve --redis with two workers", () => {
  let redis: TestRedis;
  let serve: ServeProcess;
  let base: string;
  let db: string;
  const workers: TestWorker[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    db = join(tempDir(), "queue.db");
    serve = await startServe(db, ["--redis", redis.url]);
    base = serve.url;
  });

  afterAll(async () => {
    if (serve) await stopServe(serve);
    await Promise.all(workers.map(stopWorker));
    await redis?.stop();
  });

  async function submit(body: unknown): Promise<number> {
    const r = await call(base, "/api/runs", { method: "POST", json: body });
    expect(r.status, r.text).toBe(202);
    return r.body.id as number;
  }

  test("runs complete with the in-process solver's numbers; health reports the queue and its workers", async () => {
    const id = await submit({ kind: "assign", network: "sioux-falls", settings: { algorithm: "bfw", gap: 1e-4 } });
    const run = await waitForRun(base, id);
    expect(run.status, run.error).toBe("done");
    const ref = solveSync(await loadNetwork("sioux-falls"), { algorithm: "bfw", gap: 1e-4 });
    expect(run.summary.tstt).toBe(ref.tstt);
    expect(run.summary.iterations).toBe(ref.iterations);
    const flows = await call(base, `/api/runs/${id}/flows?format=json`);
    expect(flows.status).toBe(200);
    const health = await until("two workers in the health report", async () => {
      const h = await call(base, "/api/health");
      return h.body.queue.workers === 2 ? h.body : undefined;
    });
    expect(health.queue).toMatchObject({ backend: "bullmq", redis: "connected", running: 0, queued: 0, workers: 2 });
    expect(health.queue.waiting).toBe(0);
  });

  test("the SSE stream shows progress from the queue's events", async () => {
    const id = await submit({ kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", gap: 1e-5 } });
    const events = await readEvents(base, id);
    const progress = events.filter((e) => e.event === "progress").map((e) => e.data);
    expect(progress.length).toBeGreaterThan(2);
    for (let k = 1; k < progress.length; k++) expect(progress[k].iteration).toBeGreaterThanOrEqual(progress[k - 1].iteration);
    const final = events[events.length - 1].data;
    expect(final.status).toBe("done");
    expect(final.summary.relativeGap).toBeLessThanOrEqual(1e-5);
    expect(progress.at(-1).iteration).toBeLessThanOrEqual(final.summary.iterations);
  });

  test("cancel reaches the worker running the run: its run process ends", async () => {
    const id = await submit({ kind: "assign", network: "anaheim", settings: { algorithm: "fw", gap: 1e-12, maxIterations: 1000000 } });
    await until("progress of the long run", async () => ((await call(base, `/api/runs/${id}`)).body.progress ? true : undefined));
    const busy = await until("the worker running it", () => workers.find((w) => childrenOf(w.proc.pid!).length > 0));
    const c = await call(base, `/api/runs/${id}/cancel`, { method: "POST" });
    expect(c.status).toBe(200);
    expect(c.body.status).toBe("cancelled");
    await until("the run process to end", () => (childrenOf(busy.proc.pid!).length === 0 ? true : undefined), 10000);
    expect(busy.log()).toMatch(/cancelled in/);
    expect(busy.proc.exitCode).toBeNull(); // the worker itself goes on
  });

  test("a worker killed mid-run: the run is retried on the other worker and completes once", async () => {
    const id = await submit({ kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", gap: 1e-5 } });
    await until("progress", async () => ((await call(base, `/api/runs/${id}`)).body.progress ? true : undefined));
    const busy = await until("the worker running it", () => workers.find((w) => childrenOf(w.proc.pid!).length > 0));
    const other = workers.find((w) => w !== busy)!;
    await stopWorker(busy);
    const run = await waitForRun(base, id);
    expect(run.status, run.error).toBe("done");
    expect(other.log()).toMatch(/\(job api-[0-9a-f]+-\d+, assign\) done in [0-9.]+ s, attempt 2\/3/);
    const ref = solveSync(await loadNetwork("sioux-falls"), { algorithm: "fw", gap: 1e-5 });
    expect(run.summary.tstt).toBe(ref.tstt);
    const list = await call(base, "/api/runs?status=done");
    expect(list.body.items.filter((r: any) => r.id === id)).toHaveLength(1);
    expect(serve.stderr()).not.toMatch(/result dropped/);
  });

  test("the server killed mid-run and started again on its database adopts the run from the queue", async () => {
    const id = await submit({ kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", gap: 1e-5 } });
    await until("progress", async () => ((await call(base, `/api/runs/${id}`)).body.progress ? true : undefined));
    serve.child.kill("SIGKILL");
    await serve.exited;
    serve = await startServe(db, ["--redis", redis.url]);
    base = serve.url;
    const run = await waitForRun(base, id);
    expect(run.status, run.error).toBe("done");
    expect(serve.stderr()).toMatch(/queued again 1 run\(s\): /);
    const ref = solveSync(await loadNetwork("sioux-falls"), { algorithm: "fw", gap: 1e-5 });
    expect(run.summary.tstt).toBe(ref.tstt);
    // one worker ran it once: adopted, not queued a second time
    const lines = workers
      .map((w) => w.log())
      .join("")
      .split("\n")
      .filter((l) => l.includes(`-${id}, assign)`));
    expect(lines).toHaveLength(1);
  });
});
