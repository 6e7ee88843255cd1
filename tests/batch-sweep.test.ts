/**
 * Sweep files and batch plans, in-process (no binary needed): the committed JSON Schema is the
 * zod schema's, every example sweep expands into the product of its axes, bad sweeps are
 * rejected naming the file and the JSON path, axis values land where the README says, and run
 * ids are stable (same settings → same id; a changed input → a new id).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parseScenario } from "@tollkit/leader";
import { applyDesignAxis, planBatch } from "../packages/cli/src/batch/plan.js";
import { gridPoints, parseSweep, sweepJsonSchema } from "../packages/cli/src/batch/sweep.js";

const root = join(import.meta.dirname, "..");
const sweeps = join(root, "scenarios", "sweeps");
const work = join(root, "tests", ".out", "batch-sweep");

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
});

function writeJson(name: string, v: unknown): string {
  const p = join(work, name);
  writeFileSync(p, typeof v === "string" ? v : JSON.stringify(v, null, 2));
  return p;
}

/** The first error message of `f`, or "" when it does not throw. */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

describe("sweep files", () => {
  test("scenarios/sweeps/sweep.schema.json is the schema generated from the zod definition (REGEN=1 rewrites it)", () => {
    const file = join(sweeps, "sweep.schema.json");
    if (process.env.REGEN) writeFileSync(file, `${JSON.stringify(sweepJsonSchema(), null, 2)}\n`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(sweepJsonSchema());
  });

  test("every example sweep is valid and plans one run per grid point, none invalid", () => {
    const files = readdirSync(sweeps).filter((f) => f.endsWith(".json") && !f.endsWith(".schema.json"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const path = join(sweeps, f);
      const json = JSON.parse(readFileSync(path, "utf8"));
      const sweep = parseSweep(json, path);
      // the product of the axis lengths, summed over entries (computed from the file, not the planner)
      const expected = json.runs.reduce(
        (n: number, e: { grid?: Record<string, unknown[]> }) => n + Object.values(e.grid ?? {}).reduce((p, v) => p * v.length, 1),
        0,
      );
      expect(sweep.runs.length).toBe(json.runs.length);
      const plan = planBatch([path]);
      expect(plan.runs.length, f).toBe(expected);
      expect(plan.runs.filter((r) => r.invalid !== undefined).map((r) => r.invalid)).toEqual([]);
      expect(new Set(plan.runs.map((r) => r.id)).size).toBe(expected);
    }
  });

  test("the grid is the Cartesian product in the written axis order, the last axis fastest", () => {
    const pts = gridPoints({ b: [1, 2], a: ["x", "y", "z"] });
    expect(pts.map((p) => p.map(([, v]) => v).join(""))).toEqual(["1x", "1y", "1z", "2x", "2y", "2z"]);
    expect(gridPoints(undefined)).toEqual([[]]);
  });

  const bad: [string, unknown, RegExp][] = [
    [
      "unknown axis",
      { kind: "sweep", runs: [{ kind: "assign", network: "braess-builtin", grid: { gapp: [1e-3] } }] },
      /runs\[0\]\.grid\.gapp.*unknown field/,
    ],
    [
      "negative gap",
      { kind: "sweep", runs: [{ kind: "assign", network: "braess-builtin", grid: { gap: [1e-3, -1] } }] },
      /runs\[0\]\.grid\.gap\[1\].*got -1.*relative gap > 0/,
    ],
    [
      "unknown algorithm",
      { kind: "sweep", runs: [{ kind: "assign", network: "braess-builtin", grid: { algorithm: ["fw", "newton"] } }] },
      /runs\[0\]\.grid\.algorithm\[1\].*one of aon, msa, fw, cfw, bfw, bush/,
    ],
    [
      "wrong entry kind",
      { kind: "sweep", runs: [{ kind: "asign", network: "braess-builtin" }] },
      /runs\[0\]\.kind.*"asign".*"design" or "assign"/,
    ],
    [
      "duplicate axis value",
      { kind: "sweep", runs: [{ kind: "assign", network: "pigou", grid: { demandScale: [1, 2, 1] } }] },
      /runs\[0\]\.grid\.demandScale\[2\].*duplicate value 1/,
    ],
    ["assign without a network", { kind: "sweep", runs: [{ kind: "assign", grid: { gap: [1e-3] } }] }, /runs\[0\]\.network.*no network/],
    [
      "empty axis",
      { kind: "sweep", runs: [{ kind: "design", scenario: "../../../scenarios/braess.json", grid: { method: [] } }] },
      /runs\[0\]\.grid\.method.*at least one method/,
    ],
    ["no runs", { kind: "sweep", runs: [] }, /field "runs".*at least one entry/],
    [
      "bad tollable",
      { kind: "sweep", runs: [{ kind: "design", scenario: "../../../scenarios/braess.json", grid: { tollable: [[0]] } }] },
      /runs\[0\]\.grid\.tollable\[0\]/,
    ],
  ];
  test.each(bad)("a sweep with %s is rejected naming the file and the JSON path", (name, json, re) => {
    const p = writeJson(`bad-${name.replace(/ /g, "-")}.json`, json);
    const msg = errorOf(() => planBatch([p]));
    expect(msg).toMatch(/^cli\/sweep: /);
    expect(msg).toContain(`bad-${name.replace(/ /g, "-")}.json`);
    expect(msg).toMatch(re);
  });

  test("a sweep whose base scenario is invalid is an error of the whole batch, naming both files", () => {
    writeJson("base-bad.json", {
      network: "braess-builtin",
      instrument: { type: "links", links: [4] },
      objective: { type: "tstt" },
      method: { type: "grid" },
    });
    const p = writeJson("sweep-base-bad.json", {
      kind: "sweep",
      runs: [{ kind: "design", scenario: "base-bad.json", grid: { gap: [1e-6] } }],
    });
    const msg = errorOf(() => planBatch([p]));
    expect(msg).toContain("sweep-base-bad.json");
    expect(msg).toContain('field "runs[0].scenario"');
    expect(msg).toContain("base-bad.json");
    expect(msg).toContain("instrument.bounds.max");
  });

  test("a grid point that makes an invalid scenario is a failed run (the others are planned), with the axis values in the message", () => {
    const p = writeJson("sweep-point-bad.json", {
      kind: "sweep",
      runs: [
        { kind: "design", scenario: "../../../scenarios/braess.json", grid: { objective: ["tstt", { type: "revenue", minRevenue: 5 }] } },
      ],
    });
    const plan = planBatch([p]);
    expect(plan.runs).toHaveLength(2);
    expect(plan.runs[0].invalid).toBeUndefined();
    expect(plan.runs[1].invalid).toMatch(/sweep-point-bad\.json runs\[0\] \(objective = .*revenue.*\).*objective\.minRevenue/);
  });
});

describe("axis values", () => {
  const base = () =>
    JSON.parse(
      JSON.stringify({
        network: "sioux-falls",
        instrument: { type: "links", links: [1, 2], bounds: { min: 0, max: 10 }, linkBounds: [{ link: 1, max: 5 }] },
        objective: { type: "tstt" },
        method: { type: "gradient", maxSolves: 7 },
        follower: { algorithm: "bush", gap: 1e-9 },
      }),
    ) as Record<string, unknown>;
  const ctx = { sweepDir: "scenarios/sweeps", scenarioDir: "scenarios" };

  test("tollable link ids keep the base bounds (not its per-link bounds); an instrument object gets the base bounds when it has none", () => {
    const s = base();
    applyDesignAxis(s, "tollable", [3, 4], ctx);
    expect(s.instrument).toEqual({ type: "links", links: [3, 4], bounds: { min: 0, max: 10 } });
    applyDesignAxis(s, "tollable", { type: "link-types", linkTypes: [2] }, ctx);
    expect(s.instrument).toEqual({ type: "link-types", linkTypes: [2], bounds: { min: 0, max: 10 } });
    expect(() => parseScenario(s, "x.json")).not.toThrow();
  });

  test("a method or objective name keeps the base's settings of that type, another type starts from its defaults", () => {
    const s = base();
    applyDesignAxis(s, "method", "gradient", ctx);
    expect(s.method).toEqual({ type: "gradient", maxSolves: 7 });
    applyDesignAxis(s, "method", "derivative-free", ctx);
    expect(s.method).toEqual({ type: "derivative-free" });
    applyDesignAxis(s, "objective", { type: "tstt", minRevenue: 100 }, ctx);
    expect(s.objective).toEqual({ type: "tstt", minRevenue: 100 });
  });

  test("valueOfTime: a number sets every class (or makes one), an object sets named classes and rejects unknown names", () => {
    const s = base();
    applyDesignAxis(s, "valueOfTime", 0.25, ctx);
    expect(s.classes).toEqual([{ name: "all", valueOfTime: 0.25 }]);
    s.classes = [
      { name: "car", valueOfTime: 1, share: 0.8 },
      { name: "truck", valueOfTime: 2, share: 0.2 },
    ];
    applyDesignAxis(s, "valueOfTime", { truck: 3 }, ctx);
    expect(s.classes).toEqual([
      { name: "car", valueOfTime: 1, share: 0.8 },
      { name: "truck", valueOfTime: 3, share: 0.2 },
    ]);
    expect(errorOf(() => applyDesignAxis(s, "valueOfTime", { bus: 1 }, ctx))).toMatch(/class "bus".*its classes: car, truck/);
  });

  test("valueOfTime replaces a class's tollFactor (a class may not have both), the other classes keep theirs", () => {
    const s = base();
    s.classes = [
      { name: "car", tollFactor: 2, share: 0.8 },
      { name: "truck", tollFactor: 0.5, share: 0.2 },
    ];
    applyDesignAxis(s, "valueOfTime", { car: 0.25 }, ctx);
    expect(s.classes).toEqual([
      { name: "car", valueOfTime: 0.25, share: 0.8 },
      { name: "truck", tollFactor: 0.5, share: 0.2 },
    ]);
    applyDesignAxis(s, "valueOfTime", 4, ctx);
    expect(s.classes).toEqual([
      { name: "car", valueOfTime: 4, share: 0.8 },
      { name: "truck", valueOfTime: 4, share: 0.2 },
    ]);
  });

  test("algorithm and gap go to the follower; a network path is rewritten relative to the scenario file", () => {
    const s = base();
    applyDesignAxis(s, "algorithm", "bfw", ctx);
    applyDesignAxis(s, "gap", 1e-4, ctx);
    expect(s.follower).toEqual({ algorithm: "bfw", gap: 1e-4 });
    applyDesignAxis(s, "network", "../nets/x_net.tntp", ctx);
    expect(s.network).toBe("nets/x_net.tntp"); // scenarios/sweeps/../nets → relative to scenarios/
    applyDesignAxis(s, "network", "anaheim", ctx);
    expect(s.network).toBe("anaheim");
  });
});

describe("run ids", () => {
  test("stable across plans; adding an axis value keeps the existing ids; a changed scenario file gets a new id", () => {
    const scen = writeJson("ids-scenario.json", {
      network: "braess-builtin",
      classes: [{ name: "car", valueOfTime: 1 }],
      instrument: { type: "links", links: [4], bounds: { min: 0, max: 20 } },
      objective: { type: "tstt" },
      method: { type: "grid", points: 5 },
    });
    const sweep1 = writeJson("ids-sweep.json", {
      kind: "sweep",
      runs: [{ kind: "design", scenario: "ids-scenario.json", grid: { gap: [1e-6, 1e-8] } }],
    });
    const a = planBatch([sweep1, scen]).runs.map((r) => r.id);
    const b = planBatch([sweep1, scen]).runs.map((r) => r.id);
    expect(b).toEqual(a);
    expect(a).toHaveLength(3);
    const sweep2 = writeJson("ids-sweep.json", {
      kind: "sweep",
      runs: [{ kind: "design", scenario: "ids-scenario.json", grid: { gap: [1e-6, 1e-8, 1e-10] } }],
    });
    const c = planBatch([sweep2]).runs.map((r) => r.id);
    expect(c.slice(0, 2)).toEqual(a.slice(0, 2));
    writeJson("ids-scenario.json", { ...JSON.parse(readFileSync(scen, "utf8")), demandScale: 1.5 });
    const d = planBatch([sweep2, scen]).runs.map((r) => r.id);
    expect(d.some((id) => a.includes(id))).toBe(false);
  });

  test("the same run named twice is planned once, with a warning", () => {
    const plan = planBatch([join(root, "scenarios", "braess.json"), join(root, "scenarios", "braess.json")]);
    expect(plan.runs).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/same run/);
  });

  test("--seed changes the ids of grid-city runs only", () => {
    const p = writeJson("seed-sweep.json", {
      kind: "sweep",
      runs: [{ kind: "assign", gap: 1e-3, grid: { network: ["grid-city", "braess-builtin"] } }],
    });
    const s1 = planBatch([p], { seed: 1 }).runs;
    const s2 = planBatch([p], { seed: 2 }).runs;
    expect(s1[0].id).not.toBe(s2[0].id);
    expect(s1[0].seedApplies).toBe(true);
    expect(s1[1].id).toBe(s2[1].id);
    expect(s1[1].seedApplies).toBe(false);
  });
});
