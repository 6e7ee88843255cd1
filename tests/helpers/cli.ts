/**
 * One way for tests to run the built `tollkit` command: `node packages/cli/dist/main.js …`
 * from the repository root, with TOLLKIT_DEBUG cleared so that errors look as users see them.
 * The build is never stale: vitest's global setup (tests/helpers/build.ts) runs `tsc -b`
 * before any test file, so a spawned test runs the code as it is in the sources.
 */
import { spawn, spawnSync, SpawnOptions } from "node:child_process";
import { join, resolve } from "node:path";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "..", "..");
/** The built CLI entry. */
export const CLI = join(ROOT, "packages", "cli", "dist", "main.js");

/** The outcome of one `tollkit` command. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tollkit ...args` to completion (cwd: the repository root unless `opts.cwd`). */
export function tollkit(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
    env: { ...process.env, TOLLKIT_DEBUG: "", ...opts.env },
    input: opts.input,
    maxBuffer: 256 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `tollkit ...args` without waiting (for servers, workers, signals). */
export function spawnTollkit(args: readonly string[], opts: SpawnOptions = {}) {
  return spawn(process.execPath, [CLI, ...args], { cwd: ROOT, ...opts, env: { ...process.env, TOLLKIT_DEBUG: "", ...opts.env } });
}
