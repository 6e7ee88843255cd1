/**
 * `pnpm bench`: runs every benchmark file (`packages/*\/bench/*.bench.ts`, `tests/bench/*.bench.ts`)
 * in its own Node process, one after the other (never in parallel: timings need the machine),
 * and passes their JSON lines through. `pnpm bench <substring>` runs only matching files.
 *
 * Each benchmark prints one JSON object per line, with at least `bench` and the measured
 * numbers, and compares against a baseline measured in the same run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const filter = process.argv.slice(2).filter((a) => a !== "--");
const dirs = [...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p, "bench")), join(root, "tests", "bench")];
const files = dirs
  .filter((d) => existsSync(d))
  .flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith(".bench.ts"))
      .map((f) => join(d, f)),
  )
  // Matched against the path inside the repository (a checkout at /work/wt-map would match "map" everywhere).
  .filter((f) => filter.length === 0 || filter.some((s) => relative(root, f).includes(s)));

if (!process.env.TOLLKIT_NETWORK_MIRROR) {
  const shared = join(root, "..", "shared", "networks");
  if (existsSync(shared)) process.env.TOLLKIT_NETWORK_MIRROR = shared;
}

let failed = 0;
for (const f of files) {
  const rel = relative(root, f);
  process.stderr.write(`bench: ${rel}\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", "--expose-gc", f], { stdio: "inherit", cwd: root, env: process.env });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`${JSON.stringify({ bench: rel, error: `exit ${r.status}` })}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
