/**
 * The leader with elastic demand, against numbers from outside the code under test.
 *
 * Two routes (the built-in two-route network, t1 = 10 + x1, t2 = 15 + 2·x2, q0 = 10), linear
 * demand with rate r = 0.1 per minute, value of time 1: no-toll cost c0 = 55/3; with a toll τ on
 * route 1, c = 55/3 + 0.4·τ and x1 = 25/3 − 0.6·τ, so revenue τ·x1 is largest at τ = 125/18
 * (x1 = 25/6, trips 65/9, revenue 3125/108).
 *
 * Welfare on the same two routes: trips q = 10 − 0.4·τ, consumer surplus q²/(2·q0·r) = q²/2, so
 * welfare W(τ) = q²/2 + τ·x1 = 50 + (13/3)·τ − 0.52·τ², largest at τ = 25/6; revenue τ·(25/3 − 0.6·τ)
 * reaches 25 at τ_c = (25/3 − √((25/3)² − 60))/1.2 ≈ 4.383 > 25/6, so with a floor of 25 the best
 * toll is τ_c.
 *
 * Sioux Falls with exponential demand (elasticity 0.3 at the no-toll pivot, value of time 1):
 * - first-best: the tolled user equilibrium under x·t′ at the net-benefit optimum reproduces that
 *   optimum (its link flows and trips, from an independent `objective: "so"` solve);
 * - welfare gradients (CS + revenue) from the sensitivities against central finite differences of
 *   the welfare of solves at 1e-12;
 * - a second-best welfare design on 10 links beats the no-toll welfare and reports its share of
 *   the first-best welfare gain.
 */
import { describe, expect, test } from "vitest";
import { ElasticDemandProblem } from "@tollkit/follower";
import { loadNetwork } from "@tollkit/graph-core";
import { design, elasticSensitivity, parseScenario } from "@tollkit/leader";

const car = [{ name: "car", valueOfTime: 1 }];

describe("elastic demand: the leader", () => {
  test("two routes, linear demand: the revenue-maximising toll and its trips (gradient search)", async () => {
    const r = await design(
      parseScenario({
        network: "two-route",
        classes: car,
        demand: { type: "elastic", form: "linear", rate: 0.1 },
        instrument: { type: "links", links: [1], bounds: { min: 0, max: 20 } },
        objective: { type: "revenue" },
        method: { type: "gradient", maxSolves: 30, start: "zero" },
        firstBest: false,
      }),
    );
    expect(r.tolls[0].toll).toBeCloseTo(125 / 18, 5);
    expect(r.revenue).toBeCloseTo(3125 / 108, 8);
    expect(r.equilibrium.flows[0]).toBeCloseTo(25 / 6, 6);
    expect(r.demand!.tripsMade).toBeCloseTo(65 / 9, 6);
    expect(r.demand!.baselineTripsMade).toBeCloseTo(10, 8);
    expect(r.demand!.zones[0].tripsNotMade).toBeCloseTo(10 - 65 / 9, 6);
  }, 60_000);

  const welfare = (tau: number) => 50 + (13 / 3) * tau - 0.52 * tau * tau;
  const twoRoute = (objective: Record<string, unknown>, method: Record<string, unknown>) =>
    parseScenario({
      network: "two-route",
      classes: car,
      demand: { type: "elastic", form: "linear", rate: 0.1 },
      instrument: { type: "links", links: [1], bounds: { min: 0, max: 12 } },
      objective,
      method,
      firstBest: false,
    });

  test("two routes, linear demand: welfare by grid, derivative-free and gradient search, and with a revenue floor", async () => {
    const grid = await design(twoRoute({ type: "welfare" }, { type: "grid", points: 121 }));
    expect(Math.abs(grid.tolls[0].toll - 25 / 6)).toBeLessThanOrEqual(0.05 + 1e-12);
    expect(grid.value).toBeCloseTo(welfare(grid.tolls[0].toll), 8);
    expect(grid.baseline).toBeCloseTo(50, 8);
    const df = await design(twoRoute({ type: "welfare" }, { type: "derivative-free", maxSolves: 80 }));
    expect(df.tolls[0].toll).toBeCloseTo(25 / 6, 3);
    const gr = await design(twoRoute({ type: "welfare" }, { type: "gradient", maxSolves: 30 }));
    expect(gr.tolls[0].toll).toBeCloseTo(25 / 6, 5);
    expect(gr.value).toBeCloseTo(welfare(25 / 6), 8);
    expect(gr.demand!.welfareChange).toBeCloseTo(welfare(25 / 6) - 50, 8);
    const tauC = (25 / 3 - Math.sqrt((25 / 3) ** 2 - 60)) / 1.2;
    const floor = await design(twoRoute({ type: "welfare", minRevenue: 25 }, { type: "gradient", maxSolves: 60 }));
    expect(floor.constraint!.satisfied).toBe(true);
    expect(floor.tolls[0].toll).toBeCloseTo(tauC, 3);
    expect(floor.value).toBeCloseTo(welfare(tauC), 3);
  }, 120_000);

  const sioux = {
    network: "sioux-falls",
    classes: car,
    demand: { type: "elastic", form: "exponential", elasticity: 0.3 },
    instrument: { type: "links", links: [16, 19, 29, 30, 34, 39, 40, 48, 51, 74], bounds: { min: 0, max: 30 } },
    objective: { type: "welfare" },
  };

  test("Sioux Falls: first-best tolls' equilibrium is the net-benefit optimum; a second-best welfare design beats no toll", async () => {
    const fb = await design(
      parseScenario({ ...sioux, instrument: { type: "links", links: "all", bounds: { min: 0 } }, method: { type: "first-best" } }),
    );
    const detail = fb.firstBestDetail!;
    // independent net-benefit optimum
    const net = await loadNetwork("sioux-falls");
    const classes = [{ name: "car", demand: net.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }];
    const p = ElasticDemandProblem.create(net, { form: "exponential", elasticity: 0.3 }, { classes });
    const so = p.solveSync({ algorithm: "bush", gap: 1e-11, objective: "so", tolls: new Float64Array(net.linkCount) });
    let worst = 0;
    for (let a = 0; a < net.linkCount; a++)
      worst = Math.max(worst, Math.abs(fb.equilibrium.flows[a] - so.flows[a]) / Math.max(1, so.flows[a]));
    expect(worst).toBeLessThan(1e-4);
    expect(Math.abs(detail.relativeDifference)).toBeLessThan(1e-7);
    expect(fb.demand!.tripsMade).toBeCloseTo(so.elastic.tripsMade, 2);
    expect(fb.demand!.welfareChange).toBeGreaterThan(0);
    expect(fb.demand!.tripsNotMade).toBeGreaterThan(0);

    const sb = await design(parseScenario({ ...sioux, method: { type: "gradient", maxSolves: 25, start: "zero" } }));
    expect(sb.value).toBeGreaterThan(sb.baseline);
    expect(sb.firstBest).toBeCloseTo(fb.value, 3);
    expect(sb.shareCaptured).toBeGreaterThan(0);
    expect(sb.shareCaptured).toBeLessThanOrEqual(1 + 1e-9);
    expect(sb.demand!.welfareChange).toBeCloseTo(sb.value - sb.baseline, 6);
    console.log(
      `Sioux Falls, exponential demand (elasticity 0.3): first-best welfare gain ${(fb.value - fb.baseline).toFixed(1)}, second-best (10 links) gain ${(sb.value - sb.baseline).toFixed(1)}, share ${(sb.shareCaptured! * 100).toFixed(1)}%, trips not made ${sb.demand!.tripsNotMade.toFixed(1)}`,
    );
  }, 600_000);

  test("Sioux Falls: welfare, TSTT and trips gradients agree with central finite differences", async () => {
    const net = await loadNetwork("sioux-falls");
    const classes = [{ name: "car", demand: net.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }];
    const p = ElasticDemandProblem.create(net, { form: "exponential", elasticity: 0.3 }, { classes });
    const tolls = new Float64Array(net.linkCount);
    for (const l of [16, 19, 29, 39, 74]) tolls[l - 1] = 4;
    const opts = { algorithm: "bush", gap: 1e-12 } as const;
    const at = p.solveSync({ ...opts, tolls });
    const links = [15, 28, 73]; // 0-based: links 16, 29, 74
    const s = elasticSensitivity(p, at, links, []);
    const h = 1e-3;
    links.forEach((a, j) => {
      const up = tolls.slice();
      up[a] += h;
      const dn = tolls.slice();
      dn[a] -= h;
      const ru = p.solveSync({ ...opts, tolls: up, warmStart: at.warmStart });
      const rd = p.solveSync({ ...opts, tolls: dn, warmStart: at.warmStart });
      const fdW = (ru.elastic.welfare - rd.elastic.welfare) / (2 * h);
      const fdT = (ru.tstt - rd.tstt) / (2 * h);
      const fdQ = (ru.elastic.tripsMade - rd.elastic.tripsMade) / (2 * h);
      expect(s.dWelfare[j]).toBeCloseTo(fdW, 0);
      expect(Math.abs(s.dWelfare[j] - fdW)).toBeLessThan(1e-3 * Math.max(1, Math.abs(fdW)));
      expect(Math.abs(s.dTstt[j] - fdT)).toBeLessThan(1e-3 * Math.max(1, Math.abs(fdT)));
      expect(Math.abs(s.dTrips[j] - fdQ)).toBeLessThan(1e-3 * Math.max(1, Math.abs(fdQ)));
      expect(s.dTrips[j]).toBeLessThan(0);
    });
  }, 300_000);
});
