/**
 * `pnpm bench startup`: what a command costs as a whole process, and how fast a batch of small
 * runs goes (issue 17). Figures are medians of interleaved repetitions, each also stated as a
 * multiple of baselines measured in the same run: `node -e 0` (the process itself) and one
 * all-or-nothing assignment of the network (in-process).
 * - `tollkit --version` (target ≤ 0.08 s) and `tollkit assign <net> --algorithm bush --gap G`;
 * - a batch of 100 Braess designs at concurrency 2 (target ≥ 20 runs/s).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNetwork } from "@tollkit/graph-core";
import { aonTimesMs } from "../../follower/bench/aon-baseline.js";

const root = join(import.meta.dirname, "..", "..", "..");
/** `TOLLKIT_BENCH_CLI` names another entry to time (e.g. packages/cli/dist/program.js, the unbundled program). */
const cli = process.env.TOLLKIT_BENCH_CLI ? join(root, process.env.TOLLKIT_BENCH_CLI) : join(root, "packages", "cli", "dist", "main.js");
const REPS = Number(process.env.TOLLKIT_BENCH_REPS ?? 7);

function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"], env: process.env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return ms;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

const cases: [string, string[]][] = [
  ["version", ["--version"]],
  ...(["sioux-falls", "chicago-sketch"] as const).flatMap((n) =>
    (n === "sioux-falls" ? ["1e-4", "1e-10"] : ["1e-4", "1e-6"]).map(
      (g) => [`assign ${n} bush ${g}`, ["assign", n, "--algorithm", "bush", "--gap", g]] as [string, string[]],
    ),
  ),
];
const samples = new Map<string, number[]>([["node -e 0", []], ...cases.map(([k]) => [k, []] as [string, number[]])]);
wall([cli, "assign", "sioux-falls", "--gap", "1e-2"]); // warm the file cache
for (let r = 0; r < REPS; r++) {
  samples.get("node -e 0")!.push(wall(["-e", "0"]));
  for (const [k, args] of cases) samples.get(k)!.push(wall([cli, ...args]));
}
const nodeMs = median(samples.get("node -e 0")!);
const aon: Record<string, number> = {};
for (const n of ["sioux-falls", "chicago-sketch"]) aon[n] = median(aonTimesMs(await loadNetwork(n), 5));
emit({ bench: "startup", case: "node -e 0", ms: nodeMs });
for (const [k] of cases) {
  const ms = median(samples.get(k)!);
  const net = k.split(" ")[1];
  emit({
    bench: "startup",
    case: `tollkit ${k}`,
    ms,
    xNodeStart: ms / nodeMs,
    ...(aon[net] ? { aonMs: aon[net], xAon: ms / aon[net] } : {}),
    ...(k === "version" ? { targetMs: 80 } : {}),
  });
}

// a batch of 100 small designs (scenarios/braess.json: a 41-point grid, gap 1e-12) at concurrency 2
const dir = mkdtempSync(join(tmpdir(), "tollkit-bench-batch-"));
const sweep = join(dir, "sweep.json");
writeFileSync(
  sweep,
  JSON.stringify({
    kind: "sweep",
    name: "braess100",
    runs: [
      {
        kind: "design",
        scenario: join(root, "scenarios", "braess.json"),
        grid: { demandScale: Array.from({ length: 100 }, (_, k) => 0.5 + k / 100) },
      },
    ],
  }),
);
const t0 = performance.now();
wall([cli, "batch", sweep, "--out", join(dir, "out"), "--concurrency", "2", "--json"]);
const s = (performance.now() - t0) / 1000;
emit({
  bench: "startup",
  case: "batch 100 Braess designs, concurrency 2",
  seconds: s,
  runsPerSecond: 100 / s,
  targetRunsPerSecond: 20,
  xNodeStart: (s * 1000) / 100 / nodeMs,
});
rmSync(dir, { recursive: true, force: true });
