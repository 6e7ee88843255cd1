/**
 * Who pays and who gains, on the map, end to end (the real `tollkit serve`, the built page, the
 * system Chromium): the incidence of a Sioux Falls design against its no-toll baseline, a
 * select-link view, and an elastic-demand study set up in the studio. Every number the page
 * draws is checked against the API's own answer and against identities that hold outside the
 * page (the incidence totals reconcile with the runs' totalCost; the select-link total equals the
 * selected links' assigned flows; the trips not made by zone sum to the run's total). No console
 * error may be logged. With TOLLKIT_REGEN_SCREENSHOT=1 it writes docs/incidence.png,
 * docs/select-link.png and docs/trips-not-made.png (the README's pictures).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../packages/graph-core/dist/index.js";
import { INCIDENCE_COLUMNS } from "../../packages/runs/dist/index.js";
import { unitsOf } from "../../web/src/units.js";
import {
  apiJson,
  CLI,
  launchBrowser,
  mapIdle,
  OUT,
  ROOT,
  startServer,
  waitForRun,
  waitForView,
  watchErrors,
  type Browser,
  type Server,
} from "./harness.js";

let server: Server;
let browser: Browser;
let page: Page;
let errors: string[];
let tmp: string;

/** The design: four links of Sioux Falls, TSTT by gradient, one class of value of time 1, bush to 1e-10. */
const SCENARIO = {
  name: "sf-four-links-tstt",
  network: "sioux-falls",
  classes: [{ name: "car", valueOfTime: 1 }],
  instrument: { type: "links", links: [16, 19, 29, 48], bounds: { min: 0, max: 20 } },
  objective: { type: "tstt" },
  method: { type: "gradient", maxSolves: 8 },
  follower: { algorithm: "bush", gap: 1e-10 },
};

let design = 0;
let baseline = 0;
/** A Frank-Wolfe-family run (no bushes: no select-link) and a run of another network. */
let bfw = 0;
let other = 0;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), "tollkit-od-"));
  server = await startServer();
  const s = await apiJson<{ id: number }>(server, "/api/scenarios", { method: "POST", body: JSON.stringify(SCENARIO) });
  design = (
    await apiJson<{ id: number }>(server, "/api/runs", { method: "POST", body: JSON.stringify({ kind: "design", scenario: s.id }) })
  ).id;
  baseline = (
    await apiJson<{ id: number }>(server, "/api/runs", {
      method: "POST",
      body: JSON.stringify({ kind: "assign", network: "sioux-falls", settings: { algorithm: "bush", gap: 1e-10 } }),
    })
  ).id;
  const start = async (body: object) =>
    (await apiJson<{ id: number }>(server, "/api/runs", { method: "POST", body: JSON.stringify(body) })).id;
  bfw = await start({ kind: "assign", network: "sioux-falls", settings: { algorithm: "bfw", gap: 1e-4 } });
  other = await start({ kind: "assign", network: "braess-builtin", settings: { algorithm: "bush", gap: 1e-10 } });
  for (const id of [design, baseline, bfw, other]) expect((await waitForRun(server, id)).status).toBe("done");
  browser = await launchBrowser({ width: 1440, height: 900 });
  page = await browser.context.newPage();
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The zones' feature state on the map (`zc` colour, `v` value), for zones 1..n. */
async function zoneStates(n: number): Promise<{ zone: number; zc?: string; v?: number }[]> {
  return page.evaluate((n) => {
    const map = window.__tollkitMap as unknown as { getFeatureState(f: object): { zc?: string; v?: number } };
    return Array.from({ length: n }, (_, i) => ({ zone: i + 1, ...map.getFeatureState({ source: "tk-zones", id: i + 1 }) }));
  }, n);
}

/** Saves a screenshot to tests/.out, and with TOLLKIT_REGEN_SCREENSHOT=1 also to docs/ (the README's pictures). */
async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(OUT, name) });
  if (process.env.TOLLKIT_REGEN_SCREENSHOT === "1") copyFileSync(join(OUT, name), join(ROOT, "docs", name));
}

const metric = async (key: string) => Number(await page.locator(`dd[data-metric="${key}"]`).getAttribute("data-value"));

/** The red and blue channels of `#rrggbb`. */
const rb = (c: string) => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(5, 7), 16)];

async function download(id: string, name: string): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent("download"), page.click(`#${id}`)]);
  const f = join(tmp, name);
  await d.saveAs(f);
  return readFileSync(f, "utf8");
}

interface IncRow {
  origin?: number;
  destination?: number;
  class: string;
  costChangePerTrip: number | null;
}

describe("who pays and who gains on the map (tollkit serve + Chromium)", () => {
  it("incidence: zone colours and values equal the API's incidence of a Sioux Falls design; losers tabled; the CSV is the one tollkit incidence --csv writes", async () => {
    await page.goto(`${server.url}/#network=sioux-falls`);
    await waitForView(page, "network:sioux-falls");
    await page.selectOption("#incidence-b", String(design));
    await page.selectOption("#incidence-a", String(baseline));
    await page.click("#incidence-show");
    await waitForView(page, `incidence:${baseline},${design}`);
    await mapIdle(page);

    const inc = await apiJson<{
      rows: IncRow[];
      losers: IncRow[];
      winners: IncRow[];
      totals: { userCostChange: number; totalCostA: number; totalCostB: number; revenueChange: number };
    }>(server, `/api/compare/incidence?a=${baseline}&b=${design}&by=origin&limit=10000`);
    expect(inc.rows).toHaveLength(24);
    const states = await zoneStates(24);
    let maxAbs = 0;
    for (const r of inc.rows) maxAbs = Math.max(maxAbs, Math.abs(r.costChangePerTrip!));
    expect(maxAbs).toBeGreaterThan(0.01); // the tolls move costs by more than rounding
    for (const r of inc.rows) {
      const s = states[r.origin! - 1];
      expect(s.v).toBe(r.costChangePerTrip); // the API's number, unchanged
      const [red, blue] = rb(s.zc!);
      // diverging and centred on 0: losers red, winners blue, the largest change at full colour
      if (r.costChangePerTrip! > 0.05 * maxAbs) expect(red).toBeGreaterThan(blue);
      if (r.costChangePerTrip! < -0.05 * maxAbs) expect(blue).toBeGreaterThan(red);
    }
    const extreme = inc.rows.reduce((a, b) => (Math.abs(b.costChangePerTrip!) > Math.abs(a.costChangePerTrip!) ? b : a));
    expect(states[extreme.origin! - 1].zc).toBe(extreme.costChangePerTrip! > 0 ? "#b2182b" : "#2166ac");
    // every zone drawn (coloured zones show at every zoom)
    const drawn = await page.evaluate(
      () => new Set(window.__tollkitMap!.queryRenderedFeatures({ layers: ["tk-zones"] }).map((f) => Number(f.properties.zone))).size,
    );
    expect(drawn).toBe(24);
    // the users' change the page shows reconciles with the runs' own totalCost (to 1e-9 of it)
    const users = await metric("inc-userCostChange");
    expect(users).toBe(inc.totals.userCostChange);
    expect(Math.abs(users - (inc.totals.totalCostB - inc.totals.totalCostA))).toBeLessThan(1e-9 * inc.totals.totalCostA);
    const rev = await apiJson<{ summary: { revenue: number } }>(server, `/api/runs/${design}`);
    expect(Math.abs((await metric("inc-revenueChange")) - rev.summary.revenue)).toBeLessThan(1e-9 * rev.summary.revenue);
    // the losers' table: the API's losers, in its order, with its numbers
    const losers = await page
      .locator("#incidence-losers tbody tr[data-zone]")
      .evaluateAll((trs) => trs.map((tr) => [Number((tr as HTMLElement).dataset.zone), Number((tr as HTMLElement).dataset.value)]));
    expect(losers.length).toBeGreaterThan(0);
    expect(losers).toEqual(inc.losers.map((r) => [r.origin, r.costChangePerTrip]));
    expect(await page.locator("#incidence-losers thead").textContent()).toContain("(min)");
    expect(await page.locator("#legend").textContent()).toContain("B − A (min)");
    await shot("incidence.png");

    // CSV export: the incidence's columns, every zone, the API's numbers
    const csv = parseCsv(await download("export-incidence-csv", "incidence.csv"), "incidence.csv", { module: "e2e" });
    expect(csv.header).toEqual(["origin", ...INCIDENCE_COLUMNS]);
    expect(csv.rows).toHaveLength(24);
    for (const r of inc.rows) {
      const line = csv.rows.find((x) => Number(x.origin) === r.origin)!;
      expect(Number(line.costChangePerTrip)).toBe(r.costChangePerTrip);
    }
    // … and it is the CSV `tollkit incidence --csv` writes from the two runs' folders (rebuilt from the API's files)
    const folder = async (id: number) => {
      const dir = join(tmp, `run-${id}`);
      mkdirSync(dir);
      const text = async (path: string) => (await fetch(`${server.url}${path}`)).text();
      writeFileSync(join(dir, "summary.json"), JSON.stringify((await apiJson<{ summary: object }>(server, `/api/runs/${id}`)).summary));
      writeFileSync(join(dir, "flows.csv"), await text(`/api/runs/${id}/flows?format=csv`));
      writeFileSync(join(dir, "skims.csv"), await text(`/api/runs/${id}/skims?format=csv`));
      return dir;
    };
    const cliCsv = join(tmp, "cli-incidence.csv");
    execFileSync(process.execPath, [CLI, "incidence", await folder(baseline), await folder(design), "--csv", cliCsv], {
      cwd: ROOT,
      encoding: "utf8",
    });
    const cli = parseCsv(readFileSync(cliCsv, "utf8"), cliCsv, { module: "e2e" });
    expect(cli.header).toEqual(csv.header);
    expect(cli.rows.length).toBe(csv.rows.length);
    // skims.csv states toll factors through tollCost / toll: equal to the last bits
    cli.rows.forEach((row, i) => {
      for (const c of cli.header) {
        const x = Number(row[c]);
        const y = Number(csv.rows[i][c]);
        if (Number.isFinite(x)) expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(y)));
        else expect(row[c]).toBe(csv.rows[i][c]);
      }
    });

    // by destination: the zones take the destination rows
    await page.selectOption("#incidence-by", "destination");
    await page.click("#incidence-show");
    await page.waitForFunction(() => location.hash.includes("by=destination"));
    await waitForView(page, `incidence:${baseline},${design}`);
    const byDest = await apiJson<{ rows: IncRow[] }>(server, `/api/compare/incidence?a=${baseline}&b=${design}&by=destination&limit=10000`);
    await page.waitForFunction(
      (v) =>
        (window.__tollkitMap as unknown as { getFeatureState(f: object): { v?: number } }).getFeatureState({ source: "tk-zones", id: 1 })
          .v === v,
      byDest.rows.find((r) => r.destination === 1)!.costChangePerTrip,
    );
    const dest = await zoneStates(24);
    for (const r of byDest.rows) expect(dest[r.destination! - 1].v).toBe(r.costChangePerTrip);
    expect(errors).toEqual([]);
  });

  it("select-link: the page's total equals the selected links' assigned flows; links drawn by the selected trips' flow; CSV", async () => {
    await page.selectOption("#select-link-run", String(design));
    await page.fill("#select-link-links", "16, 19");
    await page.click("#select-link-show");
    await waitForView(page, `select-link:${design}`);
    await mapIdle(page);
    const flows = await apiJson<{ links: { link: number; flow: number }[] }>(server, `/api/runs/${design}/flows?format=json`);
    const assigned = flows.links.filter((l) => l.link === 16 || l.link === 19).reduce((s, l) => s + l.flow, 0);
    const shown = await metric("sl-selectedFlow");
    expect(Math.abs(shown - assigned)).toBeLessThan(1e-9 * assigned);
    // one trip may use both links: the trips are at most the summed flows, and at least the larger one
    const trips = await metric("sl-trips");
    const f16 = flows.links.find((l) => l.link === 16)!.flow;
    const f19 = flows.links.find((l) => l.link === 19)!.flow;
    expect(trips).toBeLessThanOrEqual(assigned * (1 + 1e-12));
    expect(trips).toBeGreaterThanOrEqual(Math.max(f16, f19) * (1 - 1e-12));
    // the selected links carry only selected trips: drawn at the top of the scale
    const c = await page.evaluate(() =>
      [16, 19].map(
        (id) =>
          (window.__tollkitMap as unknown as { getFeatureState(f: object): { c?: string } }).getFeatureState({ source: "tk-links", id }).c,
      ),
    );
    const sl = parseCsv(await download("export-select-link-flows-csv", "select-link-flows.csv"), "select-link-flows.csv", {
      module: "e2e",
    });
    expect(sl.rows).toHaveLength(76);
    const max = Math.max(...sl.rows.map((r) => Number(r.selectLinkFlow)));
    for (const l of [16, 19]) {
      const r = sl.rows.find((x) => Number(x.link) === l)!;
      expect(Number(r.selectLinkFlow)).toBeCloseTo(Number(r.flow), 6);
    }
    const top = [16, 19].find((l) => Number(sl.rows.find((x) => Number(x.link) === l)!.selectLinkFlow) === max);
    if (top) expect(c[[16, 19].indexOf(top)]).toBe("#081d58");
    await shot("select-link.png");
    expect(errors).toEqual([]);
  });

  it("bad choices: the API's or the page's message in the panel, naming what to do; the view is kept", async () => {
    const before = errors.length;
    // select-link needs bushes: the API's 409 says which algorithm to use
    await page.selectOption("#select-link-run", String(bfw));
    await page.fill("#select-link-links", "16");
    await page.click("#select-link-show");
    await page.waitForSelector("#od-error");
    expect(await page.locator("#od-error").textContent()).toContain('algorithm "bush"');
    // the map keeps the view it had (the select-link of the design)
    expect(await page.evaluate(() => document.body.dataset.view)).toBe(`select-link:${design}`);
    // a link id that is no link id is named
    await page.fill("#select-link-links", "16, x");
    await page.click("#select-link-show");
    await page.waitForFunction(() => /"x" is not a link id/.test(document.getElementById("od-error")?.textContent ?? ""));
    // the incidence of runs of two networks is refused before any request, naming both
    await page.goto(`${server.url}/#incidence=${other},${design}`);
    await page.waitForFunction(() => /choose a baseline of the same network/.test(document.getElementById("od-error")?.textContent ?? ""));
    expect(await page.locator("#od-error").textContent()).toContain("braess");
    // a negative threshold is named with its unit
    await page.goto(`${server.url}/#network=sioux-falls`);
    await waitForView(page, "network:sioux-falls");
    await page.selectOption("#incidence-b", String(design));
    await page.fill("#incidence-threshold", "-1");
    await page.click("#incidence-show");
    await page.waitForFunction(() => /expected a number ≥ 0 \(min per trip\)/.test(document.getElementById("od-error")?.textContent ?? ""));
    // the browser itself logs the refused request; nothing else may be logged
    const logged = errors.splice(before);
    expect(logged.every((e) => /Failed to load resource: the server responded with a status of 409/.test(e))).toBe(true);
    expect(errors).toEqual([]);
  });

  it("elastic demand set up in the studio: an error beside the field, then trips not made by zone summing to the API's figure, welfare with units", async () => {
    await page.goto(`${server.url}/#network=sioux-falls`);
    await waitForView(page, "network:sioux-falls");
    if ((await page.locator("#studio-details").getAttribute("open")) === null) await page.click("#studio-summary");
    for (const link of [16, 19, 29]) {
      await page.fill("#study-link-search", String(link));
      await page.check(`#study-link-${link}`);
    }
    await page.fill("#study-link-search", "");
    await page.waitForFunction(() => document.getElementById("study-count")?.dataset.count === "3");
    await page.fill("#study-name", "sf-elastic-welfare");
    await page.fill("#study-max", "20");
    await page.selectOption("#study-objective", "welfare");
    await page.selectOption("#study-method", "gradient");
    await page.fill("#study-max-solves", "6");
    await page.selectOption("#study-demand-type", "elastic");
    await page.selectOption("#study-demand-form", "exponential");
    // the leader's schema judges the demand: a negative elasticity is named beside its field
    await page.fill("#study-demand-value", "-0.3");
    await page.waitForSelector("#err-demand-elasticity", { timeout: 30_000 });
    expect(await page.locator("#err-demand-elasticity").textContent()).toContain("≥ 0");
    expect(await page.locator("#study-demand-value").getAttribute("aria-invalid")).toBe("true");
    await page.locator("#study-demand").screenshot({ path: join(OUT, "studio-demand-error.png") });
    // the studio's selection feeds the select-link form
    await page.click("#select-link-use-selection");
    expect(await page.inputValue("#select-link-links")).toBe("16, 19, 29");
    await page.fill("#study-demand-value", "0.3");
    await page.waitForFunction(() => document.getElementById("study-check")?.dataset.valid === "true", null, { timeout: 30_000 });
    const before = (await apiJson<{ items: { id: number }[] }>(server, "/api/runs")).items.map((r) => r.id);
    await page.click("#study-run");
    const handle = await page.waitForFunction(
      (prev) => {
        const m = /^run:(\d+)$/.exec(document.body.dataset.view ?? "");
        return m && !prev.includes(Number(m[1])) ? Number(m[1]) : null;
      },
      before,
      { timeout: 280_000, polling: 250 },
    );
    const run = (await handle.jsonValue()) as number;
    const r = await apiJson<{
      summary: {
        revenue: number;
        demand: {
          tripsNotMade: number;
          consumerSurplus: number;
          welfare: number;
          welfareChange: number;
          baselineWelfare: number;
          zones: { zone: number; tripsNotMade: number }[];
        };
      };
    }>(server, `/api/runs/${run}`);
    const d = r.summary.demand;
    expect(d.tripsNotMade).toBeGreaterThan(1); // the tolls price trips off the road

    await page.selectOption("#demand-run", String(run));
    await page.click("#demand-show");
    await waitForView(page, `demand:${run}`);
    await mapIdle(page);
    const states = await zoneStates(24);
    const sum = states.reduce((s, z) => s + (z.v ?? NaN), 0);
    expect(Math.abs(sum - d.tripsNotMade)).toBeLessThan(1e-9 * d.tripsNotMade);
    for (const z of d.zones) expect(states[z.zone - 1].v).toBe(z.tripsNotMade);
    expect(await metric("dem-tripsNotMade")).toBe(d.tripsNotMade);
    // welfare = consumer surplus + revenue, against the design's no-toll baseline, in money
    const cs = await metric("dem-consumerSurplus");
    const revenue = await metric("dem-revenue");
    const welfare = await metric("dem-welfare");
    expect(Math.abs(cs + revenue - welfare)).toBeLessThan(1e-9 * Math.abs(welfare));
    expect(Math.abs(revenue - r.summary.revenue)).toBeLessThan(1e-9 * r.summary.revenue);
    expect(await metric("dem-welfareChange")).toBe(d.welfareChange);
    expect(Math.abs(welfare - d.baselineWelfare - d.welfareChange)).toBeLessThan(1e-9 * Math.abs(d.baselineWelfare));
    expect(await page.locator('dd[data-metric="dem-welfare"]').textContent()).toMatch(/^−?¤/);
    const table = await page
      .locator("#demand-zones tbody tr")
      .evaluateAll((trs) => trs.reduce((s, tr) => s + Number((tr as HTMLElement).dataset.value), 0));
    expect(Math.abs(table - d.tripsNotMade)).toBeLessThan(1e-9 * d.tripsNotMade);
    await shot("trips-not-made.png");

    // a scenario file's zone overrides survive the editor: opened, checked, downloaded unchanged
    const file = join(tmp, "elastic-zones.json");
    const demand = { type: "elastic", form: "linear", rate: 0.02, zones: { "10": { rate: 0.05 } } };
    writeFileSync(file, JSON.stringify({ ...SCENARIO, name: "sf-elastic-zones", demand }));
    await page.setInputFiles("#study-open", file);
    await page.waitForSelector("#study-demand-overrides");
    expect(await page.inputValue("#study-demand-value")).toBe("0.02");
    await page.waitForFunction(() => document.getElementById("study-check")?.dataset.valid === "true", null, { timeout: 30_000 });
    const back = JSON.parse(await download("study-download", "opened.json"));
    expect(back.demand).toEqual(demand);

    // so do the method's settings the form has no field for (several starts, their screening, the
    // check): kept while the method is the file's and listed on the page; said when they no longer apply
    const methodFile = join(tmp, "screened.json");
    const method = { type: "gradient", maxSolves: 24, start: "first-best", startScale: [0, 0.25, 0.5], screen: 4, check: "full" };
    writeFileSync(methodFile, JSON.stringify({ ...SCENARIO, name: "sf-screened", method }));
    await page.setInputFiles("#study-open", methodFile);
    await page.waitForSelector("#study-method-kept[data-kept=true]");
    expect(await page.locator("#study-method-kept").textContent()).toContain("screen 4");
    expect(await page.inputValue("#study-max-solves")).toBe("24");
    await page.waitForFunction(() => document.getElementById("study-check")?.dataset.valid === "true", null, { timeout: 30_000 });
    expect(JSON.parse(await download("study-download", "screened-back.json")).method).toEqual(method);
    await page.selectOption("#study-method", "first-best");
    await page.waitForSelector("#study-method-kept[data-kept=false]");
    expect(await page.locator("#study-method-kept").textContent()).toMatch(/^Not carried over/);
    await page.waitForFunction(() => document.getElementById("study-check")?.dataset.valid === "true", null, { timeout: 30_000 });
    expect(JSON.parse(await download("study-download", "screened-fb.json")).method).toEqual({ type: "first-best" });
    expect(errors).toEqual([]);
  });

  it("Chicago-Sketch: tolls in cents shown as dollars, costs in minutes; every zone's value is the API's", async () => {
    const start = async (settings: object) =>
      (
        await apiJson<{ id: number }>(server, "/api/runs", {
          method: "POST",
          body: JSON.stringify({ kind: "assign", network: "chicago-sketch", settings }),
        })
      ).id;
    const follower = { algorithm: "bush", gap: 1e-8 };
    const a = await start(follower);
    expect((await waitForRun(server, a)).status).toBe("done");
    // toll the ten busiest links 150 cents each
    const flows = await apiJson<{ links: { link: number; flow: number }[] }>(server, `/api/runs/${a}/flows?format=json`);
    const busiest = [...flows.links].sort((x, y) => y.flow - x.flow).slice(0, 10);
    const b = await start({ ...follower, tolls: busiest.map((l) => ({ link: l.link, toll: 150 })) });
    expect((await waitForRun(server, b)).status).toBe("done");
    await page.goto(`${server.url}/#incidence=${a},${b}&by=origin`);
    await waitForView(page, `incidence:${a},${b}`);
    await mapIdle(page);
    const units = unitsOf((await apiJson<{ units?: Record<string, string> }>(server, "/api/networks/chicago-sketch")).units);
    expect(units.moneyLabel).toBe("$");
    const inc = await apiJson<{ rows: IncRow[]; losers: (IncRow & { tollPerTrip: number })[]; totals: { revenueChange: number } }>(
      server,
      `/api/compare/incidence?a=${a}&b=${b}&by=origin&limit=10000`,
    );
    expect(inc.rows.length).toBeGreaterThan(300);
    const states = await zoneStates(Math.max(...inc.rows.map((r) => r.origin!)));
    for (const r of inc.rows) expect(states[r.origin! - 1].v).toBe(r.costChangePerTrip);
    expect(await page.locator("#incidence-losers thead").textContent()).toContain("Toll per trip ($)");
    expect(await page.locator("#legend").textContent()).toContain("(min)");
    const first = inc.losers[0];
    const cells = page.locator("#incidence-losers tbody tr").first().locator("td");
    expect(await cells.nth(3).textContent()).toBe(units.money(first.tollPerTrip)); // cents as dollars
    expect(await page.locator('dd[data-metric="inc-revenueChange"]').textContent()).toBe(`+${units.money(inc.totals.revenueChange)}`);
    expect(errors).toEqual([]);
  });
});
