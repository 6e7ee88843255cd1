/**
 * `pnpm bench gradient`: the time of one toll gradient of a scalar objective on Chicago-Sketch,
 * by the adjoint method (`adjointTollGradient`, TSTT and revenue: the two solves the leader's
 * gradient needs), with 1, 10, 50 and 200 tolled links, and for comparison the per-link
 * directional derivatives (`equilibriumSensitivity`) with 1 and 10 links.
 *
 * The tolled links are every other one of the 400 flow-dependent links with the most flow at the
 * untolled equilibrium; the equilibrium is solved once (bush, gap 1e-10, 20 cents on each of the
 * 200 links) and every case differentiates it for the first N of those links. Each figure is the median of 3 runs after one
 * warm-up run, in ms and as a multiple of one all-or-nothing assignment at free-flow costs measured
 * in the same process (`perAon`, the figure to compare across machines). Target: the adjoint
 * gradient with 200 links takes at most 1.5× the time with 1 (`ratioToOneLink`).
 * One JSON line per case.
 */
import { isFlowDependent, loadNetwork } from "@tollkit/graph-core";
import { adjointTollGradient, equilibriumSensitivity, solveBush } from "@tollkit/follower";
import { aonTimesMs } from "./aon-baseline.js";

const net = await loadNetwork("chicago-sketch");
// the tolled links: every other one of the 400 flow-dependent links with the most flow at the
// untolled equilibrium (links on used routes and their alternatives, so that every toll moves traffic)
const free = solveBush(net, { algorithm: "bush", gap: 1e-6, maxIterations: 3000 });
const ALL = Array.from(free.flows.keys())
  .filter((a) => isFlowDependent(net, a))
  .sort((a, b) => free.flows[b] - free.flows[a] || a - b)
  .filter((_, i) => i % 2 === 0)
  .slice(0, 200);
const tolls = new Float64Array(net.linkCount);
for (const l of ALL) tolls[l] = 20;
const eq = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 3000, tolls, warmStart: free.warmStart });
const aon = aonTimesMs(net);
const aonMs = aon[Math.floor(aon.length / 2)];

const median = (f: () => void): { ms: number; runs: number[] } => {
  f();
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    f();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  return { ms: runs[1], runs };
};

const round = (v: number, d = 3) => Number(v.toPrecision(d));
let oneLinkMs = NaN;
for (const n of [1, 10, 50, 200]) {
  const links = ALL.slice(0, n);
  let solves = 0;
  let rangeSolves = 0;
  let degenerate = false;
  let nearDegenerate = false;
  const t = median(() => {
    const a = adjointTollGradient(net, eq, { links, objectives: ["tstt", "revenue"] });
    solves = a.solves;
    rangeSolves = a.rangeSolves;
    degenerate = a.degenerate;
    nearDegenerate = a.nearDegenerate;
  });
  if (n === 1) oneLinkMs = t.ms;
  process.stdout.write(
    `${JSON.stringify({
      bench: "gradient",
      network: "chicago-sketch",
      method: "adjoint",
      links: n,
      ms: round(t.ms),
      runsMs: t.runs.map((v) => round(v)),
      aonMs: round(aonMs),
      perAon: round(t.ms / aonMs),
      ratioToOneLink: round(t.ms / oneLinkMs),
      targetRatioToOneLink: n === 200 ? 1.5 : undefined,
      derivativeSolves: solves,
      rangeSolves,
      degenerate,
      nearDegenerate,
      relativeGap: eq.relativeGap,
    })}\n`,
  );
}
for (const n of [1, 10]) {
  const links = ALL.slice(0, n);
  const t = median(() => equilibriumSensitivity(net, eq, { links }));
  process.stdout.write(
    `${JSON.stringify({
      bench: "gradient",
      network: "chicago-sketch",
      method: "directional",
      links: n,
      ms: round(t.ms),
      runsMs: t.runs.map((v) => round(v)),
      aonMs: round(aonMs),
      perAon: round(t.ms / aonMs),
    })}\n`,
  );
}
