/**
 * Bad requests against a real server (the app in-process, listening on 127.0.0.1, with a real
 * SQLite file and a bearer token configured): every one gets the right 4xx with a JSON error
 * naming what is wrong (and the JSON path where there is one), never a stack trace, and the
 * server keeps serving (a health check after each). Also: the OpenAPI document describes
 * exactly the routes of DESIGN.md, and an internal error is a bare 500.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request as httpRequest } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunQueue } from "@tollkit/api";
import { call, InProcessApp, startApp, tempDir } from "../packages/api/test/helpers.js";

const TOKEN = "s3cret-token";
let app: InProcessApp;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  const web = join(dir, "web");
  mkdirSync(web);
  writeFileSync(join(web, "index.html"), "<!doctype html><title>tollkit</title>");
  writeFileSync(join(dir, "secret.txt"), "TOP-SECRET");
  app = await startApp({ token: TOKEN, bodyLimit: "16kb", maxRunSeconds: 120, maxInlineLinks: 50, maxQueued: 1, webDir: web });
  ({ base } = app);
});

afterAll(async () => {
  await app?.stop(2000);
});

/** A raw request (no URL normalisation by fetch). */
function raw(path: string, method = "GET", body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (path: string, json: unknown) => call(base, path, { method: "POST", json, token: TOKEN });
const validScenario = {
  network: "two-route",
  instrument: { type: "links", links: [1], bounds: { min: 0, max: 10 } },
  objective: { type: "tstt" },
  method: { type: "gradient" },
};

interface Case {
  name: string;
  send: () => Promise<{ status: number; body?: any; text: string }>;
  status: number;
  /** JSON path named in the error, when there is one. */
  path?: string;
  /** Text the message must contain. */
  message?: RegExp;
}

const cases: Case[] = [
  // authentication of writes
  {
    name: "POST /api/runs without a token",
    send: () => call(base, "/api/runs", { method: "POST", json: { kind: "assign", network: "two-route" } }),
    status: 401,
    message: /bearer token/,
  },
  {
    name: "POST /api/runs with a wrong token",
    send: () => call(base, "/api/runs", { method: "POST", json: { kind: "assign", network: "two-route" }, token: "nope" }),
    status: 401,
    message: /not valid/,
  },
  {
    name: "POST /api/scenarios without a token",
    send: () => call(base, "/api/scenarios", { method: "POST", json: validScenario }),
    status: 401,
  },
  { name: "DELETE /api/runs/1 without a token", send: () => call(base, "/api/runs/1", { method: "DELETE" }), status: 401 },
  { name: "POST /api/runs/1/cancel without a token", send: () => call(base, "/api/runs/1/cancel", { method: "POST" }), status: 401 },
  {
    name: "a Basic instead of a Bearer authorization",
    send: () => call(base, "/api/runs", { method: "POST", json: {}, headers: { authorization: "Basic Zm9vOmJhcg==" } }),
    status: 401,
  },
  // the body itself
  {
    name: "malformed JSON",
    send: () =>
      call(base, "/api/runs", { method: "POST", body: '{"kind": "assign",', headers: { "content-type": "application/json", ...auth } }),
    status: 400,
    message: /not valid JSON/,
  },
  {
    name: "a body that is not JSON (text/plain)",
    send: () => call(base, "/api/runs", { method: "POST", body: "kind=assign", headers: { "content-type": "text/plain", ...auth } }),
    status: 415,
    message: /application\/json/,
  },
  { name: "no body at all", send: () => call(base, "/api/runs", { method: "POST", headers: auth }), status: 400, message: /missing/ },
  { name: "a JSON array instead of an object", send: () => post("/api/runs", []), status: 400, message: /expected object/ },
  {
    name: "a bare JSON string (strict JSON bodies)",
    send: () => call(base, "/api/runs", { method: "POST", body: '"assign"', headers: { "content-type": "application/json", ...auth } }),
    status: 400,
  },
  {
    name: "an oversized body",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", pad: "x".repeat(40_000) }),
    status: 413,
    message: /too large/,
  },
  // run requests
  { name: "kind missing", send: () => post("/api/runs", { network: "two-route" }), status: 400, path: "kind" },
  { name: "an unknown kind", send: () => post("/api/runs", { kind: "simulate", network: "two-route" }), status: 400, path: "kind" },
  {
    name: "an unknown network",
    send: () => post("/api/runs", { kind: "assign", network: "atlantis" }),
    status: 400,
    path: "network",
    message: /unknown network "atlantis"/,
  },
  {
    name: "a relative path as network (traversal)",
    send: () => post("/api/runs", { kind: "assign", network: "../../etc/passwd" }),
    status: 400,
    path: "network",
    message: /file path/,
  },
  {
    name: "an absolute path as network",
    send: () => post("/api/runs", { kind: "assign", network: "/work/shared/networks/SiouxFalls/SiouxFalls_net.tntp" }),
    status: 400,
    path: "network",
    message: /file path/,
  },
  {
    name: "an id with a traversal tail",
    send: () => post("/api/runs", { kind: "assign", network: "sioux-falls/../../x" }),
    status: 400,
    path: "network",
  },
  {
    name: "a network that is a number",
    send: () => post("/api/runs", { kind: "assign", network: 42 }),
    status: 400,
    path: "network",
    message: /got number/,
  },
  {
    name: "an unsupported catalogue network (munich)",
    send: () => post("/api/runs", { kind: "assign", network: "munich" }),
    status: 400,
    path: "network",
    message: /not supported/,
  },
  {
    name: "a negative gap",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { gap: -1 } }),
    status: 400,
    path: "settings.gap",
  },
  {
    name: "a gap given as a string",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { gap: "1e-4" } }),
    status: 400,
    path: "settings.gap",
  },
  {
    name: "an unknown algorithm",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { algorithm: "dijkstra" } }),
    status: 400,
    path: "settings.algorithm",
  },
  {
    name: "a fractional maxIterations",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { maxIterations: 1.5 } }),
    status: 400,
    path: "settings.maxIterations",
  },
  {
    name: "maxSeconds above the server's limit",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { maxSeconds: 100_000 } }),
    status: 400,
    path: "settings.maxSeconds",
    message: /limit of 120/,
  },
  {
    name: "a toll on link 0",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { tolls: [{ link: 0, toll: 1 }] } }),
    status: 400,
    path: "settings.tolls[0].link",
  },
  {
    name: "a toll on a link the network lacks",
    send: () =>
      post("/api/runs", {
        kind: "assign",
        network: "two-route",
        settings: {
          tolls: [
            { link: 1, toll: 1 },
            { link: 3, toll: 1 },
          ],
        },
      }),
    status: 400,
    path: "settings.tolls[1].link",
    message: /2 links/,
  },
  {
    name: "a negative toll",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { tolls: [{ link: 1, toll: -5 }] } }),
    status: 400,
    path: "settings.tolls[0].toll",
  },
  {
    name: "a link tolled twice",
    send: () =>
      post("/api/runs", {
        kind: "assign",
        network: "two-route",
        settings: {
          tolls: [
            { link: 1, toll: 1 },
            { link: 1, toll: 2 },
          ],
        },
      }),
    status: 400,
    path: "settings.tolls[1].link",
  },
  {
    name: "user classes: an empty list",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { classes: [] } }),
    status: 400,
    path: "settings.classes",
  },
  {
    name: "user classes: a misspelt key",
    send: () =>
      post("/api/runs", { kind: "assign", network: "two-route", settings: { classes: [{ name: "car", demandShare: 1, pcu: 2 }] } }),
    status: 400,
    path: "settings.classes[0].pcu",
  },
  {
    name: "user classes: a zero PCE",
    send: () =>
      post("/api/runs", { kind: "assign", network: "two-route", settings: { classes: [{ name: "car", demandShare: 1, pce: 0 }] } }),
    status: 400,
    path: "settings.classes[0].pce",
  },
  {
    name: "user classes: no demand",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { classes: [{ name: "car", pce: 1 }] } }),
    status: 400,
    path: "settings.classes[0].demandScale",
    message: /no demand given/,
  },
  {
    name: "user classes: a duplicate name",
    send: () =>
      post("/api/runs", {
        kind: "assign",
        network: "two-route",
        settings: {
          classes: [
            { name: "car", demandShare: 0.5 },
            { name: "car", demandShare: 0.5 },
          ],
        },
      }),
    status: 400,
    path: "settings.classes[1].name",
    message: /duplicate class name "car"/,
  },
  {
    name: "user classes: demand shares above 1",
    send: () =>
      post("/api/runs", {
        kind: "assign",
        network: "two-route",
        settings: {
          classes: [
            { name: "car", demandShare: 0.7 },
            { name: "truck", demandShare: 0.4 },
          ],
        },
      }),
    status: 400,
    path: "settings.classes[1].demandShare",
    message: /add up to 1\.1/,
  },
  {
    name: "user classes: demand shares adding up to 0.95",
    send: () =>
      post("/api/runs", {
        kind: "assign",
        network: "two-route",
        settings: {
          classes: [
            { name: "car", demandShare: 0.85 },
            { name: "truck", demandShare: 0.1 },
          ],
        },
      }),
    status: 400,
    path: "settings.classes",
    message: /request body, field "settings\.classes": the demand shares add up to 0\.95 \(expected shares summing to 1\)/,
  },
  {
    name: "user classes: a share and a scale",
    send: () =>
      post("/api/runs", {
        kind: "assign",
        network: "two-route",
        settings: { classes: [{ name: "car", demandShare: 0.5, demandScale: 1 }] },
      }),
    status: 400,
    path: "settings.classes[0].demandShare",
    message: /both demandScale and demandShare given \(expected one of them\)/,
  },
  {
    name: "user classes: an unknown key names what is allowed",
    send: () =>
      post("/api/runs", { kind: "assign", network: "two-route", settings: { classes: [{ name: "car", demandShare: 1, vot: 2 }] } }),
    status: 400,
    path: "settings.classes[0].vot",
    message: /field "settings\.classes\[0\]\.vot": unknown field "vot"/,
  },
  {
    name: "a design with inline scenario classes whose shares add up to 0.95",
    send: () =>
      post("/api/runs", {
        kind: "design",
        scenario: {
          ...validScenario,
          classes: [
            { name: "car", valueOfTime: 1, share: 0.85 },
            { name: "truck", valueOfTime: 2, share: 0.1 },
          ],
        },
      }),
    status: 400,
    path: "scenario.classes",
    message: /field "scenario\.classes": the demand shares add up to 0\.95/,
  },
  {
    name: "user classes: both valueOfTime and tollFactor",
    send: () =>
      post("/api/runs", {
        kind: "assign",
        network: "two-route",
        settings: { classes: [{ name: "car", demandShare: 1, valueOfTime: 2, tollFactor: 0.5 }] },
      }),
    status: 400,
    path: "settings.classes[0].tollFactor",
  },
  {
    name: "a misspelt setting",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings: { gapp: 1e-4 } }),
    status: 400,
    path: "settings.gapp",
  },
  {
    name: "an unknown top-level field",
    send: () => post("/api/runs", { kind: "assign", network: "two-route", priority: 1 }),
    status: 400,
    path: "priority",
  },
  { name: "a design without a scenario", send: () => post("/api/runs", { kind: "design" }), status: 400, path: "scenario" },
  {
    name: "a design of a scenario that does not exist",
    send: () => post("/api/runs", { kind: "design", scenario: 9999 }),
    status: 400,
    path: "scenario",
    message: /does not exist/,
  },
  {
    name: "a design with an invalid inline scenario",
    send: () => post("/api/runs", { kind: "design", scenario: { ...validScenario, objective: { type: "happiness" } } }),
    status: 400,
    path: "scenario.objective.type",
  },
  // scenarios
  {
    name: "a scenario without an instrument",
    send: () => post("/api/scenarios", { network: "two-route", objective: { type: "tstt" }, method: { type: "gradient" } }),
    status: 400,
    path: "instrument",
  },
  {
    name: "a scenario whose network is a path",
    send: () => post("/api/scenarios", { ...validScenario, network: "../networks/x_net.tntp" }),
    status: 400,
    path: "network",
    message: /file path/,
  },
  {
    name: "a scenario with an inline network above the size limit",
    send: () =>
      post("/api/scenarios", {
        ...validScenario,
        network: {
          name: "big",
          zones: 2,
          nodes: [{ id: 1 }, { id: 2 }],
          links: Array.from({ length: 60 }, () => ({ from: 1, to: 2, freeFlowTime: 1 })),
          demand: [[1, 2, 1]],
        },
      }),
    status: 413,
    path: "network.links",
  },
  {
    name: "a scenario with an inline link to a node that does not exist",
    send: () =>
      post("/api/scenarios", {
        ...validScenario,
        network: {
          name: "bad",
          zones: 2,
          nodes: [{ id: 1 }, { id: 2 }],
          links: [{ from: 1, to: 7, freeFlowTime: 1 }],
          demand: [[1, 2, 1]],
        },
      }),
    status: 400,
    path: "network.links[0].to",
  },
  // reading
  { name: "an unknown run", send: () => call(base, "/api/runs/999999"), status: 404, path: "id", message: /run 999999 does not exist/ },
  { name: "a run id that is not a number", send: () => call(base, "/api/runs/abc"), status: 400, path: "id" },
  { name: "events of an unknown run", send: () => call(base, "/api/runs/424242/events"), status: 404 },
  { name: "a bad flows format", send: () => call(base, "/api/runs/1/flows?format=xml"), status: 400, path: "format" },
  { name: "flows of an unknown run", send: () => call(base, "/api/runs/777/flows?format=csv"), status: 404 },
  { name: "a comparison without b", send: () => call(base, "/api/compare?a=1"), status: 400, path: "b" },
  { name: "a comparison with an unknown run", send: () => call(base, "/api/compare?a=999&b=998"), status: 404, path: "a" },
  { name: "a list with limit 0", send: () => call(base, "/api/runs?limit=0"), status: 400, path: "limit" },
  { name: "a list of an unknown status", send: () => call(base, "/api/runs?status=sleeping"), status: 400, path: "status" },
  { name: "an unknown query parameter", send: () => call(base, "/api/networks?format=xml"), status: 400, path: "format" },
  { name: "an unknown scenario", send: () => call(base, "/api/scenarios/31337"), status: 404 },
  { name: "scenario id 0", send: () => call(base, "/api/scenarios/0"), status: 400, path: "id" },
  { name: "an unknown network", send: () => call(base, "/api/networks/atlantis"), status: 404, message: /unknown network/ },
  {
    name: "an encoded traversal as network id",
    send: () => raw("/api/networks/..%2F..%2Fetc%2Fpasswd").then((r) => ({ ...r, body: JSON.parse(r.text) })),
    status: 400,
    message: /file path/,
  },
  {
    name: "an encoded traversal for a network's GeoJSON",
    send: () => raw("/api/networks/%2e%2e%2f%2e%2e%2fsecret.txt/geojson").then((r) => ({ ...r, body: JSON.parse(r.text) })),
    status: 400,
  },
  { name: "an unknown API route", send: () => call(base, "/api/nothing-here"), status: 404, message: /no route GET \/api\/nothing-here/ },
  {
    name: "a method the route does not have",
    send: () => call(base, "/api/runs", { method: "PUT", json: {}, token: TOKEN }),
    status: 405,
    message: /allowed: POST, GET/,
  },
];

// Generated families of bad requests, on every route they apply to (the hand-written cases above
// cover the messages one by one; these cover the routes).
const ID_ROUTES: [string, (id: string) => Promise<{ status: number; body?: any; text: string }>][] = [
  ["GET /api/runs/:id", (id) => call(base, `/api/runs/${id}`)],
  ["GET /api/runs/:id/flows", (id) => call(base, `/api/runs/${id}/flows`)],
  ["GET /api/runs/:id/events", (id) => call(base, `/api/runs/${id}/events`)],
  ["GET /api/runs/:id/convergence", (id) => call(base, `/api/runs/${id}/convergence`)],
  ["GET /api/runs/:id/skims", (id) => call(base, `/api/runs/${id}/skims`)],
  ["GET /api/runs/:id/select-link", (id) => call(base, `/api/runs/${id}/select-link?links=1`)],
  ["GET /api/scenarios/:id", (id) => call(base, `/api/scenarios/${id}`)],
  ["PATCH /api/runs/:id", (id) => call(base, `/api/runs/${id}`, { method: "PATCH", json: { name: "x" }, token: TOKEN })],
  ["DELETE /api/runs/:id", (id) => call(base, `/api/runs/${id}`, { method: "DELETE", token: TOKEN })],
  ["DELETE /api/runs/:id?purge=true", (id) => call(base, `/api/runs/${id}?purge=true`, { method: "DELETE", token: TOKEN })],
  ["POST /api/runs/:id/cancel", (id) => call(base, `/api/runs/${id}/cancel`, { method: "POST", token: TOKEN })],
];
for (const [route, send] of ID_ROUTES) {
  for (const id of ["abc", "-1", "1.5", "0", "0x10"])
    cases.push({ name: `${route} with id "${id}"`, send: () => send(id), status: 400, path: "id" });
  cases.push({ name: `${route} of an id that does not exist`, send: () => send("999999"), status: 404, message: /999999 does not exist/ });
}
for (const path of [
  "/api/health",
  "/api/openapi.json",
  "/api/networks",
  "/api/networks/two-route",
  "/api/networks/two-route/geojson",
  "/api/scenarios",
  "/api/runs",
  "/api/runs/1/flows",
  "/api/runs/1/convergence",
  "/api/compare?a=1&b=2",
])
  cases.push({
    name: `GET ${path.split("?")[0]} with an unknown query parameter`,
    send: () => call(base, `${path}${path.includes("?") ? "&" : "?"}bogus=1`),
    status: 400,
    path: "bogus",
    message: /unknown field "bogus"/,
  });
for (const [path, q, field] of [
  ["/api/runs", "limit=0", "limit"],
  ["/api/runs", "limit=1001", "limit"],
  ["/api/runs", "limit=ten", "limit"],
  ["/api/runs", "offset=-1", "offset"],
  ["/api/runs", "offset=x", "offset"],
  ["/api/runs", "status=sleeping", "status"],
  ["/api/scenarios", "limit=0", "limit"],
  ["/api/scenarios", "limit=1001", "limit"],
  ["/api/scenarios", "offset=1.5", "offset"],
  ["/api/runs/1/flows", "format=xml", "format"],
  ["/api/compare", "a=x&b=1", "a"],
])
  cases.push({ name: `GET ${path}?${q}`, send: () => call(base, `${path}?${q}`), status: 400, path: field });
for (const [what, settings, field] of [
  ["an algorithm given as a number", { algorithm: 3 }, "settings.algorithm"],
  ["a null algorithm", { algorithm: null }, "settings.algorithm"],
  ["an unknown objective", { objective: "fair" }, "settings.objective"],
  ["an objective given as a number", { objective: 1 }, "settings.objective"],
  ["a zero gap", { gap: 0 }, "settings.gap"],
  ["a gap that is a word", { gap: "small" }, "settings.gap"],
  ["a gap that is an array", { gap: [1e-4] }, "settings.gap"],
  ["zero iterations", { maxIterations: 0 }, "settings.maxIterations"],
  ["negative iterations", { maxIterations: -1 }, "settings.maxIterations"],
  ["fractional iterations", { maxIterations: 1.5 }, "settings.maxIterations"],
  ["iterations as a word", { maxIterations: "ten" }, "settings.maxIterations"],
  ["zero seconds", { maxSeconds: 0 }, "settings.maxSeconds"],
  ["negative seconds", { maxSeconds: -5 }, "settings.maxSeconds"],
  ["seconds as a word", { maxSeconds: "long" }, "settings.maxSeconds"],
  ["seconds above the server's limit", { maxSeconds: 1e9 }, "settings.maxSeconds"],
  ["tolls as a file path", { tolls: "tolls.csv" }, "settings.tolls"],
  ["a toll on link 0", { tolls: [{ link: 0, toll: 1 }] }, "settings.tolls[0].link"],
  ["a toll on a link the network lacks", { tolls: [{ link: 99, toll: 1 }] }, "settings.tolls[0].link"],
  ["a toll that is a word", { tolls: [{ link: 1, toll: "x" }] }, "settings.tolls[0].toll"],
  ["a toll entry without a toll", { tolls: [{ link: 1 }] }, "settings.tolls[0].toll"],
  [
    "a link tolled twice",
    {
      tolls: [
        { link: 1, toll: 1 },
        { link: 1, toll: 2 },
      ],
    },
    "settings.tolls[1].link",
  ],
  ["an unknown setting", { speed: 1 }, "settings.speed"],
] as const)
  cases.push({
    name: `assign settings: ${what}`,
    send: () => post("/api/runs", { kind: "assign", network: "two-route", settings }),
    status: 400,
    path: field,
  });

describe("bad requests get a clear JSON 4xx and the server keeps serving", () => {
  it("has at least 150 cases", () => expect(cases.length).toBeGreaterThanOrEqual(150));

  for (const c of cases) {
    it(`${c.name} → ${c.status}${c.path ? ` (${c.path})` : ""}`, async () => {
      const r = await c.send();
      expect(r.status, r.text).toBe(c.status);
      expect(typeof r.body?.error?.message, r.text).toBe("string");
      expect(r.body.error.message.length).toBeGreaterThan(10);
      if (c.path !== undefined) expect(r.body.error.path, r.text).toBe(c.path);
      if (c.message) expect(r.body.error.message).toMatch(c.message);
      expect(r.text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|node_modules/); // no stack trace
      const h = await call(base, "/api/health");
      expect(h.status).toBe(200);
      expect(h.body.status).toBe("ok");
    });
  }

  it("a 401 says how to authenticate (WWW-Authenticate: Bearer)", async () => {
    const r = await call(base, "/api/runs", { method: "POST", json: { kind: "assign", network: "two-route" } });
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("the token lets writes through; flows of a run that is not done are a 409", async () => {
    const long = await post("/api/runs", {
      kind: "assign",
      network: "sioux-falls",
      settings: { algorithm: "fw", gap: 1e-12, maxSeconds: 60 },
    });
    const queued = await post("/api/runs", { kind: "assign", network: "two-route" });
    expect(long.status).toBe(202);
    expect(queued.status).toBe(202);
    const full = await post("/api/runs", { kind: "assign", network: "two-route" });
    expect(full.status).toBe(429); // maxQueued 1
    expect(full.headers.get("retry-after")).toBe("30");
    expect(full.body.error.message).toMatch(/already waiting/);
    const f = await call(base, `/api/runs/${queued.body.id}/flows`);
    expect(f.status).toBe(409);
    expect(f.body.error.message).toMatch(/queued/);
    const cmp = await call(base, `/api/compare?a=${long.body.id}&b=${queued.body.id}`);
    expect(cmp.status).toBe(409);
    for (const id of [queued.body.id, long.body.id]) {
      const d = await call(base, `/api/runs/${id}/cancel`, { method: "POST", token: TOKEN });
      expect(d.status).toBe(200);
      expect(d.body.status).toBe("cancelled");
    }
  });

  it("static files cannot escape the web folder; unknown pages fall back to the app", async () => {
    for (const p of [
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/assets/../../secret.txt",
    ]) {
      const r = await raw(p, "GET", undefined, { accept: "text/html" });
      expect(r.text).not.toContain("TOP-SECRET");
      expect([200, 400, 403, 404]).toContain(r.status);
    }
    const spa = await raw("/runs/12", "GET", undefined, { accept: "text/html" });
    expect(spa.status).toBe(200);
    expect(spa.text).toContain("<title>tollkit</title>");
    const asset = await raw("/assets/missing.js", "GET", undefined, { accept: "*/*" });
    expect(asset.status).toBe(404);
  });

  it("CORS is off unless configured", async () => {
    const r = await call(base, "/api/health", { headers: { origin: "https://evil.example" } });
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the OpenAPI document", () => {
  it("describes exactly the routes of DESIGN.md, and every $ref resolves", async () => {
    const doc = (await call(base, "/api/openapi.json")).body;
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, o]) => Object.keys(o).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(ops).toEqual(
      [
        "GET /api/health",
        "GET /api/openapi.json",
        "GET /api/networks",
        "GET /api/networks/{id}",
        "GET /api/networks/{id}/geojson",
        "POST /api/scenarios",
        "POST /api/scenarios/check",
        "GET /api/scenarios",
        "GET /api/scenarios/{id}",
        "POST /api/runs",
        "GET /api/runs",
        "GET /api/runs/{id}",
        "PATCH /api/runs/{id}",
        "DELETE /api/runs/{id}",
        "POST /api/runs/{id}/cancel",
        "GET /api/runs/{id}/events",
        "GET /api/runs/{id}/convergence",
        "GET /api/runs/{id}/flows",
        "GET /api/runs/{id}/skims",
        "GET /api/runs/{id}/select-link",
        "GET /api/compare",
        "GET /api/compare/incidence",
      ].sort(),
    );
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) {
      const name = r.slice(8, -1).replace("#/components/schemas/", "");
      expect(doc.components.schemas[name], r).toBeDefined();
    }
    // write operations are marked as needing the bearer token
    expect(doc.paths["/api/runs"].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/api/runs"].get.security).toEqual([]); // public reads say so (issue 15)
    // the run request's settings enumerate the follower's algorithms
    const settings = doc.components.schemas.AssignSettings;
    expect(settings.properties.algorithm.enum).toEqual(["aon", "msa", "fw", "cfw", "bfw", "bush"]);
    expect(settings.additionalProperties).toBe(false);
  });
});

describe("internal errors", () => {
  it("are a bare 500 without details, and the app keeps serving", async () => {
    const failing: RunQueue = {
      concurrency: 1,
      enqueue: () => {
        throw new Error("secret internal detail /srv/x.ts:12");
      },
      cancel: async () => false,
      subscribe: () => () => {},
      stats: () => ({ running: 0, queued: 0, concurrency: 1 }),
      close: async () => {},
    };
    const app2 = await startApp({ queue: failing });
    const b2 = app2.base;
    try {
      const r = await call(b2, "/api/runs", { method: "POST", json: { kind: "assign", network: "two-route" } });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { message: "api: internal error (see the server log)" } });
      expect(r.text).not.toContain("secret");
      expect((await call(b2, "/api/health")).status).toBe(200);
      expect((await call(b2, "/")).body.web).toMatch(/not built/);
    } finally {
      await app2.stop(500);
    }
  });
});
