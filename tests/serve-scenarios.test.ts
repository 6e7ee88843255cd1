/**
 * `tollkit serve --scenarios DIR` stores the scenario files of a folder through the API's own
 * validation at start: valid files are stored once (a restart does not duplicate them), a bad
 * file is reported in one line naming it and does not stop the others.
 */
import { describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { call, ROOT, startServe, stopServe, tempDir } from "../packages/api/test/helpers.js";

async function scenarioNames(base: string, expected: number): Promise<string[]> {
  for (let k = 0; k < 100; k++) {
    const r = await call(base, "/api/scenarios?limit=100");
    if (r.body.total >= expected) return (r.body.items as { name: string }[]).map((s) => s.name).sort();
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error("scenarios were not loaded in 10 s");
}

describe("tollkit serve --scenarios", () => {
  it("loads valid scenario files once and reports a bad one by name", async () => {
    const dir = join(tempDir(), "scenarios");
    mkdirSync(dir);
    copyFileSync(join(ROOT, "scenarios", "braess.json"), join(dir, "braess.json"));
    copyFileSync(join(ROOT, "scenarios", "two-route-linear.json"), join(dir, "two-route-linear.json"));
    writeFileSync(join(dir, "broken.json"), JSON.stringify({ name: "broken", network: "two-route", objective: { kind: "nope" } }));
    const db = join(tempDir(), "serve.db");

    let srv = await startServe(db, ["--scenarios", dir]);
    try {
      expect(await scenarioNames(srv.url, 2)).toEqual(["braess", "two-route-linear"]);
      await new Promise((res) => setTimeout(res, 300));
      // the unknown field (a typo of objective.type) is named before the fields it leaves missing
      expect(srv.stderr()).toMatch(/broken\.json: api: leader\/scenario: .*field "objective\.kind": unknown field "kind".*skipped/);
    } finally {
      await stopServe(srv);
    }

    srv = await startServe(db, ["--scenarios", dir]);
    try {
      await new Promise((res) => setTimeout(res, 1000));
      const names = await scenarioNames(srv.url, 2);
      expect(names).toEqual(["braess", "two-route-linear"]);
    } finally {
      await stopServe(srv);
    }
  });
});
