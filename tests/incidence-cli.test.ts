/**
 * `tollkit assign … --skims --select-link` and `tollkit incidence` through the built binary, on
 * Braess's network (demand 6) with a toll of 5 on the shortcut 3→4 (link 4), whose equilibrium
 * is known in closed form: the shortcut carries 16/13, every trip costs 1151/13 (92 without the
 * toll), the revenue is 80/13.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parseCsv } from "@tollkit/graph-core";
import { ROOT, tollkit } from "./helpers/cli.js";

const work = join(ROOT, "tests", ".out", "incidence-cli");
const noToll = join(work, "no-toll");
const tolled = join(work, "tolled");
const bare = join(work, "bare");

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "tolls.csv"), "link,toll\n4,5\n");
  const runs: [string, string[]][] = [
    [noToll, ["--skims"]],
    [tolled, ["--skims", "--select-link", "--tolls", join(work, "tolls.csv")]], // default: the tolled link 4
    [bare, []],
  ];
  for (const [out, extra] of runs) {
    const r = tollkit("assign", "braess-builtin", "--algorithm", "bush", "--gap", "1e-12", "--out", out, ...extra);
    if (r.code !== 0) throw new Error(r.stderr);
  }
});

describe("assign --skims --select-link", () => {
  test("skims.csv: one row per OD pair and class, time + tollCost + distanceCost = cost", () => {
    const t = parseCsv(readFileSync(join(tolled, "skims.csv"), "utf8"), "skims.csv");
    expect(t.header).toEqual(["origin", "destination", "class", "demand", "time", "toll", "distance", "cost", "tollCost", "distanceCost"]);
    const r = t.rows.find((x) => x.origin === "1" && x.destination === "2")!;
    expect(Number(r.demand)).toBe(6);
    expect(Number(r.cost)).toBeCloseTo(1151 / 13, 8);
    expect(Number(r.toll)).toBeCloseTo(80 / 13 / 6, 8);
    expect(Number(r.time) + Number(r.tollCost) + Number(r.distanceCost)).toBeCloseTo(Number(r.cost), 10);
  });

  test("select-link.csv and select-link-flows.csv: the shortcut's users by OD pair and their flow on every link", () => {
    const s = parseCsv(readFileSync(join(tolled, "select-link.csv"), "utf8"), "select-link.csv");
    expect(s.header).toEqual(["origin", "destination", "class", "trips", "demand", "share"]);
    expect(s.rows).toHaveLength(1);
    expect(Number(s.rows[0].trips)).toBeCloseTo(16 / 13, 8);
    const f = parseCsv(readFileSync(join(tolled, "select-link-flows.csv"), "utf8"), "select-link-flows.csv");
    expect(f.header).toEqual(["link", "from", "to", "flow", "selectLinkFlow", "share"]);
    expect(Number(f.rows[3].selectLinkFlow)).toBeCloseTo(16 / 13, 8);
    expect(Number(f.rows[0].selectLinkFlow)).toBeCloseTo(16 / 13, 8);
    expect(Number(f.rows[1].selectLinkFlow)).toBeCloseTo(0, 8);
  });

  test("--skims without --out, --select-link of a run without bushes, a bad link: exit 2 naming the flag", () => {
    let r = tollkit("assign", "braess-builtin", "--skims");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "--out"/);
    r = tollkit("assign", "braess-builtin", "--select-link", "4", "--out", join(work, "x"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--algorithm bush/);
    r = tollkit("assign", "braess-builtin", "--algorithm", "bush", "--select-link", "9", "--out", join(work, "x"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "--select-link": link "9" is not in braess-builtin/);
    expect(existsSync(join(work, "x", "select-link.csv"))).toBe(false);
  });
});

describe("tollkit incidence", () => {
  test("--json: everyone gains 45/13 per trip, pays 80/78, totals reconcile with the summaries", () => {
    const r = tollkit("incidence", noToll, tolled, "--json");
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.by).toBe("origin");
    expect(j.totals.userCostChange).toBeCloseTo((-45 / 13) * 6, 7);
    expect(j.totals.revenueB).toBeCloseTo(80 / 13, 8);
    expect(j.totals.totalCostChange).toBeCloseTo(j.totals.userCostChange, 7);
    expect(j.rows).toHaveLength(1);
    expect(j.rows[0].costChangePerTrip).toBeCloseTo(-45 / 13, 7);
    expect(j.rows[0].tollPerTrip).toBeCloseTo(80 / 13 / 6, 8);
    expect(j.winners.map((w: { origin: number }) => w.origin)).toEqual([1]);
    expect(j.losers).toEqual([]);
  });

  test("--by od --csv writes every OD row; the text report names the winners", () => {
    const csv = join(work, "od.csv");
    const r = tollkit("incidence", noToll, tolled, "--by", "od", "--csv", csv);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Winners/);
    expect(r.stdout).toMatch(/1→2/);
    const t = parseCsv(readFileSync(csv, "utf8"), "od.csv");
    expect(t.header.slice(0, 3)).toEqual(["origin", "destination", "class"]);
    expect(Number(t.rows[0].costChangePerTrip)).toBeCloseTo(-45 / 13, 7);
  });

  test("a run folder without skims.csv, or a bad --by: exit 2 saying how to write it", () => {
    let r = tollkit("incidence", noToll, bare);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no skims\.csv in the run folder.*--skims --out/);
    r = tollkit("incidence", noToll, tolled, "--by", "zone");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "--by"/);
  });
});
