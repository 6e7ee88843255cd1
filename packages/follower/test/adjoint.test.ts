/**
 * Adjoint toll gradients (one derivative solve per objective) against numbers from outside:
 * closed forms on Braess, the per-link directional derivatives, and central finite differences
 * of tightly solved bush equilibria on Sioux Falls and Chicago-Sketch; and the degenerate-point
 * rule (a route at the margin of use: the adjoint says so and gives no numbers).
 */
import { describe, expect, it } from "vitest";
import { braess, gridCity, InputError, loadNetwork, Network, pigou } from "@tollkit/graph-core";
import { adjointTollGradient, equilibriumSensitivity, FollowerResult, solveBush } from "@tollkit/follower";

const withTolls = (net: Network, links: number[], toll: number, base?: Float64Array): Float64Array => {
  const t = base ? base.slice() : new Float64Array(net.linkCount);
  for (const l of links) t[l] += toll;
  return t;
};

/** Σ_a len_a · d x_a: a third scalar objective, given by link weights (the distance part of welfare). */
const lengthOf = (net: Network, dx: Float64Array): number => dx.reduce((s, v, a) => s + v * net.links.length[a], 0);

/** Central difference of `measure` in the toll of `link`, from equilibria solved to `gap` warm-started at `base`. */
const central = (net: Network, base: FollowerResult, link: number, h: number, gap: number, measure: (r: FollowerResult) => number) => {
  const opts = { algorithm: "bush" as const, gap, maxIterations: 3000, warmStart: base.warmStart };
  const up = solveBush(net, { ...opts, tolls: withTolls(net, [link], h, base.tolls) });
  const down = solveBush(net, { ...opts, tolls: withTolls(net, [link], -h, base.tolls) });
  expect(up.relativeGap).toBeLessThanOrEqual(gap);
  expect(down.relativeGap).toBeLessThanOrEqual(gap);
  return (measure(up) - measure(down)) / (2 * h);
};

const close = (a: number, b: number, rel: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(Math.abs(a), Math.abs(b)));

describe("adjoint toll gradient: closed forms and degenerate points", () => {
  it("Braess with a toll τ = 5 on 3→4: revenue (13 − 2τ)/6.5 and TSTT Σ mc·dx with dx = (−1, 1, 1, −2, −1)/13", () => {
    const net = braess();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100, tolls: withTolls(net, [3], 5) });
    const a = adjointTollGradient(net, r, { links: [3, 0], objectives: ["tstt", "revenue"] });
    expect(a.degenerate).toBe(false);
    const x = r.flows;
    const mc = [20 * x[0], 2 * x[1] + 50, 2 * x[2] + 50, 2 * x[3] + 10, 20 * x[4]];
    const dx = [-1, 1, 1, -2, -1].map((v) => v / 13);
    expect(a.gradients[0][0]).toBeCloseTo(
      mc.reduce((s, c, k) => s + c * dx[k], 0),
      9,
    );
    expect(a.gradients[1][0]).toBeCloseTo((13 - 2 * 5) / 6.5, 10);
    // a toll on 1→3 (untolled so far): revenue gains its flow x₁₃ plus 5·dx₃₄/dτ₁₃
    const s = equilibriumSensitivity(net, r, { links: [0] });
    expect(a.gradients[1][1]).toBeCloseTo(s.dRevenue[0], 10);
    expect(a.gradients[0][1]).toBeCloseTo(s.dTstt[0], 10);
  });

  it("Braess at τ = 13 and Pigou, routes at the margin of use: degenerate, NaN, and a reason", () => {
    const net = braess();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-13, maxIterations: 100, tolls: withTolls(net, [3], 13) });
    const a = adjointTollGradient(net, r, { links: [3], objectives: ["tstt"] });
    expect(a.degenerate).toBe(true);
    expect(a.reason).toMatch(/margin of use/);
    expect(Number.isNaN(a.gradients[0][0])).toBe(true);
    const p = pigou();
    const q = adjointTollGradient(p, solveBush(p, { algorithm: "bush", gap: 1e-13, maxIterations: 100 }), {
      links: [1],
      objectives: ["tstt"],
    });
    expect(q.degenerate).toBe(true);
  });

  it("the grid city's own light demand at toll 0: where directional derivatives find short linear ranges, the adjoint says nearly degenerate", () => {
    const net = gridCity();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 3000 });
    const links = Array.from({ length: 40 }, (_, i) => (i * 7) % net.linkCount);
    const s = equilibriumSensitivity(net, r, { links });
    expect(s.nearDegenerate.some((d) => d) || s.degenerate.some((d) => d)).toBe(true);
    const a = adjointTollGradient(net, r, { links, objectives: ["tstt"] });
    expect(a.degenerate || a.nearDegenerate).toBe(true);
    if (!a.degenerate) expect(a.probeRange!.step).toBeLessThan(s.step);
  });

  it("bad input: no bushes, a link out of range, weights of the wrong length", () => {
    const net = braess();
    const r = solveBush(net, { algorithm: "bush", gap: 1e-12, maxIterations: 100 });
    expect(() => adjointTollGradient(net, { ...r, warmStart: undefined }, { links: [0], objectives: ["tstt"] })).toThrow(InputError);
    expect(() => adjointTollGradient(net, r, { links: [9], objectives: ["tstt"] })).toThrow(/links\[0\]/);
    expect(() => adjointTollGradient(net, r, { links: [0], objectives: [{ linkWeights: new Float64Array(2) }] })).toThrow(
      /objectives\[0\]\.linkWeights/,
    );
  });
});

describe("adjoint toll gradient: Sioux Falls and Chicago-Sketch against directional derivatives and finite differences", () => {
  it("Sioux Falls (tolls in minutes), 8 tolled links at 2 min: TSTT, revenue and Σ len·x", async () => {
    const net = { ...(await loadNetwork("sioux-falls")), costWeights: { tollFactor: 1, distanceFactor: 0 } };
    const links = [15, 18, 28, 33, 38, 47, 50, 73];
    const gap = 1e-13;
    const base = solveBush(net, { algorithm: "bush", gap, maxIterations: 3000, tolls: withTolls(net, links, 2) });
    const lengths = Float64Array.from(net.links.length);
    const a = adjointTollGradient(net, base, { links, objectives: ["tstt", "revenue", { linkWeights: lengths }] });
    expect(a.degenerate).toBe(false);
    expect(a.warnings).toEqual([]);
    // a constant number of solves: one probe and one per objective
    expect(a.solves).toBe(4);
    const s = equilibriumSensitivity(net, base, { links });
    expect(s.degenerate.every((d) => !d)).toBe(true);
    links.forEach((l, i) => {
      close(a.gradients[0][i], s.dTstt[i], 1e-6);
      close(a.gradients[1][i], s.dRevenue[i], 1e-6);
      close(a.gradients[2][i], lengthOf(net, s.dFlows[i]), 1e-6);
    });
    // central differences, step 0.01 min: each value is known to about gap·TSTT, so the
    // difference to ~4·gap·TSTT/(2h) ≈ 1e-3; truncation is second order in h (no kink within it)
    const h = 0.01;
    expect(Math.min(...s.range, ...s.rangeLeft)).toBeGreaterThan(h);
    for (const i of [0, 3, 6]) {
      const noise = (4 * gap * base.totalCost) / (2 * h);
      const gT = central(net, base, links[i], h, gap, (r) => r.tstt);
      expect(Math.abs(a.gradients[0][i] - gT)).toBeLessThan(1e-4 * Math.abs(gT) + noise);
      const gR = central(net, base, links[i], h, gap, (r) => r.revenue);
      expect(Math.abs(a.gradients[1][i] - gR)).toBeLessThan(1e-4 * Math.abs(gR) + noise);
    }
  });

  it("Chicago-Sketch (toll 0.02 min/cent), 8 tolled links at 30 cents: TSTT, revenue and Σ len·x", async () => {
    const net = await loadNetwork("chicago-sketch");
    const links = [100, 400, 700, 1000, 1300, 1600, 1900, 2200];
    const gap = 1e-12;
    const base = solveBush(net, { algorithm: "bush", gap, maxIterations: 3000, tolls: withTolls(net, links, 30) });
    const lengths = Float64Array.from(net.links.length);
    const a = adjointTollGradient(net, base, { links, objectives: ["tstt", "revenue", { linkWeights: lengths }] });
    expect(a.degenerate).toBe(false);
    expect(a.solves).toBe(4); // one probe and one per objective
    const s = equilibriumSensitivity(net, base, { links });
    expect(s.degenerate.every((d) => !d)).toBe(true);
    // some tolled link must move traffic, or the comparison says little
    expect(Math.max(...s.dTstt.map(Math.abs))).toBeGreaterThan(1);
    links.forEach((l, i) => {
      close(a.gradients[0][i], s.dTstt[i], 1e-6);
      close(a.gradients[1][i], s.dRevenue[i], 1e-6);
      close(a.gradients[2][i], lengthOf(net, s.dFlows[i]), 1e-6);
    });
    // central differences on the link whose toll moves TSTT most, step 0.1 cent (within its linear range)
    const i = s.dTstt.reduce((best, v, k) => (Math.abs(v) > Math.abs(s.dTstt[best]) ? k : best), 0);
    const h = 0.1;
    expect(Math.min(s.range[i], s.rangeLeft[i])).toBeGreaterThan(h);
    const noise = (4 * gap * base.totalCost) / (2 * h);
    const gT = central(net, base, links[i], h, gap, (r) => r.tstt);
    expect(Math.abs(a.gradients[0][i] - gT)).toBeLessThan(1e-3 * Math.abs(gT) + noise);
    const gR = central(net, base, links[i], h, gap, (r) => r.revenue);
    expect(Math.abs(a.gradients[1][i] - gR)).toBeLessThan(1e-3 * Math.abs(gR) + noise);
  }, 120_000);
});
