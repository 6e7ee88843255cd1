/**
 * `pnpm bench aon`: one all-origins all-or-nothing assignment at free-flow generalised cost,
 * with graph-core's typed-array kernel (AonLoader) and with graphology-shortest-path's Dijkstra
 * (the baseline, measured in the same run on the same origins), and their ratio.
 *
 * Prints JSON lines: one per measurement (`impl`: `typed-array` | `graphology-shortest-path`)
 * and one summary per network (`ratio` = baseline ms / kernel ms on the same origins). The
 * baseline is so slow on Berlin-Center that it runs on every k-th origin only (`origins` says
 * how many); the kernel is timed on those same origins for the ratio, and on all of them for
 * `ms`. Targets on the reference machine: Chicago-Sketch ≤ 60 ms, Berlin-Center ≤ 1.2 s.
 * Timings are noisy while other work runs on the machine.
 */
import { MultiDirectedGraph } from "graphology";
import { dijkstra } from "graphology-shortest-path";
import { AonLoader, compileNetwork, loadNetwork, Network } from "@tollkit/graph-core";

const TARGET_MS: Record<string, number> = { "chicago-sketch": 60, "berlin-center": 1200 };
const BASELINE_EVERY: Record<string, number> = { "chicago-sketch": 1, "berlin-center": 10 };

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: "aon", ...o })}\n`);
}

function freeFlowCost(net: Network): Float64Array {
  const l = net.links;
  const { tollFactor, distanceFactor } = net.costWeights;
  return Float64Array.from({ length: net.linkCount }, (_, i) => l.freeFlowTime[i] + tollFactor * l.toll[i] + distanceFactor * l.length[i]);
}

/** Demand restricted to every k-th origin with trips (k = 1: all). */
function sampleOrigins(net: Network, every: number): { demand: Float64Array; origins: number[] } {
  const Z = net.zoneCount;
  const demand = new Float64Array(Z * Z);
  const origins: number[] = [];
  let active = 0;
  for (let o = 0; o < Z; o++) {
    let any = false;
    for (let d = 0; d < Z; d++) if (d !== o && net.demand[o * Z + d] > 0) any = true;
    if (!any) continue;
    if (active++ % every !== 0) continue;
    origins.push(o);
    for (let d = 0; d < Z; d++) demand[o * Z + d] = net.demand[o * Z + d];
  }
  return { demand, origins };
}

/** AON with graphology-shortest-path; zones below FIRST THRU NODE are split into out/in nodes. */
function graphologyAon(net: Network, cost: Float64Array, demand: Float64Array, origins: number[]): { sptt: number; flows: Float64Array } {
  const g = new MultiDirectedGraph();
  const outKey = (v: number) => (net.throughBlocked[v] ? `o${v}` : `${v}`);
  const inKey = (v: number) => (net.throughBlocked[v] ? `i${v}` : `${v}`);
  for (let v = 0; v < net.nodeCount; v++) {
    g.mergeNode(outKey(v));
    g.mergeNode(inKey(v));
  }
  const best = new Map<string, number>();
  for (let i = 0; i < net.linkCount; i++) {
    const key = `${outKey(net.links.from[i])}|${inKey(net.links.to[i])}`;
    const j = best.get(key);
    if (j === undefined || cost[i] < cost[j]) best.set(key, i);
    g.addEdge(outKey(net.links.from[i]), inKey(net.links.to[i]), { cost: cost[i] });
  }
  const Z = net.zoneCount;
  const flows = new Float64Array(net.linkCount);
  let sptt = 0;
  for (const o of origins) {
    const paths = dijkstra.singleSource(g, outKey(net.zoneNodes[o]), "cost");
    for (let d = 0; d < Z; d++) {
      const t = demand[o * Z + d];
      if (d === o || t <= 0) continue;
      const p = paths[inKey(net.zoneNodes[d])];
      if (!p) continue;
      for (let k = 0; k + 1 < p.length; k++) {
        const i = best.get(`${p[k]}|${p[k + 1]}`)!;
        flows[i] += t;
        sptt += t * cost[i];
      }
    }
  }
  return { sptt, flows };
}

function timeKernel(
  loader: AonLoader,
  cost: Float64Array,
  demand: Float64Array,
  out: Float64Array,
  runs: number,
): { median: number; min: number; sptt: number } {
  const times: number[] = [];
  let sptt = 0;
  for (let r = 0; r < runs + 2; r++) {
    out.fill(0);
    const t0 = performance.now();
    sptt = loader.load(cost, demand, out).sptt;
    const dt = performance.now() - t0;
    if (r >= 2) times.push(dt); // two warm-up runs
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], sptt };
}

for (const id of ["chicago-sketch", "berlin-center"]) {
  const net = await loadNetwork(id);
  const cost = freeFlowCost(net);
  const loader = new AonLoader(compileNetwork(net));
  const out = new Float64Array(net.linkCount);
  const full = timeKernel(loader, cost, net.demand, out, id === "chicago-sketch" ? 30 : 7);
  const allOrigins = sampleOrigins(net, 1).origins.length;
  emit({
    network: id,
    impl: "typed-array",
    ms: +full.median.toFixed(2),
    minMs: +full.min.toFixed(2),
    origins: allOrigins,
    sptt: full.sptt,
  });

  const every = BASELINE_EVERY[id];
  const { demand, origins } = sampleOrigins(net, every);
  const kernelSample = every === 1 ? full : timeKernel(loader, cost, demand, out, 7);
  globalThis.gc?.();
  const t0 = performance.now();
  const base = graphologyAon(net, cost, demand, origins);
  const baseMs = performance.now() - t0;
  const agree = Math.abs(base.sptt - kernelSample.sptt) / kernelSample.sptt;
  emit({
    network: id,
    impl: "graphology-shortest-path",
    ms: +baseMs.toFixed(1),
    origins: origins.length,
    sptt: base.sptt,
    spttRelDiff: agree,
  });
  emit({
    network: id,
    summary: true,
    kernelMs: +full.median.toFixed(2),
    targetMs: TARGET_MS[id],
    withinTarget: full.median <= TARGET_MS[id],
    ratio: +(baseMs / kernelSample.median).toFixed(1),
    ratioOrigins: origins.length,
  });
}
