/**
 * `pnpm bench network-cache`: loading a standard network with and without the binary network
 * cache (issue 17), in-process, each figure also as a multiple of one all-or-nothing assignment
 * of the same network measured in the same run (the baseline of every follower benchmark).
 *
 * Per network: `parseMs`, the median of 5 loads with the cache turned off
 * (`TOLLKIT_NETWORK_BINARY_CACHE=0`: read, sha256-check and parse the TNTP files), and `cachedMs`,
 * the median of 5 loads from the cache (read and sha256-check the files, read the cache file),
 * after one load that fills it. The cache goes to a temporary folder.
 * Target: loading Chicago-Sketch and Berlin-Center costs a fraction of one solve.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadNetwork } from "@tollkit/graph-core";
import { aonTimesMs } from "../../follower/bench/aon-baseline.js";

const NETWORKS = (process.env.TOLLKIT_BENCH_NETWORKS ?? "sioux-falls,barcelona,winnipeg,chicago-sketch,berlin-center").split(",");
const REPS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v: number) => Number(v.toPrecision(3));

const dir = mkdtempSync(join(tmpdir(), "tollkit-bench-cache-"));
process.env.TOLLKIT_NETWORK_CACHE = dir;

async function loadMs(id: string, cache: boolean): Promise<number> {
  if (cache) delete process.env.TOLLKIT_NETWORK_BINARY_CACHE;
  else process.env.TOLLKIT_NETWORK_BINARY_CACHE = "0";
  const t0 = performance.now();
  await loadNetwork(id);
  return performance.now() - t0;
}

try {
  for (const id of NETWORKS) {
    await loadMs(id, true); // fills the cache (and warms the file system cache)
    const parse: number[] = [];
    const cached: number[] = [];
    for (let r = 0; r < REPS; r++) {
      parse.push(await loadMs(id, false));
      cached.push(await loadMs(id, true));
    }
    const aon = median(aonTimesMs(await loadNetwork(id)));
    const p = median(parse);
    const c = median(cached);
    process.stdout.write(
      `${JSON.stringify({
        bench: "network-cache",
        network: id,
        aonMs: round(aon),
        parseMs: round(p),
        parseInAon: round(p / aon),
        cachedMs: round(c),
        cachedInAon: round(c / aon),
        speedUp: round(p / c),
        loadAverage: loadavg().map(round),
      })}\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
