/**
 * A full disk under `tollkit serve` (issue 15): a real server process over a real SQLite file.
 *
 * - Injected: while the file named by TOLLKIT_TEST_STORE_FULL exists, every write of the store
 *   throws SQLite's own SQLITE_FULL (the error a full disk gives). Always runs.
 * - Real: the database on a 4 MiB tmpfs filled to the last byte (needs root and mount; skipped,
 *   saying why, where mount is not permitted).
 *
 * Asserted: no result is lost silently (a result refused for a short while is written once space
 * returns; one refused for longer fails its run with the reason), no run is left `running`,
 * health says `degraded` (503) with the reason and then `ok`, writes answer 507 with a clear
 * message (never 500, never a stack trace) and are accepted again after recovery.
 */
import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "@tollkit/api";
import { call, startServe, stopServe, tempDir, waitForRun } from "../packages/api/test/helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every 100 ms until it returns a value (not undefined), or fails after `ms`. */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not after ${ms} ms`);
    await sleep(100);
  }
}

const ASSIGN = { kind: "assign", network: "sioux-falls", settings: { algorithm: "bush", gap: 1e-8 } };
const SCENARIO = {
  network: "two-route",
  instrument: { type: "links", links: [1], bounds: { min: 0, max: 10 } },
  objective: { type: "tstt" },
  method: { type: "grid" },
};

/** A refused write: 507, the message names the database and the disk, no stack, not "internal error". */
function expectRefused(r: { status: number; text: string; body: { error?: { message?: string } } }): void {
  expect(r.status).toBe(507);
  expect(r.body.error?.message).toMatch(
    /cannot write to its database \(SQLITE_FULL: database or disk is full\); nothing of this request was stored/,
  );
  expect(r.text).not.toMatch(/internal error|\n\s+at /);
}

/** Health while degraded: 503, the reason, the runs waiting. */
async function expectDegraded(url: string, pending: number[]): Promise<void> {
  const h = await call(url, "/api/health");
  expect(h.status).toBe(503);
  expect(h.body.status).toBe("degraded");
  expect(h.body.storage.status).toBe("degraded");
  expect(h.body.storage.reason).toMatch(/SQLITE_FULL: database or disk is full/);
  for (const id of pending) expect(h.body.storage.pendingRuns).toContain(id);
}

async function expectHealthy(url: string): Promise<void> {
  const h = await call(url, "/api/health");
  expect(h.status).toBe(200);
  expect(h.body.status).toBe("ok");
  expect(h.body.storage).toEqual({ status: "ok" });
}

describe("storage failures (injected SQLITE_FULL)", () => {
  it("keeps a result through a short outage, fails a run with the reason after a long one, and recovers by itself", async () => {
    const dir = tempDir();
    const db = join(dir, "full.db");
    const full = join(dir, "disk-is-full");
    const s = await startServe(db, [], { TOLLKIT_TEST_STORE_FULL: full });
    try {
      await expectHealthy(s.url);
      // the baseline: the same run with a healthy disk
      const base = await call(s.url, "/api/runs", { method: "POST", json: ASSIGN });
      expect(base.status).toBe(202);
      const baseRun = await waitForRun(s.url, base.body.id);
      expect(baseRun.status).toBe("done");

      // 1. a short outage: the disk fills as soon as the run is queued (before its runner starts)
      const a = (await call(s.url, "/api/runs", { method: "POST", json: ASSIGN })).body.id as number;
      writeFileSync(full, "");
      // the run computes; its start and its result are refused and kept
      await until("health degraded with run a pending", async () => {
        const h = await call(s.url, "/api/health");
        return h.body.storage?.pendingRuns?.includes(a) && (await call(s.url, `/api/runs/${a}`)).body.progress ? true : undefined;
      });
      await expectDegraded(s.url, [a]);
      expect((await call(s.url, `/api/runs/${a}`)).body.status).toBe("running"); // not lost, not done yet
      expectRefused(await call(s.url, "/api/runs", { method: "POST", json: ASSIGN }));
      expectRefused(await call(s.url, "/api/scenarios", { method: "POST", json: SCENARIO }));
      expectRefused(await call(s.url, `/api/runs/${base.body.id}`, { method: "PATCH", json: { name: "renamed" } }));
      expect((await call(s.url, "/api/runs?limit=1000")).body.total).toBe(2); // the refused posts stored nothing
      // space returns (within the 10 retries): the result is written, the run is done, health ok
      rmSync(full);
      const doneA = await waitForRun(s.url, a, 30_000);
      expect(doneA.status).toBe("done");
      expect(doneA.error).toBeNull();
      expect(doneA.startedAt).not.toBeNull();
      // the same equilibrium as the baseline run (nothing of the result was lost)
      expect(doneA.summary.tstt).toBe(baseRun.summary.tstt);
      expect(doneA.summary.relativeGap).toBeLessThanOrEqual(1e-8);
      expect((await call(s.url, `/api/runs/${a}/flows`)).body.links).toHaveLength(76);
      const conv = await call(s.url, `/api/runs/${a}/convergence`);
      expect(conv.body.total).toBe(doneA.summary.iterations);
      await expectHealthy(s.url);
      const accepted = await call(s.url, "/api/runs", { method: "POST", json: { ...ASSIGN, network: "braess-builtin" } });
      expect(accepted.status).toBe(202);
      expect((await waitForRun(s.url, accepted.body.id)).status).toBe("done");

      // 2. a long outage: the result is given up after 10 tries (1 s apart), the run fails saying why
      const b = (await call(s.url, "/api/runs", { method: "POST", json: ASSIGN })).body.id as number;
      writeFileSync(full, "");
      const failedB = await until(
        "run b failed",
        async () => {
          const r = (await call(s.url, `/api/runs/${b}`)).body;
          expect(r.status).not.toBe("done");
          return r.status === "failed" ? r : undefined;
        },
        60_000,
      );
      expect(failedB.error).toMatch(
        /the run finished but its result could not be written to the database after 10 attempts \(SQLITE_FULL: database or disk is full\)/,
      );
      expect(failedB.finishedAt).not.toBeNull();
      // the failure itself waits to be written: health still degraded, lists show it failed
      await expectDegraded(s.url, [b]);
      const listed = (await call(s.url, "/api/runs?limit=1000")).body.items.find((r: { id: number }) => r.id === b);
      expect(listed.status).toBe("failed");
      rmSync(full);
      await until("health ok", async () => ((await call(s.url, "/api/health")).status === 200 ? true : undefined), 10_000);
      await expectHealthy(s.url);
      expect((await call(s.url, `/api/runs/${b}`)).body.status).toBe("failed");
      expect(s.stderr()).toMatch(new RegExp(`run ${b}: the database refused a write \\(SQLITE_FULL`));
    } finally {
      rmSync(full, { force: true });
      expect((await stopServe(s)).code).toBe(0);
    }
    // what the database holds after the server stopped: every run terminal, as the API said
    const store = openStore(db, { readonly: true });
    try {
      const rows = store.listRuns(1000, 0).items;
      expect(rows.map((r) => r.status).sort()).toEqual(["done", "done", "done", "failed"]);
      expect(store.runIdsWithStatus("running")).toEqual([]);
      expect(store.runIdsWithStatus("queued")).toEqual([]);
      const failed = rows.find((r) => r.status === "failed")!;
      expect(failed.error).toMatch(/could not be written to the database after 10 attempts/);
      expect(store.hasResults(failed.id)).toBe(false);
    } finally {
      store.close();
    }
  }, 180_000);
});

/** Whether this process may mount a tmpfs (root in a container that allows it), and why not. */
function tmpfsSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== "linux") return { ok: false, reason: "not Linux" };
  if (process.getuid?.() !== 0) return { ok: false, reason: "not root (mount -t tmpfs needs root)" };
  const probe = tempDir("tollkit-tmpfs-probe-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `mount is not permitted here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}` };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const tmpfs = tmpfsSupport();
if (!tmpfs.ok) process.stderr.write(`api-storage.test: the real tmpfs test is skipped: ${tmpfs.reason}\n`);

describe.runIf(tmpfs.ok)("storage failures (a real 4 MiB tmpfs filled to the last byte)", () => {
  const mnt = join(tempDir(), "small-disk");
  mkdirSync(mnt);
  let mounted = false;
  afterAll(() => {
    if (mounted) execFileSync("umount", ["-l", mnt]);
  });

  /** Fills the tmpfs until ENOSPC; returns the filler's path. */
  function fill(): string {
    const f = join(mnt, "filler");
    const fd = openSync(f, "w");
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
    }
    // the last partial page too
    try {
      for (;;) writeSync(fd, chunk.subarray(0, 1));
    } catch {
      // full
    }
    closeSync(fd);
    return f;
  }

  it("refuses writes with 507 while full, keeps the computed result and writes it once space returns", async () => {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]);
    mounted = true;
    const s = await startServe(join(mnt, "api.db"));
    try {
      await expectHealthy(s.url);
      const a = (await call(s.url, "/api/runs", { method: "POST", json: ASSIGN })).body.id as number;
      const filler = fill();
      await until("run a's result refused", async () => {
        const h = await call(s.url, "/api/health");
        return h.body.storage?.pendingRuns?.includes(a) && (await call(s.url, `/api/runs/${a}`)).body.progress ? true : undefined;
      });
      await expectDegraded(s.url, [a]);
      expectRefused(await call(s.url, "/api/runs", { method: "POST", json: ASSIGN }));
      expect((await call(s.url, `/api/runs/${a}`)).body.status).toBe("running");
      rmSync(filler);
      const done = await waitForRun(s.url, a, 30_000);
      expect(done.status).toBe("done");
      expect(done.summary.relativeGap).toBeLessThanOrEqual(1e-8);
      expect((await call(s.url, `/api/runs/${a}/flows`)).body.links).toHaveLength(76);
      await expectHealthy(s.url);
      const again = await call(s.url, "/api/runs", { method: "POST", json: { ...ASSIGN, network: "braess-builtin" } });
      expect(again.status).toBe(202);
      expect((await waitForRun(s.url, again.body.id)).status).toBe("done");
    } finally {
      rmSync(join(mnt, "filler"), { force: true });
      expect((await stopServe(s)).code).toBe(0);
    }
  }, 120_000);
});
