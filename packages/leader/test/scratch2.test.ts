import { test } from "vitest";
import { solve, equilibriumSensitivity } from "@tollkit/follower";
import { gridCity } from "@tollkit/graph-core";
import { parseScenario, resolveInstrument } from "@tollkit/leader";
test("fd", async () => {
  const net = gridCity();
  const xs = Array.from(net.nodeX),
    ys = Array.from(net.nodeY);
  const mid = (a: number[]) => (Math.min(...a) + Math.max(...a)) / 2,
    span = (a: number[]) => Math.max(...a) - Math.min(...a);
  const box = { x0: mid(xs) - span(xs) / 4, x1: mid(xs) + span(xs) / 4, y0: mid(ys) - span(ys) / 4, y1: mid(ys) + span(ys) / 4 };
  const polygon = [
    [box.x0, box.y0],
    [box.x1, box.y0],
    [box.x1, box.y1],
    [box.x0, box.y1],
  ];
  const s = parseScenario({
    network: "grid-city",
    instrument: { type: "cordon", polygon, bounds: { max: 4 } },
    objective: { type: "tstt" },
    method: { type: "grid" },
    classes: [{ name: "car", valueOfTime: 0.5 }],
  });
  const ins = resolveInstrument(net, s.instrument);
  const links = Array.from(ins.links);
  const classes = [{ name: "car", demand: net.demand.map((v) => v * 20), tollFactor: 2, distanceFactor: 0, pce: 1, tolled: true }];
  const tolls = (t: number) => {
    const v = new Float64Array(net.linkCount);
    for (const a of links) v[a] = t;
    return v;
  };
  for (const t0 of [0, 0.5, 1]) {
    const base = await solve(net, { algorithm: "bush", gap: 1e-13, classes, tolls: tolls(t0) });
    const sens = equilibriumSensitivity(net, base, { links, classes });
    const an = sens.dTstt.reduce((a, b) => a + b, 0);
    const anL = sens.dTsttLeft.reduce((a, b) => a + b, 0);
    const row = [];
    for (const h of [1e-2, 1e-3, 1e-4]) {
      const p = await solve(net, { algorithm: "bush", gap: 1e-13, classes, tolls: tolls(t0 + h) });
      const m = await solve(net, { algorithm: "bush", gap: 1e-13, classes, tolls: tolls(t0 - h) });
      row.push(`h=${h}: fwd ${((p.tstt - base.tstt) / h).toFixed(3)} bwd ${((base.tstt - m.tstt) / h).toFixed(3)}`);
    }
    console.log(
      t0,
      "tstt",
      base.tstt,
      "gap",
      base.relativeGap,
      "analytic",
      an,
      anL,
      sens.degenerate.filter(Boolean).length,
      sens.warnings,
      row.join(" | "),
    );
  }
}, 600000);
