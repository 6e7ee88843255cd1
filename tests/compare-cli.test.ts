/**
 * `tollkit compare` through the built binary (run `pnpm build` first), on Braess's network
 * (demand 6) whose equilibria are known in closed form: without tolls every path carries 2 and
 * TSTT is 552; a toll of 13 on the shortcut (link 4, 3→4) empties it, the two outer paths carry
 * 3 each and TSTT is 498 (the system optimum).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { tollkit } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "packages", "cli", "dist", "main.js");
const work = join(root, "tests", ".out", "compare-cli");

const noToll = join(work, "no-toll");
const tolled = join(work, "tolled");
const designed = join(work, "designed");

beforeAll(() => {
  if (!existsSync(bin)) throw new Error("run `pnpm build` before the CLI tests");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "tolls.csv"), "link,toll\n4,13\n");
  for (const [out, extra] of [
    [noToll, []],
    [tolled, ["--tolls", join(work, "tolls.csv")]],
  ] as const) {
    const r = tollkit("assign", "braess-builtin", "--algorithm", "bush", "--gap", "1e-12", "--out", out, ...extra);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const d = tollkit("design", "scenarios/braess.json", "--out", designed);
  if (d.code !== 0) throw new Error(d.stderr);
});

describe("tollkit compare", () => {
  test("--json: headline TSTT 552 → 498 (−54), revenue 0 (nobody pays the toll), per-link flows as the closed form", () => {
    const r = tollkit("compare", noToll, tolled, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.a).toBe(noToll);
    expect(c.b).toBe(tolled);
    expect(c.network).toBe("braess-builtin");
    expect(c.headline.tstt.a).toBeCloseTo(552, 8);
    expect(c.headline.tstt.b).toBeCloseTo(498, 8);
    expect(c.headline.tstt.difference).toBeCloseTo(-54, 8);
    expect(c.headline.tstt.relative).toBeCloseTo(-54 / 552, 10);
    expect(c.headline.revenue.b).toBeCloseTo(0, 8);
    expect(c.headline.totalCost.difference).toBeCloseTo(-54, 8);
    for (const k of ["sptt", "beckmann", "relativeGap", "iterations", "seconds"]) expect(c.headline).toHaveProperty(k);
    // links 1: 1→3, 2: 1→4, 3: 3→2, 4: 3→4 (the shortcut), 5: 4→2
    const flowA = [4, 2, 2, 2, 4];
    const flowB = [3, 3, 3, 0, 3];
    expect(c.links).toHaveLength(5);
    c.links.forEach((l: Record<string, number>, k: number) => {
      expect(l.link).toBe(k + 1);
      expect(l.flowA).toBeCloseTo(flowA[k], 8);
      expect(l.flowB).toBeCloseTo(flowB[k], 8);
      expect(l.flowDifference).toBeCloseTo(flowB[k] - flowA[k], 8);
      expect(l.tollDifference).toBe(k === 3 ? 13 : 0);
      expect(l.revenueDifference).toBeCloseTo(0, 8);
    });
    // the shortcut's time t = 10 + x falls by 2 as it empties
    expect(c.links[3].timeDifference).toBeCloseTo(-2, 8);
  });

  test("the table shows the headline and the links that changed; --csv writes every link", () => {
    const csv = join(work, "diff.csv");
    const r = tollkit("compare", noToll, tolled, "--csv", csv, "--top", "2");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TSTT\s+552\s+498\s+-54\s+-9\.78%$/m);
    expect(r.stdout).toContain("5 of 5 links changed flow or toll.");
    expect(r.stdout).toMatch(/The 2 largest flow changes \(--top N for more, --csv FILE for all\):/);
    expect(r.stdout).toMatch(/^\s+4\s+3→4\s+2\s+0\s+-2\s+-2\s+13\s+0$/m);
    const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("link,from,to,flowA,flowB,flowDifference,timeDifference,vocDifference,tollDifference,revenueDifference");
    expect(lines).toHaveLength(6);
    const json = JSON.parse(tollkit("compare", noToll, tolled, "--json").stdout);
    lines.slice(1).forEach((l, k) => {
      const cells = l.split(",").map(Number);
      expect(cells[0]).toBe(k + 1);
      expect(cells[5]).toBe(json.links[k].flowDifference);
      expect(cells[8]).toBe(json.links[k].tollDifference);
    });
  });

  test("a design run folder compares on its tolled equilibrium: the designed toll on the shortcut reproduces TSTT 498", () => {
    const c = JSON.parse(tollkit("compare", noToll, designed, "--json").stdout);
    expect(c.headline.tstt.b).toBeCloseTo(498, 6);
    expect(c.headline.iterations).toBeDefined();
    expect(c.links[3].flowB).toBeCloseTo(0, 8);
    expect(c.links[3].tollDifference).toBeGreaterThanOrEqual(13 - 1e-9);
  });

  test("comparing a run with itself gives zero differences", () => {
    const c = JSON.parse(tollkit("compare", tolled, tolled, "--json").stdout);
    for (const l of c.links) expect([l.flowDifference, l.timeDifference, l.tollDifference, l.revenueDifference]).toEqual([0, 0, 0, 0]);
    expect(c.headline.tstt.difference).toBe(0);
  });

  test("runs on different networks, a missing folder and a damaged flows.csv: exit 2 with one clear line", () => {
    const other = join(work, "pigou");
    expect(tollkit("assign", "pigou", "--out", other).code).toBe(0);
    const r1 = tollkit("compare", noToll, other);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/^tollkit: cli\/compare: .*different networks: .*braess-builtin \(5 links\).*pigou \(2 links\)/);
    const r2 = tollkit("compare", noToll, join(work, "nowhere"));
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/nowhere: not a folder/);
    const broken = join(work, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "summary.json"), readFileSync(join(noToll, "summary.json")));
    writeFileSync(join(broken, "flows.csv"), readFileSync(join(noToll, "flows.csv"), "utf8").replace(/\n3,3,2,[^,]*/, "\n3,3,2,lots"));
    const r3 = tollkit("compare", noToll, broken);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/broken\/flows\.csv:4, field "flow": got "lots" \(expected a number\)/);
    for (const r of [r1, r2, r3]) expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
