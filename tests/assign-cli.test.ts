/**
 * `tollkit assign` through the built binary (run `pnpm build` first): the JSON contract, the
 * output folder checked by an independent recomputation, tolls and classes files, and bad
 * input (exit 2, one line naming the file, line and field, nothing written).
 *
 * The independent check reads flows.csv back, recomputes each link's BPR time from the TNTP
 * parameters, TSTT = Σ flow·time, and SPTT with graphology-shortest-path's Dijkstra (not the
 * typed-array code that solved the problem), and compares the relative gap with the reported one.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DirectedGraph } from "graphology";
import { dijkstra } from "graphology-shortest-path";
import { beforeAll, describe, expect, test } from "vitest";
import { loadNetwork } from "@tollkit/graph-core";
import { tollkit } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "packages", "cli", "dist", "main.js");
const work = join(root, "tests", ".out", "assign-cli");

function csv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trim().split("\n");
  const keys = head.split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, k) => [keys[k], v])));
}

beforeAll(() => {
  if (!existsSync(bin)) throw new Error("run `pnpm build` before the CLI tests");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
});

describe("tollkit assign", () => {
  test("--json prints the contract fields", () => {
    const r = tollkit("assign", "sioux-falls", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of [
      "network",
      "algorithm",
      "objective",
      "converged",
      "iterations",
      "relativeGap",
      "tstt",
      "totalCost",
      "sptt",
      "beckmann",
      "revenue",
      "seconds",
      "averageExcessCost",
      "warnings",
      "stopReason",
    ])
      expect(j).toHaveProperty(k);
    expect(j).toMatchObject({ network: "sioux-falls", algorithm: "bfw", objective: "ue", converged: true, stopReason: "gap", revenue: 0 });
    expect(j.relativeGap).toBeLessThanOrEqual(1e-4); // the default gap
    expect(j.settings).toMatchObject({ algorithm: "bfw", gap: 1e-4 });
  });

  test("--out writes summary.json, flows.csv, convergence.csv, flows.geojson; an independent check reproduces the gap", async () => {
    const out = join(work, "sioux-falls");
    const r = tollkit("assign", "sioux-falls", "--algorithm", "cfw", "--gap", "1e-4", "--out", out, "--json");
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary).toEqual(printed);

    const net = await loadNetwork("sioux-falls");
    const rows = csv(readFileSync(join(out, "flows.csv"), "utf8"));
    expect(Object.keys(rows[0])).toEqual(["link", "from", "to", "flow", "time", "cost", "toll", "voc"]);
    expect(rows).toHaveLength(net.linkCount);
    const g = new DirectedGraph();
    let tstt = 0;
    rows.forEach((row, i) => {
      expect(Number(row.link)).toBe(i + 1);
      const x = Number(row.flow);
      const l = net.links;
      const t = l.freeFlowTime[i] * (1 + l.b[i] * Math.pow(x / l.capacity[i], l.power[i])); // BPR, written out
      expect(Number(row.time)).toBeCloseTo(t, 9);
      expect(Number(row.cost)).toBeCloseTo(t, 9); // Sioux Falls: no toll or distance weights
      expect(Number(row.voc)).toBeCloseTo(x / l.capacity[i], 12);
      tstt += x * t;
      g.mergeNode(row.from);
      g.mergeNode(row.to);
      g.addDirectedEdge(row.from, row.to, { weight: t });
    });
    let sptt = 0;
    const Z = net.zoneCount;
    for (let o = 0; o < Z; o++) {
      const paths = dijkstra.singleSource(g, String(net.zoneIds[o]), "weight");
      for (let d = 0; d < Z; d++) {
        const trips = net.demand[o * Z + d];
        if (trips <= 0 || d === o) continue;
        const p = paths[String(net.zoneIds[d])];
        let c = 0;
        for (let k = 1; k < p.length; k++) c += g.getEdgeAttribute(g.edge(p[k - 1], p[k])!, "weight") as number;
        sptt += trips * c;
      }
    }
    expect(tstt / summary.tstt).toBeCloseTo(1, 12);
    expect(sptt / summary.sptt).toBeCloseTo(1, 12);
    const gap = (tstt - sptt) / tstt;
    expect(Math.abs(gap - summary.relativeGap)).toBeLessThan(1e-9);
    expect(gap).toBeLessThanOrEqual(1e-4);

    const conv = csv(readFileSync(join(out, "convergence.csv"), "utf8"));
    expect(Object.keys(conv[0])).toEqual(["iteration", "relativeGap", "step", "conjugateWeights", "objective", "elapsedMs"]);
    expect(conv).toHaveLength(summary.iterations + 1);
    expect(Number(conv[conv.length - 1].relativeGap)).toBe(summary.relativeGap);

    const geo = JSON.parse(readFileSync(join(out, "flows.geojson"), "utf8"));
    expect(geo.type).toBe("FeatureCollection");
    expect(geo.features).toHaveLength(net.linkCount);
    expect(geo.features[0].geometry.type).toBe("LineString");
  });

  test("--tolls and --classes: two classes, one toll (closed form, see fw-closed-form.test.ts)", () => {
    const tolls = join(work, "tolls.csv");
    const classes = join(work, "classes.json");
    writeFileSync(tolls, "link,toll\n1,3\n");
    writeFileSync(
      classes,
      JSON.stringify([
        // scales, not shares: 6 cars and 2 trucks of the 10 trips (shares must add up to 1)
        { name: "car", demandScale: 0.6, valueOfTime: 1 },
        { name: "truck", demandScale: 0.2, valueOfTime: 4, pce: 2 },
      ]),
    );
    const r = tollkit("assign", "two-route", "--tolls", tolls, "--classes", classes, "--gap", "1e-11", "--json");
    expect(r.stderr).toBe("");
    const j = JSON.parse(r.stdout);
    expect(j.revenue).toBeCloseTo(16, 5);
    expect(j.tstt).toBeCloseTo(1632 / 9, 5);
    expect(j.classes.map((c: { name: string; revenue: number }) => [c.name, Number(c.revenue.toFixed(5))])).toEqual([
      ["car", 10],
      ["truck", 6],
    ]);
  });

  test("--objective so: Braess SO TSTT 498", () => {
    const j = JSON.parse(tollkit("assign", "braess-builtin", "--objective", "so", "--gap", "1e-10", "--json").stdout);
    expect(j.objective).toBe("so");
    expect(j.tstt).toBeCloseTo(498, 6);
  });

  test("a gap not reached is a warning in the output, exit 0", () => {
    const r = tollkit("assign", "sioux-falls", "--algorithm", "fw", "--max-iterations", "3", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.converged).toBe(false);
    expect(j.stopReason).toBe("iterations");
    expect(j.warnings[0]).toMatch(/did not reach the target 1\.00e-4/);
  });
});

// Bad tolls and classes files are in tests/bad-files.test.ts, with every other kind of bad file.
describe("tollkit assign: bad flags exit 2 with one line naming the problem", () => {
  const cases: [string, () => string[], RegExp][] = [
    [
      "an unknown algorithm",
      () => ["--algorithm", "dijkstra"],
      /field "--algorithm": unknown algorithm "dijkstra" \(expected one of aon, msa, fw, cfw, bfw, bush\)/,
    ],
    ["a negative gap", () => ["--gap", "-1"], /field "--gap": got "-1"/],
    ["a zero gap", () => ["--gap", "0"], /field "--gap"/],
    ["a gap that is not a number", () => ["--gap", "small"], /field "--gap": got "small"/],
    ["zero iterations", () => ["--max-iterations", "0"], /field "--max-iterations".*positive integer/],
    ["negative seconds", () => ["--max-seconds", "-3"], /field "--max-seconds"/],
    ["an unknown objective", () => ["--objective", "fair"], /field "--objective"/],
    ["a missing tolls file", () => ["--tolls", join(work, "none.csv")], /none\.csv: cannot read the file \(ENOENT\)/],
  ];
  for (const [what, args, msg] of cases)
    test(what, () => {
      const out = join(work, `never-${what.replace(/\W+/g, "-")}`);
      const r = tollkit("assign", "sioux-falls", ...args(), "--out", out);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    });

  test("a missing stopping-rule value", () => {
    const r = tollkit("assign", "sioux-falls", "--max-iterations");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option '--max-iterations <n>' argument missing/);
  });

  test("an unknown network", () => {
    const r = tollkit("assign", "atlantis");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown network "atlantis"/);
  });
});
