/**
 * The web map end to end: the real `tollkit serve` (built dist, temporary database) serving the
 * built web app, driven in the system Chromium (headless, SwiftShader WebGL).
 *
 * A planner's session on Sioux Falls: the network is drawn with its zones; the no-toll baseline
 * is run from the form; a second-best design is run from the repository's scenario file; the two
 * are compared. Every number the page shows is checked against what the API returns for the same
 * run (fetched by the test), every drawn layer against the link ids it must contain, and the page
 * must log no console error. Screenshots go to tests/.out/; `TOLLKIT_REGEN_SCREENSHOT=1` also
 * writes docs/map.png (the README's picture, regenerated only on purpose).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatGap, formatPercent, formatQuantity, formatSigned, formatToll } from "../../web/src/format.js";
import { unitsOf, type Units } from "../../web/src/units.js";
import {
  apiJson,
  overlaps,
  renderedLabels,
  launchBrowser,
  mapIdle,
  OUT,
  renderedLinkIds,
  ROOT,
  startServer,
  waitForView,
  watchErrors,
  type Browser,
  type Server,
} from "./harness.js";

const SCENARIO = join(ROOT, "scenarios", "sioux-falls-second-best-10.json");
const SIOUX_FALLS = { links: 76, zones: 24 };
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

interface RunView {
  id: number;
  kind: string;
  status: string;
  settings: Record<string, unknown>;
  summary: Record<string, unknown>;
  convergence?: Record<string, unknown[]>;
}
interface FlowRow {
  link: number;
  from: number;
  to: number;
  flow: number;
  voc: number | null;
  toll: number;
  revenue: number;
}

let server: Server;
let browser: Browser;
let page: Page;
let errors: string[];
let baselineId = 0;
let designId = 0;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Waits for the results of a run started from the form; returns its id. */
async function waitForNewRun(previous: number[], timeoutMs = 240_000): Promise<number> {
  const handle = await page.waitForFunction(
    (prev) => {
      const m = /^run:(\d+)$/.exec(document.body.dataset.view ?? "");
      return m && !prev.includes(Number(m[1])) ? Number(m[1]) : null;
    },
    previous,
    { timeout: timeoutMs, polling: 200 },
  );
  return (await handle.jsonValue()) as number;
}

/** The metric shown for `key`: its raw value (data-value) and its text. */
async function metric(key: string): Promise<{ value: number | null; text: string }> {
  const dd = page.locator(`dd[data-metric="${key}"]`);
  const raw = await dd.getAttribute("data-value");
  return { value: raw === null ? null : Number(raw), text: (await dd.textContent()) ?? "" };
}

/** The formatters of a network's units, from its metadata as the API serves it. */
async function networkUnits(id: string): Promise<Units> {
  return unitsOf((await apiJson<{ units?: Record<string, string> }>(server, `/api/networks/${id}`)).units);
}

/** Screen point on a link's drawn line: its midpoint moved to the side it is offset to (right of its direction). */
async function linkScreenPoint(link: number): Promise<{ x: number; y: number }> {
  return page.evaluate(async (link) => {
    const map = window.__tollkitMap! as unknown as {
      getSource(id: string): {
        getData(): Promise<{ features: { properties: { link: number }; geometry: { coordinates: [number, number][] } }[] }>;
      };
      getFeatureState(f: { source: string; id: number }): { o?: number };
      project(c: [number, number]): { x: number; y: number };
      getCanvas(): HTMLCanvasElement;
    };
    const data = await map.getSource("tk-links").getData();
    const c = data.features.find((x) => x.properties.link === link)!.geometry.coordinates;
    const a = map.project(c[0]);
    const b = map.project(c[c.length - 1]);
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    const off = map.getFeatureState({ source: "tk-links", id: link }).o ?? 0; // pixels to the right of the direction of travel
    const rect = map.getCanvas().getBoundingClientRect();
    return { x: rect.left + (a.x + b.x) / 2 + (-(b.y - a.y) / len) * off, y: rect.top + (a.y + b.y) / 2 + ((b.x - a.x) / len) * off };
  }, link);
}

describe("web map (tollkit serve + Chromium)", () => {
  it("draws Sioux Falls before any run: every link and every zone", async () => {
    await page.goto(`${server.url}/`);
    await waitForView(page, "network:sioux-falls");
    await mapIdle(page);
    const nets = await apiJson<{ id: string; links: number; zones: number }[]>(server, "/api/networks");
    const sf = nets.find((n) => n.id === "sioux-falls")!;
    expect(sf).toMatchObject(SIOUX_FALLS);
    expect(await renderedLinkIds(page)).toEqual(range(sf.links));
    const zones = await page.evaluate(
      () => new Set(window.__tollkitMap!.queryRenderedFeatures({ layers: ["tk-zones"] }).map((f) => f.properties.zone)).size,
    );
    expect(zones).toBe(sf.zones);
    expect(await page.locator("#legend").textContent()).toContain("zone");
    expect(errors).toEqual([]);
  });

  it("runs the no-toll baseline from the form, live, and shows the numbers the API returns", async () => {
    await expect(page.locator("#network").inputValue()).resolves.toBe("sioux-falls");
    await page.selectOption("#scenario", "");
    await expect(page.locator("#start").textContent()).resolves.toBe("Run assignment");
    await page.click("#settings > summary");
    await page.fill("#gap", "1e-5");
    await page.click("#start");
    baselineId = await waitForNewRun([]);
    await mapIdle(page);
    await expect(page.locator("#progress-text").textContent()).resolves.toBe(`Run #${baselineId} done.`);

    const run = await apiJson<RunView>(server, `/api/runs/${baselineId}?convergence=true`);
    expect(run).toMatchObject({ kind: "assign", status: "done", settings: { algorithm: "bfw", objective: "ue", gap: 1e-5 } });
    const s = run.summary;
    expect(s.relativeGap as number).toBeLessThanOrEqual(1e-5);

    expect(await renderedLinkIds(page)).toEqual(range(SIOUX_FALLS.links));
    expect(await renderedLinkIds(page, "tk-links-toll")).toEqual([]);

    // Numbers with the units of the network's metadata (GET /api/networks/:id).
    const units = await networkUnits("sioux-falls");
    for (const [key, fmt] of [
      ["tstt", units.vehicleTime],
      ["revenue", units.money],
      ["relativeGap", formatGap],
    ] as const) {
      const m = await metric(key);
      expect(m.value, key).toBe(s[key]);
      expect(m.text, key).toBe(fmt(s[key] as number));
    }
    expect((await metric("iterations")).value).toBe(s.iterations);

    // The convergence chart has one point per iteration of the API's report.
    const iterations = run.convergence!.iteration.length;
    expect(iterations).toBeGreaterThan(1);
    expect(await page.locator("#convergence").getAttribute("aria-label")).toContain(`${iterations} iterations`);

    // The links table lists the most congested links, as the API's flows rank them.
    const flows = (await apiJson<{ links: FlowRow[] }>(server, `/api/runs/${baselineId}/flows?format=json`)).links;
    const byVoc = [...flows].sort((a, b) => (b.voc ?? 0) - (a.voc ?? 0));
    const firstRow = page.locator("#links-table tbody tr").first();
    expect(await firstRow.getAttribute("data-link")).toBe(String(byVoc[0].link));

    // Hovering the busiest link shows its flow, v/c and time as the API has them.
    const busiest = [...flows].sort((a, b) => b.flow - a.flow)[0];
    const at = await linkScreenPoint(busiest.link);
    await page.mouse.move(at.x, at.y);
    const hover = page.locator(".tk-hover .popup");
    await hover.waitFor({ state: "visible" });
    expect(await hover.locator("h3").textContent()).toBe(`Link ${busiest.link} (${busiest.from} → ${busiest.to})`);
    expect(await hover.textContent()).toContain(`Flow${formatQuantity(busiest.flow)}`);
    // Clicking keeps a popup open (with a close button).
    await page.mouse.click(at.x, at.y);
    await page.locator(".tk-click .popup h3").waitFor({ state: "visible" });
    expect(await page.locator(".tk-click .popup h3").textContent()).toBe(`Link ${busiest.link} (${busiest.from} → ${busiest.to})`);
    await page.locator(".tk-click .maplibregl-popup-close-button").click();
    await page.mouse.move(5, 5);

    await page.screenshot({ path: join(OUT, "baseline.png") });
    expect(errors).toEqual([]);
  });

  it("designs second-best tolls from the repository's scenario file and marks the tolled links", async () => {
    await page.setInputFiles("#scenario-file", SCENARIO);
    await page.waitForFunction(() => (document.getElementById("scenario") as HTMLSelectElement).value !== "");
    await expect(page.locator("#start").textContent()).resolves.toBe("Design tolls");
    await page.click("#start");
    designId = await waitForNewRun([baselineId]);
    await mapIdle(page);

    const run = await apiJson<RunView>(server, `/api/runs/${designId}?convergence=true`);
    expect(run).toMatchObject({ kind: "design", status: "done" });
    const s = run.summary;
    expect(s.scenario).toBe("sioux-falls-second-best-10");
    const tolls = (s.tolls as { link: number; toll: number }[]).filter((t) => t.toll > 0);
    expect(tolls.length).toBeGreaterThan(0);

    expect(await renderedLinkIds(page)).toEqual(range(SIOUX_FALLS.links));
    expect(await renderedLinkIds(page, "tk-links-toll")).toEqual(tolls.map((t) => t.link).sort((a, b) => a - b));
    // One label per tolled link, showing its toll.
    // Toll labels: a symbol layer, each label its link's toll; collision may hide some, never all.
    const units = await networkUnits("sioux-falls");
    const labels = await renderedLabels(page);
    expect(labels.length).toBeGreaterThan(0);
    const tollOf = new Map(tolls.map((t) => [t.link, t.toll]));
    for (const l of labels) expect(l.label, `link ${l.link}`).toBe(units.money(tollOf.get(l.link)));
    expect(overlaps(labels)).toEqual([]);
    // The table lists exactly the tolled links with their tolls.
    const rows = page.locator("#links-table tbody tr");
    expect(await rows.count()).toBe(tolls.length);
    for (const t of tolls) {
      const row = page.locator(`#links-table tbody tr[data-link="${t.link}"]`);
      expect(await row.locator("td").first().textContent()).toBe(units.money(t.toll));
    }

    const eq = s.equilibrium as Record<string, number>;
    const expected: [string, number, (v: number) => string][] = [
      ["tstt", s.tstt as number, units.vehicleTime],
      ["revenue", s.revenue as number, units.money],
      ["relativeGap", eq.relativeGap, formatGap],
      ["shareCaptured", s.shareCaptured as number, formatPercent],
      ["value", s.value as number, units.vehicleTime],
      ["baseline", s.baseline as number, units.vehicleTime],
      ["firstBest", s.firstBest as number, units.vehicleTime],
    ];
    for (const [key, value, fmt] of expected) {
      const m = await metric(key);
      expect(m.value, key).toBe(value);
      expect(m.text, key).toBe(fmt(value));
    }
    // The share shown is the one the definition gives from the API's own objective values.
    const share = ((s.value as number) - (s.baseline as number)) / ((s.firstBest as number) - (s.baseline as number));
    expect((await metric("shareCaptured")).value).toBeCloseTo(share, 12);
    // Revenue on the map's links adds up to the run's revenue.
    const flows = (await apiJson<{ links: FlowRow[] }>(server, `/api/runs/${designId}/flows?format=json`)).links;
    expect(flows.reduce((a, f) => a + f.revenue, 0)).toBeCloseTo(s.revenue as number, 3);

    // The design's progress chart: one mark per evaluation in the API's history.
    const evaluations = run.convergence!.solves.length;
    expect(await page.locator("#convergence").getAttribute("aria-label")).toContain(`${evaluations} evaluations`);

    await page.screenshot({ path: join(OUT, "design.png") });

    // The README's picture: the design as a planner opens it (a fresh page at its address).
    await page.reload();
    await waitForView(page, `run:${designId}`);
    await mapIdle(page);
    await page.screenshot({ path: join(OUT, "map.png") });
    if (process.env.TOLLKIT_REGEN_SCREENSHOT === "1") copyFileSync(join(OUT, "map.png"), join(ROOT, "docs", "map.png"));
    expect(errors).toEqual([]);
  });

  it("compares the baseline with the design: a difference map and the headline differences", async () => {
    await page.selectOption("#compare-a", String(baselineId));
    await page.selectOption("#compare-b", String(designId));
    await page.click("#compare");
    await waitForView(page, `compare:${baselineId},${designId}`);
    await mapIdle(page);

    const cmp = await apiJson<{
      headline: Record<string, { a: number; b: number; difference: number }>;
      links: { link: number; flowA: number; flowB: number; flowDifference: number }[];
    }>(server, `/api/compare?a=${baselineId}&b=${designId}`);
    expect(await renderedLinkIds(page)).toEqual(range(SIOUX_FALLS.links));
    // No toll casing on a difference map.
    expect(await renderedLinkIds(page, "tk-links-toll")).toEqual([]);
    // In the planner's words and units: travel time in veh·min, tolls paid in money.
    const units = await networkUnits("sioux-falls");
    const signed = (fmt: (v: number) => string, v: number) => (v > 0 ? "+" : v < 0 ? "−" : "") + fmt(Math.abs(v));
    for (const [key, fmt] of [
      ["tstt", units.vehicleTime],
      ["revenue", units.money],
    ] as const) {
      const m = await metric(`diff-${key}`);
      expect(m.value, key).toBe(cmp.headline[key].difference);
      expect(m.text, key).toBe(signed(fmt, cmp.headline[key].difference));
    }
    // The two were solved to different gaps (1e-5 and the design's 1e-10): said out loud.
    expect(await page.locator('#warnings li[data-warning="gap"]').count()).toBe(1);
    // The API's differences are B − A of the two runs' own summaries.
    const a = await apiJson<RunView>(server, `/api/runs/${baselineId}`);
    const b = await apiJson<RunView>(server, `/api/runs/${designId}`);
    expect(cmp.headline.tstt.difference).toBeCloseTo((b.summary.tstt as number) - (a.summary.tstt as number), 6);

    await page.screenshot({ path: join(OUT, "compare.png") });

    // The table starts with the largest flow change; its popup shows both flows.
    const largest = [...cmp.links].sort((x, y) => Math.abs(y.flowDifference) - Math.abs(x.flowDifference))[0];
    const first = page.locator("#links-table tbody tr").first();
    expect(await first.getAttribute("data-link")).toBe(String(largest.link));
    expect(await first.locator("td").nth(2).textContent()).toBe(formatSigned(largest.flowDifference));
    await first.locator("button").click();
    const popup = page.locator(".tk-click .popup");
    await popup.waitFor({ state: "visible" });
    expect(await popup.textContent()).toContain(`Flow change${formatSigned(largest.flowDifference)}`);
    await page.locator(".tk-click .maplibregl-popup-close-button").click();
    expect(await page.locator("#legend").textContent()).toContain("Flow change, B − A");
    expect(errors).toEqual([]);
  });

  it("shows a grid search's toll response surface, with the chosen toll marked (scenarios/braess.json)", async () => {
    await page.setInputFiles("#scenario-file", join(ROOT, "scenarios", "braess.json"));
    await page.waitForFunction(() => (document.getElementById("network") as HTMLSelectElement).value === "braess-builtin");
    await expect(page.locator("#start").textContent()).resolves.toBe("Design tolls");
    await page.click("#start");
    const id = await waitForNewRun([baselineId, designId]);
    await mapIdle(page);
    const run = await apiJson<RunView>(server, `/api/runs/${id}`);
    const surface = run.summary.surface as { axes: { values: number[] }[]; value: number[] };
    const chosen = (run.summary.variables as { toll: number }[])[0].toll;
    expect(surface.axes).toHaveLength(1);
    expect(await page.locator("#surface-figure").isVisible()).toBe(true);
    // One vertex per grid point, and the chosen toll circled.
    const d = (await page.locator("#surface path.series").getAttribute("d"))!;
    expect(d.split(/[ML]/).filter(Boolean)).toHaveLength(surface.axes[0].values.length);
    expect(await page.locator("#surface circle.best title").textContent()).toContain(`chosen toll ${formatToll(chosen)}`);
    const net = await apiJson<{ links: number }>(server, "/api/networks/braess-builtin");
    expect(await renderedLinkIds(page)).toEqual(range(net.links));
    expect(errors).toEqual([]);
  });

  it("designs a scenario that carries its own network (scenarios/road-authority-threshold.json)", async () => {
    await page.setInputFiles("#scenario-file", join(ROOT, "scenarios", "road-authority-threshold.json"));
    await page.waitForFunction(() => (document.getElementById("network") as HTMLSelectElement).value.startsWith("scenario:"));
    const stored = (await apiJson<{ items: { id: number; network: string }[] }>(server, "/api/scenarios")).items[0];
    expect(stored.network).toBe(`scenario:${stored.id}`);
    expect(await page.locator("#network").inputValue()).toBe(stored.network);
    // No baseline assignment on such a network through the API: the design is selected.
    expect(await page.locator("#scenario option[value='']").isDisabled()).toBe(true);
    expect(await page.locator("#scenario").inputValue()).toBe(String(stored.id));
    await page.click("#start");
    const id = await waitForNewRun([baselineId, designId]);
    await mapIdle(page);
    const geo = await apiJson<{ features: unknown[] }>(server, `/api/networks/${stored.network}/geojson`);
    expect(await renderedLinkIds(page)).toEqual(range(geo.features.length));
    const run = await apiJson<RunView>(server, `/api/runs/${id}`);
    expect((await metric("revenue")).value).toBe(run.summary.revenue);
    expect(errors).toEqual([]);
  });

  it("is keyboard-operable: every control labelled, Tab follows the form, link buttons open popups", async () => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select")]
        .filter((e) => !e.labels || e.labels.length === 0)
        .map((e) => e.id),
    );
    expect(unlabelled).toEqual([]);
    // Clickable things are buttons, not divs.
    expect(await page.locator("[onclick], div[role=button], span[role=button]").count()).toBe(0);

    // A fresh page: Tab starts at the top of the document.
    await page.goto(`${server.url}/#run=${designId}`);
    await page.reload();
    await waitForView(page, `run:${designId}`);
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      order.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ""));
    }
    const want = ["network", "scenario", "scenario-file", "start"];
    expect(order.filter((id) => want.includes(id))).toEqual(want);

    // A link button in the table opens that link's popup from the keyboard.
    const button = page.locator("#links-table tbody tr button").first();
    const link = await page.locator("#links-table tbody tr").first().getAttribute("data-link");
    await button.focus();
    await page.keyboard.press("Enter");
    await page.locator(".tk-click .popup h3").waitFor({ state: "visible" });
    expect(await page.locator(".tk-click .popup h3").textContent()).toMatch(new RegExp(`^Link ${link} `));
    expect(errors).toEqual([]);
  });

  it("draws a network whose coordinates are not lon/lat (Chicago-Sketch) in a local frame, without a base map", async () => {
    await page.selectOption("#network", "chicago-sketch");
    await waitForView(page, "network:chicago-sketch");
    await mapIdle(page);
    const net = await apiJson<{ coordinateSystem: string; links: number }>(server, "/api/networks/chicago-sketch");
    expect(net.coordinateSystem).not.toBe("lonlat");
    expect(await page.locator("#map-note").textContent()).toContain("local frame");
    // Only the blank background under the tollkit layers: nothing fetched from anywhere.
    const layers = await page.evaluate(() =>
      (window.__tollkitMap as unknown as { getStyle(): { layers: { id: string }[]; sources: Record<string, unknown> } }).getStyle(),
    );
    expect(layers.layers.map((l) => l.id)).toEqual([
      "background",
      "tk-links-toll",
      "tk-links",
      "tk-links-moving",
      "tk-zones",
      "tk-toll-labels",
    ]);
    expect(Object.keys(layers.sources).sort()).toEqual(["tk-links", "tk-toll-labels", "tk-tolls", "tk-zones"]);
    // Every link is drawn except those shorter than a pixel at this zoom (Chicago-Sketch has two links drawn 0.0001° long).
    const ids = await renderedLinkIds(page);
    expect(ids.length).toBeGreaterThanOrEqual(net.links - 2);
    expect(ids.every((id) => id >= 1 && id <= net.links)).toBe(true);
    expect(errors).toEqual([]);
  });

  it("shows the API's message, naming the field, for a bad setting", async () => {
    await page.selectOption("#scenario", "");
    if ((await page.locator("#settings").getAttribute("open")) === null) await page.click("#settings > summary");
    await page.fill("#gap", "2");
    const before = errors.length;
    await page.click("#start");
    await page.waitForFunction(() => (document.getElementById("form-error")!.textContent ?? "") !== "");
    const message = (await page.locator("#form-error").textContent())!;
    expect(message).toContain("settings.gap");
    // The browser itself logs the refused request; nothing else may be logged.
    const logged = errors.splice(before);
    expect(logged.every((e) => /Failed to load resource: the server responded with a status of 400/.test(e))).toBe(true);
    expect(errors).toEqual([]);
  });

  it("follows a long run live over Server-Sent Events and cancels it", async () => {
    // Chicago-Sketch is on screen from the previous test; MSA to a tiny gap runs for minutes.
    await page.selectOption("#scenario", "");
    if ((await page.locator("#settings").getAttribute("open")) === null) await page.click("#settings > summary");
    await page.selectOption("#algorithm", "msa");
    await page.fill("#gap", "1e-12");
    const before = (await apiJson<{ items: { id: number }[] }>(server, "/api/runs")).items.map((r) => r.id);
    await page.click("#start");
    const live = page.locator("#progress-text");
    await page.waitForFunction(
      () => /iteration \d+, relative gap/.test(document.getElementById("progress-text")!.textContent ?? ""),
      null,
      {
        timeout: 120_000,
      },
    );
    const id = Number(/Run #(\d+)/.exec((await live.textContent())!)![1]);
    expect(before).not.toContain(id);
    // The live chart and the progress bar follow the events.
    expect(await page.locator("#convergence path.series").count()).toBe(1);
    expect(Number(await page.locator("#progress").getAttribute("value"))).toBeGreaterThanOrEqual(0);
    await page.click("#cancel");
    await page.waitForFunction(
      (id) => (document.getElementById("progress-text")!.textContent ?? "").startsWith(`Run #${id} cancelled`),
      id,
      {
        timeout: 60_000,
      },
    );
    const run = await apiJson<RunView>(server, `/api/runs/${id}`);
    expect(run.status).toBe("cancelled");
    expect(await page.locator("#cancel").isHidden()).toBe(true);
    expect(errors).toEqual([]);
  });

  it("drags Berlin-Center (28,376 links) with its 3,000 links of highest capacity drawn, and draws every link again when it stops", async () => {
    await page.selectOption("#network", "berlin-center");
    await waitForView(page, "network:berlin-center");
    await mapIdle(page);
    // The main roads, computed here from the API's network: highest capacity, then longest, then lowest id.
    const doc = await apiJson<{
      features: { geometry: { type: string }; properties: { link: number; capacity: number; length: number } }[];
    }>(server, "/api/networks/berlin-center/geojson");
    const links = doc.features.filter((f) => f.geometry.type === "LineString").map((f) => f.properties);
    expect(links).toHaveLength(28376);
    links.sort((a, b) => b.capacity - a.capacity || b.length - a.length || a.link - b.link);
    const main = new Set(links.slice(0, 3000).map((l) => l.link));
    const opacity = () =>
      page.evaluate(() => {
        const map = window.__tollkitMap as unknown as { getPaintProperty(l: string, p: string): number; isMoving(): boolean };
        return {
          links: map.getPaintProperty("tk-links", "line-opacity"),
          moving: map.getPaintProperty("tk-links-moving", "line-opacity"),
          isMoving: map.isMoving(),
        };
      });
    expect(await opacity()).toEqual({ links: 1, moving: 0, isMoving: false });
    const atRest = await renderedLinkIds(page);
    expect(atRest.length).toBeGreaterThan(10_000);

    const box = (await page.locator("#map canvas").boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let k = 1; k <= 10; k++) await page.mouse.move(box.x + box.width / 2 + 3 * k, box.y + box.height / 2 + 2 * k);
    // Mid-drag: the full layer is off, the main roads are drawn, nothing is hovered.
    expect(await opacity()).toEqual({ links: 0, moving: 1, isMoving: true });
    const moving = await renderedLinkIds(page, "tk-links-moving");
    expect(moving.length).toBeGreaterThan(1500);
    expect(moving.filter((id) => !main.has(id))).toEqual([]);
    expect(await page.locator(".tk-hover").count()).toBe(0);
    await page.mouse.up();
    await mapIdle(page);
    await page.waitForFunction(() => !(window.__tollkitMap as unknown as { isMoving(): boolean }).isMoving());
    await mapIdle(page);
    expect(await opacity()).toEqual({ links: 1, moving: 0, isMoving: false });
    expect((await renderedLinkIds(page)).length).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
  });
});

describe("web map without the standard networks (no internet, no mirror)", () => {
  it("says that Sioux Falls is not available and opens on the built-in grid city", async () => {
    const empty = mkdtempSync(join(tmpdir(), "tollkit-no-networks-"));
    const offline = await startServer({ env: { TOLLKIT_NETWORK_MIRROR: empty, TOLLKIT_NETWORK_CACHE: empty } });
    const p = await browser.context.newPage();
    const errs = watchErrors(p);
    try {
      const nets = await apiJson<{ id: string; available: string; links: number }[]>(offline, "/api/networks");
      expect(nets.find((n) => n.id === "sioux-falls")!.available).toBe("download");
      const grid = nets.find((n) => n.id === "grid-city")!;
      await p.goto(`${offline.url}/`);
      await waitForView(p, "network:grid-city");
      await mapIdle(p);
      expect(await p.locator("#network").inputValue()).toBe("grid-city");
      expect(await p.locator("#network-info").textContent()).toContain("Sioux Falls is not available on this server");
      expect(await renderedLinkIds(p)).toEqual(range(grid.links));
      expect(errs).toEqual([]);
    } finally {
      await p.close();
      await offline.stop();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
