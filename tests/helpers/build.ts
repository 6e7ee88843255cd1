/**
 * vitest global setup: brings the built packages (`dist/`) up to date with `tsc -b` before any
 * test runs, so a test that spawns the CLI never runs a stale build after an edit. `tsc -b` is
 * incremental: a second run with nothing changed takes about a second.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

export default function setup(): void {
  const root = resolve(import.meta.dirname, "..", "..");
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-b", join(root, "packages", "cli")], { cwd: root, stdio: "inherit" });
}
