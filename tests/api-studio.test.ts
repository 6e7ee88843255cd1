/**
 * The studio's routes against the app in-process (127.0.0.1, a real SQLite file):
 * `POST /api/scenarios/check` answers every problem of a draft scenario with its JSON path, the
 * way `tollkit design` (the leader's parseScenario and resolveInstrument) reports it, and the
 * links its instrument tolls — checked against the leader's own resolution of the same instrument.
 * `DELETE /api/runs/:id` deletes a finished run (its result rows go, its id is never given again,
 * every route then answers 404) and refuses a live one (409: cancel it first).
 * A done run's kept answer is sent before Express (`tk.handle`) with Express's own status,
 * headers and bytes.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { builtinNetwork } from "@tollkit/graph-core";
import { parseScenario, resolveInstrument } from "@tollkit/leader";
import type { Store } from "@tollkit/api";
import { call, InProcessApp, startApp, waitForRun } from "../packages/api/test/helpers.js";

const TOKEN = "studio-token";
let store: Store;
let app: InProcessApp;
let base: string;

beforeAll(async () => {
  app = await startApp({ token: TOKEN });
  ({ store, base } = app);
});

afterAll(async () => {
  await app?.stop(2000);
});

const check = (json: unknown) => call(base, "/api/scenarios/check", { method: "POST", json });
const draft = {
  network: "grid-city",
  instrument: { type: "link-types", linkTypes: [1], bounds: { min: 0, max: 10 } },
  objective: { type: "tstt" },
  method: { type: "grid", points: 3 },
};

describe("POST /api/scenarios/check", () => {
  it("accepts a valid draft without a token and lists the links the leader tolls", async () => {
    const r = await check(draft);
    expect(r.status).toBe(200);
    expect(r.body.valid).toBe(true);
    expect(r.body.issues).toEqual([]);
    const ins = resolveInstrument(builtinNetwork("grid-city"), parseScenario(draft).instrument);
    expect(r.body.links).toEqual(Array.from(ins.links, (a) => a + 1));
    expect(r.body.variables).toBe(ins.variables.length);
    // nothing was stored
    expect((await call(base, "/api/scenarios")).body.total).toBe(0);
  });

  it("reports every schema problem with its JSON path", async () => {
    const r = await check({
      ...draft,
      demandScale: -1,
      classes: [{ name: "car", valueOfTime: 0 }],
      objective: { type: "speed" },
    });
    expect(r.status).toBe(200);
    expect(r.body.valid).toBe(false);
    const paths = r.body.issues.map((i: any) => i.path).sort();
    expect(paths).toEqual(["classes[0].valueOfTime", "demandScale", "objective.type"]);
    expect(r.body.issues.find((i: any) => i.path === "objective.type").message).toContain('"revenue"');
  });

  it("reports checks across fields and on the network at their paths, as tollkit design does", async () => {
    const noMax = await check({ ...draft, instrument: { type: "links", links: [1, 2], bounds: { min: 0 } } });
    expect(noMax.body).toMatchObject({ valid: false, issues: [{ path: "instrument.bounds.max" }] });
    expect(noMax.body.issues[0].message).toContain("needs an upper toll bound");
    const links = builtinNetwork("grid-city").linkCount;
    const missing = await check({ ...draft, instrument: { type: "links", links: [1, links + 1], bounds: { min: 0, max: 5 } } });
    expect(missing.body).toMatchObject({ valid: false, issues: [{ path: "instrument.links[1]" }] });
    expect(missing.body.issues[0].message).toContain(`${links} links`);
    const unknown = await check({ ...draft, network: "atlantis" });
    expect(unknown.body).toMatchObject({ valid: false, issues: [{ path: "network" }] });
  });

  it("refuses a body that is not a JSON object", async () => {
    const r = await call(base, "/api/scenarios/check", { method: "POST", json: [1, 2] });
    expect(r.status).toBe(400);
  });
});

describe("PATCH /api/runs/:id", () => {
  it("names a run (with the token), clears the name, and refuses what is not a name", async () => {
    const created = await call(base, "/api/runs", {
      method: "POST",
      token: TOKEN,
      json: { kind: "assign", network: "two-route", settings: { gap: 1e-6 } },
    });
    expect(created.status).toBe(202);
    const id = created.body.id;
    const patch = (json: unknown, token: string | null = TOKEN) =>
      call(base, `/api/runs/${id}`, { method: "PATCH", json, token: token ?? undefined });
    expect((await patch({ name: "baseline, gap 1e-6" }, null)).status).toBe(401);
    const named = await patch({ name: "  baseline, gap 1e-6 " });
    expect(named.status).toBe(200);
    expect(named.body).toMatchObject({ id, name: "baseline, gap 1e-6" });
    expect((await call(base, `/api/runs/${id}`)).body.name).toBe("baseline, gap 1e-6");
    expect((await call(base, "/api/runs")).body.items.find((r: any) => r.id === id).name).toBe("baseline, gap 1e-6");
    expect((await patch({ name: null })).body.name).toBeNull();
    // a done run's answer is kept encoded: a new name still shows at once, gzip or not
    const done = await waitForRun(base, id);
    expect(done).toMatchObject({ status: "done", name: null });
    expect((await call(base, `/api/runs/${id}`)).body).toEqual(done);
    await patch({ name: "after it finished" });
    const renamed = (await call(base, `/api/runs/${id}`)).body;
    expect(renamed).toEqual({ ...done, name: "after it finished" });
    const plain = await fetch(`${base}/api/runs/${id}`, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(plain.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await plain.json()).toEqual(renamed);
    const bad = await patch({ name: 7 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.path).toBe("name");
    expect((await call(base, "/api/runs/99999", { method: "PATCH", json: { name: "x" }, token: TOKEN })).status).toBe(404);
  });
});

/** A GET with raw bytes (not decoded) and every header, as the server sent them. */
function rawGet(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const { date: _date, connection: _c, "keep-alive": _k, ...rest } = res.headers;
        resolve({ status: res.statusCode!, headers: rest, bytes: Buffer.concat(chunks) });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("a done run's kept answer, sent before the framework", () => {
  it("has Express's status, headers and bytes, gzip or not; anything else still goes to Express", async () => {
    const id = (await call(base, "/api/runs", { method: "POST", json: { kind: "assign", network: "two-route" }, token: TOKEN })).body
      .id as number;
    expect((await waitForRun(base, id)).status).toBe("done");
    await call(base, `/api/runs/${id}`); // the answer is kept from here on
    const express = vi.spyOn(app.tk.app, "handle");
    try {
      const encodings: [string, string | undefined][] = [
        ["gzip", "gzip"],
        ["identity", undefined],
        ["gzip;q=0, identity", undefined],
        ["br, gzip;q=0.5", "gzip"],
      ];
      for (const [encoding, sent] of encodings) {
        const h = { "accept-encoding": encoding };
        // a query string sends the request to the route's handler through Express
        const viaExpress = await rawGet(`/api/runs/${id}?convergence=false`, h);
        expect(express).toHaveBeenCalledTimes(1);
        const direct = await rawGet(`/api/runs/${id}`, h);
        expect(express).toHaveBeenCalledTimes(1);
        expect(direct.status).toBe(200);
        expect(direct.headers).toEqual(viaExpress.headers);
        expect(direct.bytes.equals(viaExpress.bytes)).toBe(true);
        expect(direct.headers["content-encoding"]).toBe(sent);
        express.mockClear();
      }
      // a renamed run is no longer the kept answer: Express answers with the new name, then keeps it
      await call(base, `/api/runs/${id}`, { method: "PATCH", json: { name: "kept" }, token: TOKEN });
      expect((await call(base, `/api/runs/${id}`)).body.name).toBe("kept");
      expect(express).toHaveBeenCalledTimes(2);
      expect((await call(base, `/api/runs/${id}`)).body.name).toBe("kept");
      expect(express).toHaveBeenCalledTimes(2);
      // the Host rule, an unknown run and a bad id are Express's answers, as before
      expect((await rawGet(`/api/runs/${id}`, { host: "rebind.example" })).status).toBe(403);
      expect((await call(base, "/api/runs/99999")).status).toBe(404);
      expect((await call(base, "/api/runs/abc")).status).toBe(400);
      expect(express).toHaveBeenCalledTimes(5);
    } finally {
      express.mockRestore();
    }
  });
});

describe("DELETE /api/runs/:id?purge=true", () => {
  const post = (path: string, json?: unknown) => call(base, path, { method: "POST", json, token: TOKEN });
  const del = (id: number, token: string | null = TOKEN) =>
    call(base, `/api/runs/${id}?purge=true`, { method: "DELETE", token: token ?? undefined });
  const rows = (table: "results" | "od_results", id: number) =>
    (store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE run_id = ?`).get(id) as { n: number }).n;

  it("deletes a finished run and its results; the id is never reused; a live run must be cancelled first", async () => {
    const a = (await post("/api/runs", { kind: "assign", network: "two-route", settings: { gap: 1e-8 } })).body.id as number;
    expect((await waitForRun(base, a)).status).toBe("done");
    // fill the caches keyed by the run's id (GeoJSON of its flows, its skims)
    expect((await call(base, `/api/runs/${a}/flows?format=geojson`)).status).toBe(200);
    expect((await call(base, `/api/runs/${a}/skims`)).status).toBe(200);
    expect(rows("results", a)).toBe(1);
    expect(rows("od_results", a)).toBe(1);

    // a live run is refused with 409 and stays as it was
    const long = (
      await post("/api/runs", { kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", gap: 1e-14, maxSeconds: 120 } })
    ).body.id as number;
    const refused = await del(long);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      new RegExp(`run ${long} is (queued|running): cancel it first \\(DELETE /api/runs/${long} without purge\\)`),
    );
    expect(["queued", "running"]).toContain((await call(base, `/api/runs/${long}`)).body.status);
    expect((await post(`/api/runs/${long}/cancel`)).body.status).toBe("cancelled");

    expect((await del(a, null)).status).toBe(401); // a write: it needs the token
    const gone = await del(a);
    expect(gone.status).toBe(204);
    expect(gone.text).toBe("");
    expect(rows("results", a)).toBe(0);
    expect(rows("od_results", a)).toBe(0);
    for (const path of [
      `/api/runs/${a}`,
      `/api/runs/${a}/flows?format=geojson`,
      `/api/runs/${a}/flows?format=csv`,
      `/api/runs/${a}/skims`,
    ]) {
      const r = await call(base, path);
      expect(r.status, path).toBe(404);
      expect(r.body.error.message, path).toBe(`api: run ${a} does not exist`);
    }
    expect((await call(base, `/api/compare?a=${a}&b=${long}`)).status).toBe(404);
    expect((await call(base, `/api/runs/${a}`, { method: "PATCH", json: { name: "x" }, token: TOKEN })).status).toBe(404);
    expect((await del(a)).status).toBe(404); // deleted once only
    expect((await call(base, "/api/runs?limit=1000")).body.items.map((r: any) => r.id)).not.toContain(a);

    // deleting the newest run: the next run still gets a new id (SQLite would reuse the largest)
    expect((await del(long)).status).toBe(204);
    const listed = (await call(base, "/api/runs?limit=1000")).body;
    expect(listed.items.map((r: any) => r.id)).not.toContain(long);
    expect(listed.total).toBe(listed.items.length);
    const next = (await post("/api/runs", { kind: "assign", network: "two-route" })).body.id as number;
    expect(next).toBe(long + 1);
    expect((await waitForRun(base, next)).status).toBe("done");
  });
});
