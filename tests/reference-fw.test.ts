/**
 * The Frank-Wolfe family against the TransportationNetworks best-known solutions (objective and
 * link flows, `networks/catalogue.json` and the `*_flow.tntp` files) and the published system
 * optimum of Sioux Falls.
 *
 * Objective: the catalogue's best-known value is the minimum of the potential F: the Beckmann
 * integral plus, where a network has cost weights, the fixed generalised costs (Chicago-Sketch:
 * 0.04 min/mile × length × flow; its README's 17313018.74 includes that term). We check that F
 * at the published flows reproduces the published value (so the cost model is right), then that
 * BFW at relative gap 1e-5 comes within 1e-5 of it.
 *
 * Link flows: "flow-dependent" excludes constant-cost links (b = 0, power = 0, or free-flow time
 * 0, as Chicago-Sketch's zone connectors). The tolerance is 1% of max(best-known flow, 10 veh):
 * the 10-vehicle floor keeps links with almost no flow from asking for sub-vehicle precision.
 * At gap 1e-5 that holds on every flow-dependent link of Sioux Falls, but not on the four
 * larger networks, and it cannot be asked of the gap: a gap bounds Σ t′_a δ_a², not each δ_a,
 * and on nearly flat links (low volume/capacity, t′ ≈ 1e-6 min/veh, so 100 vehicles change the
 * cost by 1e-4 min, below the average excess cost at that gap) it leaves room for hundreds of
 * vehicles; the last test below shows a flow at gap < 1e-5 with dozens of such links off.
 * Those networks are checked at gap 1e-5 through their link travel times (within 1%) and the
 * flow-weighted error (Σ|x − x*| / Σx* ≤ 1%), and Anaheim also link by link at gap 1e-9. The
 * gap each network needs for every link within 1% is in docs/accuracy.md (`pnpm accuracy`).
 */
import { describe, expect, it } from "vitest";
import { CostModel, defaultClasses, FollowerResult, solveSync } from "@tollkit/follower";
import { catalogueEntry, isFlowDependent, loadBestKnownFlows, loadNetwork, Network } from "@tollkit/graph-core";

/** Links whose cost depends on their flow (BPR: b ≠ 0, power ≠ 0 and a free-flow time > 0). */
function flowDependent(net: Network): number[] {
  const out: number[] = [];
  for (let i = 0; i < net.linkCount; i++) if (isFlowDependent(net, i) && net.links.freeFlowTime[i] > 0) out.push(i);
  return out;
}

const FLOOR = 10; // vehicles

function badLinks(net: Network, flows: Float64Array, best: Float64Array): string[] {
  return flowDependent(net)
    .filter((i) => Math.abs(flows[i] - best[i]) > 0.01 * Math.max(best[i], FLOOR))
    .map((i) => `link ${i + 1}: ${flows[i].toFixed(2)} vs ${best[i].toFixed(2)}`);
}

const NETWORKS = ["sioux-falls", "anaheim", "barcelona", "winnipeg", "chicago-sketch"];

describe("BFW to relative gap 1e-5 against best-known solutions", () => {
  for (const id of NETWORKS) {
    it(id, async () => {
      const net = await loadNetwork(id);
      const best = (await loadBestKnownFlows(net, id))!;
      const published = catalogueEntry(id).bestKnownObjective!;
      const model = new CostModel(net, defaultClasses(net), net.links.toll, "ue");
      // the cost model reproduces the published objective at the published flows
      expect(Math.abs(model.potential(best, [best]) - published) / published).toBeLessThan(1e-9);

      const r: FollowerResult = solveSync(net, { algorithm: "bfw", gap: 1e-5, maxIterations: 3000 });
      expect(r.converged).toBe(true);
      expect(r.relativeGap).toBeLessThanOrEqual(1e-5);
      const F = model.potential(r.flows, [r.classes[0].flows]);
      expect(F).toBe(r.convergence[r.convergence.length - 1].objective);
      expect(r.beckmann).toBe(F);
      expect(Math.abs(F - published) / published).toBeLessThan(1e-5);
      expect(F).toBeGreaterThan(published * (1 - 1e-9)); // nobody beats the minimum

      // link travel times within 1% on every link
      for (let i = 0; i < net.linkCount; i++) {
        const tb = model.vdf.time(i, best[i]);
        expect(Math.abs(r.times[i] - tb)).toBeLessThanOrEqual(0.01 * tb + 1e-12);
      }
      // flow-weighted error ≤ 1% on flow-dependent links
      let err = 0;
      let sum = 0;
      for (const i of flowDependent(net)) {
        err += Math.abs(r.flows[i] - best[i]);
        sum += best[i];
      }
      expect(err / sum).toBeLessThan(0.01);
      if (id === "sioux-falls") expect(badLinks(net, r.flows, best)).toEqual([]);
    });
  }

  it("anaheim at gap 1e-9: every flow-dependent link within 1% of the best-known flow", async () => {
    const net = await loadNetwork("anaheim");
    const best = (await loadBestKnownFlows(net, "anaheim"))!;
    const r = solveSync(net, { algorithm: "bfw", gap: 1e-9, maxIterations: 5000 });
    expect(r.converged).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(badLinks(net, r.flows, best)).toEqual([]);
  });
});

describe("to relative gap 1e-4, BFW needs fewer iterations than CFW, and CFW fewer than FW", () => {
  for (const id of ["sioux-falls", "chicago-sketch"]) {
    it(id, async () => {
      const net = await loadNetwork(id);
      const n: Record<string, number> = {};
      for (const algorithm of ["fw", "cfw", "bfw"] as const) {
        const r = solveSync(net, { algorithm, gap: 1e-4, maxIterations: 5000 });
        expect(r.converged).toBe(true);
        n[algorithm] = r.iterations;
      }
      expect(n.bfw).toBeLessThan(n.cfw);
      expect(n.cfw).toBeLessThan(n.fw);
    });
  }
});

describe("system optimum", () => {
  it("sioux-falls: SO TSTT between 7,194,180 and 7,194,340 (UE 7,480,225.34)", async () => {
    const net = await loadNetwork("sioux-falls");
    const so = solveSync(net, { algorithm: "bfw", objective: "so", gap: 1e-5, maxIterations: 5000 });
    expect(so.converged).toBe(true);
    expect(so.tstt).toBeGreaterThan(7_194_180);
    expect(so.tstt).toBeLessThan(7_194_340);
    const ue = solveSync(net, { algorithm: "bfw", gap: 1e-6, maxIterations: 5000 });
    // TSTT is not what the solver minimises: it converges more slowly than the gap (1.3e-5 at gap 1e-6)
    expect(Math.abs(ue.tstt - catalogueEntry("sioux-falls").bestKnownTstt!) / 7_480_225.34).toBeLessThan(5e-5);
    expect(so.tstt).toBeLessThan(ue.tstt);
    // the SO potential Σ x·t(x) is the TSTT itself (no fixed costs on Sioux Falls)
    expect(so.convergence[so.convergence.length - 1].objective).toBeCloseTo(so.tstt, 3);
  });
});

/**
 * Why the per-link criterion is not asked of every network at gap 1e-5: the gap does not imply
 * it. The bush algorithm stopped at gap 1e-5 gives an Anaheim flow whose gap, recomputed here
 * from the flows alone (BPR written out, a Dijkstra of this file's own that keeps zones 1–38
 * from being passed through, FIRST THRU NODE 39), is below 1e-5, yet dozens of links carrying
 * more than 100 vehicles in the best-known solution are more than 1% off. So no test of "gap
 * 1e-5 ⇒ every flow within 1%" can be about the stopping rule: it would only test the luck of
 * one algorithm's path. docs/accuracy.md has the gap each network needs (`pnpm accuracy`).
 */
describe("a relative gap of 1e-5 does not pin each link flow to 1%", () => {
  it("anaheim: a flow with an independently recomputed gap < 1e-5 and links above 100 vehicles more than 1% off", async () => {
    const net = await loadNetwork("anaheim");
    const best = (await loadBestKnownFlows(net, "anaheim"))!;
    const r = solveSync(net, { algorithm: "bush", gap: 1e-5 });
    const l = net.links;
    const N = net.nodeCount;
    const time = Array.from(r.flows, (x, i) => l.freeFlowTime[i] * (1 + l.b[i] * Math.pow(x / l.capacity[i], l.power[i])));
    let tstt = 0;
    for (let i = 0; i < net.linkCount; i++) tstt += r.flows[i] * time[i];
    let sptt = 0;
    const Z = net.zoneCount;
    for (let o = 0; o < Z; o++) {
      // O(N²) Dijkstra over node ids; a zone node other than the origin is a dead end
      const dist = new Array<number>(N).fill(Infinity);
      const done = new Array<boolean>(N).fill(false);
      const origin = net.zoneNodes[o];
      dist[origin] = 0;
      for (;;) {
        let u = -1;
        for (let v = 0; v < N; v++) if (!done[v] && dist[v] < Infinity && (u < 0 || dist[v] < dist[u])) u = v;
        if (u < 0) break;
        done[u] = true;
        if (u !== origin && net.nodeIds[u] < 39) continue;
        for (let i = 0; i < net.linkCount; i++) if (l.from[i] === u && dist[u] + time[i] < dist[l.to[i]]) dist[l.to[i]] = dist[u] + time[i];
      }
      for (let d = 0; d < Z; d++) if (d !== o) sptt += net.demand[o * Z + d] * dist[net.zoneNodes[d]];
    }
    const gap = (tstt - sptt) / tstt;
    expect(gap / r.relativeGap).toBeCloseTo(1, 6);
    expect(gap).toBeGreaterThan(0);
    expect(gap).toBeLessThan(1e-5);
    const off = flowDependent(net).filter((i) => best[i] > 100 && Math.abs(r.flows[i] - best[i]) > 0.01 * best[i]);
    expect(off.length).toBeGreaterThan(10);
  });
});
