/**
 * `tollkit design` through the built binary (run `pnpm build` first): JSON output, the output
 * folder, and bad scenarios (exit 2, one line naming the file and the JSON path).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { tollkit } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "packages", "cli", "dist", "main.js");
const work = join(root, "tests", ".out", "design-cli");

beforeAll(() => {
  if (!existsSync(bin)) throw new Error("run `pnpm build` before the CLI tests");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
});

describe("tollkit design", () => {
  test("--json prints the design contract fields (two-route: revenue peaks at toll 12.5)", () => {
    const r = tollkit("design", "scenarios/two-route-linear.json", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of [
      "objective",
      "method",
      "tolls",
      "value",
      "baseline",
      "firstBest",
      "equilibriumSolves",
      "seconds",
      "shareCaptured",
      "ties",
      "diagnostics",
    ])
      expect(j).toHaveProperty(k);
    expect(j.objective).toBe("revenue");
    expect(j.method).toBe("gradient");
    expect(j.tolls).toHaveLength(1);
    expect(j.tolls[0].link).toBe(1);
    // closed form: revenue τ(25 − τ)/3 is largest at τ = 12.5, where it is 625/12
    expect(j.tolls[0].toll).toBeCloseTo(12.5, 5);
    expect(j.value).toBeCloseTo(625 / 12, 8);
    expect(j.baseline).toBe(0);
    // first-best tolls 7.5 (link 1) and 5 (link 2) at the SO split 7.5 / 2.5: revenue 68.75
    expect(j.firstBest).toBeCloseTo(68.75, 6);
    expect(j.equilibriumSolves).toBeGreaterThan(0);
    expect(j.diagnostics.gradientCheck.agrees).toBe(true);
  });

  test("--out writes the tolled equilibrium, design.json and history.csv", () => {
    const out = join(work, "threshold");
    const r = tollkit("design", "scenarios/road-authority-threshold.json", "--out", out, "--json");
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "convergence.csv",
      "design.json",
      "flows.csv",
      "flows.geojson",
      "history.csv",
      "summary.json",
    ]);
    expect(readdirSync(work).filter((f) => f.includes("partial"))).toEqual([]);
    const flows = readFileSync(join(out, "flows.csv"), "utf8").trim().split("\n");
    expect(flows[0]).toBe("link,from,to,flow,time,cost,toll,voc");
    expect(flows).toHaveLength(3);
    const [, , , flow1, , , toll1] = flows[1].split(",").map(Number);
    expect(toll1).toBeCloseTo(6, 12); // the threshold toll
    expect(flow1).toBeCloseTo(1000, 6); // the optimistic follower stays on the tolled route
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.value).toBeCloseTo(6000, 6);
    expect(summary.ties.atDesign.pessimistic.revenue).toBeCloseTo(0, 6);
    const history = readFileSync(join(out, "history.csv"), "utf8").trim().split("\n");
    expect(history[0]).toBe("step,solves,phase,accepted,value,merit,tstt,revenue,toll_link_1");
    expect(history.length - 1).toBe(1001); // every grid point
    const design = JSON.parse(readFileSync(join(out, "design.json"), "utf8"));
    expect(design.surface.axes[0].values).toHaveLength(1001);
    const geo = JSON.parse(readFileSync(join(out, "flows.geojson"), "utf8"));
    expect(geo.features).toHaveLength(2);
  });

  test("a run that fails midway prints and writes the best design so far, says so on stderr and exits 1", () => {
    const out = join(work, "partial");
    const r = spawnSync(process.execPath, [bin, "design", "scenarios/two-route-linear.json", "--json", "--out", out], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, TOLLKIT_DEBUG: "", TOLLKIT_TEST_FAIL_AFTER_SOLVES: "4" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/stopped early.*injected failure after 4.*partial/);
    const j = JSON.parse(r.stdout);
    expect(j.partial).toBe(true);
    // solve 5 is the search's second trial (baseline 1, first-best 2, then the search's): mid-search
    expect(j.error.afterSolves).toBe(4);
    // the reported design is consistent with the closed form: revenue τ(25 − τ)/3 at its toll
    const tau = j.tolls[0].toll;
    expect(tau).toBeGreaterThan(0);
    expect(j.value).toBeCloseTo((tau * (25 - tau)) / 3, 8);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.partial).toBe(true);
    expect(summary.value).toBe(j.value);
    expect(existsSync(join(out, "flows.csv"))).toBe(true);
  });

  // bad scenario files: tests/bad-files.test.ts
  test("a missing scenario file and a missing argument exit 2", () => {
    const r = tollkit("design", join(work, "missing.json"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing.json");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(tollkit("design").code).toBe(2);
  });
});
