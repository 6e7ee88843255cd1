/**
 * The planner's studio end to end (the real `tollkit serve`, the built page, the system
 * Chromium): a study authored on the map with no JSON, run, and checked against numbers from
 * outside the page — the leader's own cordon for the drawn polygon, and `tollkit design` run on
 * the scenario the page downloads. No console error may be logged.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawingPositions, loadNetwork } from "../../packages/graph-core/dist/index.js";
import { cordonLinks, insidePolygon } from "../../packages/leader/dist/index.js";
import { unitsOf } from "../../web/src/units.js";
import {
  apiJson,
  CLI,
  launchBrowser,
  mapIdle,
  overlaps,
  renderedLabels,
  OUT,
  ROOT,
  startServer,
  waitForRun,
  waitForView,
  watchErrors,
  type Browser,
  type Server,
} from "./harness.js";

interface RunView {
  id: number;
  status: string;
  network: string;
  summary: Record<string, unknown> & { tolls: { link: number; toll: number }[] };
}

let server: Server;
let browser: Browser;
let page: Page;
let errors: string[];
let tmp: string;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), "tollkit-studio-"));
  server = await startServer();
  browser = await launchBrowser({ width: 1440, height: 900 });
  page = await browser.context.newPage();
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Screen point on a link's drawn line (its midpoint moved to the side it is offset to). */
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
    const off = map.getFeatureState({ source: "tk-links", id: link }).o ?? 0;
    const rect = map.getCanvas().getBoundingClientRect();
    return { x: rect.left + (a.x + b.x) / 2 + (-(b.y - a.y) / len) * off, y: rect.top + (a.y + b.y) / 2 + ((b.x - a.x) / len) * off };
  }, link);
}

/** Waits for the leader's answer on the current draft (valid or not). */
async function waitChecked(): Promise<void> {
  await page.waitForFunction(() => (document.getElementById("study-check")?.dataset.valid ?? "") !== "", null, { timeout: 30_000 });
}

/** Waits for the leader's verdict on the draft to be `valid`. */
async function waitValid(): Promise<void> {
  await page.waitForFunction(() => document.getElementById("study-check")?.dataset.valid === "true", null, { timeout: 30_000 });
}

/** Waits for the results of a run started from the page after `previous`; returns its id. */
async function waitForNewRun(previous: number[], timeoutMs = 280_000): Promise<number> {
  const handle = await page.waitForFunction(
    (prev) => {
      const m = /^run:(\d+)$/.exec(document.body.dataset.view ?? "");
      return m && !prev.includes(Number(m[1])) ? Number(m[1]) : null;
    },
    previous,
    { timeout: timeoutMs, polling: 250 },
  );
  return (await handle.jsonValue()) as number;
}

async function openStudio(): Promise<void> {
  if ((await page.locator("#studio-details").getAttribute("open")) === null) await page.click("#studio-summary");
}

describe("planner studio (tollkit serve + Chromium)", () => {
  let sfRun = 0;

  it("Sioux Falls: three links clicked on the map, bounds 0–20, revenue by gradient; tolls, revenue and TSTT with units", async () => {
    await page.goto(`${server.url}/#network=sioux-falls`);
    await waitForView(page, "network:sioux-falls");
    await mapIdle(page);
    await openStudio();
    await mapIdle(page); // opening the studio resizes the map: click where the links are drawn now
    const picked = [16, 19, 29];
    for (const link of picked) {
      const at = await linkScreenPoint(link);
      await page.mouse.click(at.x, at.y);
    }
    await page.mouse.move(5, 5);
    await page.waitForFunction(() => document.getElementById("study-count")?.dataset.count === "3");
    // The map draws the picked links as selected (feature state from the store).
    const sel = await page.evaluate(() =>
      [16, 19, 29].map(
        (id) =>
          (window.__tollkitMap as unknown as { getFeatureState(f: object): { sel?: boolean } }).getFeatureState({ source: "tk-links", id })
            .sel,
      ),
    );
    expect(sel).toEqual([true, true, true]);
    await page.fill("#study-name", "sf-three-links-revenue");
    await page.fill("#study-min", "0");
    await page.fill("#study-max", "20");
    await page.selectOption("#study-objective", "revenue");
    await page.selectOption("#study-method", "gradient");
    await page.fill("#study-max-solves", "30");
    await waitValid();
    await page.screenshot({ path: join(OUT, "studio-sioux-falls.png") });

    // The scenario the page downloads is what it runs.
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#study-download")]);
    const file = join(tmp, "sf.json");
    await dl.saveAs(file);
    const scenario = JSON.parse(readFileSync(file, "utf8"));
    expect(scenario.instrument).toMatchObject({ type: "links", links: picked, bounds: { min: 0, max: 20 } });
    expect(scenario.objective.type).toBe("revenue");

    await page.click("#study-run");
    sfRun = await waitForNewRun([]);
    await mapIdle(page);
    const run = await apiJson<RunView>(server, `/api/runs/${sfRun}`);
    expect(run.status).toBe("done");
    const units = unitsOf((await apiJson<{ units?: Record<string, string> }>(server, "/api/networks/sioux-falls")).units);
    const tstt = page.locator('dd[data-metric="tstt"]');
    expect(await tstt.textContent()).toBe(units.vehicleTime(run.summary.tstt as number));
    expect(await tstt.textContent()).toContain("veh·min");
    expect(await page.locator('dd[data-metric="revenue"]').textContent()).toBe(units.money(run.summary.revenue as number));
    // Every toll in the table, with its unit, as the API has it.
    const tolls = run.summary.tolls.filter((t) => t.toll > 0);
    expect(tolls.length).toBeGreaterThan(0);
    for (const t of tolls) {
      expect(picked).toContain(t.link);
      expect(await page.locator(`#links-table tbody tr[data-link="${t.link}"] td`).first().textContent()).toBe(units.money(t.toll));
    }
    expect(await page.locator("#links-table thead").textContent()).toContain(`Toll (${units.moneyLabel})`);
    await page.screenshot({ path: join(OUT, "studio-sioux-falls-result.png") });

    // Export from the page: flows (CSV, GeoJSON), the design result, the scenario, the map.
    const save = async (id: string, name: string) => {
      const [d] = await Promise.all([page.waitForEvent("download"), page.click(`#${id}`)]);
      const f = join(tmp, name);
      await d.saveAs(f);
      return f;
    };
    const csv = readFileSync(await save("export-flows-csv", "flows.csv"), "utf8")
      .trim()
      .split("\n");
    expect(csv[0]).toContain("link");
    expect(csv.length - 1).toBe(76);
    const geo = JSON.parse(readFileSync(await save("export-flows-geojson", "flows.geojson"), "utf8"));
    expect(geo.features.filter((f: { geometry: { type: string } }) => f.geometry.type === "LineString")).toHaveLength(76);
    const result = JSON.parse(readFileSync(await save("export-result", "result.json"), "utf8"));
    expect(result.tolls).toEqual(run.summary.tolls);
    const stored = JSON.parse(readFileSync(await save("export-scenario", "scenario.json"), "utf8"));
    expect(stored.instrument).toEqual(scenario.instrument);
    const png = readFileSync(await save("export-png", "map.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(10_000); // a drawn map, not a blank canvas

    // `tollkit design` on the downloaded file gives the same tolls as the page shows.
    const out = execFileSync(process.execPath, [CLI, "design", file, "--json"], {
      cwd: ROOT,
      env: process.env,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    const cli = JSON.parse(out) as { tolls: { link: number; toll: number }[]; revenue?: number };
    const cliTolls = new Map(cli.tolls.map((t) => [t.link, t.toll]));
    for (const t of run.summary.tolls) expect(cliTolls.get(t.link), `link ${t.link}`).toBeCloseTo(t.toll, 6);
    expect(errors).toEqual([]);
  });

  it("Chicago-Sketch: a polygon drawn on the map selects the leader's cordon, and a grid design runs", async () => {
    await page.goto(`${server.url}/#network=chicago-sketch`);
    await waitForView(page, "network:chicago-sketch");
    await mapIdle(page);
    await openStudio();
    await page.selectOption("#study-select", "cordon");
    await page.click("#study-draw-cordon");
    const box = (await page.locator("#map canvas").boundingBox())!;
    const cx = box.x + box.width * 0.5;
    const cy = box.y + box.height * 0.5;
    const corners = [
      [cx - 70, cy - 60],
      [cx + 60, cy - 70],
      [cx + 70, cy + 60],
      [cx - 60, cy + 70],
    ];
    for (const [x, y] of corners) {
      await page.mouse.move(x, y);
      await page.mouse.click(x, y);
      await page.waitForTimeout(150);
    }
    // Enter finishes the drawing even when the focus has left the map (the page's own updates can take it)
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => Number(document.getElementById("study-count")?.dataset.count) > 0, null, { timeout: 30_000 });
    await waitChecked();
    const count = Number(await page.locator("#study-count").getAttribute("data-count"));

    // The leader's cordon for the same polygon: the drawn ring in the map's coordinates, the
    // network's nodes where the API draws them, the leader's point-in-polygon and cordon rule.
    const ring = await page.evaluate(
      ({ corners, left, top }) =>
        corners
          .map(([x, y]) =>
            (window.__tollkitMap as unknown as { unproject(p: [number, number]): { lng: number; lat: number } }).unproject([
              x - left,
              y - top,
            ]),
          )
          .map((c) => [c.lng, c.lat] as [number, number]),
      { corners, left: box.x, top: box.y },
    );
    const net = await loadNetwork("chicago-sketch");
    const pos = drawingPositions(net);
    const inside = new Uint8Array(net.nodeCount);
    for (let i = 0; i < net.nodeCount; i++) if (insidePolygon(pos.x[i], pos.y[i], ring)) inside[i] = 1;
    const expected = cordonLinks(net, inside);
    expect(expected.length).toBeGreaterThan(0);
    expect(count).toBe(expected.length);
    // The README's picture of the studio (regenerated only on purpose).
    await page.locator("#study-select").scrollIntoViewIfNeeded();
    await page.evaluate(() => document.querySelector(".sidebar")!.scrollBy(0, 120));
    await page.screenshot({ path: join(OUT, "studio.png") });
    if (process.env.TOLLKIT_REGEN_SCREENSHOT === "1") copyFileSync(join(OUT, "studio.png"), join(ROOT, "docs", "studio.png"));
    const drawn = await page.evaluate(() =>
      (
        window.__tollkitMap as unknown as {
          queryRenderedFeatures(o: object): { properties: { link: number } }[];
          getFeatureState(f: object): { sel?: boolean };
        }
      ).getFeatureState({ source: "tk-links", id: 1 }),
    );
    expect(drawn).toBeDefined();

    await page.fill("#study-name", "chicago-cordon-grid");
    await page.fill("#study-max", "300");
    await page.selectOption("#study-method", "grid");
    await page.fill("#study-grid-points", "3");
    await page.click(".advanced > summary");
    await page.fill("#study-gap", "1e-5");
    await waitValid();
    await page.screenshot({ path: join(OUT, "studio-chicago-cordon.png") });
    await page.click("#study-run");
    const id = await waitForNewRun([sfRun]);
    await mapIdle(page);
    const run = await apiJson<RunView>(server, `/api/runs/${id}`);
    expect(run.status).toBe("done");
    expect(run.network).toBe("chicago-sketch");
    // One cordon charge on the leader's cordon links.
    const charged = run.summary.tolls.filter((t) => t.toll > 0).map((t) => t.link);
    if (charged.length) expect(charged.sort((a, b) => a - b)).toEqual(expected.map((a) => a + 1));
    await page.screenshot({ path: join(OUT, "studio-chicago-result.png") });
    expect(errors).toEqual([]);
  });

  it("first-best tolls on Sioux Falls: no two rendered toll labels overlap", async () => {
    await page.goto(`${server.url}/#network=sioux-falls`);
    await waitForView(page, "network:sioux-falls");
    await page.setInputFiles("#scenario-file", join(ROOT, "scenarios", "sioux-falls-first-best.json"));
    await page.waitForFunction(() => (document.getElementById("scenario") as HTMLSelectElement).value !== "");
    const before = (await apiJson<{ items: { id: number }[] }>(server, "/api/runs")).items.map((r) => r.id);
    await page.click("#start");
    const id = await waitForNewRun(before);
    await mapIdle(page);
    const run = await apiJson<RunView>(server, `/api/runs/${id}`);
    const tolled = run.summary.tolls.filter((t) => t.toll > 0);
    expect(tolled.length).toBeGreaterThan(50);
    const labels = await renderedLabels(page);
    expect(labels.length).toBeGreaterThan(5);
    expect(overlaps(labels)).toEqual([]);
    await page.screenshot({ path: join(OUT, "first-best-labels.png") });

    // The baseline button solves the no-toll equilibrium with the design's own follower settings;
    // compared with the design, no warning about different precision.
    const follower = JSON.parse(readFileSync(join(ROOT, "scenarios", "sioux-falls-first-best.json"), "utf8")).follower ?? {};
    await page.click("#solve-baseline");
    const base = await waitForNewRun([...before, id]);
    const baseline = await apiJson<RunView & { kind: string; settings: Record<string, unknown> }>(server, `/api/runs/${base}`);
    expect(baseline.kind).toBe("assign");
    expect(baseline.settings).toMatchObject({ algorithm: follower.algorithm ?? "bush", gap: follower.gap ?? 1e-10 });
    await page.goto(`${server.url}/#compare=${base},${id}`);
    await waitForView(page, `compare:${base},${id}`);
    expect(await page.locator('#warnings li[data-warning="gap"]').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("works from the keyboard alone: links from the searchable list, bounds, run, results", async () => {
    await page.goto(`${server.url}/#network=sioux-falls`);
    await page.reload(); // Tab starts at the top of a fresh document
    await waitForView(page, "network:sioux-falls");
    const tabTo = async (id: string) => {
      for (let i = 0; i < 200; i++) {
        if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
        await page.keyboard.press("Tab");
      }
      throw new Error(`Tab never reached #${id}`);
    };
    const before = (await apiJson<{ items: { id: number }[] }>(server, "/api/runs")).items.map((r) => r.id);
    await tabTo("studio-summary");
    await page.keyboard.press("Enter");
    await tabTo("study-name");
    await page.keyboard.type("keyboard-study");
    for (const link of [16, 19]) {
      await tabTo("study-link-search");
      await page.keyboard.press("Control+A");
      await page.keyboard.type(String(link));
      await tabTo(`study-link-${link}`);
      await page.keyboard.press("Space");
    }
    await page.waitForFunction(() => document.getElementById("study-count")?.dataset.count === "2");
    await tabTo("study-max");
    await page.keyboard.type("10");
    await tabTo("study-max-solves");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("20");
    await waitValid();
    await tabTo("study-run");
    await page.keyboard.press("Enter");
    const id = await waitForNewRun(before);
    const run = await apiJson<RunView>(server, `/api/runs/${id}`);
    expect(run.status).toBe("done");
    expect(run.summary.tolls.map((t) => t.link).sort((a, b) => a - b)).toEqual([16, 19]);
    const units = unitsOf((await apiJson<{ units?: Record<string, string> }>(server, "/api/networks/sioux-falls")).units);
    expect(await page.locator('dd[data-metric="tstt"]').textContent()).toBe(units.vehicleTime(run.summary.tstt as number));
    // Every tolled link is in the results table (the keyboard path to the map's labels and popups).
    for (const t of run.summary.tolls.filter((t) => t.toll > 0))
      expect(await page.locator(`#links-table tbody tr[data-link="${t.link}"]`).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it("compare: only runs of one network, refuses two networks, warns on different gaps, maps the difference", async () => {
    const all = (await apiJson<{ items: { id: number; network: string; status: string }[] }>(server, "/api/runs")).items.filter(
      (r) => r.status === "done",
    );
    const sf = all.filter((r) => r.network === "sioux-falls");
    const chicago = all.find((r) => r.network === "chicago-sketch")!;
    expect(sf.length).toBeGreaterThanOrEqual(2);
    await page.goto(`${server.url}/#network=sioux-falls`);
    await page.reload();
    await waitForView(page, "network:sioux-falls");
    // By default two different runs of the same network.
    const a = await page.locator("#compare-a").inputValue();
    const b = await page.locator("#compare-b").inputValue();
    expect(a).not.toBe(b);
    const netOf = new Map(all.map((r) => [String(r.id), r.network]));
    expect(netOf.get(a)).toBe(netOf.get(b));
    await page.selectOption("#compare-a", String(sf[0].id));
    const offered = await page.locator("#compare-b option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered.length).toBeGreaterThan(0);
    for (const id of offered) expect(netOf.get(id)).toBe("sioux-falls");
    expect(offered).not.toContain(String(sf[0].id));
    // Two networks: refused with a message.
    await page.goto(`${server.url}/#compare=${sf[0].id},${chicago.id}`);
    await page.waitForFunction(() => (document.getElementById("compare-error")?.textContent ?? "").includes("same network"));
    // A quick baseline (gap 1e-3) against a design solved to 1e-8 or finer: a warning, and the difference map.
    await page.goto(`${server.url}/#network=sioux-falls`);
    await waitForView(page, "network:sioux-falls");
    const { id: quick } = await apiJson<{ id: number }>(server, "/api/runs", {
      method: "POST",
      body: JSON.stringify({ kind: "assign", network: "sioux-falls", settings: { gap: 1e-3 } }),
    });
    expect((await waitForRun(server, quick)).status).toBe("done");
    const design = sf.find((r) => r.id !== quick)!;
    await page.goto(`${server.url}/#compare=${quick},${design.id}`);
    await waitForView(page, `compare:${quick},${design.id}`);
    await mapIdle(page);
    expect(await page.locator('#warnings li[data-warning="gap"]').count()).toBe(1);
    expect(await page.locator("#legend").textContent()).toContain("Flow change, B − A");
    const cmp = await apiJson<{ links: { link: number; flowDifference: number }[] }>(server, `/api/compare?a=${quick}&b=${design.id}`);
    const colours = await page.evaluate(
      (ids) =>
        ids.map(
          (id) =>
            (window.__tollkitMap as unknown as { getFeatureState(f: object): { c?: string } }).getFeatureState({ source: "tk-links", id })
              .c,
        ),
      cmp.links.map((l) => l.link),
    );
    // Links whose flow changed most are drawn in the diverging colours, not the neutral grey.
    const largest = cmp.links.reduce((m, l, i) => (Math.abs(l.flowDifference) > Math.abs(cmp.links[m].flowDifference) ? i : m), 0);
    expect(colours[largest]).not.toBe("#e0e0e0");
    expect(await page.locator('dd[data-metric="diff-tstt"]').textContent()).toContain("veh·min");
    await page.screenshot({ path: join(OUT, "studio-compare.png") });
    expect(errors).toEqual([]);
  });

  it("names a run from the runs list (PATCH /api/runs/:id) and shows the name in the lists", async () => {
    await page.goto(`${server.url}/#network=sioux-falls`);
    await page.reload(); // the list of every run, including those started through the API
    await waitForView(page, "network:sioux-falls");
    const { id } = await apiJson<{ id: number }>(server, "/api/runs", {
      method: "POST",
      body: JSON.stringify({ kind: "assign", network: "sioux-falls", settings: { gap: 1e-3 } }),
    });
    expect((await waitForRun(server, id)).status).toBe("done");
    await page.reload();
    await waitForView(page, "network:sioux-falls");
    await page.click(`#runs li[data-run="${id}"] .run-rename`);
    await page.fill(`#run-name-${id}`, "quick baseline");
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      (id) => document.querySelector(`#runs li[data-run="${id}"] .run-button`)?.textContent === `#${id} quick baseline`,
      id,
    );
    expect((await apiJson<{ name: string | null }>(server, `/api/runs/${id}`)).name).toBe("quick baseline");
    const options = await page.locator("#compare-a option").allTextContents();
    expect(options).toContain(`#${id} quick baseline`);
    expect(errors).toEqual([]);
  });

  it("shows the leader's message beside the field for a bad value", async () => {
    await page.goto(`${server.url}/#network=sioux-falls`);
    await page.reload();
    await waitForView(page, "network:sioux-falls");
    await openStudio();
    await page.fill("#study-demand-scale", "-2");
    await page.waitForSelector('.field-error[data-path="demandScale"]');
    expect(await page.locator("#study-demand-scale").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator('.field-error[data-path="demandScale"]').textContent()).toContain("positive");
    await page.fill("#study-demand-scale", "1");
    await page.waitForSelector('.field-error[data-path="demandScale"]', { state: "detached" });
    expect(await page.locator("#study-demand-scale").getAttribute("aria-invalid")).toBeNull();
    expect(errors).toEqual([]);
  });
});
