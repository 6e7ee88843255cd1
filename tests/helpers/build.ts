/**
 * vitest global setup: brings the built packages (`dist/`) up to date with `tsc -b` before any
 * test runs, then bundles the CLI entry (`packages/cli/dist/main.js`, see
 * packages/cli/scripts/bundle.ts), so a test that spawns the CLI never runs a stale build after an
 * edit. `tsc -b` is incremental: a second run with nothing changed takes about a second; the
 * bundle takes well under one.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

export default async function setup(): Promise<void> {
  const root = resolve(import.meta.dirname, "..", "..");
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-b", join(root, "packages", "cli")], { cwd: root, stdio: "inherit" });
  // a child process, so that the bundler sees the packages' built dist/ (not vitest's aliases to src/)
  execFileSync(process.execPath, ["--import", "tsx", join(root, "packages", "cli", "scripts", "bundle.ts")], {
    cwd: root,
    stdio: "inherit",
  });
}
