/**
 * Golden outputs: the files `tollkit assign --out` writes for two small built-in networks,
 * compared byte for byte with tests/golden/<case>/ (written before the issue-12 refactor, so
 * they pin the writers' formats across it). Only wall-clock fields are masked: `seconds` in
 * summary.json and the `elapsedMs` column of convergence.csv. Regenerate on purpose only:
 * `REGEN=1 pnpm vitest run tests/golden.test.ts`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ROOT, tollkit } from "./helpers/cli.js";

const work = join(ROOT, "tests", ".out", "golden");
const golden = join(ROOT, "tests", "golden");
const REGEN = process.env.REGEN === "1";

const CASES: Record<string, string[]> = {
  "two-route": ["assign", "two-route"],
  "two-route-bush": ["assign", "two-route", "--algorithm", "bush", "--gap", "1e-12"],
  braess: ["assign", "braess-builtin"],
  "braess-bush": ["assign", "braess-builtin", "--algorithm", "bush", "--gap", "1e-12"],
};
const FILES = ["summary.json", "flows.csv", "convergence.csv"];

/** Masks what depends on the clock. */
function normalise(name: string, text: string): string {
  if (name === "summary.json") return text.replace(/"seconds": [0-9.e+-]+/g, '"seconds": 0');
  if (name === "convergence.csv") {
    const [head, ...rows] = text.trimEnd().split("\n");
    const k = head.split(",").indexOf("elapsedMs");
    return `${[
      head,
      ...rows.map((r) =>
        r
          .split(",")
          .map((v, j) => (j === k ? "0" : v))
          .join(","),
      ),
    ].join("\n")}\n`;
  }
  return text;
}

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
});

describe("golden outputs of tollkit assign --out", () => {
  for (const [name, args] of Object.entries(CASES))
    test(name, () => {
      const out = join(work, name);
      const r = tollkit(...args, "--out", out);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      for (const f of FILES) {
        const got = normalise(f, readFileSync(join(out, f), "utf8"));
        const want = join(golden, name, f);
        if (REGEN || !existsSync(want)) {
          if (!REGEN) throw new Error(`${want} is missing: run with REGEN=1 to write it`);
          mkdirSync(join(golden, name), { recursive: true });
          writeFileSync(want, got);
        }
        expect(got, `${name}/${f}`).toBe(readFileSync(want, "utf8"));
      }
    });
});
