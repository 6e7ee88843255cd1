import { describe, expect, it } from "vitest";
import { AonLoader, braess, buildNetwork, compileNetwork, InputError, loadNetwork, Network, pigou, twoRoute } from "@tollkit/graph-core";
import {
  BushState,
  CostModel,
  defaultClasses,
  FollowerResult,
  isBushState,
  relativeGap,
  solveBush,
  solveBushAsync,
  UserClass,
} from "@tollkit/follower";

/** Checks every bush of a result: flows ≥ 0, conservation with the class's demand, acyclic, no pass through a blocked zone. */
function checkBushes(net: Network, r: FollowerResult, classes: UserClass[]): void {
  const state = r.warmStart.state as BushState;
  expect(isBushState(state)).toBe(true);
  const Z = net.zoneCount;
  const { from, to } = net.links;
  const perClass = classes.map(() => new Float64Array(net.linkCount));
  for (const b of state.bushes) {
    const root = net.zoneNodes[b.zone];
    const bal = new Float64Array(net.nodeCount);
    const seen = new Set<number>([root]);
    let total = 0;
    for (let p = 0; p < b.links.length; p++) {
      const a = b.links[p];
      expect(b.flows[p]).toBeGreaterThanOrEqual(0);
      // topological storage order: a link's tail is the root or the head of an earlier link
      expect(seen.has(from[a])).toBe(true);
      seen.add(to[a]);
      if (from[a] !== root && b.flows[p] > 0) expect(net.throughBlocked[from[a]]).toBe(0);
      bal[to[a]] += b.flows[p];
      bal[from[a]] -= b.flows[p];
      perClass[b.cls][a] += b.flows[p];
    }
    const demand = classes[b.cls].demand;
    for (let d = 0; d < Z; d++) {
      if (d === b.zone) continue;
      const t = demand[b.zone * Z + d];
      total += t;
      expect(bal[net.zoneNodes[d]]).toBeCloseTo(t, 6);
      bal[net.zoneNodes[d]] = 0;
    }
    expect(bal[root]).toBeCloseTo(-total, 6);
    bal[root] = 0;
    for (let v = 0; v < net.nodeCount; v++) expect(Math.abs(bal[v])).toBeLessThan(1e-6);
  }
  classes.forEach((_, k) => {
    for (let a = 0; a < net.linkCount; a++) expect(r.classes[k].flows[a]).toBeCloseTo(perClass[k][a], 6);
  });
}

/** Per-class relative gap from an independent all-or-nothing pass on the result's class costs. */
function classGaps(net: Network, r: FollowerResult, classes: UserClass[]): number[] {
  const aon = new AonLoader(compileNetwork(net));
  return classes.map((c, k) => {
    const cost = r.classes[k].costs;
    const f = r.classes[k].flows;
    let tc = 0;
    for (let a = 0; a < net.linkCount; a++) tc += f[a] * cost[a];
    const sptt = aon.load(cost, c.demand, new Float64Array(net.linkCount)).sptt;
    return relativeGap(tc, sptt);
  });
}

describe("bush algorithm: closed forms", () => {
  it("Braess: UE TSTT 552 with every route used, SO TSTT 498 without the shortcut", () => {
    const ue = solveBush(braess(), { algorithm: "bush", gap: 1e-12, maxIterations: 100 });
    expect(ue.tstt).toBeCloseTo(552, 9);
    expect(Array.from(ue.flows)).toEqual([4, 2, 2, 2, 4].map((v) => expect.closeTo(v, 9)));
    const so = solveBush(braess(), { algorithm: "bush", objective: "so", gap: 1e-12, maxIterations: 100 });
    expect(so.tstt).toBeCloseTo(498, 9);
    expect(so.flows[3]).toBeCloseTo(0, 9);
  });

  it("Braess with a toll τ = 5 on 3→4: x₃₄ = (13 − τ)/6.5", () => {
    const tolls = new Float64Array(5);
    tolls[3] = 5;
    const r = solveBush(braess(), { algorithm: "bush", gap: 1e-13, maxIterations: 100, tolls });
    expect(r.flows[3]).toBeCloseTo(8 / 6.5, 10);
    expect(r.revenue).toBeCloseTo((5 * 8) / 6.5, 9);
  });

  it("two routes: UE x₁ = 25/3, SO x₁ = 7.5; Pigou SO cost 3/4", () => {
    const ue = solveBush(twoRoute(), { algorithm: "bush", gap: 1e-12, maxIterations: 100 });
    expect(ue.flows[0]).toBeCloseTo(25 / 3, 10);
    const so = solveBush(twoRoute(), { algorithm: "bush", objective: "so", gap: 1e-12, maxIterations: 100 });
    expect(so.flows[0]).toBeCloseTo(7.5, 10);
    const pg = solveBush(pigou(), { algorithm: "bush", objective: "so", gap: 1e-12, maxIterations: 100 });
    expect(pg.tstt).toBeCloseTo(0.75, 10);
  });

  it("FIRST THRU NODE: a zone is never passed through, though it may be left by its own trips", () => {
    // zone 3 offers a cheap route 1→3→2; blocked, the trips 1→2 must take 1→4→2
    const net = buildNetwork({
      name: "blocked",
      nodes: [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }],
      zones: 3,
      firstThruNode: 4,
      links: [
        { from: 1, to: 3, freeFlowTime: 1, b: 0, power: 1, vdf: "polynomial" },
        { from: 3, to: 2, freeFlowTime: 1, b: 0, power: 1, vdf: "polynomial" },
        { from: 1, to: 4, freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial" },
        { from: 4, to: 2, freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial" },
      ],
      demand: [
        [1, 2, 10],
        [3, 2, 4],
      ],
    });
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 50 });
    expect(r.flows[0]).toBe(0); // 1→3 unused: passing through zone 3 is forbidden
    expect(r.flows[1]).toBeCloseTo(4, 12); // zone 3's own trips leave it
    expect(r.flows[2]).toBeCloseTo(10, 12);
    checkBushes(net, r, [{ name: "all", demand: net.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }]);
  });
});

describe("bush algorithm: options, stopping rules, errors", () => {
  it("needs a stopping rule and names bad options", () => {
    expect(() => solveBush(braess(), { algorithm: "bush" })).toThrow(InputError);
    expect(() => solveBush(braess(), { algorithm: "bush", gap: -1 })).toThrow(/gap/);
  });

  it("rejects demand that cannot be routed, naming the pair", () => {
    const net = buildNetwork({
      name: "cut",
      nodes: [{ id: 1 }, { id: 2 }, { id: 3 }],
      zones: 3,
      links: [{ from: 1, to: 2, freeFlowTime: 1 }],
      demand: [[1, 3, 5]],
    });
    expect(() => solveBush(net, { algorithm: "bush", gap: 1e-6 })).toThrow(/1→3 \(5 trips\)/);
  });

  it("stops on iterations and on seconds, with a warning that the gap was not reached", async () => {
    const net = await loadNetwork("sioux-falls");
    const r = solveBush(net, { algorithm: "bush", gap: 1e-14, maxIterations: 2 });
    expect(r.stopReason).toBe("iterations");
    expect(r.iterations).toBe(2);
    expect(r.converged).toBe(false);
    expect(r.warnings.join(" ")).toMatch(/did not reach the target 1e-14/);
    const chicago = await loadNetwork("chicago-sketch");
    const s = solveBush(chicago, { algorithm: "bush", gap: 1e-14, maxSeconds: 0.3 });
    expect(s.stopReason).toBe("seconds");
    expect(s.seconds).toBeLessThan(5);
  });

  it("a gap below rounding level stalls instead of running forever, and says so", async () => {
    const net = await loadNetwork("anaheim"); // its gap settles at ~2e-15 (Sioux Falls' reaches 0)
    const r = solveBush(net, { algorithm: "bush", gap: 1e-30 });
    expect(r.stopReason).toBe("stalled");
    expect(r.relativeGap).toBeLessThan(1e-12);
    expect(r.warnings.join(" ")).toMatch(/stalled at rounding level/);
  });

  it("reports progress per iteration and honours an AbortSignal (sync from onProgress, async from a timer)", async () => {
    const net = await loadNetwork("sioux-falls");
    const ac = new AbortController();
    const seen: number[] = [];
    const r = solveBush(net, {
      algorithm: "bush",
      gap: 1e-14,
      maxIterations: 100,
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.iteration);
        expect(p.fraction).toBeGreaterThanOrEqual(0);
        expect(p.fraction).toBeLessThanOrEqual(1);
        if (p.iteration === 3) ac.abort();
      },
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(r.stopReason).toBe("cancelled");
    expect(r.warnings.join(" ")).toMatch(/cancelled/);
    const chicago = await loadNetwork("chicago-sketch");
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 200);
    const a = await solveBushAsync(chicago, { algorithm: "bush", gap: 1e-14, maxSeconds: 120, signal: ac2.signal });
    expect(a.stopReason).toBe("cancelled");
    expect(a.seconds).toBeLessThan(30);
  });

  it("the convergence report has exact gaps, non-increasing potential after the start, and elapsed times", async () => {
    const net = await loadNetwork("sioux-falls");
    const r = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 200 });
    expect(r.convergence[0].iteration).toBe(1); // a cold start has no row 0
    expect(r.convergence.at(-1)!.relativeGap).toBeLessThanOrEqual(1e-10);
    expect(r.convergence.at(-1)!.relativeGap).toBeCloseTo(r.relativeGap, 14);
    for (let i = 1; i < r.convergence.length; i++) {
      expect(r.convergence[i].elapsedMs).toBeGreaterThanOrEqual(r.convergence[i - 1].elapsedMs);
      expect(r.convergence[i].objective).toBeLessThanOrEqual(r.convergence[i - 1].objective * (1 + 1e-12));
    }
  });
  it("the reported SPTT and gaps are those of an independent shortest-path pass at the final costs (FIRST THRU NODE, tolls, classes)", async () => {
    // the result takes its SPTT from the solver's last exact measurement when the flows are those it measured
    const net = await loadNetwork("winnipeg");
    const classes: UserClass[] = [
      { name: "car", demand: Float64Array.from(net.demand, (v) => 0.7 * v), tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true },
      { name: "van", demand: Float64Array.from(net.demand, (v) => 0.3 * v), tollFactor: 0.5, distanceFactor: 0.2, pce: 1, tolled: true },
    ];
    const tolls = new Float64Array(net.linkCount);
    for (let a = 0; a < net.linkCount; a += 97) tolls[a] = 2;
    for (const opts of [{ gap: 1e-4 }, { maxIterations: 2 }, { maxIterations: 3, classes, tolls }]) {
      const r = solveBush(net, { algorithm: "bush", ...opts });
      const cls = opts.classes ?? defaultClasses(net);
      const aon = new AonLoader(compileNetwork(net));
      let sptt = 0;
      let tc = 0;
      cls.forEach((c, k) => {
        sptt += aon.load(r.classes[k].costs, c.demand, new Float64Array(net.linkCount)).sptt;
        for (let a = 0; a < net.linkCount; a++) tc += r.classes[k].flows[a] * r.classes[k].costs[a];
      });
      expect(Math.abs(r.sptt - sptt)).toBeLessThan(1e-12 * sptt);
      expect(r.relativeGap).toBeCloseTo(relativeGap(tc, sptt), 12);
      const independent = classGaps(net, r, cls);
      r.classes.forEach((c, k) => expect(c.relativeGap).toBeCloseTo(independent[k], 12));
    }
  });
});

describe("bush algorithm: classes, system optimum, warm start", () => {
  it("two user classes (PCE, value of time, untolled trucks) reach their own Wardrop equilibria", async () => {
    const net = await loadNetwork("sioux-falls");
    const car = Float64Array.from(net.demand, (v) => 0.7 * v);
    const truck = Float64Array.from(net.demand, (v) => 0.1 * v);
    const classes: UserClass[] = [
      { name: "car", demand: car, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true },
      { name: "truck", demand: truck, tollFactor: 0.2, distanceFactor: 0.5, pce: 2.5, tolled: false },
    ];
    const tolls = new Float64Array(net.linkCount);
    for (const l of [10, 15, 25, 30, 45, 60]) tolls[l] = 3;
    const r = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500, classes, tolls });
    expect(r.relativeGap).toBeLessThanOrEqual(1e-10);
    for (const g of classGaps(net, r, classes)) expect(g).toBeLessThan(1e-9);
    for (let a = 0; a < net.linkCount; a++) expect(r.flows[a]).toBeCloseTo(r.classes[0].flows[a] + 2.5 * r.classes[1].flows[a], 6);
    expect(r.classes[1].revenue).toBe(0);
    checkBushes(net, r, classes);
  });

  it("two classes that value distance differently sort themselves on the two-route network as in closed form", () => {
    // t1 = 10 + x1 (length 1), t2 = 15 + 2·x2 (length 1.5); car ignores distance, van pays 4 per
    // unit length. Van prefers route 1 by 2 more than car does, so car alone is indifferent:
    // 10 + x1 = 15 + 2·x2 with x1 + x2 = 12 gives x2 = 7/3, all of van on route 1, and van's
    // route 2 costs 21 + 14/3 against 14 + 29/3 on route 1, 2 more: it is right to use none of it.
    const net = twoRoute(12);
    const half = Float64Array.from(net.demand, (v) => v / 2);
    const classes: UserClass[] = [
      { name: "car", demand: half, tollFactor: 0, distanceFactor: 0, pce: 1, tolled: true },
      { name: "van", demand: half, tollFactor: 0, distanceFactor: 4, pce: 1, tolled: true },
    ];
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 50, classes });
    expect(r.converged).toBe(true);
    expect(r.classes[0].flows[0]).toBeCloseTo(11 / 3, 9);
    expect(r.classes[0].flows[1]).toBeCloseTo(7 / 3, 9);
    expect(r.classes[1].flows[0]).toBeCloseTo(6, 9);
    expect(r.classes[1].flows[1]).toBeCloseTo(0, 9);
    checkBushes(net, r, classes);
  });

  it("identical classes split the demand and reproduce the single-class flows", async () => {
    const net = await loadNetwork("sioux-falls");
    const half = Float64Array.from(net.demand, (v) => v / 2);
    const cls = (name: string): UserClass => ({ name, demand: half, tollFactor: 0, distanceFactor: 0, pce: 1, tolled: true });
    const one = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 500 });
    const two = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 500, classes: [cls("a"), cls("b")] });
    for (let a = 0; a < net.linkCount; a++) expect(Math.abs(two.flows[a] - one.flows[a])).toBeLessThan(1e-6 * Math.max(1, one.flows[a]));
  });

  it("system optimum: marginal-cost tolls x·t′(x) make the user equilibrium reproduce it", async () => {
    const net = { ...(await loadNetwork("sioux-falls")), costWeights: { tollFactor: 1, distanceFactor: 0 } };
    const so = solveBush(net, { algorithm: "bush", objective: "so", gap: 1e-12, maxIterations: 500 });
    expect(so.relativeGap).toBeLessThanOrEqual(1e-12);
    const ue0 = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 500 });
    expect(so.tstt).toBeLessThan(ue0.tstt);
    const model = new CostModel(
      net,
      [{ name: "all", demand: net.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }],
      new Float64Array(net.linkCount),
      "so",
    );
    const tolls = Float64Array.from(so.flows, (x, a) => x * model.vdf.derivative(a, x));
    const ue = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 500, tolls });
    for (let a = 0; a < net.linkCount; a++) expect(Math.abs(ue.flows[a] - so.flows[a])).toBeLessThan(1e-5 * Math.max(1, so.flows[a]));
    expect(ue.tstt).toBeCloseTo(so.tstt, 3);
  });

  it("warm start from bushes: a small toll change re-solves in fewer iterations, to the cold answer", async () => {
    const net = { ...(await loadNetwork("sioux-falls")), costWeights: { tollFactor: 1, distanceFactor: 0 } };
    const base = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500 });
    const tolls = new Float64Array(net.linkCount);
    tolls[15] = 0.2; // minutes
    tolls[48] = 0.2;
    const cold = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500, tolls });
    const stateBefore = (base.warmStart.state as BushState).bushes[3].flows.slice();
    const warm = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500, tolls, warmStart: base.warmStart });
    expect(warm.warnings).toEqual([]);
    expect(warm.iterations).toBeLessThan(cold.iterations);
    // the earlier result's bushes are untouched (the leader may warm-start several solves from one)
    expect((base.warmStart.state as BushState).bushes[3].flows).toEqual(stateBefore);
    for (let a = 0; a < net.linkCount; a++) expect(Math.abs(warm.flows[a] - cold.flows[a])).toBeLessThan(1e-4 * Math.max(1, cold.flows[a]));
    // re-solving the same problem from its own answer takes no iteration
    const again = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500, tolls, warmStart: warm.warmStart });
    expect(again.iterations).toBe(0);
  });

  it("consumeWarmStart: the solve takes the warm start's bushes over (no copy, the caller's state cleared) and gives the same answer as a copying warm start", async () => {
    const net = { ...(await loadNetwork("sioux-falls")), costWeights: { tollFactor: 1, distanceFactor: 0 } };
    const base = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500 });
    const twin = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500 });
    const tolls = new Float64Array(net.linkCount);
    tolls[15] = 0.2;
    tolls[48] = 0.2;
    const copied = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 500, tolls, warmStart: twin.warmStart });
    const arrays = (base.warmStart.state as BushState).bushes.map((b) => b.flows);
    const flowsBefore = base.warmStart.classFlows;
    const taken = solveBush(net, {
      algorithm: "bush",
      gap: 1e-10,
      maxIterations: 500,
      tolls,
      warmStart: base.warmStart,
      consumeWarmStart: true,
    });
    expect(taken.warnings).toEqual([]);
    // the caller's warm start keeps its flows, not its bushes
    expect(base.warmStart.state).toBeUndefined();
    expect(base.warmStart.classFlows).toBe(flowsBefore);
    expect(twin.warmStart.state).toBeDefined();
    // the same iterations and flows as from a copy of the same bushes
    expect(taken.iterations).toBe(copied.iterations);
    expect(Array.from(taken.flows)).toEqual(Array.from(copied.flows));
    // its bushes were the solve's own: the solve changed them (at least one moved its flows)
    const twinState = twin.warmStart.state as BushState;
    expect(arrays.some((f, i) => f.some((v, p) => v !== twinState.bushes[i].flows[p]))).toBe(true);
  });

  it("a warm start that does not fit is said out loud; plain flows give the starting costs", async () => {
    const net = await loadNetwork("sioux-falls");
    const base = solveBush(net, { algorithm: "bush", gap: 1e-8, maxIterations: 500 });
    const other = { ...net, demand: Float64Array.from(net.demand, (v) => 1.1 * v) };
    const r = solveBush(other, { algorithm: "bush", gap: 1e-8, maxIterations: 500, warmStart: base.warmStart });
    expect(r.warnings.join(" ")).toMatch(/warm start: 528|warm start: \d+ of \d+ bushes did not fit/);
    expect(r.relativeGap).toBeLessThanOrEqual(1e-8);
    const f = solveBush(net, { algorithm: "bush", gap: 1e-8, maxIterations: 500, warmStart: { classFlows: base.warmStart.classFlows } });
    expect(f.warnings).toEqual([]);
    expect(f.relativeGap).toBeLessThanOrEqual(1e-8);
    // bushes whose links come in another order are put back in order; a broken bush is rebuilt
    const state = base.warmStart.state as BushState;
    const shuffled = state.bushes.map((b) => {
      const idx = Array.from(b.links.keys()).reverse();
      return { ...b, links: Int32Array.from(idx, (i) => b.links[i]), flows: Float64Array.from(idx, (i) => b.flows[i]) };
    });
    const reordered = solveBush(net, {
      algorithm: "bush",
      gap: 1e-8,
      maxIterations: 500,
      warmStart: { ...base.warmStart, state: { ...state, bushes: shuffled } },
    });
    expect(reordered.warnings).toEqual([]);
    expect(reordered.iterations).toBe(0);
    shuffled[1] = { ...shuffled[1], flows: shuffled[1].flows.map((v, i) => (i === 0 ? v + 1 : v)) }; // demand no longer met
    const s = solveBush(net, {
      algorithm: "bush",
      gap: 1e-8,
      maxIterations: 500,
      warmStart: { ...base.warmStart, state: { ...state, bushes: shuffled } },
    });
    expect(s.warnings.join(" ")).toMatch(/warm start: 1 of 24 bushes did not fit/);
    expect(s.relativeGap).toBeLessThanOrEqual(1e-8);
  });
});
