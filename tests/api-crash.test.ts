/**
 * Crash safety of `tollkit serve`: the server (a real subprocess) is killed with SIGKILL while
 * a long run computes (Chicago-Sketch, FW to a gap it will not reach soon). After a restart on
 * the same SQLite file: the database opens and passes `PRAGMA integrity_check`, the run is
 * `interrupted`, earlier results are intact and served, a run that was still queued is run,
 * and the killed server's runner process did not survive it.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS, openStore } from "@tollkit/api";
import { call, readEvents, startServe, stopServe, tempDir, waitForRun } from "../packages/api/test/helpers.js";

/** Pids of the direct children of a process (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("kill -9 during a run", () => {
  it("leaves a database that reopens with the run interrupted and earlier results intact", async () => {
    const db = join(tempDir(), "crash.db");
    const s1 = await startServe(db);
    const post = (json: unknown) => call(s1.url, "/api/runs", { method: "POST", json });

    // an earlier result
    const early = (await post({ kind: "assign", network: "braess-builtin", settings: { algorithm: "bfw", gap: 1e-9 } })).body.id;
    expect((await waitForRun(s1.url, early)).status).toBe("done");
    const earlyRun = (await call(s1.url, `/api/runs/${early}`)).body;
    const earlyFlows = (await call(s1.url, `/api/runs/${early}/flows?format=csv`)).text;
    const scenario = await call(s1.url, "/api/scenarios", {
      method: "POST",
      json: {
        network: "two-route",
        instrument: { type: "links", links: [1], bounds: { min: 0, max: 10 } },
        objective: { type: "tstt" },
        method: { type: "grid" },
      },
    });
    expect(scenario.status).toBe(201);

    // a long run, and one queued behind it
    const long = (await post({ kind: "assign", network: "chicago-sketch", settings: { algorithm: "fw", gap: 1e-10, maxSeconds: 900 } }))
      .body.id;
    const queued = (await post({ kind: "assign", network: "two-route", settings: { algorithm: "bfw", gap: 1e-10 } })).body.id;
    const watching = readEvents(s1.url, long, 300_000).catch((e: Error) => e);
    for (let t = 0; ; t++) {
      const r = (await call(s1.url, `/api/runs/${long}`)).body;
      if (r.status === "running" && r.progress?.iteration >= 2) break;
      expect(r.status).not.toMatch(/done|failed/);
      expect(t).toBeLessThan(1200);
      await sleep(100);
    }
    const runners = childrenOf(s1.child.pid!);
    expect(runners.length).toBe(1); // concurrency 1: one runner computing

    s1.child.kill("SIGKILL");
    const exit = await s1.exited;
    expect(exit.signal).toBe("SIGKILL");
    await watching; // the event stream ends with the connection (error or end)

    // the orphaned runner notices and exits
    for (let t = 0; runners.some(alive); t++) {
      expect(t, "runner survived its server").toBeLessThan(100);
      await sleep(100);
    }

    const s2 = await startServe(db);
    try {
      expect(s2.stderr()).toMatch(/marked 1 run\(s\) interrupted/);
      expect((await call(s2.url, "/api/health")).body.status).toBe("ok");
      const lr = (await call(s2.url, `/api/runs/${long}`)).body;
      expect(lr.status).toBe("interrupted");
      expect(lr.error).toMatch(/server stopped/);
      expect(lr.summary).toBeNull();
      expect((await call(s2.url, `/api/runs/${long}/flows`)).status).toBe(409);
      const ev = await readEvents(s2.url, long, 10_000);
      expect(ev).toHaveLength(1);
      expect(ev[0].data.status).toBe("interrupted");

      const again = (await call(s2.url, `/api/runs/${early}`)).body;
      expect(again.status).toBe("done");
      expect(again.summary).toEqual(earlyRun.summary);
      expect(again.summary.tstt).toBeCloseTo(552, 4);
      expect((await call(s2.url, `/api/runs/${early}/flows?format=csv`)).text).toBe(earlyFlows);
      expect((await call(s2.url, `/api/scenarios/${scenario.body.id}`)).body.network).toBe("two-route");

      // the run that was queued at the crash is queued again and runs
      const q = await waitForRun(s2.url, queued);
      expect(q.status).toBe("done");
      expect(q.summary.tstt).toBeGreaterThan(0);
    } finally {
      expect((await stopServe(s2)).code).toBe(0);
    }
    const store = openStore(db, { readonly: true });
    const check = store.db;
    try {
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(check.pragma("user_version", { simple: true })).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
      const statuses = check.prepare("SELECT id, status FROM runs ORDER BY id").all();
      expect(statuses).toEqual([
        { id: early, status: "done" },
        { id: long, status: "interrupted" },
        { id: queued, status: "done" },
      ]);
      const results = check.prepare("SELECT run_id FROM results ORDER BY run_id").all();
      expect(results).toEqual([{ run_id: early }, { run_id: queued }]);
    } finally {
      store.close();
    }
  });
});
