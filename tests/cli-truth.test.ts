/**
 * What `tollkit assign` says must be true (issue 15): tolls that cannot change a route are
 * refused, negative tolls need --allow-subsidies, the reader's warnings reach the result,
 * oversized files are refused by name, `~` comments may stand among the metadata, and with
 * several classes each class's flow, cost and relative gap is reported.
 *
 * The two-class case is solved in closed form on two-route (t₁ = 10 + x₁ tolled 4,
 * t₂ = 15 + 2x₂, demand 10 split 5 cars with value of time 1 and 5 untolled trucks): cars use
 * both routes at cost 21 (x₁ = 7, x₂ = 3), so all 5 trucks take route 1 (17 < 21), 2 cars too.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ROOT, tollkit } from "./helpers/cli.js";

const work = join(ROOT, "tests", ".out", "cli-truth");
const file = (name: string, text: string) => {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
});

describe("tollkit assign says what is true", () => {
  test("tolls on a network whose toll factor is 0, with no value of time, are refused, saying how to give one", () => {
    const t = file("t.csv", "link,toll\n16,5\n");
    const r = tollkit("assign", "sioux-falls", "--tolls", t);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/t\.csv, field "toll": the tolls cannot change any route.*toll factor is 0.*--value-of-time/);
    const ok = tollkit("assign", "sioux-falls", "--tolls", t, "--value-of-time", "0.5", "--json");
    expect(ok.code, ok.stderr).toBe(0);
    const j = JSON.parse(ok.stdout);
    const none = JSON.parse(tollkit("assign", "sioux-falls", "--json").stdout);
    expect(j.tstt).not.toBe(none.tstt); // the toll moved traffic
    expect(j.revenue).toBeGreaterThan(0);
  });

  test("a quoted tolls CSV is read; a negative toll is refused unless --allow-subsidies", () => {
    const q = tollkit(
      "assign",
      "two-route",
      "--tolls",
      file("q.csv", 'link,toll\n"1","4"\n'),
      "--algorithm",
      "bush",
      "--gap",
      "1e-12",
      "--json",
    );
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout).revenue).toBeCloseTo(4 * 7, 6); // x₁ = 7 at toll 4 (14 + x₁ = 15 + 2(10 − x₁))
    const neg = file("neg.csv", "link,toll\n2,-3\n");
    const r = tollkit("assign", "two-route", "--tolls", neg);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/neg\.csv:2, field "toll": toll -3 on link 2 is negative.*--allow-subsidies/);
    const s = tollkit("assign", "two-route", "--tolls", neg, "--allow-subsidies", "--algorithm", "bush", "--gap", "1e-12", "--json");
    expect(s.code, s.stderr).toBe(0);
    // a subsidy of 3 on route 2: 10 + x₁ = 12 + 2(10 − x₁) → x₁ = 22/3, revenue −3·(8/3) = −8
    expect(JSON.parse(s.stdout).revenue).toBeCloseTo(-8, 6);
  });

  test("the reader's warnings reach the result; ~ comments among the metadata are accepted", () => {
    const dir = join(work, "tiny");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "Tiny_net.tntp"),
      "~ a two-route network written by hand\n<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 2\n<FIRST THRU NODE> 1\n~ the link count below is wrong on purpose\n<NUMBER OF LINKS> 1\n<END OF METADATA>\n~ init term cap len fft b power speed toll type ;\n1 2 1 1 10 1 1 0 0 1 ;\n1 2 1 1 15 2 1 0 0 1 ;\n",
    );
    writeFileSync(join(dir, "Tiny_trips.tntp"), "<NUMBER OF ZONES> 2\n<TOTAL OD FLOW> 10\n<END OF METADATA>\nOrigin 1\n2 : 10;\n");
    const r = tollkit("assign", join(dir, "Tiny_net.tntp"), "--json");
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.warnings.some((w: string) => /NUMBER OF LINKS> says 1, the file has 2 links/.test(w))).toBe(true);
  });

  test("a file over the input limit is refused by name before it is read (exit 2)", () => {
    const big = file("big_net.tntp", "~".repeat(2 * 1024 * 1024));
    const r = tollkit("assign", big, { env: { TOLLKIT_MAX_INPUT_MB: "1" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/big_net\.tntp: the file is 2 MiB, more than the 1 MiB tollkit reads/);
  });

  test("two classes: flows.csv has each class's flow and cost, the summary each class's gap (closed form)", () => {
    const classes = file(
      "classes.json",
      JSON.stringify([
        { name: "car", demandShare: 0.5, valueOfTime: 1 },
        { name: "truck", demandShare: 0.5, tolled: false },
      ]),
    );
    const out = join(work, "two-class");
    const r = tollkit(
      "assign",
      "two-route",
      "--tolls",
      file("t4.csv", "link,toll\n1,4\n"),
      "--classes",
      classes,
      "--algorithm",
      "bush",
      "--gap",
      "1e-10",
      "--out",
      out,
      "--json",
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.converged).toBe(true);
    for (const c of j.classes) expect(c.relativeGap).toBeLessThanOrEqual(1e-10);
    const [head, ...rows] = readFileSync(join(out, "flows.csv"), "utf8").trim().split("\n");
    expect(head).toBe("link,from,to,flow,time,cost,toll,voc,flow_car,cost_car,flow_truck,cost_truck");
    const v = rows.map((l) => l.split(",").map(Number));
    const col = (name: string) => v.map((row) => row[head.split(",").indexOf(name)]);
    col("flow_car").forEach((x, i) => expect(x).toBeCloseTo([2, 3][i], 6));
    col("flow_truck").forEach((x, i) => expect(x).toBeCloseTo([5, 0][i], 6));
    col("cost_car").forEach((x) => expect(x).toBeCloseTo(21, 6));
    col("cost_truck").forEach((x, i) => expect(x).toBeCloseTo([17, 21][i], 6));
  });
});
