/**
 * Toll design against numbers from outside the code: closed forms on the two-route, threshold
 * and Braess examples, the Sioux Falls system optimum, and central finite differences.
 */
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { solve } from "@tollkit/follower";
import { loadNetwork } from "@tollkit/graph-core";
import { design, DesignResult, loadScenario, Scenario } from "@tollkit/leader";

const dir = join(import.meta.dirname, "..", "..", "..", "scenarios");
const scenario = (name: string): Scenario => loadScenario(join(dir, `${name}.json`));
const withMethod = (s: Scenario, method: Record<string, unknown>, extra: Partial<Scenario> = {}): Scenario =>
  ({ ...s, ...extra, method: method as Scenario["method"] }) as Scenario;

// Two-route closed forms (value of time 1): with toll τ on route 1, 10 + x1 + τ = 15 + 2(10 − x1)
// gives x1 = (25 − τ)/3 for τ ≤ 25; revenue τ(25 − τ)/3; TSTT x1(10 + x1) + x2(15 + 2 x2).
const x1 = (tau: number) => Math.max(0, (25 - tau) / 3);
const revenue = (tau: number) => tau * x1(tau);
const tstt = (tau: number) => x1(tau) * (10 + x1(tau)) + (10 - x1(tau)) * (15 + 2 * (10 - x1(tau)));

describe("two-route-linear: closed forms", () => {
  const base = scenario("two-route-linear");

  test("revenue is maximised at toll 12.5 (revenue 625/12), by gradient search with exact sensitivities", async () => {
    const r = await design(base);
    expect(r.objective).toBe("revenue");
    expect(r.tolls).toEqual([{ link: 1, toll: expect.any(Number) }]);
    expect(r.tolls[0].toll).toBeCloseTo(12.5, 6);
    expect(r.value).toBeCloseTo(625 / 12, 9);
    expect(r.revenue).toBeCloseTo(revenue(12.5), 9);
    expect(r.equilibrium.flows[0]).toBeCloseTo(x1(12.5), 8);
    expect(r.baseline).toBe(0);
    expect(r.equilibriumSolves).toBeLessThanOrEqual(20);
    // the gradient the search used agrees with central finite differences: d revenue/dτ = (25 − 2τ)/3
    const gc = r.diagnostics.gradientCheck!;
    expect(gc.agrees).toBe(true);
    expect(gc.rows[0].analytic).toBeCloseTo((25 - 2 * r.tolls[0].toll) / 3, 6);
    expect(gc.rows[0].finiteDifference).toBeCloseTo(gc.rows[0].analytic, 6);
  });

  test("the derivative-free search finds the same revenue maximum", async () => {
    const r = await design(withMethod(base, { type: "derivative-free", maxSolves: 200, start: "zero", gradientCheck: false }));
    expect(r.tolls[0].toll).toBeCloseTo(12.5, 3);
    expect(r.value).toBeCloseTo(625 / 12, 5);
  });

  test("TSTT is minimised at toll 2.5, where the split is the system optimum x1 = 7.5", async () => {
    const r = await design({ ...base, objective: { ...base.objective, type: "tstt" } });
    expect(r.tolls[0].toll).toBeCloseTo(2.5, 6);
    expect(r.equilibrium.flows[0]).toBeCloseTo(7.5, 6);
    expect(r.value).toBeCloseTo(181.25, 8); // 7.5·17.5 + 2.5·20
    expect(r.baseline).toBeCloseTo(550 / 3, 8); // no toll: x1 = 25/3, TSTT = 10·55/3
    expect(r.firstBest).toBeCloseTo(181.25, 8);
    // a toll on the one link that differs between the routes is first-best here
    expect(r.shareCaptured).toBeCloseTo(1, 6);
  });

  test("welfare (= −VOT·TSTT with one class) is maximised at the same toll", async () => {
    const r = await design({ ...base, objective: { ...base.objective, type: "welfare" } });
    expect(r.tolls[0].toll).toBeCloseTo(2.5, 6);
    expect(r.value).toBeCloseTo(-181.25, 8);
    expect(r.welfare).toBeCloseTo(-tstt(2.5), 8);
    expect(r.baseline).toBeCloseTo(-tstt(0), 8);
    expect(r.diagnostics.gradientCheck!.agrees).toBe(true);
  });

  test("a grid reproduces revenue τ(25 − τ)/3, welfare −TSTT(τ), and empties the tolled route at τ = 25", async () => {
    const r = await design(withMethod(base, { type: "grid", points: 61 })); // τ = 0, 0.5, …, 30
    const s = r.surface!;
    expect(s.axes[0].values).toHaveLength(61);
    s.axes[0].values.forEach((tau, i) => {
      expect(s.revenue[i]).toBeCloseTo(revenue(tau), 8);
      expect(s.value[i]).toBeCloseTo(revenue(tau), 8);
      expect(s.tstt[i]).toBeCloseTo(tstt(tau), 8);
      expect(s.welfare[i]).toBeCloseTo(-tstt(tau), 8);
    });
    expect(r.tolls[0].toll).toBe(12.5);
    // the smallest toll that empties route 1: revenue is 0 from τ = 25 on, positive below
    const empty = s.axes[0].values.find((tau, i) => tau > 0 && s.revenue[i] <= 1e-9);
    expect(empty).toBe(25);
    expect(s.revenue[s.axes[0].values.indexOf(24.5)]).toBeCloseTo(24.5 / 6, 8);
  });

  test("first-best tolls are x·t′(x) at the system optimum (7.5 and 5) and reproduce it", async () => {
    const r = await design(withMethod({ ...base, objective: { ...base.objective, type: "tstt" } }, { type: "first-best" }));
    const fb = r.firstBestDetail!;
    expect(fb.tolls.map((t) => t.toll)).toEqual([expect.closeTo(7.5, 8), expect.closeTo(5, 8)]);
    expect(fb.soTstt).toBeCloseTo(181.25, 8);
    expect(fb.tolledTstt).toBeCloseTo(181.25, 8);
    expect(r.tolls).toEqual([{ link: 1, toll: expect.closeTo(7.5, 8) }]);
    expect(r.equilibriumSolves).toBe(2);
  });

  test("TSTT subject to revenue ≥ 40: the floor binds at τ = (25 − √145)/2", async () => {
    // revenue τ(25 − τ)/3 ≥ 40 ⇔ τ ∈ [(25 − √145)/2, (25 + √145)/2]; TSTT is convex with its minimum at 2.5 < that interval
    const s = { ...base, objective: { ...base.objective, type: "tstt" as const, minRevenue: 40 } };
    const r = await design(
      withMethod(s, { type: "gradient", maxSolves: 60, start: "zero", tolerance: 1e-10, memory: 6, gradientCheck: true }),
    );
    const tau = (25 - Math.sqrt(145)) / 2;
    expect(r.constraint!.satisfied).toBe(true);
    expect(r.revenue).toBeGreaterThanOrEqual(40 * (1 - 1e-5)); // the floor, within the feasibility tolerance
    expect(r.tolls[0].toll).toBeCloseTo(tau, 3);
    expect(r.value).toBeCloseTo(tstt(tau), 2);
    // a grid checks the constraint exactly: the best feasible grid point is the first one above τ*
    const g = await design(withMethod(s, { type: "grid", points: 301 })); // step 0.1
    expect(g.tolls[0].toll).toBeCloseTo(Math.ceil(tau * 10) / 10, 9);
  });
});

describe("road-authority-threshold: ties", () => {
  test("revenue maximisation finds the threshold £6.00; optimistic and pessimistic revenue at and just below it", async () => {
    const r = await design(scenario("road-authority-threshold"));
    // tolled route 30 min, free route 50 min, VOT £0.30/min: the routes tie at toll (50 − 30)·0.30 = £6.00
    expect(r.tolls[0].toll).toBe(6);
    expect(r.value).toBeCloseTo(6000, 6); // the optimistic follower stays and pays: 1000 × £6
    const t = r.ties;
    expect(t.applies).toBe(true);
    expect(t.rule).toBe("optimistic");
    expect(t.atDesign!.optimistic.revenue).toBeCloseTo(6000, 6);
    expect(t.atDesign!.pessimistic.revenue).toBeCloseTo(0, 6); // the pessimistic follower leaves
    expect(t.atDesign!.differ).toBe(true);
    expect(t.justBelow!.tolls[0]).toBeCloseTo(5.99, 12);
    expect(t.justBelow!.optimistic.revenue).toBeCloseTo(5990, 6);
    expect(t.justBelow!.pessimistic.revenue).toBeCloseTo(5990, 6);
    expect(t.justBelow!.differ).toBe(false);
    // the reported equilibrium is under the true tolls: the tolled route costs exactly 50 min
    expect(r.equilibrium.classes[0].costs[0]).toBeCloseTo(50, 9);
    // the response surface: 1000·τ below the threshold, nothing above it
    const s = r.surface!;
    s.axes[0].values.forEach((tau, i) => expect(s.revenue[i]).toBeCloseTo(tau <= 6 ? 1000 * tau : 0, 6));
  });

  test("under the pessimistic rule the best design stays just below the threshold", async () => {
    const base = scenario("road-authority-threshold");
    const r = await design({ ...base, ties: { ...base.ties, rule: "pessimistic" } });
    expect(r.tolls[0].toll).toBeCloseTo(5.99, 12);
    expect(r.value).toBeCloseTo(5990, 6);
    expect(r.ties.atDesign!.differ).toBe(false);
  });
});

describe("braess", () => {
  test("a toll ≥ 13 on the shortcut 3→4 brings TSTT from 552 to 498", async () => {
    const r = await design(scenario("braess"));
    expect(r.baseline).toBeCloseTo(552, 6);
    expect(r.value).toBeCloseTo(498, 6);
    expect(r.tolls[0].link).toBe(4);
    expect(r.tolls[0].toll).toBeGreaterThanOrEqual(13);
    const s = r.surface!;
    s.axes[0].values.forEach((tau, i) => {
      if (tau >= 13) expect(s.tstt[i]).toBeCloseTo(498, 6);
      else expect(s.tstt[i]).toBeGreaterThan(498 + 1e-3);
    });
    expect(r.ties.applies).toBe(false);
    expect(r.firstBest).toBeCloseTo(498, 6);
    expect(r.shareCaptured).toBeCloseTo(1, 6);
  });
});

const mirror = !!process.env.TOLLKIT_NETWORK_MIRROR;

describe.runIf(mirror)("Sioux Falls", () => {
  let firstBest: DesignResult;

  test("first-best: the tolled UE has TSTT within 0.01% of the SO TSTT (7,194,180 to 7,194,340)", async () => {
    firstBest = await design(scenario("sioux-falls-first-best"));
    const fb = firstBest.firstBestDetail!;
    expect(fb.soTstt).toBeGreaterThan(7_194_180);
    expect(fb.soTstt).toBeLessThan(7_194_340);
    expect(Math.abs(fb.tolledTstt - fb.soTstt) / fb.soTstt).toBeLessThan(1e-4);
    expect(firstBest.value).toBeCloseTo(fb.tolledTstt, 6);
    expect(firstBest.baseline).toBeCloseTo(7_480_225, 0); // the no-toll UE (best-known TSTT 7,480,225.34)
    expect(firstBest.tolls).toHaveLength(76);
    // an independent check: a cold user equilibrium under the first-best tolls reproduces the SO TSTT
    const net0 = await loadNetwork("sioux-falls");
    const cold = await solve(net0, {
      algorithm: "bush",
      gap: 1e-10,
      classes: [{ name: "car", demand: net0.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }],
      tolls: Float64Array.from(fb.tolls, (t) => t.toll),
    });
    expect(Math.abs(cold.tstt - fb.soTstt) / fb.soTstt).toBeLessThan(1e-4);
    expect(fb.tolledRelativeGap).toBeLessThanOrEqual(1e-10);
    // BPR t = fft·(1 + b·(x/cap)^p): x·t′(x) = fft·b·p·(x/cap)^p, at the tolled UE flows (= the SO flows)
    const net = await loadNetwork("sioux-falls");
    const x = firstBest.equilibrium.flows;
    const L = net.links;
    for (let a = 0; a < net.linkCount; a++) {
      const expected = L.freeFlowTime[a] * L.b[a] * L.power[a] * Math.pow(x[a] / L.capacity[a], L.power[a]);
      expect(fb.tolls[a].toll).toBeCloseTo(expected, 2);
      expect(fb.tolls[a].timeToll).toBe(fb.tolls[a].toll); // value of time 1
    }
  });

  test("second-best-10: the tollable set is the 10 links with the largest first-best tolls", async () => {
    if (!firstBest) firstBest = await design(scenario("sioux-falls-first-best"));
    const ranked = [...firstBest.firstBestDetail!.tolls].sort((a, b) => b.toll - a.toll);
    const top = ranked.slice(0, 10).map((t) => t.link);
    expect(ranked[9].toll - ranked[10].toll).toBeGreaterThan(0.1); // the choice is not a near-tie
    const s = scenario("sioux-falls-second-best-10");
    expect(s.instrument.type).toBe("links");
    expect([...(s.instrument as { links: number[] }).links].sort((a, b) => a - b)).toEqual(top.sort((a, b) => a - b));
  });

  test("second-best-10: gradient search beats the derivative-free method given 10× the solves, and reports the share captured", async () => {
    const s = scenario("sioux-falls-second-best-10");
    const g = await design(s);
    expect(g.method).toBe("gradient");
    expect(g.equilibriumSolves).toBeLessThanOrEqual(40);
    const budget = (s.method as { maxSolves: number }).maxSolves;
    const d = await design(
      withMethod(s, { type: "derivative-free", maxSolves: 10 * budget, start: "zero", gradientCheck: false }, { firstBest: false }),
    );
    expect(d.equilibriumSolves).toBeLessThanOrEqual(10 * budget);
    expect(g.value).toBeLessThanOrEqual(d.value);
    // both improve on no tolls, neither reaches first-best
    expect(g.value).toBeLessThan(g.baseline);
    expect(g.shareCaptured).toBeGreaterThan(0);
    expect(g.shareCaptured).toBeLessThan(1);
    expect(g.shareCaptured).toBeCloseTo((g.value - g.baseline) / (g.firstBest! - g.baseline), 12);
    // the gradients the search used agree with central finite differences at the final point
    const gc = g.diagnostics.gradientCheck!;
    expect(gc.rows).toHaveLength(10);
    expect(gc.agrees).toBe(true);
    for (const row of gc.rows.filter((r) => !r.kinkWithinStep))
      expect(Math.abs(row.analytic - row.finiteDifference)).toBeLessThanOrEqual(1e-3 * Math.abs(row.analytic) + 0.1);
  });
});

describe("classes, progress and cancellation", () => {
  test("two classes: revenue from the tolled class only, welfare weighs each class's time by its value of time", async () => {
    const base = scenario("two-route-linear");
    const s: Scenario = {
      ...base,
      classes: [
        { name: "car", valueOfTime: 1, pce: 1, demandShare: 0.7, tolled: true },
        { name: "bus", valueOfTime: 3, pce: 2, demandShare: 0.3, tolled: false },
      ],
      objective: { ...base.objective, type: "welfare" },
      method: { type: "grid", points: 7 },
    };
    const r = await design(s);
    const eq = r.equilibrium;
    const [car, bus] = eq.classes;
    expect(car.demand).toBeCloseTo(7, 12);
    expect(bus.demand).toBeCloseTo(3, 12);
    // total flow in PCE: x = f_car + 2 f_bus
    expect(eq.flows[0]).toBeCloseTo(car.flows[0] + 2 * bus.flows[0], 9);
    const toll = r.tolls[0].toll;
    expect(r.revenue).toBeCloseTo(toll * car.flows[0], 9);
    const welfare = -(
      1 * (car.flows[0] * eq.times[0] + car.flows[1] * eq.times[1]) +
      3 * (bus.flows[0] * eq.times[0] + bus.flows[1] * eq.times[1])
    );
    expect(r.welfare).toBeCloseTo(welfare, 9);
    expect(r.diagnostics.warnings.some((w) => w.includes("some classes are not tolled"))).toBe(true);
  });

  test("progress is reported per solve, and a signal cancels the run", async () => {
    const s = withMethod(scenario("two-route-linear"), { type: "grid", points: 1001 });
    const seen: number[] = [];
    const ac = new AbortController();
    const run = design(s, {
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.solves);
        if (p.solves === 10) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(seen.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.length).toBeLessThan(12);
  });
});
