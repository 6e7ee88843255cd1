/**
 * What a command loads: `tollkit assign` (and every batch run's child) must not load the HTTP
 * server's modules (express, better-sqlite3), only `tollkit serve` does. Every module the
 * process resolves is recorded by a loader hook (tests/helpers/trace-imports.mjs); the check
 * that the hook sees them at all is `serve --help`'s opposite: `serve` loads both.
 *
 * The CLI entry is a bundle (packages/cli/scripts/bundle.ts): a loaded chunk of it stands for
 * every module esbuild put into it (its metafile, dist/bundle-meta.json, says which), so a
 * package counts as loaded when one of its files is resolved or is inside a resolved chunk.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { CLI, ROOT } from "./helpers/cli.js";

/**
 * Runs the CLI under the hook and returns the modules it resolved. A server (`untilListening`)
 * is stopped once it says it listens, so the trace holds everything it loaded at start-up; the
 * 60 s bound only guards against a hang, it measures nothing.
 */
async function traced(args: string[], untilListening = false): Promise<string[]> {
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

/** The modules a command resolved, as packages ({@link packagesLoaded}). */
async function loaded(args: string[], untilListening = false): Promise<string[]> {
  return packagesLoaded(await traced(args, untilListening));
}

/** The package a file belongs to: `@tollkit/<p>` for packages/<p>/, else its node_modules name. */
function packageOf(path: string): string | undefined {
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const [a, b] = path.slice(nm + "node_modules/".length).split("/");
    return a.startsWith("@") ? `${a}/${b}` : a;
  }
  const m = /^packages\/([^/]+)\//.exec(path);
  return m ? `@tollkit/${m[1]}` : undefined;
}

/** The files (relative to the repository) a trace (lines `specifier url`) shows loaded, directly or inside a bundle chunk. */
function filesLoaded(lines: string[]): string[] {
  const meta = JSON.parse(readFileSync(join(ROOT, "packages", "cli", "dist", "bundle-meta.json"), "utf8")) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const found = new Set<string>();
  for (const line of lines) {
    const url = line.split(" ")[1];
    if (!url?.startsWith("file:")) continue; // node: builtins
    const file = relative(ROOT, fileURLToPath(url));
    for (const f of meta.outputs[file] ? Object.keys(meta.outputs[file].inputs) : [file]) found.add(f);
  }
  return [...found].sort();
}

/** The packages whose files a trace shows loaded ({@link filesLoaded}). */
function packagesLoaded(lines: string[]): string[] {
  return [...new Set(filesLoaded(lines).flatMap((f) => packageOf(f) ?? []))].sort();
}

const server = (pkgs: string[]) => pkgs.filter((p) => ["express", "better-sqlite3", "@tollkit/api"].includes(p));
const queue = (pkgs: string[]) => pkgs.filter((p) => ["bullmq", "ioredis"].includes(p));

describe("modules a command loads", () => {
  test("tollkit assign braess-builtin loads neither express nor better-sqlite3 (nor @tollkit/api)", async () => {
    const mods = await loaded(["assign", "braess-builtin", "--json"]);
    expect(mods).toContain("@tollkit/follower"); // the hook saw the solver load
    expect(server(mods)).toEqual([]);
  });

  test("tollkit assign compiles only what it runs: no graphology (no command uses the adapter), zod without its 40 translations", async () => {
    const files = filesLoaded(await traced(["assign", "braess-builtin", "--json"]));
    expect(files.some((f) => f.includes("/node_modules/zod/"))).toBe(true); // the schemas are there
    expect(files.filter((f) => /\/zod\/v4\/locales\/(?!en\.js$)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.includes("/node_modules/graphology/"))).toEqual([]);
  });

  test("tollkit --version loads nothing but the entry (not even commander)", async () => {
    expect(await loaded(["--version"])).toEqual(["@tollkit/cli"]);
  });

  test("bullmq and ioredis load only when a queue is asked for (assign and serve without it do not)", async () => {
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
