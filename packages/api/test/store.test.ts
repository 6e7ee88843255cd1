/**
 * The SQLite store: migrations (user_version), refusal of what it cannot open, the run state
 * machine, atomic results, crash recovery, and the compact per-link BLOB.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS, openStore, packColumns, RunOutput, unpackColumns } from "@tollkit/api";
import { tempDir } from "./helpers.js";

function output(m: number, seed = 1): RunOutput {
  const col = (k: number) => Float64Array.from({ length: m }, (_, i) => Math.sin(seed * (i + 1) * (k + 1)) * 1e3);
  return {
    summary: { tstt: 552, network: "braess-builtin" },
    convergence: { iteration: [1, 2], relativeGap: [0.1, 0.01] },
    links: {
      linkCount: m,
      columns: { from: col(0), to: col(1), capacity: col(2), flow: col(3), time: col(4), cost: col(5), toll: col(6), revenue: col(7) },
    },
  };
}

describe("store", () => {
  it("creates the schema in WAL mode at the newest version, and reopening migrates nothing", () => {
    const path = join(tempDir(), "a.db");
    const s = openStore(path);
    expect(s.schemaVersion).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    expect(s.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(s.db.pragma("user_version", { simple: true })).toBe(s.schemaVersion);
    const tables = s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables).toEqual([
      { name: "convergence_rows" },
      { name: "networks" },
      { name: "od_results" },
      { name: "results" },
      { name: "runs" },
      { name: "scenarios" },
      { name: "storage_probe" },
    ]);
    s.createScenario("x", "two-route", { network: "two-route" });
    s.close();
    const again = openStore(path);
    expect(again.listScenarios(10, 0).total).toBe(1);
    again.close();
  });

  it("refuses a database from a newer tollkit, a directory, and a file that is not SQLite", () => {
    const dir = tempDir();
    const newer = join(dir, "newer.db");
    const s = openStore(newer);
    s.db.pragma("user_version = 99");
    s.close();
    expect(() => openStore(newer)).toThrow(/schema version 99, written by a newer tollkit/);
    const sub = join(dir, "sub");
    mkdirSync(sub);
    expect(() => openStore(sub)).toThrow(/is a directory/);
    const junk = join(dir, "junk.db");
    writeFileSync(junk, "this is not a database, just text that is long enough to have a header page..........................");
    expect(() => openStore(junk)).toThrow(/junk\.db/);
  });

  it("packs per-link columns into one BLOB and back exactly, whatever the Buffer alignment", () => {
    const o = output(37, 3);
    const { columns, data } = packColumns(o.links);
    expect(data.byteLength).toBe(8 * 8 * 37);
    const shifted = Buffer.concat([Buffer.from([1, 2, 3]), data]).subarray(3); // unaligned view
    const back = unpackColumns(37, columns, shifted);
    for (const [k, v] of Object.entries(o.links.columns)) expect(Array.from(back.columns[k])).toEqual(Array.from(v));
    expect(() => unpackColumns(36, columns, data)).toThrow(/expected/);
  });

  it("moves runs queued → running → done, writing results with the status in one transaction", () => {
    const s = openStore(join(tempDir(), "b.db"));
    const r = s.createRun("assign", "braess-builtin", null, { algorithm: "fw" });
    expect(r.status).toBe("queued");
    expect(s.finishRun(r.id, output(5))).toBe(false); // not running: nothing written
    expect(s.getSummary(r.id)).toBeUndefined();
    expect(s.markRunning(r.id)).toBe(true);
    expect(s.markRunning(r.id)).toBe(false);
    s.setProgress(r.id, { iteration: 3, relativeGap: 0.1 });
    expect(s.getRun(r.id)!.progress).toEqual({ iteration: 3, relativeGap: 0.1 });
    const o = output(5);
    expect(s.finishRun(r.id, o, { iteration: 9, relativeGap: 1e-6 })).toBe(true);
    const done = s.getRun(r.id)!;
    expect(done.status).toBe("done");
    expect(done.progress).toEqual({ iteration: 9, relativeGap: 1e-6 });
    expect(done.finishedAt).not.toBeNull();
    expect(s.getSummary(r.id)).toEqual(o.summary);
    expect(s.getConvergence(r.id)).toEqual(o.convergence);
    expect(Array.from(s.getLinks(r.id)!.columns.flow)).toEqual(Array.from(o.links.columns.flow));
    // a done run never changes again
    expect(s.endRun(r.id, "failed", "late")).toBe(false);
    expect(s.finishRun(r.id, output(5, 2))).toBe(false);
    expect(s.getRun(r.id)!.status).toBe("done");
    s.close();
  });

  it("a database of schema version 3 migrates to the newest keeping its runs; deleting a run keeps its id taken", () => {
    const path = join(tempDir(), "v3.db");
    const old = new Database(path);
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) old.exec(m.sql);
    old.pragma("user_version = 3");
    old
      .prepare("INSERT INTO runs (kind, network_id, settings, status, created_at) VALUES ('assign', 'two-route', '{}', 'done', ?)")
      .run(new Date().toISOString());
    old.close();
    const s = openStore(path);
    expect(s.schemaVersion).toBe(5);
    expect(s.listRuns(10, 0).items.map((r) => r.id)).toEqual([1]);
    const live = s.createRun("assign", "braess-builtin", null, {});
    expect(s.markRunning(live.id)).toBe(true);
    expect(s.finishRun(live.id, output(5))).toBe(true);
    const queued = s.createRun("assign", "braess-builtin", null, {});
    expect(s.deleteRun(queued.id)).toBe("live");
    expect(s.getRun(queued.id)!.status).toBe("queued");
    expect(s.endRun(queued.id, "cancelled")).toBe(true);
    expect(s.deleteRun(live.id)).toBe("deleted");
    expect(s.getSummary(live.id)).toBeUndefined();
    expect(s.getLinks(live.id)).toBeUndefined();
    expect(s.deleteRun(live.id)).toBe("missing");
    expect(s.deleteRun(999)).toBe("missing");
    expect(s.deleteRun(queued.id)).toBe("deleted"); // the newest run
    expect(s.setRunName(queued.id, "x")).toBe(false);
    expect(s.listRuns(10, 0)).toEqual({ total: 1, items: [expect.objectContaining({ id: 1 })] });
    expect(s.createRun("assign", "two-route", null, {}).id).toBe(queued.id + 1);
    s.close();
  });

  it("a failing result write leaves the run running and no results (the transaction rolls back)", () => {
    const s = openStore(join(tempDir(), "c.db"));
    const r = s.createRun("assign", "two-route", null, {});
    s.markRunning(r.id);
    // a results row already present makes the INSERT fail after the UPDATE
    s.db.pragma("foreign_keys = OFF");
    s.db
      .prepare("INSERT INTO results (run_id, summary, convergence, link_count, columns, data) VALUES (?, '{}', '{}', 0, '[]', x'')")
      .run(r.id);
    expect(() => s.finishRun(r.id, output(2))).toThrow(/UNIQUE/);
    expect(s.getRun(r.id)!.status).toBe("running");
    expect(s.getRun(r.id)!.finishedAt).toBeNull();
    s.close();
  });

  it("at start-up, running runs become interrupted and queued ones stay queued", () => {
    const s = openStore(join(tempDir(), "d.db"));
    const a = s.createRun("assign", "two-route", null, {});
    const b = s.createRun("assign", "two-route", null, {});
    const c = s.createRun("assign", "two-route", null, {});
    s.markRunning(a.id);
    s.markRunning(c.id);
    s.finishRun(c.id, output(2));
    expect(s.interruptRunning("stopped")).toEqual([a.id]);
    expect(s.getRun(a.id)).toMatchObject({ status: "interrupted", error: "stopped" });
    expect(s.getRun(b.id)!.status).toBe("queued");
    expect(s.getRun(c.id)!.status).toBe("done");
    expect(s.runIdsWithStatus("queued")).toEqual([b.id]);
    expect(s.listRuns(10, 0, "interrupted").items.map((r) => r.id)).toEqual([a.id]);
    s.close();
  });

  it("migration 4 turns a version-3 database's columnar reports into rows, read back whole and in pages", () => {
    const path = join(tempDir(), "v3.db");
    const db = new Database(path);
    for (const m of MIGRATIONS.filter((m) => m.version <= 3)) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    db.prepare(
      "INSERT INTO runs (id, kind, network_id, settings, status, created_at) VALUES (1, 'design', 'two-route', '{}', 'done', 't')",
    ).run();
    const report = {
      step: [0, 1, 2, 3],
      value: [5, 4.5, 4.25, null],
      accepted: [true, false, true, true],
      phase: ["grid", "grid", "polish", "polish"],
    };
    db.prepare("INSERT INTO results VALUES (1, '{}', ?, 0, '[]', x'')").run(JSON.stringify(report));
    db.close();
    const s = openStore(path);
    expect(s.schemaVersion).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    expect(s.getConvergence(1)).toEqual(report);
    expect(s.getConvergencePage(1, 1, 2)).toEqual({
      total: 4,
      columns: { step: [1, 2], value: [4.5, 4.25], accepted: [false, true], phase: ["grid", "polish"] },
    });
    expect(s.getConvergencePage(1, 4, 10)).toEqual({ total: 4, columns: { step: [], value: [], accepted: [], phase: [] } });
    s.close();
  });

  it("a write the storage refuses marks the store degraded with the reason, and the next write that succeeds marks it ok", () => {
    let full = false;
    const s = openStore(join(tempDir(), "full.db"), { failWrites: () => full });
    expect(s.storage).toEqual({ status: "ok" });
    full = true;
    expect(() => s.createRun("assign", "two-route", null, {})).toThrow(/database or disk is full/);
    expect(s.storage).toMatchObject({ status: "degraded", code: "SQLITE_FULL", failedWrites: 1 });
    expect(s.probeStorage()).toMatchObject({ status: "degraded", failedWrites: 2 });
    expect(s.listRuns(10, 0).total).toBe(0); // reads still work; nothing was stored
    full = false;
    expect(s.probeStorage()).toEqual({ status: "ok" });
    expect(s.createRun("assign", "two-route", null, {}).status).toBe("queued");
    s.close();
  });
});
