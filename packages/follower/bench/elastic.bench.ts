/**
 * `pnpm bench elastic`: user equilibrium with elastic demand (Gartner's excess-demand
 * transformation, solved by the bush algorithm) against the fixed-demand solve of the same
 * network, in the same process.
 *
 * Per network: one class (the network's toll factor, or 1 minute per unit of money where the file
 * has none), a toll on every link of 20 % of its free-flow time (so that demand responds), and:
 * 1. `pivotSeconds`: the no-toll fixed-demand solve to 1e-10 that gives the pivot c0;
 * 2. `augmentSeconds`: building the augmented network (excess links);
 * 3. `firstElasticSeconds`: the tolled elastic solve (exponential, elasticity 0.3; where some
 *    pair's pivot cost is 0, the rate 0.3 / the trip-weighted mean pivot cost) to 1e-10 from cold
 *    bushes, the first elastic solve of the process (its code not yet compiled by the JIT), and
 *    `firstRatio` = it / the first round's fixed solve;
 * 4. `rounds` (`TOLLKIT_BENCH_ROUNDS`, default 3) of the tolled fixed-demand solve to 1e-10 and
 *    the same elastic solve again, both from cold bushes, the order of the two reversed every round
 *    (each elastic solve beside a fixed solve that met the same machine load: one fixed solve of
 *    Chicago-Sketch takes 1.2–1.8 s on this shared machine from run to run);
 *    `fixedSeconds` / `elasticSeconds` and their CPU seconds are the medians over the rounds,
 *    `ratios` the rounds' elastic ÷ fixed, `ratio` their median (target ≤ 2), `cpuRatio` the
 *    median of the CPU-time ratios.
 * One JSON line per network.
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
const rounds = Number(process.env.TOLLKIT_BENCH_ROUNDS ?? 3);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`bench/elastic: TOLLKIT_BENCH_ROUNDS must be a whole number ≥ 1 (got "${process.env.TOLLKIT_BENCH_ROUNDS}")\n`);
  process.exit(2);
}
/** The median (the mean of the middle two for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

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
    const fixedRuns: ReturnType<typeof timed<FollowerResult>>[] = [];
    const elasticRuns: ReturnType<typeof timed<FollowerResult>>[] = [];
    for (let r = 0; r < rounds; r++) {
      const runFixed = () => fixedRuns.push(timed(() => solveSync(net, { ...opts, tolls })));
      const runElastic = () => elasticRuns.push(timed(() => problem.value.solveSync({ algorithm: "bush", gap: GAP, maxSeconds, tolls })));
      if (r % 2 === 0) {
        runFixed();
        runElastic();
      } else {
        runElastic();
        runFixed();
      }
    }
    const fixed = fixedRuns[0].value;
    const e = elasticRuns[0].value;
    const ratios = elasticRuns.map((x, r) => x.seconds / fixedRuns[r].seconds);
    const cpuRatios = elasticRuns.map((x, r) => x.cpuSeconds / fixedRuns[r].cpuSeconds);
    line({
      network: id,
      gap: GAP,
      form: "exponential",
      ...sensitivity,
      excessLinks: problem.value.augmented.excess.link.length,
      pivotSeconds: round(pivot.seconds),
      rounds,
      fixedSeconds: round(median(fixedRuns.map((x) => x.seconds))),
      fixedCpuSeconds: round(median(fixedRuns.map((x) => x.cpuSeconds))),
      fixedIterations: fixed.iterations,
      fixedGap: gapOf(fixed),
      augmentSeconds: round(problem.seconds),
      firstElasticSeconds: round(first.seconds),
      firstElasticCpuSeconds: round(first.cpuSeconds),
      elasticSeconds: round(median(elasticRuns.map((x) => x.seconds))),
      elasticCpuSeconds: round(median(elasticRuns.map((x) => x.cpuSeconds))),
      elasticIterations: e.iterations,
      elasticGap: gapOf(e),
      elasticConverged: e.converged,
      ratios: ratios.map((x) => round(x, 2)),
      ratio: round(median(ratios), 2),
      cpuRatio: round(median(cpuRatios), 2),
      firstRatio: round(first.seconds / fixedRuns[0].seconds, 2),
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
