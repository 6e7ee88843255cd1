/**
 * One way for tests to run the built `tollkit` command: `node packages/cli/dist/main.js …`
 * from the repository root, with TOLLKIT_DEBUG cleared so that errors look as users see them.
 * The build is never stale: vitest's global setup (tests/helpers/build.ts) runs `tsc -b` and
 * bundles the entry before any test file, so a spawned test runs the code as it is in the sources.
 */
import { spawn, spawnSync, SpawnOptions } from "node:child_process";
import { join, resolve } from "node:path";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "..", "..");
/** The built CLI entry (the esbuild bundle of dist/entry.js, see packages/cli/scripts/bundle.ts). */
export const CLI = join(ROOT, "packages", "cli", "dist", "main.js");

/** The outcome of one `tollkit` command. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of one {@link tollkit} call. */
export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeout?: number;
}

/**
 * Runs `tollkit ...args` to completion (cwd: the repository root unless `opts.cwd`); the last
 * argument may be the options: `tollkit("assign", "braess-builtin", { env: {...} })`.
 */
export function tollkit(...argsAndOptions: (string | CliOptions)[]): CliResult {
  const last = argsAndOptions[argsAndOptions.length - 1];
  const opts: CliOptions = typeof last === "object" ? last : {};
  const args = argsAndOptions.filter((a): a is string => typeof a === "string");
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
    env: { ...process.env, TOLLKIT_DEBUG: "", ...opts.env },
    input: opts.input,
    timeout: opts.timeout,
    maxBuffer: 256 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `tollkit ...args` without waiting (for servers, workers, signals). */
export function spawnTollkit(args: readonly string[], opts: SpawnOptions = {}) {
  return spawn(process.execPath, [CLI, ...args], { cwd: ROOT, ...opts, env: { ...process.env, TOLLKIT_DEBUG: "", ...opts.env } });
}
