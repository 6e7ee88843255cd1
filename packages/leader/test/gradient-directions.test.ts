/**
 * Gradients of decision variables that toll several links at once (a uniform charge, a cordon):
 * the leader differentiates along the direction of all their links moving together, which is
 * exact at a degenerate equilibrium where the sum of the links' one-sided derivatives is not
 * (checked by one-sided finite differences of gap-1e-12 bush equilibria), and it passes on the
 * follower's warning where the equilibrium is nearly degenerate (the grid city's light demand).
 */
import { describe, expect, test } from "vitest";
import { equilibriumSensitivity } from "@tollkit/follower";
import { gridCity } from "@tollkit/graph-core";
import {
  checkGradient,
  Evaluator,
  Merit,
  parseScenario,
  resolveInstrument,
  Scenario,
  scenarioClasses,
  scenarioNetwork,
} from "@tollkit/leader";

const evaluator = async (s: Scenario) => {
  const net = await scenarioNetwork(s);
  const classes = scenarioClasses(s, net);
  const instrument = resolveInstrument(net, s.instrument, s.file);
  const ev = new Evaluator({
    net,
    classes,
    instrument,
    background: Float64Array.from(net.links.toll),
    follower: s.follower,
    merit: new Merit(s.objective.type, s.objective.minRevenue, s.objective.penalty),
    rule: s.ties.rule,
  });
  return { net, classes, instrument, ev };
};

// From 1 to 2 (10 vehicles): 1→3→2 and 1→4→2 cost 11 + 2x plus the toll on their first link
// (links 1 and 3), the direct link 5 costs 15 + x. A uniform toll of 14 puts both tolled routes
// exactly at the margin of use (cost 25, like the direct route carrying all 10 vehicles).
const margin = parseScenario(
  {
    network: {
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
    },
    classes: [{ name: "car", valueOfTime: 1 }],
    instrument: { type: "links", links: [1, 3], uniform: true, bounds: { max: 30 } },
    objective: { type: "tstt" },
    method: { type: "gradient" },
    follower: { algorithm: "bush", gap: 1e-12 },
  },
  "margin.json",
);

describe("a uniform charge on several links", () => {
  test("at a degenerate point its one-sided gradient is the direction's, not the sum of its links' (one-sided finite differences)", async () => {
    const { net, classes, ev } = await evaluator(margin);
    const e = await ev.evaluate(Float64Array.of(14), { gradient: true });
    expect(e.eq.flows[4]).toBeCloseTo(10, 10);
    expect(e.degenerate).toEqual([true]);
    // lowering the charge by δ gives δ/4 to each tolled route: TSTT = 250 − 12δ + O(δ²), revenue (14 − δ)·δ/2
    expect(e.gradsLeft!.tstt[0]).toBeCloseTo(12, 8);
    expect(e.gradsLeft!.revenue[0]).toBeCloseTo(-7, 8);
    expect(e.gradsLeft!.welfare[0]).toBeCloseTo(-12, 8);
    // raising it changes nothing
    expect(e.grads!.tstt[0]).toBeCloseTo(0, 10);
    expect(e.grads!.revenue[0]).toBeCloseTo(0, 10);
    const h = 1e-4;
    const below = await ev.measureAt(Float64Array.of(14 - h), e, 1e-12);
    const above = await ev.measureAt(Float64Array.of(14 + h), e, 1e-12);
    const backward = (e.ms.tstt - below.tstt) / h;
    expect(Math.abs(backward - e.gradsLeft!.tstt[0])).toBeLessThan(1e-3);
    expect(Math.abs((e.ms.revenue - below.revenue) / h - e.gradsLeft!.revenue[0])).toBeLessThan(1e-3);
    expect(Math.abs(above.tstt - e.ms.tstt) / h).toBeLessThan(1e-6);
    // the sum of the two links' left derivatives (each link lowered alone draws δ/3) is 8 + 8 = 16
    const perLink = equilibriumSensitivity(net, e.eq, { links: [0, 2], classes });
    const sum = perLink.dTsttLeft[0] + perLink.dTsttLeft[1];
    expect(sum).toBeCloseTo(16, 8);
    expect(Math.abs(backward - sum)).toBeGreaterThan(3);
  });

  test("the grid city's own light demand, cordon charge 0: the gradient is flagged nearly degenerate, with its range", async () => {
    // the cordon of instrument.test.ts: a box around the middle, a quarter of the city's width and height
    const city = gridCity();
    const xs = Array.from(city.nodeX);
    const ys = Array.from(city.nodeY);
    const mid = (a: number[]) => (Math.min(...a) + Math.max(...a)) / 2;
    const span = (a: number[]) => Math.max(...a) - Math.min(...a);
    const [x0, x1] = [mid(xs) - span(xs) / 4, mid(xs) + span(xs) / 4];
    const [y0, y1] = [mid(ys) - span(ys) / 4, mid(ys) + span(ys) / 4];
    const s = parseScenario(
      {
        network: "grid-city",
        classes: [{ name: "car", valueOfTime: 1 }],
        instrument: {
          type: "cordon",
          polygon: [
            [x0, y0],
            [x1, y0],
            [x1, y1],
            [x0, y1],
          ],
          bounds: { max: 4 },
        },
        objective: { type: "tstt" },
        method: { type: "gradient" },
        follower: { algorithm: "bush", gap: 1e-12 },
      },
      "grid-city-light.json",
    );
    const { instrument, ev } = await evaluator(s);
    expect(instrument.variables[0].links.length).toBeGreaterThan(4);
    const e = await ev.evaluate(Float64Array.of(0), { gradient: true });
    expect(e.degenerate).toEqual([false]);
    expect(e.nearDegenerate).toEqual([true]);
    expect(e.range![0]).toBeLessThan(1e-3);
    expect(e.rangeLeft![0]).toBeLessThan(1e-3);
    expect(ev.allWarnings().join(" ")).toMatch(/nearly degenerate/);
    // finite differences with a step of 1e-3 straddle the kinks: the check's row says so
    const gc = await checkGradient(ev, e, [1e-3], "tstt");
    const row = gc.rows[0];
    expect(row.nearDegenerate).toBe(true);
    expect(row.linearRange.above).toBeLessThan(row.step);
    expect(row.linearRange.below).toBeLessThan(row.step);
    // beyond the kinks the one-sided differences are far from the derivative at the point (≈ 0)
    expect(Math.abs(row.analytic)).toBeLessThan(1e-3);
    expect(Math.abs(row.forward - row.analytic)).toBeGreaterThan(0.1);
    expect(Math.abs(row.backward - row.analyticLeft)).toBeGreaterThan(0.1);
  });
});
