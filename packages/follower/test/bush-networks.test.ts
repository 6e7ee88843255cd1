import { describe, expect, it } from "vitest";
import { catalogueEntry, isFlowDependent, loadBestKnownFlows, loadNetwork } from "@tollkit/graph-core";
import { CostModel, defaultClasses, solveBush } from "@tollkit/follower";

/**
 * The bush algorithm against the published best-known solutions of the TransportationNetworks
 * repository (objectives from networks/catalogue.json, which quotes the networks' READMEs; flows
 * from their *_flow.tntp files).
 *
 * The objective compared is the potential the equilibrium minimises: the Beckmann objective
 * Σ∫t plus the flow-independent generalised cost Σ g·x. It is the Beckmann objective itself where
 * the cost weights are zero; Chicago-Sketch's best-known value includes its distance term
 * (0.04 min/mile, catalogue cost weights).
 *
 * Flows: every flow-dependent link within 1e-4 of the best-known flow, relative to
 * max(best-known flow, 1 vehicle): the floor keeps links with a handful of vehicles (whose
 * published flows have few significant digits) from dominating. Links with constant cost are
 * skipped: their equilibrium flows need not be unique.
 */
const CASES: { id: string; objectiveTolerance: number }[] = [
  { id: "sioux-falls", objectiveTolerance: 1e-9 },
  // the published value has 11 significant digits (1286032.1711): 1e-9 is at its precision limit
  { id: "anaheim", objectiveTolerance: 1e-9 },
  { id: "barcelona", objectiveTolerance: 1e-9 },
  { id: "winnipeg", objectiveTolerance: 1e-9 },
  { id: "chicago-sketch", objectiveTolerance: 1e-9 },
  { id: "eastern-massachusetts", objectiveTolerance: 1e-9 },
];

describe("bush algorithm on standard networks: relative gap 1e-10 and best-known solutions", () => {
  for (const { id, objectiveTolerance } of CASES) {
    it(`${id}: gap ≤ 1e-10, objective and flows as published`, async () => {
      const net = await loadNetwork(id);
      const r = solveBush(net, { algorithm: "bush", gap: 1e-10, maxSeconds: 120 });
      expect(r.converged).toBe(true);
      expect(r.relativeGap).toBeLessThanOrEqual(1e-10);
      expect(r.warnings).toEqual([]);
      const model = new CostModel(net, defaultClasses(net), net.links.toll, "ue");
      const potential = model.potential(r.flows, [r.classes[0].flows]);
      const best = catalogueEntry(id).bestKnownObjective!;
      expect(Math.abs(potential - best) / best).toBeLessThan(objectiveTolerance);
      const bestFlows = await loadBestKnownFlows(net, id);
      if (bestFlows) {
        let worst = 0;
        for (let a = 0; a < net.linkCount; a++) {
          if (!isFlowDependent(net, a)) continue;
          worst = Math.max(worst, Math.abs(r.flows[a] - bestFlows[a]) / Math.max(bestFlows[a], 1));
        }
        expect(worst).toBeLessThan(1e-4);
      }
    });
  }
});

describe("bush algorithm, system optimum on Barcelona (cross-origin PAS shifts, bush/pas.ts)", () => {
  it("reaches gap 1e-10 in at most 15 iterations (10; 20 without the coupled pairs, 35 before the PAS shifts); marginal-cost tolls x·t′(x) make the user equilibrium reproduce it", async () => {
    const net = { ...(await loadNetwork("barcelona")), costWeights: { tollFactor: 1, distanceFactor: 0 } };
    const so = solveBush(net, { algorithm: "bush", objective: "so", gap: 1e-10, maxSeconds: 120 });
    expect(so.converged).toBe(true);
    expect(so.relativeGap).toBeLessThanOrEqual(1e-10);
    expect(so.warnings).toEqual([]);
    expect(so.iterations).toBeLessThanOrEqual(15);
    const model = new CostModel(net, defaultClasses(net), new Float64Array(net.linkCount), "so");
    const tolls = Float64Array.from(so.flows, (x, a) => x * model.vdf.derivative(a, x));
    const ue = solveBush(net, { algorithm: "bush", gap: 1e-12, maxSeconds: 120, tolls });
    expect(ue.relativeGap).toBeLessThanOrEqual(1e-12);
    let worst = 0;
    for (let a = 0; a < net.linkCount; a++) {
      if (!isFlowDependent(net, a)) continue;
      worst = Math.max(worst, Math.abs(ue.flows[a] - so.flows[a]) / Math.max(so.flows[a], 1));
    }
    expect(worst).toBeLessThan(1e-4);
    expect(Math.abs(ue.tstt - so.tstt) / so.tstt).toBeLessThan(1e-9);
  });
});

describe("bush algorithm on Berlin-Center (865 zones, 28,376 links)", () => {
  it("reaches relative gap 1e-6, its potential within the gap's bound of the published value", async () => {
    const net = await loadNetwork("berlin-center");
    const r = solveBush(net, { algorithm: "bush", gap: 1e-6, maxSeconds: 240 });
    expect(r.converged).toBe(true);
    expect(r.relativeGap).toBeLessThanOrEqual(1e-6);
    // convexity: potential − optimum ≤ total cost − SPTT = gap · total cost (about 20 here)
    const approx = catalogueEntry("berlin-center").approximateObjective!;
    expect(Math.abs(r.beckmann - approx)).toBeLessThanOrEqual(r.relativeGap * r.totalCost + 1e-3);
  }, 300_000);
});
