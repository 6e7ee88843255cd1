/**
 * A design that fails mid-run keeps its finished work through the API: the run is `failed` with
 * the reason, and its best design so far is stored and served (summary with `partial: true`,
 * flows). The error is injected by the test hook TOLLKIT_TEST_FAIL_AFTER_SOLVES, inherited by
 * the run's child process. Braess (demand 6): TSTT 552 without tolls.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { call, ROOT, ServeProcess, startServe, stopServe, tempDir, waitForRun } from "../packages/api/test/helpers.js";
import { tollkit } from "./helpers/cli.js";

let srv: ServeProcess;

beforeAll(async () => {
  srv = await startServe(join(tempDir(), "partial.db"), [], { TOLLKIT_TEST_FAIL_AFTER_SOLVES: "6" });
});

afterAll(async () => {
  if (srv) await stopServe(srv);
});

describe("partial design results through the API", () => {
  it("a design that fails after 6 solves is failed, names why, and keeps the best design so far with its flows", async () => {
    const scenario = JSON.parse(readFileSync(join(ROOT, "scenarios", "braess.json"), "utf8"));
    const posted = await call(srv.url, "/api/runs", { method: "POST", json: { kind: "design", scenario } });
    expect(posted.status, posted.text).toBe(202);
    const run = await waitForRun(srv.url, posted.body.id);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/stopped early.*partial/);
    const s = run.summary;
    expect(s.partial).toBe(true);
    expect(s.error.afterSolves).toBe(6);
    expect(s.baseline).toBeCloseTo(552, 6); // the no-toll Braess equilibrium
    expect(s.value).toBeLessThanOrEqual(s.baseline);
    expect(s.value).toBeCloseTo(s.equilibrium.tstt, 9);
    const flows = await call(srv.url, `/api/runs/${run.id}/flows`);
    expect(flows.status).toBe(200);
    expect(flows.body.links).toHaveLength(5);
    // Σ flow·time of the stored flows is the stored value: the flows are the best design's
    const tstt = flows.body.links.reduce((a: number, l: { flow: number; time: number }) => a + l.flow * l.time, 0);
    expect(tstt).toBeCloseTo(s.value, 6);

    // the CLI with the same hook reports the same best design
    const cli = tollkit("design", "scenarios/braess.json", "--json", { env: { TOLLKIT_TEST_FAIL_AFTER_SOLVES: "6" } });
    expect(cli.code).toBe(1);
    const j = JSON.parse(cli.stdout);
    expect(j.partial).toBe(true);
    expect(j.tolls).toEqual(s.tolls);
    expect(j.value).toBe(s.value);
  });
});
