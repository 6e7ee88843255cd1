/**
 * Instruments on a generated grid city: a cordon given by a polygon is the set of links from a
 * node outside a box to a node inside it (checked with plain coordinate comparisons), and a
 * uniform cordon charge's gradient (the sensitivity along all its links moving together) agrees
 * with finite differences.
 */
import { describe, expect, test } from "vitest";
import { gridCity } from "@tollkit/graph-core";
import { design, insidePolygon, parseScenario, resolveInstrument } from "@tollkit/leader";

const net = gridCity();
const xs = Array.from(net.nodeX);
const ys = Array.from(net.nodeY);
const mid = (a: number[]) => (Math.min(...a) + Math.max(...a)) / 2;
const span = (a: number[]) => Math.max(...a) - Math.min(...a);
// a box around the middle of the city, a quarter of its width and height
const box = { x0: mid(xs) - span(xs) / 4, x1: mid(xs) + span(xs) / 4, y0: mid(ys) - span(ys) / 4, y1: mid(ys) + span(ys) / 4 };
const polygon: [number, number][] = [
  [box.x0, box.y0],
  [box.x1, box.y0],
  [box.x1, box.y1],
  [box.x0, box.y1],
];
const inBox = (i: number) => net.nodeX[i] > box.x0 && net.nodeX[i] < box.x1 && net.nodeY[i] > box.y0 && net.nodeY[i] < box.y1;

// demand × 20 congests the city (its own demand leaves costs nearly flat, so responses are close to jumps)
const scenario = (instrument: Record<string, unknown>, method: Record<string, unknown>) =>
  parseScenario(
    {
      network: "grid-city",
      demandScale: 20,
      classes: [{ name: "car", valueOfTime: 0.5 }],
      instrument,
      objective: { type: "tstt" },
      method,
      follower: { algorithm: "bush", gap: 1e-10 },
    },
    "grid-city-cordon.json",
  );

describe("instruments", () => {
  test("point in polygon agrees with a box test", () => {
    for (let i = 0; i < net.nodeCount; i++) expect(insidePolygon(net.nodeX[i], net.nodeY[i], polygon)).toBe(inBox(i));
  });

  test("a cordon is every link from outside the box to inside it, with one uniform charge", () => {
    const s = scenario({ type: "cordon", polygon, bounds: { max: 10 } }, { type: "grid", points: 3 });
    const ins = resolveInstrument(net, s.instrument, s.file);
    const expected: number[] = [];
    for (let a = 0; a < net.linkCount; a++) if (!inBox(net.links.from[a]) && inBox(net.links.to[a])) expected.push(a);
    expect(expected.length).toBeGreaterThan(4);
    expect(Array.from(ins.links)).toEqual(expected);
    expect(ins.uniform).toBe(true);
    expect(ins.variables).toHaveLength(1);
    expect(ins.variables[0].label).toBe(`cordon (${expected.length} links)`);
  });

  test("link types select every link of those types; per-link bounds apply", () => {
    const s = scenario(
      { type: "link-types", linkTypes: [2], bounds: { max: 5 }, linkBounds: [{ link: 1, max: 2 }] },
      { type: "derivative-free" },
    );
    const ins = resolveInstrument(net, s.instrument, s.file);
    const expected = Array.from(net.links.linkType.keys()).filter((a) => net.links.linkType[a] === 2);
    expect(Array.from(ins.links)).toEqual(expected);
    expect(ins.variables).toHaveLength(expected.length);
    expect(ins.variables.find((v) => v.links[0] === 0)!.max).toBe(2);
    expect(ins.variables.find((v) => v.links[0] !== 0)!.max).toBe(5);
  });

  test("a uniform cordon charge's gradient (its links moving together) agrees with finite differences", async () => {
    const s = scenario(
      { type: "cordon", polygon, bounds: { max: 4 } },
      { type: "gradient", maxSolves: 8, start: [1], gradientCheck: true },
    );
    const r = await design({ ...s, firstBest: false });
    const gc = r.diagnostics.gradientCheck!;
    expect(gc.rows).toHaveLength(1);
    expect(gc.agrees).toBe(true);
    expect(r.tolls.length).toBe(r.variables[0].links.length);
    expect(new Set(r.tolls.map((t) => t.toll)).size).toBe(1); // one charge on every cordon link
    expect(r.value).toBeLessThanOrEqual(r.history[0].value); // no worse than the start
    expect(gc.rows[0].analytic).toBeGreaterThan(0); // here the charge only diverts traffic: TSTT rises with it
  });
});
