/**
 * The cross-machine baseline printed beside every follower benchmark figure: the time of one
 * all-or-nothing loading of the network's demand at free-flow generalised cost.
 */
import { AonLoader, compileNetwork, Network } from "@tollkit/graph-core";
import { CostModel, defaultClasses } from "@tollkit/follower";

/**
 * Times (ms, sorted ascending) of `runs` AON loadings at free-flow generalised cost, or at the
 * costs of the link flows `atFlows` (e.g. an equilibrium's: the shortest-path trees an iteration
 * near the solution grows). `cpuMs`, when given, receives each loading's CPU time (ms, in run order).
 */
export function aonTimesMs(net: Network, runs = 5, atFlows?: Float64Array, cpuMs?: number[]): number[] {
  const model = new CostModel(net, defaultClasses(net), net.links.toll, "ue");
  const loader = new AonLoader(compileNetwork(net));
  const times = new Float64Array(net.linkCount);
  const fc = new Float64Array(net.linkCount);
  const cost = new Float64Array(net.linkCount);
  const out = new Float64Array(net.linkCount);
  model.flowCost(atFlows ?? new Float64Array(net.linkCount), times, fc);
  model.classCost(0, fc, cost);
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    out.fill(0);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    loader.load(cost, net.demand, out);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs?.push((c.user + c.system) / 1000);
  }
  return ms.sort((a, b) => a - b);
}
