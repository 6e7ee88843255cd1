import { describe, expect, it } from "vitest";
import { braess, buildNetwork, gridCity, InputError, loadNetwork, Network, pigou, twoRoute } from "@tollkit/graph-core";
import { BushState, equilibriumSensitivity, FollowerResult, solveBush, UserClass } from "@tollkit/follower";

const tollsOn = (net: Network, link: number, toll: number, base?: Float64Array): Float64Array => {
  const t = base ? base.slice() : new Float64Array(net.linkCount);
  t[link] += toll;
  return t;
};

describe("equilibrium sensitivity: closed forms", () => {
  it("Braess with a toll τ < 13 on 3→4: dx₃₄/dτ = −2/13, and the revenue and TSTT derivatives follow", () => {
    const net = braess();
    const tau = 5;
    const r = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100, tolls: tollsOn(net, 3, tau) });
    const s = equilibriumSensitivity(net, r, { links: [3] });
    expect(s.degenerate).toEqual([false]);
    expect(s.dFlows[0][3]).toBeCloseTo(-2 / 13, 12);
    // routes 1-3-2 and 1-4-2 gain what the shortcut loses: dx₁₃ = dx₄₂ = −1/13, dx₁₄ = dx₃₂ = +1/13
    expect(Array.from(s.dFlows[0])).toEqual([-1 / 13, 1 / 13, 1 / 13, -2 / 13, -1 / 13].map((v) => expect.closeTo(v, 12)));
    // revenue τ·x₃₄ with x₃₄ = (13 − τ)/6.5: d/dτ = (13 − 2τ)/6.5
    expect(s.dRevenue[0]).toBeCloseTo((13 - 2 * tau) / 6.5, 10);
    // TSTT = Σ x t(x): Σ (t + x t′) dx with t = 10x on 1→3 and 4→2, x + 50 on 1→4 and 3→2, x + 10 on 3→4
    const x = r.flows;
    const mc = [20 * x[0], 2 * x[1] + 50, 2 * x[2] + 50, 2 * x[3] + 10, 20 * x[4]];
    expect(s.dTstt[0]).toBeCloseTo(
      mc.reduce((acc, c, a) => acc + c * s.dFlows[0][a], 0),
      10,
    );
  });

  it("two linear routes: dx₁/dτ = −1/(b₁ + b₂) = −1/3, for UE; −1/(2b₁ + 2b₂) for SO", () => {
    const net = twoRoute();
    const ue = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100 });
    const s = equilibriumSensitivity(net, ue, { links: [0, 1] });
    expect(s.dFlows[0][0]).toBeCloseTo(-1 / 3, 12);
    expect(s.dFlows[0][1]).toBeCloseTo(1 / 3, 12);
    expect(s.dFlows[1][1]).toBeCloseTo(-1 / 3, 12);
    const so = solveBush(net, { algorithm: "bush", objective: "so", gap: 1e-13, maxIterations: 100 });
    const t = equilibriumSensitivity(net, so, { links: [0] });
    expect(t.dFlows[0][0]).toBeCloseTo(-1 / 6, 12);
  });

  it("Braess at τ = 13, where the shortcut route is at the margin of use: one-sided derivatives 0 and −2/13", () => {
    const net = braess();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100, tolls: tollsOn(net, 3, 13) });
    expect(r.flows[3]).toBeCloseTo(0, 12);
    const s = equilibriumSensitivity(net, r, { links: [3] });
    expect(s.degenerate).toEqual([true]);
    expect(s.dFlows[0][3]).toBeCloseTo(0, 12); // a higher toll keeps the shortcut unused
    expect(s.dFlowsLeft[0][3]).toBeCloseTo(-2 / 13, 12); // a lower one brings traffic back at rate 2/13
    // the same as a direction: lowering the toll (weight −1) is the right derivative along it
    const d = equilibriumSensitivity(net, r, { directions: [{ links: [3], weights: [-1] }] });
    expect(d.dFlows[0][3]).toBeCloseTo(2 / 13, 12);
    expect(d.dFlowsLeft[0][3]).toBeCloseTo(0, 12);
  });

  it("Pigou: the constant-cost route at the margin of use gives one-sided derivatives −1 and 0", () => {
    // Pigou: t₁ = 1 constant, t₂ = x; at UE all demand is on route 2 and route 1 is at the margin
    const net = pigou();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100 });
    const s = equilibriumSensitivity(net, r, { links: [1] });
    // raising the toll on route 2 moves flow to route 1 at rate 1 (t₂ = x: dx₂/dτ = −1)
    expect(s.dFlows[0][1]).toBeCloseTo(-1, 12);
    // lowering it cannot attract more than all the demand: the left derivative is 0
    expect(s.dFlowsLeft[0][1]).toBeCloseTo(0, 12);
    expect(s.degenerate).toEqual([true]);
  });

  it("a toll moving flow between routes of constant, equal cost has no derivative: NaN, degenerate, a warning", () => {
    const net = buildNetwork({
      name: "flat",
      nodes: [{ id: 1 }, { id: 2 }],
      zones: 2,
      links: [
        { from: 1, to: 2, freeFlowTime: 5, b: 0, power: 1, vdf: "polynomial" },
        { from: 1, to: 2, freeFlowTime: 5, b: 0, power: 1, vdf: "polynomial" },
      ],
      demand: [[1, 2, 10]],
    });
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 10 });
    const used = r.flows[0] > 0 ? 0 : 1;
    const s = equilibriumSensitivity(net, r, { links: [used] });
    // any toll increase sends all 10 vehicles to the other link at once: no right derivative
    expect(Number.isNaN(s.dFlows[0][used])).toBe(true);
    expect(Number.isNaN(s.dTstt[0])).toBe(true);
    // a toll decrease changes nothing
    expect(Math.abs(s.dFlowsLeft[0][used])).toBe(0);
    expect(s.degenerate).toEqual([true]);
    expect(s.warnings.join(" ")).toMatch(/unbounded/);
  });

  it("names bad input: a result without bushes, a link out of range", () => {
    const net = braess();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-10, maxIterations: 100 });
    expect(() => equilibriumSensitivity(net, { ...r, warmStart: { classFlows: [] } } as FollowerResult, { links: [3] })).toThrow(
      InputError,
    );
    expect(() => equilibriumSensitivity(net, r, { links: [5] })).toThrow(/links\[0\]/);
    expect(() => equilibriumSensitivity(net, r, { links: [3], step: -1 })).toThrow(/step/);
  });

  it("reads the result's bushes without changing them, and names bushes that do not fit the demand", async () => {
    const net = await loadNetwork("sioux-falls");
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 500, tolls: tollsOn(net, 15, 2) });
    const state = r.warmStart!.state as BushState;
    const before = state.bushes.map((b) => ({ links: b.links.slice(), flows: b.flows.slice() }));
    const s = equilibriumSensitivity(net, r, { links: [15, 28] });
    expect(s.dTstt.every(Number.isFinite)).toBe(true);
    state.bushes.forEach((b, i) => {
      expect(b.links).toEqual(before[i].links);
      expect(b.flows).toEqual(before[i].flows);
    });
    const tamper = (change: (b: { links: Int32Array; flows: Float64Array }) => void): FollowerResult => {
      const bushes = state.bushes.map((b) => ({ ...b, links: b.links.slice(), flows: b.flows.slice() }));
      change(bushes[3]);
      return { ...r, warmStart: { ...r.warmStart!, state: { ...state, bushes } } };
    };
    const misfit = /1 bushes of the result do not fit this network's demand/;
    // flows that deliver 1% too much, a link listed before its tail is reached, a bush missing
    expect(() =>
      equilibriumSensitivity(
        net,
        tamper((b) => b.flows.forEach((f, p) => (b.flows[p] = 1.01 * f))),
        { links: [15] },
      ),
    ).toThrow(misfit);
    expect(() =>
      equilibriumSensitivity(
        net,
        tamper((b) => b.links.reverse()),
        { links: [15] },
      ),
    ).toThrow(misfit);
    const fewer = { ...r, warmStart: { ...r.warmStart!, state: { ...state, bushes: state.bushes.slice(1) } } };
    expect(() => equilibriumSensitivity(net, fewer, { links: [15] })).toThrow(misfit);
  });
});

/**
 * Two tolled routes at the margin of use beside an untolled one: from 1 to 2 (demand 10) over
 * 1→3→2 and 1→4→2 (each 11 + 2x plus the toll on its first link) or directly (15 + x). With a
 * toll of 14 on both first links, both tolled routes cost 25, just as the direct route with all
 * 10 vehicles: both sit at the margin of use.
 */
const marginNetwork = (): Network =>
  buildNetwork({
    name: "two-tolled-routes-at-the-margin",
    nodes: [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }],
    zones: 2,
    links: [
      { from: 1, to: 3, freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial" },
      { from: 3, to: 2, freeFlowTime: 1, b: 1, power: 1, vdf: "polynomial" },
      { from: 1, to: 4, freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial" },
      { from: 4, to: 2, freeFlowTime: 1, b: 1, power: 1, vdf: "polynomial" },
      { from: 1, to: 2, freeFlowTime: 15, b: 1, power: 1, vdf: "polynomial" },
    ],
    demand: [[1, 2, 10]],
  });

describe("equilibrium sensitivity: several links moving together at a degenerate equilibrium", () => {
  const net = marginNetwork();
  const opts = { algorithm: "bush" as const, gap: 1e-12, maxIterations: 200 };
  const both = (z: number) => Float64Array.from([z, 0, z, 0, 0]);
  const base = solveBush(net, { ...opts, tolls: both(14) });

  it("lowering both tolls is not the sum of lowering each: one-sided finite differences agree with the direction", () => {
    expect(base.flows[4]).toBeCloseTo(10, 10);
    const s = equilibriumSensitivity(net, base, { links: [0, 2], directions: [{ links: [0, 2] }] });
    expect(s.degenerate).toEqual([true, true, true]);
    // backward differences of equilibria at z − h (both tolls, then one)
    const h = 1e-4;
    const down = solveBush(net, { ...opts, tolls: both(14 - h), warmStart: base.warmStart });
    const downA = solveBush(net, { ...opts, tolls: Float64Array.from([14 - h, 0, 14, 0, 0]), warmStart: base.warmStart });
    expect(down.relativeGap).toBeLessThanOrEqual(1e-12);
    const bwd = (r: FollowerResult, f: (r: FollowerResult) => number) => (f(base) - f(r)) / h;
    // closed forms: both down by δ give δ/4 to each tolled route (dx₅ = −δ/2); one alone gives it δ/3
    expect(s.dFlowsLeft[2][4]).toBeCloseTo(0.5, 9);
    expect(s.dFlowsLeft[0][4]).toBeCloseTo(1 / 3, 9);
    expect(bwd(down, (r) => r.flows[4])).toBeCloseTo(0.5, 6);
    expect(bwd(downA, (r) => r.flows[4])).toBeCloseTo(1 / 3, 6);
    // TSTT: the direction's left derivative is 12 (TSTT = 250 − 12δ + O(δ²)); the links' sum says 16
    const sum = s.dTsttLeft[0] + s.dTsttLeft[1];
    expect(sum).toBeCloseTo(16, 8);
    expect(s.dTsttLeft[2]).toBeCloseTo(12, 8);
    expect(Math.abs(bwd(down, (r) => r.tstt) - s.dTsttLeft[2])).toBeLessThan(1e-3);
    expect(Math.abs(bwd(down, (r) => r.tstt) - sum)).toBeGreaterThan(3);
    // revenue z·(x₁ + x₃): −7 from the left along the direction, −28/3 by the sum
    expect(s.dRevenueLeft[2]).toBeCloseTo(-7, 8);
    expect(s.dRevenueLeft[0] + s.dRevenueLeft[1]).toBeCloseTo(-28 / 3, 8);
    expect(Math.abs(bwd(down, (r) => r.revenue) - s.dRevenueLeft[2])).toBeLessThan(1e-3);
    // raising the tolls changes nothing: the forward difference and the right derivatives are 0
    const up = solveBush(net, { ...opts, tolls: both(14 + h), warmStart: base.warmStart });
    expect(Math.abs(up.tstt - base.tstt) / h).toBeLessThan(1e-6);
    expect(s.dTstt[2]).toBeCloseTo(0, 10);
  });
});

describe("equilibrium sensitivity: linear ranges and nearly degenerate equilibria", () => {
  it("two linear routes: the derivative holds until a route runs out (closed form: 25 above and 5 below toll 0)", () => {
    // x₁ = (25 − τ)/3 for −5 ≤ τ ≤ 25
    const net = twoRoute();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100 });
    const s = equilibriumSensitivity(net, r, { links: [0] });
    expect(s.range[0]).toBeCloseTo(25, 8);
    expect(s.rangeLeft[0]).toBeCloseTo(5, 8);
    expect(s.rangeCause[0]).toMatch(/link 1 .*runs out/);
    expect(s.nearDegenerate).toEqual([false]);
    expect(s.warnings).toEqual([]);
  });

  it("Braess with toll 13.5 on the unused shortcut: no response, until the toll has fallen by 0.5", () => {
    const net = braess();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100, tolls: tollsOn(net, 3, 13.5) });
    const s = equilibriumSensitivity(net, r, { links: [3], step: 1 });
    expect(Array.from(s.dFlows[0])).toEqual([0, 0, 0, 0, 0]);
    expect(s.range[0]).toBe(Infinity);
    expect(s.rangeLeft[0]).toBeCloseTo(0.5, 9);
    expect(s.nearDegenerate).toEqual([true]); // 0.5 < step 1
    expect(s.warnings.join(" ")).toMatch(/link 4: nearly degenerate.*up to 5\.00e-1 below/);
    // the finite differences agree: nothing moves within 0.5, the shortcut fills beyond it
    const at = (tau: number) =>
      solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100, tolls: tollsOn(net, 3, tau), warmStart: r.warmStart });
    expect(at(13.1).flows[3]).toBeLessThan(1e-9);
    expect(at(12.9).flows[3]).toBeGreaterThan(0.01);
  });

  it("the grid city with its own light demand and a cordon at toll 0: exact, but nearly degenerate (a kink within 1e-4)", () => {
    // light traffic: link costs hardly depend on flow, so a tiny charge moves many vehicles
    // (d cordon flow / d toll ≈ −9.3e4) until a route runs out; the derivative is right, but
    // only over that tiny range, which the sensitivity now reports
    const net = gridCity();
    const xs = Array.from(net.nodeX);
    const ys = Array.from(net.nodeY);
    const mid = (a: number[]) => (Math.min(...a) + Math.max(...a)) / 2;
    const span = (a: number[]) => Math.max(...a) - Math.min(...a);
    const inBox = (i: number) => Math.abs(net.nodeX[i] - mid(xs)) < span(xs) / 4 && Math.abs(net.nodeY[i] - mid(ys)) < span(ys) / 4;
    const cordon: number[] = [];
    for (let a = 0; a < net.linkCount; a++) if (!inBox(net.links.from[a]) && inBox(net.links.to[a])) cordon.push(a);
    expect(cordon.length).toBeGreaterThan(4);
    const opts = { algorithm: "bush" as const, gap: 1e-12, maxIterations: 2000 };
    const base = solveBush(net, opts);
    const s = equilibriumSensitivity(net, base, { directions: [{ links: cordon }] });
    expect(s.degenerate).toEqual([false]);
    expect(s.nearDegenerate).toEqual([true]);
    expect(s.warnings.join(" ")).toMatch(/nearly degenerate/);
    const above = s.range[0];
    const below = s.rangeLeft[0];
    expect(above).toBeLessThan(s.step);
    expect(below).toBeLessThan(s.step);
    const crossing = (x: Float64Array) => cordon.reduce((acc, a) => acc + x[a], 0);
    const d = crossing(s.dFlows[0]);
    expect(d).toBeLessThan(-1e4);
    const at = (z: number) => {
      const t = new Float64Array(net.linkCount);
      for (const a of cordon) t[a] = z;
      const r = solveBush(net, { ...opts, tolls: t, warmStart: base.warmStart });
      expect(r.relativeGap).toBeLessThanOrEqual(1e-12);
      return r;
    };
    // within the range (a quarter of it) finite differences of the crossing flow agree to 1%
    const h = Math.min(above, below) / 4;
    const up = at(h);
    const down = at(-h);
    expect(Math.abs((crossing(up.flows) - crossing(base.flows)) / h - d)).toBeLessThan(0.01 * Math.abs(d));
    expect(Math.abs((crossing(base.flows) - crossing(down.flows)) / h - d)).toBeLessThan(0.01 * Math.abs(d));
    // TSTT: its derivative is about 0 (flow moves between routes of equal cost); the central
    // difference within the range agrees, although the response curves hard (one-sided
    // differences over h are ±(d²TSTT/dτ²)·h/2, about ±4)
    const central = (up.tstt - down.tstt) / (2 * h);
    expect(Math.abs(central - s.dTstt[0])).toBeLessThan(0.05);
    // four times the range away the kink is behind: the crossing flow has moved about as far as
    // the range allows (a quarter of the linear prediction), no further
    const far = at(4 * above);
    expect(Math.abs(crossing(far.flows) - crossing(base.flows))).toBeLessThan(0.3 * Math.abs(d) * 4 * above);
    const farDown = at(-4 * below);
    expect(Math.abs(crossing(base.flows) - crossing(farDown.flows))).toBeLessThan(0.3 * Math.abs(d) * 4 * below);
  });
});

describe("equilibrium sensitivity: Sioux Falls against central finite differences", () => {
  // Sioux Falls with tolls in minutes (toll factor 1); equilibria to gap 1e-13 so that the
  // finite differences (step 0.01 min) resolve 1e-6 of the derivatives
  const GAP = 1e-13;
  const H = 0.01;
  const LINKS = [0, 5, 10, 15, 20, 25, 35, 40, 45, 60];

  const fd = (net: Network, base: FollowerResult, link: number, measure: (r: FollowerResult) => number, classes?: UserClass[]): number => {
    const opts = { algorithm: "bush" as const, gap: GAP, maxIterations: 2000, classes, warmStart: base.warmStart };
    const up = solveBush(net, { ...opts, tolls: tollsOn(net, link, H, base.tolls) });
    const down = solveBush(net, { ...opts, tolls: tollsOn(net, link, -H, base.tolls) });
    expect(up.relativeGap).toBeLessThanOrEqual(GAP);
    expect(down.relativeGap).toBeLessThanOrEqual(GAP);
    return (measure(up) - measure(down)) / (2 * H);
  };

  it("the TSTT gradient for tolls on 10 links, and revenue and link-flow derivatives", async () => {
    const net = { ...(await loadNetwork("sioux-falls")), costWeights: { tollFactor: 1, distanceFactor: 0 } };
    const base = solveBush(net, { algorithm: "bush", gap: GAP, maxIterations: 2000, tolls: tollsOn(net, 50, 0.5) });
    const s = equilibriumSensitivity(net, base, { links: LINKS, directions: [{ links: [LINKS[3], LINKS[7]], weights: [1, 2] }] });
    expect(s.warnings).toEqual([]);
    expect(s.degenerate.every((d) => !d)).toBe(true);
    // no kink within the step of the finite differences either
    expect(s.nearDegenerate.every((d) => !d)).toBe(true);
    expect(Math.min(...s.range, ...s.rangeLeft)).toBeGreaterThan(H);
    // away from degeneracy the response is linear: a direction is the weighted sum of its links
    expect(s.dTstt[LINKS.length]).toBeCloseTo(s.dTstt[3] + 2 * s.dTstt[7], 6);
    LINKS.forEach((l, i) => {
      const g = fd(net, base, l, (r) => r.tstt);
      expect(Math.abs(s.dTstt[i] - g)).toBeLessThan(1e-4 * Math.abs(g));
    });
    // revenue (toll 0.5 on link 51 plus the one perturbed) and the flow of two links
    for (const i of [0, 3]) {
      const l = LINKS[i];
      const gr = fd(net, base, l, (r) => r.revenue);
      expect(Math.abs(s.dRevenue[i] - gr)).toBeLessThan(1e-4 * Math.abs(gr));
      const gx = fd(net, base, l, (r) => r.flows[l]);
      expect(Math.abs(s.dFlows[i][l] - gx)).toBeLessThan(1e-4 * Math.abs(gx));
    }
  });

  it("two classes (PCE 2, lower value of time) against finite differences; no derivative where they share untolled routes", async () => {
    const net = await loadNetwork("sioux-falls");
    const classes: UserClass[] = [
      { name: "car", demand: Float64Array.from(net.demand, (v) => 0.8 * v), tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true },
      { name: "truck", demand: Float64Array.from(net.demand, (v) => 0.1 * v), tollFactor: 0.3, distanceFactor: 0, pce: 2, tolled: true },
    ];
    const links = [15, 40];
    // with tolls on both links the classes sort themselves and the flows are differentiable
    const tolled = solveBush(net, {
      algorithm: "bush",
      gap: GAP,
      maxIterations: 2000,
      classes,
      tolls: tollsOn(net, 40, 0.5, tollsOn(net, 15, 0.5)),
    });
    const s = equilibriumSensitivity(net, tolled, { links, classes });
    expect(s.warnings).toEqual([]);
    expect(s.degenerate).toEqual([false, false]);
    links.forEach((l, i) => {
      const g = fd(net, tolled, l, (r) => r.tstt, classes);
      expect(Math.abs(s.dTstt[i] - g)).toBeLessThan(1e-4 * Math.abs(g));
    });
    // without tolls both classes share routes through link 16, so a toll there re-sorts them at
    // once: TSTT has a kink (one-sided finite differences of opposite sign), reported as NaN
    const free = solveBush(net, { algorithm: "bush", gap: GAP, maxIterations: 2000, classes });
    const k = equilibriumSensitivity(net, free, { links: [15], classes });
    expect(k.degenerate).toEqual([true]);
    expect(Number.isNaN(k.dTstt[0])).toBe(true);
    expect(k.warnings.join(" ")).toMatch(/unbounded/);
    const up = solveBush(net, {
      algorithm: "bush",
      gap: GAP,
      maxIterations: 2000,
      classes,
      tolls: tollsOn(net, 15, H),
      warmStart: free.warmStart,
    });
    const down = solveBush(net, {
      algorithm: "bush",
      gap: GAP,
      maxIterations: 2000,
      classes,
      tolls: tollsOn(net, 15, -H),
      warmStart: free.warmStart,
    });
    expect(Math.sign(up.tstt - free.tstt)).not.toBe(Math.sign(free.tstt - down.tstt));
  });
});
