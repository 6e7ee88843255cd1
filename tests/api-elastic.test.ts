/**
 * Elastic demand through the HTTP API: `settings.demand` of an assign run, validated by the
 * OpenAPI-documented schema, and the summary's `demand` (what the studio's map of trips not made
 * by zone reads). Numbers from the two-route closed form (t1 = 10 + x1, t2 = 15 + 2·x2, q0 = 10,
 * linear demand with rate 0.1, value of time 1): with toll τ = 125/18 on route 1, trips made 65/9.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { call, ServeProcess, startServe, stopServe, tempDir, waitForRun } from "../packages/api/test/helpers.js";

let srv: ServeProcess;
let base: string;

beforeAll(async () => {
  srv = await startServe(join(tempDir(), "api-elastic.db"));
  base = srv.url;
});

afterAll(async () => {
  if (srv) await stopServe(srv);
});

describe("API: assign with elastic demand", () => {
  it("settings.demand gives trips made and not made per zone and welfare in the summary", async () => {
    const settings = {
      algorithm: "bush",
      gap: 1e-12,
      tolls: [{ link: 1, toll: 125 / 18 }],
      classes: [{ name: "car", demandShare: 1, valueOfTime: 1 }],
      demand: { type: "elastic", form: "linear", rate: 0.1 },
    };
    const r = await call(base, "/api/runs", { method: "POST", json: { kind: "assign", network: "two-route", settings } });
    expect(r.status, r.text).toBe(202);
    expect((await waitForRun(base, r.body.id)).status).toBe("done");
    const s = (await call(base, `/api/runs/${r.body.id}`)).body.summary;
    expect(s.demand.tripsMade).toBeCloseTo(65 / 9, 8);
    expect(s.demand.zones[0].zone).toBe(1);
    expect(s.demand.zones[0].tripsNotMade).toBeCloseTo(10 - 65 / 9, 8);
    expect(s.demand.welfare).toBeCloseTo((65 / 9) ** 2 / 2 + (125 / 18) * (25 / 6), 6);
  });

  it("a bad demand is a 400 naming the JSON path; the OpenAPI document describes settings.demand", async () => {
    const r = await call(base, "/api/runs", {
      method: "POST",
      json: { kind: "assign", network: "two-route", settings: { demand: { type: "elastic", form: "cubic", elasticity: 1 } } },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.path).toBe("settings.demand.form");
    const doc = (await call(base, "/api/openapi.json")).body;
    expect(JSON.stringify(doc)).toContain("Elastic demand (the CLI's `--demand-function`)");
  });
});
