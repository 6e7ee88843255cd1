/**
 * The HTTP API end to end, against the built `tollkit serve` running as a subprocess on
 * 127.0.0.1 with a real SQLite file in a temp folder: scenarios, runs followed over SSE to the
 * end, summaries, flows as JSON, CSV and GeoJSON, comparisons, cancellation, graceful shutdown.
 *
 * Expected numbers come from outside the code under test: Braess's UE (TSTT 552, flows
 * 4, 2, 2, 2, 4); the two-route closed forms (t1 = 10 + x1 + toll, t2 = 15 + 2 x2, demand 10:
 * x1 = (25 − toll)/3; the TSTT-minimising toll is 2.5 with TSTT 181.25); Sioux Falls' published
 * best-known flows and Beckmann objective; flow conservation at every node.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadBestKnownFlows, loadCatalogue, loadNetwork, Network } from "@tollkit/graph-core";
import {
  call,
  CLI,
  parseCsv,
  readEvents,
  ROOT,
  ServeProcess,
  startServe,
  stopServe,
  tempDir,
  waitForRun,
} from "../packages/api/test/helpers.js";

let srv: ServeProcess;
let base: string;
let db: string;

beforeAll(async () => {
  db = join(tempDir(), "api.db");
  srv = await startServe(db);
  base = srv.url;
});

afterAll(async () => {
  if (srv) await stopServe(srv);
});

async function startRun(body: unknown): Promise<number> {
  const r = await call(base, "/api/runs", { method: "POST", json: body });
  expect(r.status, r.text).toBe(202);
  expect(r.headers.get("location")).toBe(`/api/runs/${r.body.id}`);
  return r.body.id as number;
}

/** Σ inflow − Σ outflow at every node must equal trips ending there − trips starting there. */
function conservationError(net: Network, flow: number[]): number {
  const balance = new Float64Array(net.nodeCount);
  for (let i = 0; i < net.linkCount; i++) {
    balance[net.links.to[i]] += flow[i];
    balance[net.links.from[i]] -= flow[i];
  }
  const Z = net.zoneCount;
  for (let o = 0; o < Z; o++)
    for (let d = 0; d < Z; d++) {
      const t = net.demand[o * Z + d];
      balance[net.zoneNodes[d]] -= t;
      balance[net.zoneNodes[o]] += t;
    }
  return Math.max(...Array.from(balance, Math.abs));
}

describe("API end to end (tollkit serve subprocess)", () => {
  it("health and the OpenAPI document answer", async () => {
    const h = await call(base, "/api/health");
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: "ok", schemaVersion: 5, authRequired: false, queue: { concurrency: 1 } });
    const doc = await call(base, "/api/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    for (const p of [
      "/api/runs",
      "/api/runs/{id}",
      "/api/runs/{id}/events",
      "/api/runs/{id}/flows",
      "/api/compare",
      "/api/scenarios",
      "/api/networks/{id}/geojson",
    ])
      expect(Object.keys(doc.body.paths)).toContain(p);
    // the user class is the follower's one schema, shown once and referenced by the assign settings
    const schemas = doc.body.components.schemas;
    expect(Object.keys(schemas.UserClass.properties)).toEqual([
      "name",
      "demandShare",
      "share",
      "demandScale",
      "valueOfTime",
      "tollFactor",
      "distanceFactor",
      "pce",
      "tolled",
    ]);
    expect(schemas.UserClass.additionalProperties).toBe(false);
    expect(JSON.stringify(schemas.AssignSettings.properties.classes)).toContain("#/components/schemas/UserClass");
  });

  it("Braess: a run followed over SSE to done, with UE TSTT 552 and flows 4, 2, 2, 2, 4 as JSON, CSV and GeoJSON", async () => {
    const id = await startRun({ kind: "assign", network: "braess-builtin", settings: { algorithm: "fw", gap: 1e-7 } });
    const events = await readEvents(base, id);
    const statuses = events.filter((e) => e.event === "status").map((e) => e.data.status);
    expect(statuses[statuses.length - 1]).toBe("done");
    expect(events[events.length - 1].event).toBe("status"); // the stream ends with the final status
    const progress = events.filter((e) => e.event === "progress").map((e) => e.data);
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(Number.isInteger(p.iteration)).toBe(true);
      expect(p.relativeGap).toBeGreaterThanOrEqual(0);
    }
    for (let k = 1; k < progress.length; k++) expect(progress[k].iteration).toBeGreaterThan(progress[k - 1].iteration);
    const final = events[events.length - 1].data;
    expect(final.summary.tstt).toBeCloseTo(552, 2);

    const run = await call(base, `/api/runs/${id}?convergence=true`);
    expect(run.body.status).toBe("done");
    expect(run.body.summary).toMatchObject({ network: "braess-builtin", algorithm: "fw", objective: "ue", converged: true });
    expect(run.body.summary.relativeGap).toBeLessThanOrEqual(1e-7);
    expect(run.body.convergence.iteration.at(-1)).toBe(run.body.summary.iterations);
    expect(run.body.convergence.relativeGap.at(-1)).toBe(run.body.summary.relativeGap);
    expect(run.body.startedAt <= run.body.finishedAt).toBe(true);

    const flows = await call(base, `/api/runs/${id}/flows?format=json`);
    expect(flows.status).toBe(200);
    const x = flows.body.links.map((l: any) => l.flow);
    [4, 2, 2, 2, 4].forEach((v, i) => expect(x[i]).toBeCloseTo(v, 3));
    expect(conservationError(await loadNetwork("braess-builtin"), x)).toBeLessThan(1e-9);

    const csv = await call(base, `/api/runs/${id}/flows?format=csv`);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const { header, rows } = parseCsv(csv.text);
    expect(header).toEqual(["link", "from", "to", "flow", "time", "cost", "toll", "voc"]);
    expect(rows.map((r) => Number(r[3]))).toEqual(x);
    expect(rows.map((r) => [Number(r[1]), Number(r[2])])).toEqual([
      [1, 3],
      [1, 4],
      [3, 2],
      [3, 4],
      [4, 2],
    ]);

    const gj = await call(base, `/api/runs/${id}/flows?format=geojson`);
    expect(gj.headers.get("content-type")).toMatch(/^application\/geo\+json/);
    expect(gj.body.type).toBe("FeatureCollection");
    expect(gj.body.features).toHaveLength(5);
    gj.body.features.forEach((f: any, i: number) => {
      expect(f.geometry.type).toBe("LineString");
      expect(f.properties.link).toBe(i + 1);
      expect(f.properties.flow).toBe(x[i]);
      expect(f.properties.voc).toBeCloseTo(x[i] / 1, 12); // capacity 1 on every Braess link
      expect(f.properties.time).toBe(flows.body.links[i].time);
      expect(f.properties.toll).toBe(0);
      expect(f.properties.revenue).toBe(0);
    });

    // a late subscriber gets the current (final) state and the stream closes
    const late = await readEvents(base, id, 10_000);
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ event: "status", data: { id, status: "done" } });
  });

  it("two-route: a tolled and an untolled run compared, against the closed form x1 = (25 − toll)/3", async () => {
    const a = await startRun({ kind: "assign", network: "two-route", settings: { algorithm: "bfw", gap: 1e-10 } });
    const b = await startRun({
      kind: "assign",
      network: "two-route",
      settings: { algorithm: "bfw", gap: 1e-10, tolls: [{ link: 1, toll: 4 }] },
    });
    expect((await waitForRun(base, a)).status).toBe("done");
    expect((await waitForRun(base, b)).status).toBe("done");
    const cmp = await call(base, `/api/compare?a=${a}&b=${b}`);
    expect(cmp.status, cmp.text).toBe(200);
    expect(cmp.body).toMatchObject({ a, b, network: "two-route" });
    const x1a = 25 / 3;
    const x1b = (25 - 4) / 3;
    expect(cmp.body.links[0].flowA).toBeCloseTo(x1a, 6);
    expect(cmp.body.links[0].flowB).toBeCloseTo(x1b, 6);
    expect(cmp.body.links[0].flowDifference).toBeCloseTo(x1b - x1a, 6);
    expect(cmp.body.links[1].flowDifference).toBeCloseTo(x1a - x1b, 6); // demand is fixed
    expect(cmp.body.links[0].tollDifference).toBe(4);
    expect(cmp.body.headline.revenue.difference).toBeCloseTo(4 * x1b, 6);
    // TSTT = x1 (10 + x1) + x2 (15 + 2 x2)
    const tstt = (x1: number) => x1 * (10 + x1) + (10 - x1) * (15 + 2 * (10 - x1));
    expect(cmp.body.headline.tstt.a).toBeCloseTo(tstt(x1a), 5);
    expect(cmp.body.headline.tstt.difference).toBeCloseTo(tstt(x1b) - tstt(x1a), 5);
    const gj = await call(base, `/api/runs/${b}/flows?format=geojson`);
    expect(gj.body.features[0].properties.toll).toBe(4);
    expect(gj.body.features[0].properties.revenue).toBeCloseTo(4 * x1b, 6);
  });

  it("two classes over HTTP (settings.classes) against the closed form and the CLI's --classes", async () => {
    // two-route with a toll of 4 on route 1; cars (half the demand, value of time 1) pay it,
    // trucks (the other half, PCE 2) do not. Trucks all take route 1 (10 PCE); cars split where
    // 10 + (10 + a) + 4 = 15 + 2 (5 − a): a = 1/3. Route 1 carries 10 + 1/3 PCE, route 2 14/3;
    // times 20 + 1/3 < 15 + 28/3 for trucks, so they do not move; revenue 4 · 1/3, all from cars.
    const classes = [
      { name: "car", demandShare: 0.5, valueOfTime: 1 },
      { name: "truck", demandShare: 0.5, pce: 2, tolled: false },
    ];
    const settings = { algorithm: "bfw", gap: 1e-12, tolls: [{ link: 1, toll: 4 }], classes };
    const id = await startRun({ kind: "assign", network: "two-route", settings });
    expect((await waitForRun(base, id)).status).toBe("done");
    const run = await call(base, `/api/runs/${id}`);
    const s = run.body.summary;
    expect(s.classes.map((c: any) => c.name)).toEqual(["car", "truck"]);
    expect(s.classes[0].demand).toBeCloseTo(5, 9);
    expect(s.classes[1].demand).toBeCloseTo(5, 9);
    expect(s.classes[0].revenue).toBeCloseTo(4 / 3, 6);
    expect(s.classes[1].revenue).toBe(0);
    expect(s.revenue).toBeCloseTo(4 / 3, 6);
    const flows = await call(base, `/api/runs/${id}/flows?format=json`);
    expect(flows.body.links[0].flow).toBeCloseTo(10 + 1 / 3, 6);
    expect(flows.body.links[1].flow).toBeCloseTo(14 / 3, 6);
    expect(flows.body.links[0].time).toBeCloseTo(20 + 1 / 3, 6);
    const gj = await call(base, `/api/runs/${id}/flows?format=geojson`);
    expect(gj.body.features[0].properties.revenue).toBeCloseTo(4 / 3, 6); // trucks pay nothing

    // the same run from the CLI gives the same summary
    const dir = tempDir();
    writeFileSync(join(dir, "classes.json"), JSON.stringify(classes));
    writeFileSync(join(dir, "tolls.csv"), "link,toll\n1,4\n");
    const cli = spawnSync(
      process.execPath,
      [
        CLI,
        "assign",
        "two-route",
        "--algorithm",
        "bfw",
        "--gap",
        "1e-12",
        "--tolls",
        join(dir, "tolls.csv"),
        "--classes",
        join(dir, "classes.json"),
        "--json",
      ],
      { encoding: "utf8" },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const j = JSON.parse(cli.stdout);
    for (const k of ["iterations", "relativeGap", "tstt", "totalCost", "sptt", "revenue"]) expect(s[k]).toBe(j[k]);
    expect(s.classes).toEqual(j.classes);
  });

  it("a scenario is stored and a design run finds the TSTT-minimising toll 2.5 (TSTT 181.25) on two-route", async () => {
    const scenario = {
      name: "two-route tstt",
      network: "two-route",
      instrument: { type: "links", links: [1], bounds: { min: 0, max: 10 } },
      objective: { type: "tstt" },
      method: { type: "gradient" },
    };
    const created = await call(base, "/api/scenarios", { method: "POST", json: scenario });
    expect(created.status, created.text).toBe(201);
    const sid = created.body.id;
    expect(created.headers.get("location")).toBe(`/api/scenarios/${sid}`);
    const got = await call(base, `/api/scenarios/${sid}`);
    expect(got.body).toMatchObject({ id: sid, name: "two-route tstt", network: "two-route", body: scenario });
    const list = await call(base, "/api/scenarios");
    expect(list.body.items.map((s: any) => s.id)).toContain(sid);

    const id = await startRun({ kind: "design", scenario: sid });
    const events = await readEvents(base, id);
    expect(events[events.length - 1].data.status).toBe("done");
    expect(events.some((e) => e.event === "progress" && typeof e.data.phase === "string")).toBe(true);
    const run = await call(base, `/api/runs/${id}`);
    expect(run.body.summary.tolls[0].link).toBe(1);
    expect(run.body.summary.tolls[0].toll).toBeCloseTo(2.5, 4);
    expect(run.body.summary.tstt).toBeCloseTo(181.25, 4);
    const flows = await call(base, `/api/runs/${id}/flows`);
    expect(flows.body.links[0].flow).toBeCloseTo(7.5, 4); // the system optimum's split
    expect(flows.body.links[0].toll).toBeCloseTo(2.5, 4);
  });

  it("a design on an inline network (two-route written out) gives the same toll, and its flows map", async () => {
    const inline = {
      name: "two-route-inline",
      nodes: [
        { id: 1, x: -0.1, y: 51.5 },
        { id: 2, x: -0.09, y: 51.5 },
      ],
      zones: 2,
      links: [
        { from: 1, to: 2, freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial", length: 1 },
        { from: 1, to: 2, freeFlowTime: 15, b: 2, power: 1, vdf: "polynomial", length: 1.5 },
      ],
      demand: [[1, 2, 10]],
      costWeights: { tollFactor: 1 },
    };
    const id = await startRun({
      kind: "design",
      scenario: {
        network: inline,
        instrument: { type: "links", links: [1], bounds: { min: 0, max: 10 } },
        objective: { type: "tstt" },
        method: { type: "gradient" },
      },
    });
    const done = await waitForRun(base, id);
    expect(done.status, done.error).toBe("done");
    expect(done.network).toBe(`scenario:${done.scenario}`);
    expect(done.summary.tolls[0].toll).toBeCloseTo(2.5, 4);
    const gj = await call(base, `/api/runs/${id}/flows?format=geojson`);
    expect(gj.status).toBe(200);
    expect(gj.body.features.map((f: any) => Math.round(f.properties.flow * 1e4) / 1e4)).toEqual([7.5, 2.5]);
    expect(gj.body.tollkit.frame).toBe("local"); // inline coordinates are not declared lon/lat
  });

  it("a run that fails (a toll instrument on a link the network lacks) is failed with the reason, and the server carries on", async () => {
    const created = await call(base, "/api/scenarios", {
      method: "POST",
      json: {
        network: "two-route",
        instrument: { type: "links", links: [99], bounds: { max: 5 } },
        objective: { type: "revenue" },
        method: { type: "grid" },
      },
    });
    expect(created.status, created.text).toBe(201); // valid until the network is known
    const id = await startRun({ kind: "design", scenario: created.body.id });
    const events = await readEvents(base, id);
    const last = events[events.length - 1].data;
    expect(last.status).toBe("failed");
    expect(last.error).toMatch(/instrument/);
    expect(last.error).toMatch(/99/);
    expect((await call(base, `/api/runs/${id}/flows`)).status).toBe(409);
    expect((await call(base, "/api/health")).body.status).toBe("ok");
  });

  it("Sioux Falls: BFW reaches the gap; Beckmann objective and flows match the published best-known solution", async () => {
    const id = await startRun({ kind: "assign", network: "sioux-falls", settings: { algorithm: "bfw", gap: 1e-5 } });
    const done = await waitForRun(base, id, 300_000);
    expect(done.status, done.error).toBe("done");
    expect(done.summary.relativeGap).toBeLessThanOrEqual(1e-5);
    const best = loadCatalogue().networks.find((n) => n.id === "sioux-falls")!.bestKnownObjective!;
    expect(Math.abs(done.summary.beckmann - best) / best).toBeLessThan(1e-4);
    const flows = await call(base, `/api/runs/${id}/flows`);
    const x: number[] = flows.body.links.map((l: any) => l.flow);
    const net = await loadNetwork("sioux-falls");
    const ref = (await loadBestKnownFlows(net, "sioux-falls"))!;
    let diff = 0;
    let total = 0;
    for (let i = 0; i < net.linkCount; i++) {
      diff += Math.abs(x[i] - ref[i]);
      total += ref[i];
    }
    expect(diff / total).toBeLessThan(5e-3);
    expect(conservationError(net, x) / 360600).toBeLessThan(1e-9);
    const gj = await call(base, `/api/runs/${id}/flows?format=geojson`);
    expect(gj.body.tollkit.frame).toBe("lonlat");
    expect(gj.body.features).toHaveLength(76);
    const f = gj.body.features[0];
    expect(f.properties.voc).toBeCloseTo(x[0] / net.links.capacity[0], 10);
  });

  it("runs wait in the queue (concurrency 1); a queued run and a running run can be cancelled (DELETE or POST …/cancel; purge refuses them)", async () => {
    const long = await startRun({ kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", gap: 1e-12, maxSeconds: 300 } });
    const queued = await startRun({ kind: "assign", network: "braess-builtin", settings: { algorithm: "fw", gap: 1e-6 } });
    // wait until the long run reports progress
    for (let t = 0; ; t++) {
      const r = await call(base, `/api/runs/${long}`);
      if (r.body.status === "running" && r.body.progress) break;
      expect(t).toBeLessThan(600);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect((await call(base, `/api/runs/${queued}`)).body.status).toBe("queued");
    const list = await call(base, "/api/runs?status=queued");
    expect(list.body.items.map((r: any) => r.id)).toContain(queued);

    // a live run cannot be deleted (purged): it must be cancelled first
    const refused = await call(base, `/api/runs/${queued}?purge=true`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/queued: cancel it first \(DELETE \/api\/runs\/\d+ without purge\)/);
    const c1 = await call(base, `/api/runs/${queued}`, { method: "DELETE" });
    expect(c1.status).toBe(200);
    expect(c1.body.status).toBe("cancelled");

    const watching = readEvents(base, long, 60_000);
    const c2 = await call(base, `/api/runs/${long}/cancel`, { method: "POST" });
    expect(c2.status).toBe(200);
    expect(c2.body.status).toBe("cancelled");
    const events = await watching;
    expect(events[events.length - 1].data.status).toBe("cancelled");
    // cancelled runs have no results
    expect((await call(base, `/api/runs/${long}/flows`)).status).toBe(409);
    expect((await call(base, `/api/runs/${long}/cancel`, { method: "POST" })).status).toBe(409);
    // a cancel (DELETE without purge) that comes after the end never deletes the run
    const late = await call(base, `/api/runs/${long}`, { method: "DELETE" });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/already cancelled \(to delete it and its results: DELETE \/api\/runs\/\d+\?purge=true\)/);
    expect((await call(base, `/api/runs/${long}`)).body.status).toBe("cancelled");
    // the queue is free again
    const next = await startRun({ kind: "assign", network: "two-route", settings: { algorithm: "fw", gap: 1e-6 } });
    expect((await waitForRun(base, next)).status).toBe("done");
  });
});

describe("graceful shutdown (SIGTERM)", () => {
  it("lets a running run finish, closes the database, and the result is served after a restart", async () => {
    const dbPath = join(tempDir(), "term.db");
    const s1 = await startServe(dbPath, ["--grace-seconds", "10"]);
    const r = await call(s1.url, "/api/runs", {
      method: "POST",
      json: { kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", gap: 1e-12, maxSeconds: 3 } },
    });
    const id = r.body.id;
    for (let t = 0; (await call(s1.url, `/api/runs/${id}`)).body.status !== "running"; t++) {
      expect(t).toBeLessThan(600);
      await new Promise((res) => setTimeout(res, 100));
    }
    const exit = await stopServe(s1);
    expect(exit.code).toBe(0);
    expect(s1.stderr()).toMatch(/database closed/);
    const s2 = await startServe(dbPath);
    try {
      const run = await call(s2.url, `/api/runs/${id}`);
      expect(run.body.status).toBe("done");
      expect(run.body.summary.stopReason).toBe("seconds");
      const flows = await call(s2.url, `/api/runs/${id}/flows`);
      expect(flows.body.links).toHaveLength(76);
    } finally {
      await stopServe(s2);
    }
  });
});

describe("SIGTERM by default (issue 15)", () => {
  it("interrupts a running run at once, closes the database, and the next server shows it interrupted", async () => {
    const dbPath = join(tempDir(), "term-now.db");
    const s1 = await startServe(dbPath);
    const r = await call(s1.url, "/api/runs", {
      method: "POST",
      json: { kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", gap: 1e-14, maxSeconds: 120 } },
    });
    const id = r.body.id;
    for (let t = 0; (await call(s1.url, `/api/runs/${id}`)).body.status !== "running"; t++) {
      expect(t).toBeLessThan(600);
      await new Promise((res) => setTimeout(res, 100));
    }
    const exit = await stopServe(s1);
    expect(exit.code).toBe(0);
    expect(s1.stderr()).toMatch(/running runs get 1 s to finish[\s\S]*database closed/);
    const s2 = await startServe(dbPath);
    try {
      expect((await call(s2.url, `/api/runs/${id}`)).body.status).toBe("interrupted");
    } finally {
      await stopServe(s2);
    }
  });
});

describe("tollkit serve refuses bad flags with exit code 2 and one line", () => {
  const dir = tempDir();
  mkdirSync(join(dir, "a-folder"));
  const cases: [string[], RegExp][] = [
    [["--port", "99999"], /field "--port".*0\.\.65535/],
    [["--port", "http"], /field "--port"/],
    [["--concurrency", "0"], /field "--concurrency"/],
    [["--db", join(dir, "missing", "x.db")], /x\.db: cannot open the database/],
    [["--db", join(dir, "a-folder")], /a-folder: is a directory/],
    [["--body-limit", "lots"], /field "--body-limit"/],
  ];
  for (const [args, message] of cases) {
    it(`serve ${args.join(" ")}`, () => {
      const r = spawnSync(process.execPath, [CLI, "serve", "--port", "0", "--db", join(dir, "ok.db"), ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
