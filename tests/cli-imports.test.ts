/**
 * What a command loads: `tollkit assign` (and every batch run's child) must not load the HTTP
 * server's modules (express, better-sqlite3), only `tollkit serve` does. Every module the
 * process resolves is recorded by a loader hook (tests/helpers/trace-imports.mjs); the check
 * that the hook sees them at all is `serve --help`'s opposite: `serve` loads both.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CLI, ROOT } from "./helpers/cli.js";

/**
 * Runs the CLI under the hook and returns the modules it resolved. A server (`untilListening`)
 * is stopped once it says it listens, so the trace holds everything it loaded at start-up; the
 * 60 s bound only guards against a hang, it measures nothing.
 */
async function loaded(args: string[], untilListening = false): Promise<string[]> {
  const trace = join(mkdtempSync(join(tmpdir(), "tollkit-imports-")), "trace.txt");
  const hook = join(ROOT, "tests", "helpers", "trace-imports.mjs");
  const child = spawn(process.execPath, ["--import", hook, CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, TOLLKIT_TRACE_IMPORTS: trace },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const status = await new Promise<number | null>((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tollkit ${args.join(" ")} neither listened nor exited within 60 s:\n${out}`));
    }, 60_000);
    const see = (chunk: Buffer) => {
      out += chunk.toString();
      if (untilListening && out.includes("listening on")) child.kill("SIGTERM");
    };
    child.stdout.on("data", see);
    child.stderr.on("data", see);
    child.on("exit", (code) => {
      clearTimeout(guard);
      resolve(code);
    });
  });
  if (!untilListening) expect(status, out).toBe(0);
  return readFileSync(trace, "utf8").trim().split("\n");
}

const server = (mods: string[]) => mods.filter((l) => /^(express|better-sqlite3|@tollkit\/api)\s/.test(l)).map((l) => l.split(" ")[0]);

describe("modules a command loads", () => {
  test("tollkit assign braess-builtin loads neither express nor better-sqlite3 (nor @tollkit/api)", async () => {
    const mods = await loaded(["assign", "braess-builtin", "--json"]);
    expect(mods.some((l) => l.startsWith("@tollkit/follower "))).toBe(true); // the hook saw the solver load
    expect(server(mods)).toEqual([]);
  });

  test("bullmq and ioredis load only when a queue is asked for (assign and serve without it do not)", async () => {
    const queue = (mods: string[]) => mods.filter((l) => /^(bullmq|ioredis)\s/.test(l)).map((l) => l.split(" ")[0]);
    expect(queue(await loaded(["assign", "braess-builtin", "--json"]))).toEqual([]);
    expect(queue(await loaded(["serve", "--port", "0", "--db", join(mkdtempSync(join(tmpdir(), "tollkit-db-")), "t.db")], true))).toEqual(
      [],
    );
    // the worker loads them before it finds that nothing listens on port 1
    const r = await loaded(["worker", "--redis", "redis://127.0.0.1:1"], true);
    expect(new Set(queue(r))).toEqual(new Set(["bullmq", "ioredis"]));
  });

  test("tollkit serve loads them (the trace sees what it must)", async () => {
    const mods = await loaded(["serve", "--port", "0", "--db", join(mkdtempSync(join(tmpdir(), "tollkit-db-")), "t.db")], true);
    expect(new Set(server(mods))).toEqual(new Set(["@tollkit/api", "express", "better-sqlite3"]));
  });
});
