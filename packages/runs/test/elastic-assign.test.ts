/**
 * Assignment runs with elastic demand (`settings.demand`, the CLI's `--demand-function`), through
 * the one executor the CLI and the API share. Numbers from the two-route closed form (built-in
 * two-route network, t1 = 10 + x1, t2 = 15 + 2·x2, q0 = 10, linear demand with rate 0.1, value of
 * time 1): with toll τ = 125/18 on route 1, x1 = 25/6, x2 = 55/18, trips made 65/9.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AssignSummary, executeTask } from "@tollkit/runs";

const tau = 125 / 18;

async function run(demand: unknown): Promise<AssignSummary> {
  const out = await executeTask({
    kind: "assign",
    network: "two-route",
    settings: {
      algorithm: "bush",
      gap: 1e-12,
      valueOfTime: 1,
      tolls: [{ link: 1, toll: tau }],
      demand: demand as Record<string, unknown>,
    },
  });
  if (out.status !== "done") throw new Error("not done");
  return out.result.output.summary as AssignSummary;
}

describe("assign with elastic demand", () => {
  test("settings.demand as the API sends it: trips made and not made, per zone, and welfare", async () => {
    const s = await run({ type: "elastic", form: "linear", rate: 0.1 });
    expect(s.demand!.tripsMade).toBeCloseTo(65 / 9, 8);
    expect(s.demand!.tripsNotMade).toBeCloseTo(10 - 65 / 9, 8);
    expect(s.demand!.zones[0]).toMatchObject({ zone: 1 });
    expect(s.demand!.zones[0].tripsMade).toBeCloseTo(65 / 9, 8);
    // CS of linear demand = q²/(2·q0·r); welfare adds the revenue τ·x1
    expect(s.demand!.consumerSurplus).toBeCloseTo((65 / 9) ** 2 / 2, 6);
    expect(s.demand!.welfare).toBeCloseTo((65 / 9) ** 2 / 2 + (tau * 25) / 6, 6);
    expect(s.relativeGap).toBeLessThan(1e-10);
  });

  test("the CLI's short form and a JSON file give the same", async () => {
    const short = await run("linear:rate=0.1");
    const dir = mkdtempSync(join(tmpdir(), "tollkit-elastic-"));
    const file = join(dir, "demand.json");
    writeFileSync(file, JSON.stringify({ type: "elastic", form: "linear", rate: 0.1 }));
    const fromFile = await run({ file });
    expect(short.demand!.tripsMade).toBeCloseTo(65 / 9, 8);
    expect(fromFile.demand!.tripsMade).toBeCloseTo(65 / 9, 8);
  });

  test("fixed demand summaries have no demand field", async () => {
    const out = await executeTask({ kind: "assign", network: "two-route", settings: { algorithm: "bush", gap: 1e-10 } });
    if (out.status !== "done") throw new Error("not done");
    expect("demand" in out.result.output.summary).toBe(false);
  });

  test("bad specs are input errors naming the field", async () => {
    await expect(run({ type: "elastic", form: "power", rate: 1 })).rejects.toThrow(
      /request body, field "settings.demand.rate": rate given for power demand/,
    );
    await expect(run({ type: "elastic", form: "linear", elasticity: -1 })).rejects.toThrow(/settings.demand.elasticity/);
    await expect(run("cubic:1")).rejects.toThrow(/--demand-function, field "form"/);
    await expect(run("linear")).rejects.toThrow(/FORM:ELASTICITY/);
  });
});
