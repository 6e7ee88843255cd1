/**
 * `pnpm bench incidence`: skims, select-link and skims streaming (docs/incidence.md) on
 * Chicago-Sketch and Berlin-Center.
 *
 * Per network, in a child process of its own: a bush solve (Chicago-Sketch to relative gap 1e-8,
 * Berlin-Center to 1e-4), then the time of `computeSkims` (flow-weighted over the bushes), of
 * `selectLink` on the 10 links with the most flow, and of writing skims.csv (skim table + CSV
 * streamed in pieces to a temporary file), each the median of 3 and also as a multiple of one
 * all-or-nothing assignment at free-flow cost measured in the same process (`…PerAon`, the figure
 * to compare across machines; target ≤ 3 AON-times for skims and for select-link).
 *
 * Memory (Berlin-Center): the peak RSS of a plain bush assignment in one child and of the same
 * assignment followed by skims and skims.csv streaming in another; target ratio ≤ 1.5.
 * One JSON line per case.
 */
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { computeSkims, selectLink, solveBush } from "@tollkit/follower";
import { loadNetwork } from "@tollkit/graph-core";
import { skimCsvChunks, skimTable, writeChunksAtomic } from "@tollkit/runs";
import { aonTimesMs } from "../../follower/bench/aon-baseline.js";

const CASES: Record<string, { network: string; gap: number }> = {
  chicago: { network: "chicago-sketch", gap: 1e-8 },
  berlin: { network: "berlin-center", gap: 1e-4 },
};

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: "incidence", ...o })}\n`);
}

const round = (v: number, d = 3): number => Number(v.toPrecision(d));

function median3(f: () => void): number {
  const t: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[1];
}

async function timing(name: string): Promise<void> {
  const c = CASES[name];
  const net = await loadNetwork(c.network);
  const aon = aonTimesMs(net)[2];
  const t0 = performance.now();
  const r = solveBush(net, { algorithm: "bush", gap: c.gap });
  const solveMs = performance.now() - t0;
  const top = Array.from(r.flows, (f, a) => [f, a + 1])
    .sort((x, y) => y[0] - x[0])
    .slice(0, 10)
    .map((p) => p[1]);
  const skimsMs = median3(() => computeSkims(net, r));
  const selectMs = median3(() => selectLink(net, r, top));
  const file = join(tmpdir(), `tollkit-bench-skims-${process.pid}.csv`);
  const csvMs = median3(() => writeChunksAtomic(file, skimCsvChunks(skimTable(net, computeSkims(net, r)))));
  const bytes = statSync(file).size;
  rmSync(file, { force: true });
  emit({
    case: name,
    network: c.network,
    gap: c.gap,
    relativeGap: r.relativeGap,
    odPairs: net.zoneCount * (net.zoneCount - 1),
    aonMs: round(aon),
    solveMs: Math.round(solveMs),
    skimsMs: round(skimsMs),
    skimsPerAon: round(skimsMs / aon),
    selectLinkMs: round(selectMs),
    selectLinkPerAon: round(selectMs / aon),
    skimsCsvMs: Math.round(csvMs),
    skimsCsvPerAon: round(csvMs / aon),
    skimsCsvMB: round(bytes / 1e6),
    targetPerAon: 3,
  });
}

async function memory(withSkims: boolean): Promise<void> {
  const net = await loadNetwork("berlin-center");
  const r = solveBush(net, { algorithm: "bush", gap: 1e-4 });
  if (withSkims) {
    const file = join(tmpdir(), `tollkit-bench-skims-${process.pid}.csv`);
    writeChunksAtomic(file, skimCsvChunks(skimTable(net, computeSkims(net, r))));
    rmSync(file, { force: true });
  }
  process.stdout.write(`${JSON.stringify({ peakMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
}

const arg = process.argv.indexOf("--case");
if (arg >= 0) {
  const name = process.argv[arg + 1];
  if (name === "memory-plain" || name === "memory-skims") await memory(name === "memory-skims");
  else await timing(name);
} else {
  const self = fileURLToPath(import.meta.url);
  const child = (name: string, inherit: boolean) =>
    spawnSync(process.execPath, [...process.execArgv, self, "--case", name], {
      stdio: inherit ? "inherit" : ["ignore", "pipe", "inherit"],
      env: process.env,
      encoding: "utf8",
    });
  const only = process.env.TOLLKIT_BENCH_CASE;
  for (const name of Object.keys(CASES)) if (!only || only === name) child(name, true);
  if (!only || only === "memory") {
    const peak = (name: string) => (JSON.parse(child(name, false).stdout.trim().split("\n").pop()!) as { peakMB: number }).peakMB;
    const plain = peak("memory-plain");
    const skims = peak("memory-skims");
    emit({
      case: "berlin-memory",
      network: "berlin-center",
      plainAssignPeakMB: plain,
      assignAndSkimsCsvPeakMB: skims,
      ratio: round(skims / plain),
      targetRatio: 1.5,
    });
  }
}
