/**
 * `pnpm bench elastic`: user equilibrium with elastic demand (Gartner's excess-demand
 * transformation, solved by the bush algorithm) against the fixed-demand solve of the same
 * network, in the same process.
 *
 * Per network: one class (the network's toll factor, or 1 minute per unit of money where the file
 * has none), a toll on every link of 20 % of its free-flow time (so that demand responds), and:
 * 1. `pivotSeconds`: the no-toll fixed-demand solve to 1e-10 that gives the pivot c0;
 * 2. `fixedSeconds`: the tolled fixed-demand solve to 1e-10 (cold);
 * 3. `augmentSeconds`: building the augmented network (excess links);
 * 4. `firstElasticSeconds`: the tolled elastic solve (exponential, elasticity 0.3; where some
 *    pair's pivot cost is 0, the rate 0.3 / the trip-weighted mean pivot cost) to 1e-10 from cold
 *    bushes, the first elastic solve of the process (its code not yet compiled by the JIT);
 * 5. `elasticSeconds`: the same solve again, from cold bushes, its code compiled as the fixed
 *    solve's is (the pivot solve ran that code first);
 * `ratio` = elasticSeconds / fixedSeconds (target ≤ 2), `firstRatio` = firstElasticSeconds /
 * fixedSeconds. One JSON line per network.
 *
 * Networks: `TOLLKIT_BENCH_NETWORKS` (comma-separated; default sioux-falls,chicago-sketch,
 * berlin-center). The machine is shared: `cpuSeconds` are less noisy than wall seconds.
 */
import { loadNetwork, Network } from "@tollkit/graph-core";
import { ElasticDemandProblem, FollowerResult, odCosts, solveSync, UserClass } from "@tollkit/follower";

const GAP = 1e-10;
const ELASTICITY = 0.3;
const networks = (process.env.TOLLKIT_BENCH_NETWORKS ?? "sioux-falls,chicago-sketch,berlin-center").split(",").filter(Boolean);
const maxSeconds = Number(process.env.TOLLKIT_BENCH_MAX_SECONDS ?? 900);

function timed<T>(f: () => T): { value: T; seconds: number; cpuSeconds: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const cpu = process.cpuUsage(c0);
  return { value, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const round = (x: number, d = 3) => Number(x.toFixed(d));

function line(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: "elastic", ...o })}\n`);
}

function gapOf(r: FollowerResult): string {
  return r.relativeGap.toExponential(2);
}

async function main(): Promise<void> {
  for (const id of networks) {
    const net: Network = await loadNetwork(id);
    const tf = net.costWeights.tollFactor > 0 ? net.costWeights.tollFactor : 1;
    const classes: UserClass[] = [
      { name: "all", demand: net.demand, tollFactor: tf, distanceFactor: net.costWeights.distanceFactor, pce: 1, tolled: true },
    ];
    const tolls = Float64Array.from(net.links.freeFlowTime, (t) => (0.2 * t) / tf);
    const opts = { algorithm: "bush", gap: GAP, maxSeconds, classes } as const;
    const pivot = timed(() => solveSync(net, { ...opts, tolls: new Float64Array(net.linkCount) }));
    const fixed = timed(() => solveSync(net, { ...opts, tolls }));
    const c0 = odCosts(net, pivot.value);
    // an elasticity needs pivot costs > 0; where some pair's is 0 (Berlin-Center's zero-cost zone
    // pairs), the same elasticity at the trip-weighted mean pivot cost, as a rate per time unit
    let tripCost = 0;
    let trips = 0;
    let zeroPivot = false;
    net.demand.forEach((q, p) => {
      if (!(q > 0) || Math.floor(p / net.zoneCount) === p % net.zoneCount) return;
      tripCost += q * c0[0][p];
      trips += q;
      if (!(c0[0][p] > 0)) zeroPivot = true;
    });
    const sensitivity = zeroPivot ? { rate: ELASTICITY / (tripCost / trips) } : { elasticity: ELASTICITY };
    const problem = timed(() => ElasticDemandProblem.create(net, { form: "exponential", ...sensitivity }, { classes, pivot: c0 }));
    const first = timed(() => problem.value.solveSync({ algorithm: "bush", gap: GAP, maxSeconds, tolls }));
    const elastic = timed(() => problem.value.solveSync({ algorithm: "bush", gap: GAP, maxSeconds, tolls }));
    const e = elastic.value;
    line({
      network: id,
      gap: GAP,
      form: "exponential",
      ...sensitivity,
      excessLinks: problem.value.augmented.excess.link.length,
      pivotSeconds: round(pivot.seconds),
      fixedSeconds: round(fixed.seconds),
      fixedCpuSeconds: round(fixed.cpuSeconds),
      fixedIterations: fixed.value.iterations,
      fixedGap: gapOf(fixed.value),
      augmentSeconds: round(problem.seconds),
      firstElasticSeconds: round(first.seconds),
      firstElasticCpuSeconds: round(first.cpuSeconds),
      elasticSeconds: round(elastic.seconds),
      elasticCpuSeconds: round(elastic.cpuSeconds),
      elasticIterations: e.iterations,
      elasticGap: gapOf(e),
      elasticConverged: e.converged,
      ratio: round(elastic.seconds / fixed.seconds, 2),
      cpuRatio: round(elastic.cpuSeconds / fixed.cpuSeconds, 2),
      firstRatio: round(first.seconds / fixed.seconds, 2),
      target: 2,
      tripsReference: round(e.elastic.tripsReference, 1),
      tripsNotMade: round(e.elastic.tripsNotMade, 1),
    });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
