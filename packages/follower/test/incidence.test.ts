import { describe, expect, it } from "vitest";
import { braess, compileNetwork, loadNetwork, Network, ShortestPathWorkspace, twoRoute } from "@tollkit/graph-core";
import { computeSkims, defaultClasses, FollowerResult, parseLinkList, selectLink, solveBush, solveSync } from "@tollkit/follower";

/**
 * Skims and select-link analysis (docs/incidence.md) against numbers from outside the code:
 * the solver's own link flows (select-link totals), Dijkstra shortest paths (skims at gap 1e-10)
 * and closed forms (two-route, Braess with a toll on the shortcut 3→4).
 */

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** Checks the select-link identities of `links` on a bush result. */
function checkSelectLink(net: Network, r: FollowerResult, links: number[]) {
  const s = selectLink(net, r, links);
  const c = s.classes[0];
  const assigned = links.reduce((t, l) => t + r.flows[l - 1], 0);
  // exact by origin: the bushes' flows on the selected links sum to their assigned flows
  expect(rel(c.selectedFlow, assigned)).toBeLessThan(1e-9);
  expect(
    rel(
      c.originFlow.reduce((t, v) => t + v, 0),
      assigned,
    ),
  ).toBeLessThan(1e-9);
  // the select-link flow on each selected link is its whole flow
  for (const l of links) expect(rel(s.linkFlowsPce[l - 1], r.flows[l - 1])).toBeLessThan(1e-9);
  // by OD, origin and destination: one total
  const od = c.odTrips.reduce((t, v) => t + v, 0);
  expect(
    rel(
      c.originTrips.reduce((t, v) => t + v, 0),
      od,
    ),
  ).toBeLessThan(1e-12);
  expect(
    rel(
      c.destinationTrips.reduce((t, v) => t + v, 0),
      od,
    ),
  ).toBeLessThan(1e-12);
  expect(rel(c.trips, od)).toBeLessThan(1e-12);
  expect(c.trips).toBeLessThanOrEqual(assigned * (1 + 1e-12));
  // one link: the trips that use it are exactly its flow, OD pair by OD pair summed
  const one = selectLink(net, r, [links[0]]).classes[0];
  expect(rel(one.trips, r.flows[links[0] - 1])).toBeLessThan(1e-9);
  // no OD pair sends more trips over the links than it has
  const Z = net.zoneCount;
  const dem = net.demand;
  let over = 0;
  for (let i = 0; i < Z * Z; i++) if (c.odTrips[i] > dem[i] * (1 + 1e-9) + 1e-12) over++;
  expect(over).toBe(0);
  return s;
}

describe("select-link: totals equal the selected links' assigned flows", () => {
  for (const [id, gap, links] of [
    ["sioux-falls", 1e-10, [39, 74, 16, 19]],
    ["chicago-sketch", 1e-6, [1, 500, 1200, 2000]],
    ["berlin-center", 1e-2, [100, 5000, 20000]],
  ] as const) {
    it(`${id} (gap ${gap})`, async () => {
      const net = await loadNetwork(id);
      const r = solveBush(net, { algorithm: "bush", gap, maxIterations: id === "berlin-center" ? 3 : undefined });
      checkSelectLink(net, r, [...links]);
    });
  }

  it("refuses a run without bushes, and links not in the network, naming the field", () => {
    const net = twoRoute();
    const r = solveSync(net, { algorithm: "bfw", gap: 1e-8 });
    expect(() => selectLink(net, r, [1])).toThrow(/only the bush algorithm keeps.*algorithm "bush"/);
    expect(() => parseLinkList(net, "1,3", "--select-link")).toThrow(/field "--select-link": link "3" is not in two-route/);
    expect(parseLinkList(net, "2, 1,2", "--select-link")).toEqual([2, 1]);
  });
});

/** Shortest generalised-cost distances from every zone (Dijkstra on the result's class costs). */
function shortestCosts(net: Network, r: FollowerResult): Float64Array {
  const Z = net.zoneCount;
  const sp = new ShortestPathWorkspace(compileNetwork(net));
  sp.gatherCosts(r.classes[0].costs);
  const out = new Float64Array(Z * Z);
  for (let o = 0; o < Z; o++) {
    sp.tree(net.zoneNodes[o]);
    for (let d = 0; d < Z; d++) out[o * Z + d] = sp.dist[net.zoneNodes[d]];
  }
  return out;
}

describe("skims at relative gap 1e-10", () => {
  for (const id of ["sioux-falls", "chicago-sketch"]) {
    it(`${id}: the generalised-cost skim is the shortest-path cost (1e-6) for every OD pair with demand; time + toll + distance terms = cost`, async () => {
      const net = await loadNetwork(id);
      const r = solveBush(net, { algorithm: "bush", gap: 1e-10 });
      expect(r.relativeGap).toBeLessThanOrEqual(1e-10);
      const s = computeSkims(net, r);
      expect(s.rule).toBe("bush-flow-weighted");
      const c = s.classes[0];
      const sp = shortestCosts(net, r);
      const { tollFactor, distanceFactor } = defaultClasses(net)[0];
      const Z = net.zoneCount;
      let pairs = 0;
      let total = 0;
      let worstCost = 0;
      let worstSum = 0;
      for (let o = 0; o < Z; o++)
        for (let d = 0; d < Z; d++) {
          const i = o * Z + d;
          if (o === d || !(net.demand[i] > 0)) continue;
          pairs++;
          worstCost = Math.max(worstCost, rel(c.cost[i], sp[i]));
          worstSum = Math.max(worstSum, rel(c.time[i] + tollFactor * c.toll[i] + distanceFactor * c.distance[i], c.cost[i]));
          total += net.demand[i] * c.cost[i];
        }
      expect(pairs).toBeGreaterThan(0);
      expect(worstCost).toBeLessThan(1e-6);
      expect(worstSum).toBeLessThan(1e-12);
      // flow-weighted skims are exact bookkeeping: Σ demand · cost = Σ flow · cost
      expect(rel(total, r.totalCost)).toBeLessThan(1e-12);
      // a run of another algorithm is skimmed along shortest paths: the same costs up to its gap
      const fw = computeSkims(net, solveSync(net, { algorithm: "bfw", gap: 1e-4 }));
      expect(fw.rule).toBe("shortest-path");
    });
  }
});

describe("closed forms", () => {
  it("two-route, toll 2.5 on route 1: x1 = 7.5, every trip costs 20 (was 55/3); route 1's users pay 2.5", () => {
    const net = twoRoute();
    const base = solveBush(net, { algorithm: "bush", gap: 1e-12 });
    const tolls = Float64Array.from([2.5, 0]);
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, tolls });
    const a = computeSkims(net, base).classes[0];
    const b = computeSkims(net, r).classes[0];
    const od = 1; // zone 1 → zone 2
    expect(a.cost[od]).toBeCloseTo(55 / 3, 9);
    expect(b.cost[od]).toBeCloseTo(20, 9);
    expect(b.cost[od] - a.cost[od]).toBeCloseTo(5 / 3, 9);
    // route 1 (7.5 trips): time 17.5, toll 2.5; route 2 (2.5 trips): time 20, no toll
    expect(b.time[od]).toBeCloseTo((7.5 * 17.5 + 2.5 * 20) / 10, 9);
    expect(b.toll[od]).toBeCloseTo((7.5 * 2.5) / 10, 9);
    expect(b.distance[od]).toBeCloseTo((7.5 * 1 + 2.5 * 1.5) / 10, 9);
    const s = selectLink(net, r, [1]).classes[0];
    expect(s.trips).toBeCloseTo(7.5, 9);
    expect(s.odTrips[od]).toBeCloseTo(7.5, 9);
    // the users of route 1 pay 2.5 each: the revenue over the select-link trips
    expect(r.revenue / s.trips).toBeCloseTo(2.5, 9);
    const s2 = selectLink(net, r, [2]).classes[0];
    expect(s2.trips).toBeCloseTo(2.5, 9);
  });

  it("Braess, toll 5 on the shortcut 3→4: shortcut flow 16/13, cost per trip 92 → 1151/13, toll paid 80/78 per trip", () => {
    const net = braess();
    const base = solveBush(net, { algorithm: "bush", gap: 1e-12 });
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, tolls: Float64Array.from([0, 0, 0, 5, 0]) });
    const a = computeSkims(net, base).classes[0];
    const b = computeSkims(net, r).classes[0];
    const od = 1;
    expect(a.cost[od]).toBeCloseTo(92, 8);
    expect(b.cost[od]).toBeCloseTo(1151 / 13, 8);
    expect(b.cost[od] - a.cost[od]).toBeCloseTo(-45 / 13, 8);
    expect(b.toll[od]).toBeCloseTo((5 * 16) / 13 / 6, 8);
    expect(r.revenue).toBeCloseTo(80 / 13, 8);
    const s = selectLink(net, r, [4]);
    expect(s.classes[0].trips).toBeCloseTo(16 / 13, 8);
    // the shortcut's users use 1→3 and 4→2 as well: their flow there is theirs
    expect(s.linkFlowsPce[0]).toBeCloseTo(16 / 13, 8);
    expect(s.linkFlowsPce[4]).toBeCloseTo(16 / 13, 8);
    expect(s.linkFlowsPce[1]).toBeCloseTo(0, 8);
    // a toll of 20 empties the shortcut: everyone gains 9 and nobody pays
    const r20 = solveBush(net, { algorithm: "bush", gap: 1e-12, tolls: Float64Array.from([0, 0, 0, 20, 0]) });
    const b20 = computeSkims(net, r20).classes[0];
    expect(b20.cost[od] - a.cost[od]).toBeCloseTo(-9, 8);
    expect(b20.toll[od]).toBeCloseTo(0, 8);
  });
});
