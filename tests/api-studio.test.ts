/**
 * The studio's routes against the app in-process (127.0.0.1, a real SQLite file):
 * `POST /api/scenarios/check` answers every problem of a draft scenario with its JSON path, the
 * way `tollkit design` (the leader's parseScenario and resolveInstrument) reports it, and the
 * links its instrument tolls — checked against the leader's own resolution of the same instrument.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Server } from "node:http";
import { builtinNetwork } from "@tollkit/graph-core";
import { parseScenario, resolveInstrument } from "@tollkit/leader";
import { createApp, openStore, Store, TollkitApp } from "@tollkit/api";
import { call, tempDir } from "../packages/api/test/helpers.js";

const TOKEN = "studio-token";
let store: Store;
let tk: TollkitApp;
let server: Server;
let base: string;

beforeAll(async () => {
  store = openStore(join(tempDir(), "studio.db"));
  tk = createApp({ store, token: TOKEN, webDir: null, log: () => {} });
  server = tk.app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await tk?.close(2000);
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  store?.close();
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
