/**
 * What a command loads: `tollkit assign` (and every batch run's child) must not load the HTTP
 * server's modules (express, better-sqlite3), only `tollkit serve` does. Every module the
 * process resolves is recorded by a loader hook (tests/helpers/trace-imports.mjs); the check
 * that the hook sees them at all is `serve --help`'s opposite: `serve` loads both.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CLI, ROOT } from "./helpers/cli.js";

function loaded(args: string[], untilListening = false): string[] {
  const trace = join(mkdtempSync(join(tmpdir(), "tollkit-imports-")), "trace.txt");
  const hook = join(ROOT, "tests", "helpers", "trace-imports.mjs");
  const r = spawnSync(process.execPath, ["--import", hook, CLI, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, TOLLKIT_TRACE_IMPORTS: trace },
    timeout: untilListening ? 5000 : 60_000,
  });
  if (!untilListening) expect(r.status, r.stderr).toBe(0);
  return readFileSync(trace, "utf8").trim().split("\n");
}

const server = (mods: string[]) => mods.filter((l) => /^(express|better-sqlite3|@tollkit\/api)\s/.test(l)).map((l) => l.split(" ")[0]);

describe("modules a command loads", () => {
  test("tollkit assign braess-builtin loads neither express nor better-sqlite3 (nor @tollkit/api)", () => {
    const mods = loaded(["assign", "braess-builtin", "--json"]);
    expect(mods.some((l) => l.startsWith("@tollkit/follower "))).toBe(true); // the hook saw the solver load
    expect(server(mods)).toEqual([]);
  });

  test("bullmq and ioredis load only when a queue is asked for (assign and serve without it do not)", () => {
    const queue = (mods: string[]) => mods.filter((l) => /^(bullmq|ioredis)\s/.test(l)).map((l) => l.split(" ")[0]);
    expect(queue(loaded(["assign", "braess-builtin", "--json"]))).toEqual([]);
    expect(queue(loaded(["serve", "--port", "0", "--db", join(mkdtempSync(join(tmpdir(), "tollkit-db-")), "t.db")], true))).toEqual([]);
    // the worker loads them before it finds that nothing listens on port 1
    const r = loaded(["worker", "--redis", "redis://127.0.0.1:1"], true);
    expect(new Set(queue(r))).toEqual(new Set(["bullmq", "ioredis"]));
  });

  test("tollkit serve loads them (the trace sees what it must)", () => {
    const mods = loaded(["serve", "--port", "0", "--db", join(mkdtempSync(join(tmpdir(), "tollkit-db-")), "t.db")], true);
    expect(new Set(server(mods))).toEqual(new Set(["@tollkit/api", "express", "better-sqlite3"]));
  });
});
