/**
 * The API bounds the work one request can ask for and who may ask (issue 15), against a real
 * server (the app in-process on 127.0.0.1, a real SQLite file):
 * - grid points, solve budgets, time limits and inline networks (nodes, links, zones, OD pairs)
 *   above the server's limits are refused before anything is queued or stored, each naming the
 *   JSON path, the limit and the `tollkit serve` option that raises it; the server keeps serving;
 * - a Host that is not this server's (DNS rebinding) and a write from a foreign Origin are 403;
 * - responses are compressed when the client accepts gzip;
 * - `tollkit serve --host 0.0.0.0` without a token is refused unless --allow-anonymous-writes.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { call, InProcessApp, startApp, tempDir } from "../packages/api/test/helpers.js";
import { tollkit } from "./helpers/cli.js";

let app: InProcessApp;
let base: string;

const LIMITS = { maxGridPoints: 100, maxSolves: 500, maxRunSeconds: 60, maxInlineLinks: 50, maxInlineZones: 4, maxInlineOdPairs: 6 };

beforeAll(async () => {
  app = await startApp({ limits: LIMITS, publicOrigins: ["tolls.example.org"] });
  ({ base } = app);
});

afterAll(async () => {
  await app?.stop(500);
});

/** A raw request with any headers (fetch would not let a test set Host). */
function raw(
  path: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: any; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const scenario = (over: Record<string, unknown>) => ({
  network: "two-route",
  instrument: { type: "links", links: [1], bounds: { min: 0, max: 10 } },
  objective: { type: "tstt" },
  method: { type: "gradient" },
  ...over,
});

/** An inline two-route-like network with `zones` zones and `pairs` demand entries. */
function inline(zones: number, pairs: number, extraLinks = 0) {
  const nodes = Array.from({ length: Math.max(zones, 2) }, (_, k) => ({ id: k + 1 }));
  const links = [{ from: 1, to: 2, freeFlowTime: 10 }, ...Array.from({ length: extraLinks }, () => ({ from: 1, to: 2, freeFlowTime: 15 }))];
  const demand = Array.from({ length: pairs }, (_, k) => [1, 2, k + 1]);
  return { name: "inline", zones, nodes, links, demand };
}

interface Case {
  name: string;
  body: unknown;
  route?: string;
  status: number;
  path: string;
  option: string;
}

const cases: Case[] = [];
// grid points: one and two axes, at and over the limit
for (const points of [101, 200, 5e7, [11, 10], [20, 20], [1000, 1000]])
  cases.push({
    name: `a grid of ${JSON.stringify(points)} points`,
    body: scenario({ method: { type: "grid", points } }),
    status: 400,
    path: "method.points",
    option: "--max-grid-points",
  });
// solve budgets
for (const [type, maxSolves] of [
  ["gradient", 501],
  ["gradient", 1e6],
  ["derivative-free", 600],
  ["derivative-free", 50_000],
] as const)
  cases.push({
    name: `a ${type} budget of ${maxSolves} solves`,
    body: scenario({ method: { type, maxSolves } }),
    status: 400,
    path: "method.maxSolves",
    option: "--max-solves",
  });
// the follower's own time limit
for (const maxSeconds of [61, 3600, 1e9])
  cases.push({
    name: `follower.maxSeconds ${maxSeconds}`,
    body: scenario({ follower: { maxSeconds } }),
    status: 400,
    path: "follower.maxSeconds",
    option: "--max-run-seconds",
  });
// inline networks: zones, OD pairs, links
for (const zones of [5, 50, 20_000, 1e15])
  cases.push({
    name: `an inline network of ${zones} zones`,
    body: scenario({ network: { ...inline(2, 1), zones } }),
    status: 413,
    path: "network.zones",
    option: "--max-inline-zones",
  });
for (const pairs of [7, 100, 10_000])
  cases.push({
    name: `an inline network with ${pairs} OD pairs`,
    body: scenario({ network: inline(2, pairs) }),
    status: 413,
    path: "network.demand",
    option: "--max-inline-od-pairs",
  });
for (const extra of [50, 500])
  cases.push({
    name: `an inline network with ${extra + 1} links`,
    body: scenario({ network: inline(2, 1, extra) }),
    status: 413,
    path: "network.links",
    option: "--max-inline-links",
  });

describe("work above the server's limits is refused before anything is queued", () => {
  for (const c of cases) {
    for (const [route, wrap, prefix] of [
      ["/api/scenarios", (b: unknown) => b, ""],
      ["/api/runs", (b: unknown) => ({ kind: "design", scenario: b }), "scenario."],
    ] as const)
      it(`${c.name} (${route})`, async () => {
        const before = { runs: (await call(base, "/api/runs")).body.total, scenarios: (await call(base, "/api/scenarios")).body.total };
        const r = await call(base, route, { method: "POST", json: wrap(c.body) });
        expect(r.status, r.text).toBe(c.status);
        expect(r.body.error.path).toBe(`${prefix}${c.path}`);
        expect(r.body.error.message).toContain(`tollkit serve ${c.option}`);
        expect(r.body.error.message).toMatch(/this server's limit/);
        // nothing stored, nothing queued, the server alive
        expect((await call(base, "/api/runs")).body.total).toBe(before.runs);
        expect((await call(base, "/api/scenarios")).body.total).toBe(before.scenarios);
        expect((await call(base, "/api/health")).status).toBe(200);
      });
  }

  it("settings.maxSeconds above the limit names the option too", async () => {
    const r = await call(base, "/api/runs", {
      method: "POST",
      json: { kind: "assign", network: "two-route", settings: { maxSeconds: 61 } },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.path).toBe("settings.maxSeconds");
    expect(r.body.error.message).toContain("tollkit serve --max-run-seconds");
  });

  it("work at the limits is accepted (a 10 × 10 grid, an inline network of 4 zones and 6 OD pairs)", async () => {
    const grid = await call(base, "/api/scenarios", {
      method: "POST",
      json: scenario({
        instrument: { type: "links", links: [1, 2], bounds: { min: 0, max: 10 } },
        method: { type: "grid", points: [10, 10] },
      }),
    });
    expect(grid.status, grid.text).toBe(201);
    const small = await call(base, "/api/scenarios", { method: "POST", json: scenario({ network: inline(4, 6) }) });
    expect(small.status, small.text).toBe(201);
  });
});

describe("unclear messages made clear (issue 15)", () => {
  const clear: [string, string, string, number, RegExp, string?][] = [
    ["a JSON string body", "/api/runs", '"hi"', 400, /request body: got "hi" \(expected a JSON object\)/],
    ["a null body", "/api/runs", "null", 400, /request body: got null \(expected a JSON object\)/],
    ["a number body", "/api/scenarios", "3", 400, /request body: got 3 \(expected a JSON object\)/],
    [
      "scenario given as a string",
      "/api/runs",
      '{"kind":"design","scenario":"1"}',
      400,
      /got "1" \(expected a stored scenario's id \(an integer ≥ 1\) or a scenario object\)/,
      "scenario",
    ],
    [
      "a scenario without a network",
      "/api/scenarios",
      '{"instrument":{"type":"links","links":[1]},"objective":{"type":"tstt"},"method":{"type":"grid"}}',
      400,
      /field "network": got nothing \(expected a catalogue or built-in network id, or an inline network object\)/,
      "network",
    ],
    [
      "a typo of network",
      "/api/scenarios",
      '{"netwrok":"two-route","instrument":{"type":"links","links":[1]},"objective":{"type":"tstt"},"method":{"type":"grid"}}',
      400,
      /unknown field "netwrok"/,
      "netwrok",
    ],
  ];
  for (const [name, route, body, status, message, path] of clear)
    it(name, async () => {
      const r = await raw(route, "POST", { host: "127.0.0.1", "content-type": "application/json" }, body);
      expect(r.status).toBe(status);
      const e = JSON.parse(r.body.toString()).error;
      expect(e.message).toMatch(message);
      expect(e.message).not.toMatch(/Invalid input|not valid JSON/);
      if (path) expect(e.path).toBe(path);
    });
});

describe("who may reach the server", () => {
  const hostCases: [string, Record<string, string>, number][] = [
    ["a rebinding host", { host: "evil.example.com" }, 403],
    ["a rebinding host with a port", { host: "evil.example.com:8080" }, 403],
    ["an internal address as host", { host: "10.1.2.3:8080" }, 403],
    ["localhost", { host: "localhost" }, 200],
    ["127.0.0.1 with the port", { host: "127.0.0.1:1234" }, 200],
    ["[::1]", { host: "[::1]:8080" }, 200],
    ["the configured public origin", { host: "tolls.example.org" }, 200],
  ];
  for (const [name, headers, status] of hostCases)
    it(`GET /api/health with ${name}: ${status}`, async () => {
      const r = await raw("/api/health", "GET", headers);
      expect(r.status).toBe(status);
      if (status === 403) expect(JSON.parse(r.body.toString()).error.message).toMatch(/does not answer to the host.*--public-origin/);
    });

  const originCases: [string, string, number][] = [
    ["a foreign origin", "http://evil.example.com", 403],
    ["a look-alike origin", "http://127.0.0.1.evil.example.com", 403],
    ["the public origin", "https://tolls.example.org", 201],
    ["this server", "__self__", 201],
  ];
  for (const [name, origin, status] of originCases)
    it(`POST /api/scenarios from ${name}: ${status}`, async () => {
      const o = origin === "__self__" ? base : origin;
      const r = await raw(
        "/api/scenarios",
        "POST",
        { host: new URL(base).host, origin: o, "content-type": "application/json" },
        JSON.stringify(scenario({})),
      );
      expect(r.status).toBe(status);
    });

  it("responses are gzip-compressed for clients that accept it", async () => {
    const r = await raw("/api/openapi.json", "GET", { host: "127.0.0.1", "accept-encoding": "gzip" });
    expect(r.status).toBe(200);
    expect(r.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(gunzipSync(r.body).toString()).openapi).toMatch(/^3\.1/);
  });

  it("serve --host 0.0.0.0 without a token is refused; --allow-anonymous-writes says it out loud", () => {
    const r = tollkit("serve", "--host", "0.0.0.0", "--port", "0", "--db", join(tempDir(), "x.db"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "--host": listening on 0\.0\.0\.0 without a token.*--allow-anonymous-writes/);
  });
});
