/**
 * The API's OD routes end to end (a real `tollkit serve` subprocess): skims of any run (paged
 * JSON, streamed CSV), select-link from a bush run's kept bushes, and the incidence of a tolled
 * run against the no-toll run, on Braess's network with a toll of 5 on the shortcut 3→4 (link 4)
 * — closed form: the shortcut carries 16/13, every trip costs 1151/13 (92 without the toll), the
 * revenue is 80/13 — and on Sioux Falls (paging: 552 OD pairs; identities of the totals).
 * Every JSON answer of these routes parses with the schema its route declares (which the
 * OpenAPI document and the web app's generated types come from): no field more, none missing.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createApp, openStore } from "@tollkit/api";
import { call, parseCsv, ServeProcess, startServe, stopServe, tempDir, waitForRun } from "../packages/api/test/helpers.js";

let srv: ServeProcess;
let base: string;

async function run(body: unknown): Promise<number> {
  const r = await call(base, "/api/runs", { method: "POST", json: body });
  expect(r.status, r.text).toBe(202);
  const id = r.body.id as number;
  const done = await waitForRun(base, id);
  expect(done.status, done.error).toBe("done");
  return id;
}

let noToll: number;
let tolled: number;
let fw: number;
let sfBase: number;
let sfTolled: number;

beforeAll(async () => {
  srv = await startServe(join(tempDir(), "api.db"));
  base = srv.url;
  const bush = { algorithm: "bush", gap: 1e-12 };
  noToll = await run({ kind: "assign", network: "braess-builtin", settings: bush });
  tolled = await run({ kind: "assign", network: "braess-builtin", settings: { ...bush, tolls: [{ link: 4, toll: 5 }] } });
  fw = await run({ kind: "assign", network: "braess-builtin", settings: { algorithm: "bfw", gap: 1e-6 } });
  sfBase = await run({ kind: "assign", network: "sioux-falls", settings: { algorithm: "bush", gap: 1e-10 } });
  sfTolled = await run({
    kind: "assign",
    network: "sioux-falls",
    settings: {
      algorithm: "bush",
      gap: 1e-10,
      classes: [{ name: "all", valueOfTime: 1, demandScale: 1 }],
      tolls: [39, 74, 16, 19].map((link) => ({ link, toll: 3 })),
    },
  });
});

afterAll(async () => {
  if (srv) await stopServe(srv);
});

describe("the OD routes' answers", () => {
  it("parse with the schemas their routes declare, strictly", async () => {
    const store = openStore(join(tempDir(), "schemas.db"));
    const tk = createApp({ store, webDir: null, log: () => {}, recover: false });
    try {
      const declared = (path: string) => tk.routes.find((r) => r.method === "get" && r.path === path)!.responses[200].schema!;
      const answers: [string, string][] = [
        ["/api/runs/:id/skims", `/api/runs/${tolled}/skims`],
        ["/api/runs/:id/select-link", `/api/runs/${tolled}/select-link?links=4`],
        ["/api/runs/:id/select-link", `/api/runs/${tolled}/select-link?links=4&by=od`],
        ["/api/runs/:id/select-link", `/api/runs/${sfTolled}/select-link?links=39,74&by=link`],
        ["/api/compare/incidence", `/api/compare/incidence?a=${noToll}&b=${tolled}`],
        ["/api/compare/incidence", `/api/compare/incidence?a=${sfBase}&b=${sfTolled}&by=od&limit=10`],
        ["/api/compare/incidence", `/api/compare/incidence?a=${sfBase}&b=${sfTolled}&by=destination`],
      ];
      for (const [route, url] of answers) {
        const r = await call(base, url);
        expect(r.status, r.text).toBe(200);
        const parsed = declared(route).safeParse(r.body);
        expect(parsed.success, `${url}: ${parsed.error?.message}`).toBe(true);
      }
      // the schemas are strict: a field the answer does not declare is refused
      const inc = (await call(base, `/api/compare/incidence?a=${noToll}&b=${tolled}`)).body;
      expect(declared("/api/compare/incidence").safeParse({ ...inc, rows: [{ ...inc.rows[0], extra: 1 }] }).success).toBe(false);
    } finally {
      await tk.close(0);
      store.close();
    }
  });
});

describe("GET /api/runs/:id/skims", () => {
  it("pages JSON rows and streams skims.csv; a run of any algorithm has skims", async () => {
    const r = await call(base, `/api/runs/${tolled}/skims`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ run: tolled, network: "braess-builtin", rule: "bush-flow-weighted", total: 2, offset: 0 });
    const od = r.body.rows.find((x: any) => x.origin === 1 && x.destination === 2);
    expect(od.cost).toBeCloseTo(1151 / 13, 8);
    expect(od.toll).toBeCloseTo(80 / 13 / 6, 8);
    const f = await call(base, `/api/runs/${fw}/skims`);
    expect(f.body.rule).toBe("shortest-path");
    expect(f.body.rows.find((x: any) => x.origin === 1 && x.destination === 2).cost).toBeCloseTo(92, 3);
    const p = await call(base, `/api/runs/${sfBase}/skims?limit=100&offset=500`);
    expect(p.body.total).toBe(24 * 23);
    expect(p.body.rows).toHaveLength(52);
    const csv = await call(base, `/api/runs/${sfBase}/skims?format=csv`);
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    const t = parseCsv(csv.text);
    expect(t.header).toEqual(["origin", "destination", "class", "demand", "time", "toll", "distance", "cost", "tollCost", "distanceCost"]);
    expect(t.rows).toHaveLength(552);
    const bad = await call(base, `/api/runs/${sfBase}/skims?limit=0`);
    expect(bad.status).toBe(400);
  });
});

describe("GET /api/runs/:id/select-link", () => {
  it("the shortcut's users: by zone, OD pair and link; a run without bushes is 409; bad links are 400", async () => {
    const z = await call(base, `/api/runs/${tolled}/select-link?links=4`);
    expect(z.status, z.text).toBe(200);
    expect(z.body.links).toEqual([4]);
    expect(z.body.classes[0].trips).toBeCloseTo(16 / 13, 8);
    expect(z.body.classes[0].selectedFlow).toBeCloseTo(16 / 13, 8);
    expect(z.body.rows.find((r: any) => r.zone === 1).originFlow).toBeCloseTo(16 / 13, 8);
    const od = await call(base, `/api/runs/${tolled}/select-link?links=4&by=od`);
    expect(od.body.rows).toHaveLength(1);
    expect(od.body.rows[0].trips).toBeCloseTo(16 / 13, 8);
    const l = await call(base, `/api/runs/${tolled}/select-link?links=4&by=link`);
    expect(l.body.total).toBe(5);
    expect(l.body.rows[0].selectLinkFlow).toBeCloseTo(16 / 13, 8);
    expect(l.body.rows[1].selectLinkFlow).toBeCloseTo(0, 8);
    const csv = await call(base, `/api/runs/${tolled}/select-link?links=4&by=od&format=csv`);
    expect(parseCsv(csv.text).header).toEqual(["origin", "destination", "class", "trips", "demand", "share"]);
    const none = await call(base, `/api/runs/${fw}/select-link?links=4`);
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/algorithm "bush"/);
    const bad = await call(base, `/api/runs/${tolled}/select-link?links=9`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.path).toBe("links");
    // no links: the run's tolled links (link 4); a run without tolls has none to select
    const dflt = await call(base, `/api/runs/${tolled}/select-link`);
    expect(dflt.body.links).toEqual([4]);
    expect((await call(base, `/api/runs/${noToll}/select-link`)).status).toBe(400);
    expect((await call(base, `/api/runs/${tolled}/select-link?links=x`)).status).toBe(400);
  });

  it("Sioux Falls: the selected links' flows are the trips' totals", async () => {
    const s = await call(base, `/api/runs/${sfTolled}/select-link?links=39,74&by=link&limit=76`);
    const flows = await call(base, `/api/runs/${sfTolled}/flows`);
    const assigned = flows.body.links[38].flow + flows.body.links[73].flow;
    expect(Math.abs(s.body.classes[0].selectedFlow - assigned) / assigned).toBeLessThan(1e-9);
    expect(Math.abs(s.body.rows[38].selectLinkFlow - flows.body.links[38].flow) / assigned).toBeLessThan(1e-9);
  });
});

describe("GET /api/compare/incidence", () => {
  it("Braess: everyone gains 45/13 per trip and pays 80/78", async () => {
    const r = await call(base, `/api/compare/incidence?a=${noToll}&b=${tolled}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.totals.userCostChange).toBeCloseTo((-45 / 13) * 6, 7);
    expect(r.body.totals.revenueB).toBeCloseTo(80 / 13, 8);
    expect(r.body.rows[0].costChangePerTrip).toBeCloseTo(-45 / 13, 7);
    expect(r.body.winners.map((w: any) => w.origin)).toEqual([1]);
  });

  it("Sioux Falls: totals reconcile; OD rows are paged and streamed as CSV", async () => {
    const r = await call(base, `/api/compare/incidence?a=${sfBase}&b=${sfTolled}&by=od&limit=10`);
    expect(r.status, r.text).toBe(200);
    const t = r.body.totals;
    expect(Math.abs(t.userCostChange - t.totalCostChange) / t.totalCostA).toBeLessThan(1e-9);
    expect(Math.abs(t.resourceCostChange + t.tollCostChange - t.userCostChange) / t.totalCostA).toBeLessThan(1e-12);
    // revenue by zone = the run's revenue
    expect(t.revenueB).toBeGreaterThan(0);
    expect(Math.abs(t.residuals.revenueB)).toBeLessThan(1e-12);
    expect(r.body.total).toBe(528);
    expect(r.body.rows).toHaveLength(10);
    const csv = await call(base, `/api/compare/incidence?a=${sfBase}&b=${sfTolled}&by=od&format=csv`);
    expect(parseCsv(csv.text).rows).toHaveLength(528);
    const other = await call(base, `/api/compare/incidence?a=${noToll}&b=${sfTolled}`);
    expect(other.status).toBe(409);
    const doc = await call(base, "/api/openapi.json");
    for (const p of ["/api/runs/{id}/skims", "/api/runs/{id}/select-link", "/api/compare/incidence"])
      expect(doc.body.paths[p]).toBeDefined();
  });
});
