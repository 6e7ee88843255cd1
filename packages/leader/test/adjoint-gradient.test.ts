/**
 * The leader's gradients of single-link variables come from the follower's adjoint solve (one
 * per measure) at non-degenerate points: they equal the per-link directional derivatives (which
 * the gradient check still uses) for TSTT, revenue and welfare, on Sioux Falls and
 * Chicago-Sketch, and the welfare gradient agrees with central finite differences.
 */
import { describe, expect, test } from "vitest";
import { Evaluator, Merit, parseScenario, resolveInstrument, Scenario, scenarioClasses, scenarioNetwork } from "@tollkit/leader";

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
  return { net, ev };
};

const scenario = (network: string, links: number[], distanceFactor: number) =>
  parseScenario(
    {
      network,
      classes: [{ name: "car", valueOfTime: network === "sioux-falls" ? 1 : 50, distanceFactor }],
      instrument: { type: "links", links, bounds: { max: 1000 } },
      objective: { type: "welfare" },
      method: { type: "gradient" },
      follower: { algorithm: "bush", gap: 1e-12 },
    },
    `${network}-adjoint.json`,
  );

const close = (a: number, b: number, rel: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(Math.abs(a), Math.abs(b)));

/** Evaluates z with the search's gradient (adjoint), then directionally (as the gradient check asks), and compares them. */
const compare = async (ev: Evaluator, z: Float64Array) => {
  const e = await ev.evaluate(z, { gradient: true });
  expect(e.gradientMethod).toBe("adjoint");
  expect(e.degenerate!.every((d) => !d)).toBe(true);
  const adjoint = { tstt: e.grads!.tstt.slice(), revenue: e.grads!.revenue.slice(), welfare: e.grads!.welfare.slice() };
  const d = await ev.evaluate(z, { gradient: true, directional: true });
  expect(d).toBe(e);
  expect(d.gradientMethod).toBe("directional");
  expect(d.degenerate!.every((v) => !v)).toBe(true);
  for (const m of ["tstt", "revenue", "welfare"] as const) {
    for (let k = 0; k < z.length; k++) {
      close(adjoint[m][k], d.grads![m][k], 1e-6);
      close(adjoint[m][k], d.gradsLeft![m][k], 1e-6);
    }
  }
  expect(Math.max(...adjoint.tstt.map(Math.abs))).toBeGreaterThan(0);
  return { e, adjoint };
};

describe("adjoint gradients of single-link variables", () => {
  test("Sioux Falls, 8 links at 2 min, a distance cost: TSTT, revenue and welfare equal the directional ones; welfare matches central differences", async () => {
    const s = scenario("sioux-falls", [16, 19, 29, 34, 39, 48, 51, 74], 0.5);
    const { ev } = await evaluator(s);
    const z = new Float64Array(8).fill(2);
    const { e, adjoint } = await compare(ev, z);
    expect(ev.gradientsByMethod).toEqual({ adjoint: 1, directional: 1 });
    // central differences (step 0.01 min, equilibria to gap 1e-12): noise ≈ 4·gap·|welfare|/(2h)
    const h = 0.01;
    for (const k of [0, 5]) {
      expect(Math.min(e.range![k], e.rangeLeft![k])).toBeGreaterThan(h);
      const up = z.slice();
      const down = z.slice();
      up[k] += h;
      down[k] -= h;
      const fd = ((await ev.measureAt(up, e, 1e-12)).welfare - (await ev.measureAt(down, e, 1e-12)).welfare) / (2 * h);
      const noise = (4 * 1e-12 * Math.abs(e.ms.welfare)) / (2 * h);
      expect(Math.abs(adjoint.welfare[k] - fd)).toBeLessThan(1e-4 * Math.abs(fd) + noise);
    }
  });

  test("the option, not the phase's name, asks for directional derivatives", async () => {
    const s = scenario("sioux-falls", [16, 19, 29, 34, 39, 48, 51, 74], 0.5);
    const { ev } = await evaluator(s);
    ev.setPhase("gradient check");
    const e = await ev.evaluate(new Float64Array(8).fill(2), { gradient: true });
    expect(e.gradientMethod).toBe("adjoint");
    await ev.evaluate(e.z, { gradient: true, directional: true });
    expect(e.gradientMethod).toBe("directional");
    expect(ev.gradientsByMethod).toEqual({ adjoint: 1, directional: 1 });
  });

  test("Chicago-Sketch, 10 links at 30 cents, a distance cost: TSTT, revenue and welfare equal the directional ones", async () => {
    const links = [101, 301, 501, 701, 901, 1101, 1301, 1501, 1701, 1901];
    const s = scenario("chicago-sketch", links, 0.04);
    const { ev } = await evaluator(s);
    await compare(ev, new Float64Array(links.length).fill(30));
  }, 120_000);
});
