/**
 * Elastic demand (Gartner's excess-demand transformation) against numbers from outside the code.
 *
 * One link, t(x) = 10 + 0.01·x, q0 = 1000, linear demand q = q0·(1 − r·(c − c0)), r = 0.05:
 * - pivot c0 = t(q0) = 20 (no-toll equilibrium, so q = q0 with no toll);
 * - at toll τ: c = t(q) + τ, q = q0 − q0·r·τ / (1 + q0·r·b) with b = 0.01: τ = 4 → q = 1000 − 200/1.5;
 * - net-benefit optimum: D⁻¹(q) = t(q) + q·t′(q) ⇔ 20 + (1 − q/q0)/r = 10 + 0.02·q ⇔ q* = 750,
 *   first-best toll q*·t′ = 7.5; welfare CS + revenue: CS = q²/(2·q0·r), so at τ = 0 it is
 *   10000 and at τ = 7.5 it is 5625 + 750·7.5 = 11250: a gain of 1250.
 *
 * Two routes (the built-in two-route network, t1 = 10 + x1, t2 = 15 + 2·x2, q0 = 10), linear
 * demand with r = 0.1: no toll c0 = 55/3; a toll τ on route 1 gives c = 55/3 + 0.4·τ,
 * x1 = 25/3 − 0.6·τ, x2 = (c − 15)/2, so revenue τ·x1 is largest at τ = 125/18 with x1 = 25/6,
 * x2 = 55/18, trips 65/9 and revenue 3125/108.
 */
import { describe, expect, it } from "vitest";
import { buildNetwork, CompiledVdf, compileNetwork, loadNetwork, Network, ShortestPathWorkspace, twoRoute } from "@tollkit/graph-core";
import { ElasticDemandProblem, solveSync, UserClass } from "@tollkit/follower";

/** One class that pays attention to tolls (Sioux Falls' own toll factor is 0): 1 minute per unit of money. */
function car(net: Network): UserClass[] {
  return [{ name: "car", demand: net.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }];
}

function oneLink(): Network {
  return buildNetwork({
    name: "one-link",
    nodes: [{ id: 1 }, { id: 2 }],
    zones: 2,
    links: [{ from: 1, to: 2, freeFlowTime: 10, b: 0.01, power: 1, vdf: "polynomial", capacity: 1 }],
    demand: [[1, 2, 1000]],
  });
}

const BUSH = { algorithm: "bush", gap: 1e-12 } as const;

describe("elastic demand: closed forms", () => {
  it("one link with linear demand: no-toll pivot, tolled trips, first-best toll and welfare gain", () => {
    const p = ElasticDemandProblem.create(oneLink(), { form: "linear", rate: 0.05 }, { pivotSolver: BUSH });
    expect(p.pivot[0][1]).toBeCloseTo(20, 10);
    const free = p.solveSync({ ...BUSH, tolls: Float64Array.of(0) });
    expect(free.elastic.tripsMade).toBeCloseTo(1000, 8);
    expect(free.elastic.welfare).toBeCloseTo(10000, 6);
    const tolled = p.solveSync({ ...BUSH, tolls: Float64Array.of(4) });
    expect(tolled.flows[0]).toBeCloseTo(1000 - 200 / 1.5, 8);
    expect(tolled.elastic.odCost[0][1]).toBeCloseTo(10 + 0.01 * (1000 - 200 / 1.5) + 4, 8);
    expect(tolled.relativeGap).toBeLessThan(1e-10);
    // the net-benefit optimum and its marginal-cost toll
    const so = p.solveSync({ ...BUSH, objective: "so", tolls: Float64Array.of(0) });
    expect(so.flows[0]).toBeCloseTo(750, 8);
    const toll = so.flows[0] * 0.01;
    expect(toll).toBeCloseTo(7.5, 8);
    const fb = p.solveSync({ ...BUSH, tolls: Float64Array.of(toll) });
    expect(fb.flows[0]).toBeCloseTo(750, 8);
    expect(fb.elastic.consumerSurplus).toBeCloseTo(5625, 6);
    expect(fb.revenue).toBeCloseTo(5625, 6);
    expect(fb.elastic.welfare - free.elastic.welfare).toBeCloseTo(1250, 6);
    expect(fb.elastic.tripsNotMade).toBeCloseTo(250, 8);
    expect(fb.elastic.zones[0]).toMatchObject({ zone: 1 });
    expect(fb.elastic.zones[0].tripsNotMade).toBeCloseTo(250, 8);
  });

  it("two routes with linear demand: the revenue-maximising toll and its trips", () => {
    const p = ElasticDemandProblem.create(twoRoute(), { form: "linear", rate: 0.1 }, { pivotSolver: BUSH });
    expect(p.pivot[0][1]).toBeCloseTo(55 / 3, 10);
    const revenue = (tau: number) => p.solveSync({ ...BUSH, tolls: Float64Array.of(tau, 0) }).revenue;
    // golden-section search on the solver's revenue (unimodal in τ)
    let a = 0;
    let b = 20;
    const g = (Math.sqrt(5) - 1) / 2;
    let c = b - g * (b - a);
    let d = a + g * (b - a);
    let fc = revenue(c);
    let fd = revenue(d);
    while (b - a > 1e-7) {
      if (fc > fd) {
        b = d;
        d = c;
        fd = fc;
        c = b - g * (b - a);
        fc = revenue(c);
      } else {
        a = c;
        c = d;
        fc = fd;
        d = a + g * (b - a);
        fd = revenue(d);
      }
    }
    const tau = (a + b) / 2;
    expect(tau).toBeCloseTo(125 / 18, 5);
    const r = p.solveSync({ ...BUSH, tolls: Float64Array.of(125 / 18, 0) });
    expect(r.flows[0]).toBeCloseTo(25 / 6, 8);
    expect(r.flows[1]).toBeCloseTo(55 / 18, 8);
    expect(r.elastic.tripsMade).toBeCloseTo(65 / 9, 8);
    expect(r.revenue).toBeCloseTo(3125 / 108, 8);
  });

  it("two classes (each half the trips, one pays the toll at half the weight) on the two routes: each class's own demand function", () => {
    // class a (tollFactor 1) and class b (tollFactor 0.5), q0 = 5 each, linear demand rate 0.1.
    // Both routes used; with the toll τ = 2 on route 1 class b sees only τ/2 there. Checked against
    // the equilibrium conditions directly: each class's used routes cost its OD cost u_k, and its
    // trips are 5·(1 − 0.1·(u_k − c0)).
    const net = twoRoute();
    const half = Float64Array.from(net.demand, (v) => v / 2);
    const classes = [
      { name: "a", demand: half, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true },
      { name: "b", demand: half, tollFactor: 0.5, distanceFactor: 0, pce: 1, tolled: true },
    ];
    const p = ElasticDemandProblem.create(net, { form: "linear", rate: 0.1 }, { classes, pivotSolver: BUSH });
    expect(p.pivot[1][1]).toBeCloseTo(55 / 3, 9);
    const r = p.solveSync({ ...BUSH, tolls: Float64Array.of(2, 0) });
    const t1 = 10 + r.flows[0];
    const t2 = 15 + 2 * r.flows[1];
    classes.forEach((c, k) => {
      const f = r.classes[k].flows;
      const u = Math.min(t1 + c.tollFactor * 2, t2);
      if (f[0] > 1e-9) expect(t1 + c.tollFactor * 2).toBeCloseTo(u, 8);
      if (f[1] > 1e-9) expect(t2).toBeCloseTo(u, 8);
      expect(f[0] + f[1]).toBeCloseTo(5 * (1 - 0.1 * (u - 55 / 3)), 8);
      expect(r.elastic.classes[k].tripsMade).toBeCloseTo(f[0] + f[1], 8);
    });
    expect(r.elastic.demand[1][1]).toBeGreaterThan(r.elastic.demand[0][1]);
  });

  it("every follower algorithm solves the transformed problem", () => {
    const p = ElasticDemandProblem.create(twoRoute(), { form: "exponential", elasticity: 0.8 }, { pivotSolver: BUSH });
    const ref = p.solveSync({ ...BUSH, tolls: Float64Array.of(3, 1) });
    for (const algorithm of ["fw", "cfw", "bfw"] as const) {
      const r = p.solveSync({ algorithm, gap: 1e-9, maxIterations: 100_000, tolls: Float64Array.of(3, 1) });
      expect(r.elastic.tripsMade).toBeCloseTo(ref.elastic.tripsMade, 5);
    }
  });

  it("the bush solve's start (trips not made on the first bushes) changes the path, not the equilibrium", () => {
    const p = ElasticDemandProblem.create(twoRoute(), { form: "exponential", elasticity: 0.8 }, { pivotSolver: BUSH });
    const tolls = Float64Array.of(3, 1);
    // an independent algorithm that takes no start: bi-conjugate Frank-Wolfe
    const ref = p.solveSync({ algorithm: "bfw", gap: 1e-11, maxIterations: 100_000, tolls });
    const aug = p.augmented;
    const augTolls = new Float64Array(aug.network.linkCount);
    augTolls.set(tolls);
    const maxTrips = new Float64Array(aug.network.linkCount);
    for (let j = 0; j < aug.excess.link.length; j++) maxTrips[aug.excess.link[j]] = aug.excess.maxTrips[j];
    const starts = [new Float64Array(aug.network.linkCount), maxTrips.map((q) => 0.999999 * q), maxTrips.map((q) => 0.5 * q)];
    for (const initialTripsNotMade of starts) {
      const r = p.view(solveSync(aug.network, { ...BUSH, classes: aug.classes, tolls: augTolls, initialTripsNotMade }));
      expect(r.relativeGap).toBeLessThanOrEqual(1e-10);
      expect(r.elastic.tripsMade).toBeCloseTo(ref.elastic.tripsMade, 6);
    }
    expect(() => solveSync(aug.network, { algorithm: "fw", gap: 1e-4, classes: aug.classes, initialTripsNotMade: starts[0] })).toThrow(
      /initialTripsNotMade.*algorithm bush/,
    );
    expect(() => solveSync(aug.network, { ...BUSH, classes: aug.classes, initialTripsNotMade: new Float64Array(1) })).toThrow(
      /field "initialTripsNotMade".*one per link/,
    );
    expect(() =>
      solveSync(aug.network, { ...BUSH, classes: aug.classes, initialTripsNotMade: Float64Array.from(maxTrips, () => -1) }),
    ).toThrow(/field "initialTripsNotMade\[0\]"/);
  });

  it("rejects bad specs naming the field", () => {
    const net = twoRoute();
    expect(() => ElasticDemandProblem.create(net, { form: "cubic" as never, elasticity: 1 })).toThrow(/field "demand.form"/);
    expect(() => ElasticDemandProblem.create(net, { form: "power", rate: 1 })).toThrow(/rate given for power demand/);
    expect(() => ElasticDemandProblem.create(net, { form: "linear" })).toThrow(/no elasticity or rate/);
    expect(() => ElasticDemandProblem.create(net, { form: "linear", elasticity: -1 })).toThrow(/demand.elasticity/);
    expect(() => ElasticDemandProblem.create(net, { form: "linear", elasticity: 1, zones: { "9": { elasticity: 1 } } })).toThrow(
      /unknown zone "9"/,
    );
  });
});

/** Per class OD shortest costs at given link costs, by a fresh Dijkstra (not the solver's labels). */
function shortest(net: Network, cost: Float64Array): Float64Array {
  const sp = new ShortestPathWorkspace(compileNetwork(net));
  sp.gatherCosts(cost);
  const Z = net.zoneCount;
  const out = new Float64Array(Z * Z);
  for (let o = 0; o < Z; o++) {
    sp.tree(net.zoneNodes[o]);
    for (let d = 0; d < Z; d++) out[o * Z + d] = sp.dist[net.zoneNodes[d]];
  }
  return out;
}

describe("elastic demand on Sioux Falls", () => {
  const tolled = [16, 19, 29, 30, 39, 48, 74];
  const tollsOf = (net: Network, v: number) => {
    const t = new Float64Array(net.linkCount);
    for (const l of tolled) t[l - 1] = v;
    return t;
  };

  it("exponential demand: each OD pair's used routes cost the inverse demand of its trips (checked per pair)", async () => {
    const net = await loadNetwork("sioux-falls");
    // the pivot from an independent fixed-demand solve
    const classes = car(net);
    const fixed = solveSync(net, { algorithm: "bush", gap: 1e-11, classes });
    const c0 = shortest(net, fixed.classes[0].costs);
    const elasticity = 0.4;
    const p = ElasticDemandProblem.create(net, { form: "exponential", elasticity }, { pivot: [c0], classes });
    const tolls = tollsOf(net, 2);
    const r = p.solveSync({ algorithm: "bush", gap: 1e-10, tolls });
    expect(r.converged).toBe(true);
    const cost = r.classes[0].costs;
    const u = shortest(net, cost);
    const Z = net.zoneCount;
    let worst = 0;
    let routeCost = 0;
    let pairCost = 0;
    for (let o = 0; o < Z; o++)
      for (let d = 0; d < Z; d++) {
        const q0 = net.demand[o * Z + d];
        if (!(q0 > 0) || o === d) continue;
        const q = r.elastic.demand[0][o * Z + d];
        const expected = q0 * Math.exp(-(elasticity / c0[o * Z + d]) * (u[o * Z + d] - c0[o * Z + d]));
        worst = Math.max(worst, Math.abs(q - expected) / q0);
        pairCost += q * u[o * Z + d];
      }
    for (let i = 0; i < net.linkCount; i++) routeCost += r.flows[i] * cost[i];
    // every used route costs at least u: equal totals mean every used route costs u (to the gap)
    expect((routeCost - pairCost) / routeCost).toBeLessThan(1e-9);
    expect((routeCost - pairCost) / routeCost).toBeGreaterThan(-1e-12);
    expect(worst).toBeLessThan(1e-7);
    // flows conserve the trips made
    const bal = new Float64Array(net.nodeCount);
    for (let i = 0; i < net.linkCount; i++) {
      bal[net.links.from[i]] += r.flows[i];
      bal[net.links.to[i]] -= r.flows[i];
    }
    for (let z = 0; z < Z; z++) {
      let out = 0;
      for (let d = 0; d < Z; d++) out += r.elastic.demand[0][z * Z + d] - r.elastic.demand[0][d * Z + z];
      expect(bal[net.zoneNodes[z]]).toBeCloseTo(out, 5);
    }
    // tolls price trips off the road
    expect(r.elastic.tripsNotMade).toBeGreaterThan(0);
  }, 120_000);

  it("with elasticity → 0 the tolled equilibrium tends to the fixed-demand one", async () => {
    const net = await loadNetwork("sioux-falls");
    const tolls = tollsOf(net, 3);
    const classes = car(net);
    const fixed = solveSync(net, { algorithm: "bush", gap: 1e-11, tolls, classes });
    const pivotFixed = solveSync(net, { algorithm: "bush", gap: 1e-11, classes });
    const c0 = shortest(net, pivotFixed.classes[0].costs);
    const diffs: number[] = [];
    for (const elasticity of [1e-1, 1e-2, 1e-3, 1e-4]) {
      const p = ElasticDemandProblem.create(net, { form: "power", elasticity }, { pivot: [c0], classes });
      const r = p.solveSync({ algorithm: "bush", gap: 1e-11, tolls });
      let d = 0;
      for (let i = 0; i < net.linkCount; i++) d = Math.max(d, Math.abs(r.flows[i] - fixed.flows[i]));
      diffs.push(d);
    }
    // the difference shrinks in proportion to the elasticity (first order in ε: diff/ε constant)
    const slope = diffs[1] / 1e-2;
    [1e-1, 1e-2, 1e-3, 1e-4].forEach((e, j) => expect(Math.abs(diffs[j] / e - slope)).toBeLessThan(0.15 * slope));
    expect(diffs[3]).toBeLessThan(0.2);
    // and elasticity 0 is the fixed-demand problem itself
    const zero = ElasticDemandProblem.create(net, { form: "power", elasticity: 0 }, { pivot: [c0], classes });
    const r0 = zero.solveSync({ algorithm: "bush", gap: 1e-11, tolls });
    let d0 = 0;
    for (let i = 0; i < net.linkCount; i++) d0 = Math.max(d0, Math.abs(r0.flows[i] - fixed.flows[i]));
    expect(d0).toBeLessThan(1e-6);
  }, 240_000);
});

describe("elastic demand with several classes on a network with FIRST THRU NODE (Anaheim)", () => {
  /** Per class: its generalised link costs on the original network, and its OD shortest costs by a fresh Dijkstra (zones not passed through). */
  const check = (net: Network, p: ElasticDemandProblem, r: ReturnType<ElasticDemandProblem["solveSync"]>, elasticity: number) => {
    const Z = net.zoneCount;
    p.classes.forEach((c, k) => {
      const cost = r.classes[k].costs;
      const u = shortest(net, cost);
      let routeCost = 0;
      let pairCost = 0;
      let worst = 0;
      for (let o = 0; o < Z; o++)
        for (let d = 0; d < Z; d++) {
          const q0 = c.demand[o * Z + d];
          if (!(q0 > 0) || o === d) continue;
          const c0 = p.pivot[k][o * Z + d];
          const q = r.elastic.demand[k][o * Z + d];
          worst = Math.max(worst, Math.abs(q - q0 * Math.exp(-(elasticity / c0) * (u[o * Z + d] - c0))) / q0);
          pairCost += q * u[o * Z + d];
        }
      for (let a = 0; a < net.linkCount; a++) routeCost += r.classes[k].flows[a] * cost[a];
      // every used route costs at least the true shortest cost u (which never passes through a zone): equal totals mean
      // that every used route is a shortest route of the original network, so none passes through a zone
      expect((routeCost - pairCost) / routeCost).toBeLessThan(1e-9);
      expect((routeCost - pairCost) / routeCost).toBeGreaterThan(-1e-12);
      expect(worst).toBeLessThan(1e-7);
    });
  };

  it("two classes (tolls weighted 1 and 0.4): each class's used routes cost its OD cost, its trips follow its demand function, no route passes through a zone", async () => {
    const net = await loadNetwork("anaheim");
    expect(net.firstThruNode).toBeGreaterThan(1);
    const half = Float64Array.from(net.demand, (v) => v / 2);
    const classes: UserClass[] = [
      { name: "car", demand: half, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true },
      { name: "van", demand: half, tollFactor: 0.4, distanceFactor: 0, pce: 1.5, tolled: true },
    ];
    const elasticity = 0.3;
    const p = ElasticDemandProblem.create(
      net,
      { form: "exponential", elasticity },
      { classes, pivotSolver: { algorithm: "bush", gap: 1e-11 } },
    );
    const tolls = Float64Array.from(net.links.freeFlowTime, (t) => 0.5 * t);
    const r = p.solveSync({ algorithm: "bush", gap: 1e-10, tolls });
    expect(r.converged).toBe(true);
    check(net, p, r, elasticity);
    expect(r.elastic.classes[0].tripsNotMade).toBeGreaterThan(r.elastic.classes[1].tripsNotMade); // cars pay more per minute
  }, 240_000);

  it("two identical classes of half the trips each give the one-class equilibrium", async () => {
    const net = await loadNetwork("anaheim");
    const whole: UserClass[] = [{ name: "all", demand: net.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }];
    const half = Float64Array.from(net.demand, (v) => v / 2);
    const two: UserClass[] = ["a", "b"].map((name) => ({ ...whole[0], name, demand: half }));
    const spec = { form: "exponential", elasticity: 0.3 } as const;
    const solver = { algorithm: "bush", gap: 1e-11 } as const;
    const one = ElasticDemandProblem.create(net, spec, { classes: whole, pivotSolver: solver });
    const pair = ElasticDemandProblem.create(net, spec, { classes: two, pivotSolver: solver });
    const tolls = Float64Array.from(net.links.freeFlowTime, (t) => 0.5 * t);
    const r1 = one.solveSync({ ...solver, tolls });
    const r2 = pair.solveSync({ ...solver, tolls });
    // the equilibrium fixes link times, and link flows only where the time responds to the flow: Anaheim has
    // links far below capacity (flow 54 on capacity 5,400: x·t′/t ≈ 6e-9) whose flows any split among
    // equal-cost routes leaves open (the two solves differ there by up to 1e-4 relative at gaps of 1e-13)
    const vdf = new CompiledVdf(net.links);
    let worstTime = 0;
    let worstFlow = 0;
    for (let a = 0; a < net.linkCount; a++) {
      const t1 = vdf.time(a, r1.flows[a]);
      worstTime = Math.max(worstTime, Math.abs(t1 - vdf.time(a, r2.flows[a])) / t1);
      if ((r1.flows[a] * vdf.derivative(a, r1.flows[a])) / t1 > 1e-4)
        worstFlow = Math.max(worstFlow, Math.abs(r1.flows[a] - r2.flows[a]) / Math.max(1, r1.flows[a]));
    }
    expect(worstTime).toBeLessThan(1e-8);
    expect(worstFlow).toBeLessThan(1e-5);
    expect(r2.elastic.tripsMade).toBeCloseTo(r1.elastic.tripsMade, 3);
    expect(r2.elastic.classes[0].tripsMade).toBeCloseTo(r1.elastic.tripsMade / 2, 3);
    expect(r1.elastic.tripsNotMade).toBeGreaterThan(0);
  }, 240_000);

  it("the bush solve's bushes (solved on the road network with trips not made per bush) are a complete state of the augmented network", async () => {
    // the bush solve of `ElasticDemandProblem` runs without excess links in its bushes and maps them back: the
    // generic bush engine on the augmented network must adopt every mapped bush (links grouped in a topological
    // order, every reachable node present, demand q̄ met) and find the same gap with no work, on zone nodes that are
    // split (Anaheim, two classes), new (Sioux Falls, no FIRST THRU NODE) and the original ones (Anaheim, one class)
    const cases: [string, number][] = [
      ["anaheim", 2],
      ["anaheim", 1],
      ["sioux-falls", 2],
    ];
    for (const [id, K] of cases) {
      const net = await loadNetwork(id);
      const classes: UserClass[] = Array.from({ length: K }, (_, k) => ({
        name: `c${k}`,
        demand: Float64Array.from(net.demand, (v) => v / K),
        tollFactor: 1 / (k + 1),
        distanceFactor: 0,
        pce: 1,
        tolled: true,
      }));
      const p = ElasticDemandProblem.create(net, { form: "exponential", elasticity: 0.3 }, { classes });
      const tolls = Float64Array.from(net.links.freeFlowTime, (t) => 0.5 * t);
      const r = p.solveSync({ algorithm: "bush", gap: 1e-10, tolls });
      expect(r.converged).toBe(true);
      const aug = p.augmented;
      const augTolls = new Float64Array(aug.network.linkCount);
      augTolls.set(tolls);
      const g = solveSync(aug.network, { algorithm: "bush", gap: 1e-10, classes: aug.classes, tolls: augTolls, warmStart: r.warmStart });
      expect(g.warnings).toEqual([]);
      expect(g.iterations).toBe(0);
      expect(g.relativeGap).toBeCloseTo(r.augmented.relativeGap, 14);
      // the reduced solve's SPTT (its last measurement: road or not travelling) is the augmented network's
      expect(Math.abs(g.sptt - r.augmented.sptt) / g.sptt).toBeLessThan(1e-12);
      // the result's totals (measured on the road network, the trips not made added in closed form) are those of
      // the augmented network's measures (made from the mapped bushes' flows when `augmented` is first read)
      const a = r.augmented;
      for (const key of ["totalCost", "sptt", "beckmann", "revenue"] as const)
        expect(Math.abs(r[key] - a[key]) / Math.abs(a[key]), `${id} ${K} ${key}`).toBeLessThan(1e-12);
      expect(Math.abs(r.relativeGap - a.relativeGap)).toBeLessThan(1e-14);
      r.classes.forEach((c, k) => expect(Math.abs(c.relativeGap - a.classes[k].relativeGap)).toBeLessThan(1e-14));
      for (let i = 0; i < net.linkCount; i++) {
        expect(r.flows[i]).toBe(a.flows[i]);
        expect(r.times[i]).toBe(a.times[i]);
        for (let k = 0; k < K; k++) expect(r.classes[k].costs[i]).toBe(a.classes[k].costs[i]);
      }
      // and the solve takes its own state back as a warm start
      const w = p.solveSync({ algorithm: "bush", gap: 1e-10, tolls, warmStart: r.warmStart });
      expect(w.warnings).toEqual([]);
      expect(w.iterations).toBe(0);
    }
  }, 240_000);
});
