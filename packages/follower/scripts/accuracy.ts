/**
 * `pnpm accuracy [network ...]`: how close the link flows of a solve at a given relative gap are
 * to the TransportationNetworks best-known flows, for BFW and the bush algorithm.
 *
 * For each network, algorithm and target gap (cold start each time), one JSON line:
 * - `gap`, `iterations`, `seconds`, `converged`: the solve;
 * - `objectiveError`: |F − F*| / F*, F the potential (Beckmann plus fixed costs), F* the catalogue's
 *   best-known value;
 * - `linksOff`: flow-dependent links (b ≠ 0, power ≠ 0, free-flow time > 0) whose flow is more
 *   than 1% of max(best-known flow, 10 vehicles) away from the best-known flow; `linksOffAbove100`
 *   counts those with a best-known flow above 100 vehicles; `worst` is the worst of them;
 * - `flowError`: Σ|x − x*| / Σx* on the flow-dependent links;
 * - `timeError`: the largest |t(x) − t(x*)| / t(x*) over all links.
 *
 * The relative gap bounds Σ_a (t_a(x) − t_a(x*))(x_a − x*_a) ≈ Σ t′_a δ_a², not each δ_a: on a
 * nearly flat link (t′ ≈ 1e-6 min/veh) a gap of 1e-5 leaves room for hundreds of vehicles. This
 * script shows how far that goes on each network; docs/accuracy.md has the table.
 * Each run is capped at `--max-seconds` (default 300).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { catalogueEntry, isFlowDependent, isInputError, loadBestKnownFlows, loadNetwork, Network } from "@tollkit/graph-core";
import { Algorithm, CostModel, defaultClasses, solveSync } from "@tollkit/follower";

const FLOOR = 10;
const NETWORKS = ["sioux-falls", "anaheim", "barcelona", "winnipeg", "chicago-sketch"];
const GAPS: Record<string, number[]> = {
  bfw: [1e-4, 1e-5, 1e-6, 1e-7, 1e-8],
  bush: [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10],
};

/** Bad input: one line naming what is wrong, exit 2 (as the CLI). */
function usage(message: string): never {
  process.stderr.write(`accuracy: ${message}\nusage: pnpm accuracy [network ...] [--max-seconds S]\n`);
  process.exit(2);
}

const args = process.argv.slice(2).filter((a) => a !== "--");
const capAt = args.indexOf("--max-seconds");
const maxSeconds = capAt >= 0 ? Number(args.splice(capAt, 2)[1]) : 300;
if (!(maxSeconds > 0))
  usage(
    `field "--max-seconds": got ${JSON.stringify(process.argv[process.argv.indexOf("--max-seconds") + 1])} (expected a number of seconds > 0)`,
  );
const unknownFlag = args.find((a) => a.startsWith("-"));
if (unknownFlag) usage(`unknown option "${unknownFlag}"`);
const networks = args.length ? args : NETWORKS;

if (!process.env.TOLLKIT_NETWORK_MIRROR) {
  const shared = join(import.meta.dirname, "..", "..", "..", "..", "shared", "networks");
  if (existsSync(shared)) process.env.TOLLKIT_NETWORK_MIRROR = shared;
}

function flowDependentLinks(net: Network): number[] {
  const out: number[] = [];
  for (let i = 0; i < net.linkCount; i++) if (isFlowDependent(net, i) && net.links.freeFlowTime[i] > 0) out.push(i);
  return out;
}

const round = (v: number, digits = 4) => Number(v.toPrecision(digits));

for (const id of networks) {
  let net: Network;
  try {
    net = await loadNetwork(id);
  } catch (e) {
    if (isInputError(e)) usage((e as Error).message);
    throw e;
  }
  const best = await loadBestKnownFlows(net, id);
  const published = catalogueEntry(id).bestKnownObjective;
  if (!best || published === undefined || published === null) {
    process.stdout.write(`${JSON.stringify({ accuracy: id, error: "no best-known flows or objective in the catalogue" })}\n`);
    continue;
  }
  const model = new CostModel(net, defaultClasses(net), net.links.toll, "ue");
  const links = flowDependentLinks(net);
  for (const algorithm of ["bfw", "bush"] as Algorithm[]) {
    for (const target of GAPS[algorithm]) {
      const t0 = performance.now();
      const r = solveSync(net, { algorithm, gap: target, maxSeconds, maxIterations: 1_000_000 });
      const seconds = (performance.now() - t0) / 1000;
      let linksOff = 0;
      let linksOffAbove100 = 0;
      let worst = { link: 0, flow: 0, best: 0, error: 0 };
      let err = 0;
      let sum = 0;
      for (const i of links) {
        const e = Math.abs(r.flows[i] - best[i]) / Math.max(best[i], FLOOR);
        if (e > 0.01) {
          linksOff++;
          if (best[i] > 100) linksOffAbove100++;
        }
        if (e > worst.error) worst = { link: i + 1, flow: round(r.flows[i], 6), best: round(best[i], 6), error: round(e) };
        err += Math.abs(r.flows[i] - best[i]);
        sum += best[i];
      }
      let timeError = 0;
      for (let i = 0; i < net.linkCount; i++) {
        const tb = model.vdf.time(i, best[i]);
        if (tb > 0) timeError = Math.max(timeError, Math.abs(r.times[i] - tb) / tb);
      }
      const F = model.potential(r.flows, [r.classes[0].flows]);
      const line = {
        accuracy: id,
        algorithm,
        target,
        gap: round(r.relativeGap),
        converged: r.converged,
        iterations: r.iterations,
        seconds: round(seconds, 3),
        objectiveError: round(Math.abs(F - published) / published, 3),
        linksOff,
        linksOffAbove100,
        flowDependentLinks: links.length,
        flowError: round(err / sum, 3),
        timeError: round(timeError, 3),
        worst,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
}
