/**
 * The runs list and the trade-off view end to end (the real `tollkit serve`, the built page, the
 * system Chromium):
 * - a one-toll grid design (Braess's shortcut; a Sioux Falls cordon charge) shows TSTT, revenue
 *   and welfare against the toll, and every plotted point is the number the API reports for that
 *   grid point — its search history (TSTT, revenue per step) and its response surface (welfare) —
 *   with the chosen toll marked, and Braess's closed-form TSTT (552 untolled, 498 once the
 *   shortcut is emptied) at the ends;
 * - a finished run is deleted from the runs list (the API then answers 404 for it, and the map
 *   leaves its view); a running run cannot be deleted until it is cancelled.
 * No console error may be logged. With TOLLKIT_REGEN_SCREENSHOT=1 it rewrites docs/tradeoff.png.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses of the API; the tests assert their fields */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiJson,
  launchBrowser,
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

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser({ width: 1440, height: 900 });
  page = await browser.context.newPage();
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Loads the page afresh at `hash` (a change of the hash alone would not reload the runs list). */
async function open(hash: string): Promise<void> {
  await page.goto("about:blank");
  await page.goto(`${server.url}/#${hash}`);
}

interface Point {
  toll: number;
  value: number;
  cy: number;
}

/** The points plotted in one trade-off chart, as drawn (data attributes and pixel position). */
async function plotted(series: string): Promise<Point[]> {
  return page.locator(`#tradeoff-${series} circle.point`).evaluateAll((cs) =>
    cs.map((c) => ({
      toll: Number(c.getAttribute("data-toll")),
      value: Number(c.getAttribute("data-value")),
      cy: Number(c.getAttribute("cy")),
    })),
  );
}

/** Stores a scenario, runs its design through the API, and returns the finished run with its history. */
async function design(body: unknown): Promise<{ id: number; run: any }> {
  const stored = await apiJson<{ id: number }>(server, "/api/scenarios", { method: "POST", body: JSON.stringify(body) });
  const { id } = await apiJson<{ id: number }>(server, "/api/runs", {
    method: "POST",
    body: JSON.stringify({ kind: "design", scenario: stored.id }),
  });
  expect((await waitForRun(server, id)).status).toBe("done");
  return { id, run: await apiJson(server, `/api/runs/${id}?convergence=true`) };
}

/** Checks the three charts of the page against the run's history and surface; returns the TSTT points. */
async function checkTradeoff(id: number, run: any): Promise<Point[]> {
  await open(`run=${id}`);
  await waitForView(page, `run:${id}`);
  await page.locator("#tradeoff-figure").waitFor({ state: "visible" });
  const surface = run.summary.surface as { axes: { values: number[] }[]; tstt: number[]; revenue: number[]; welfare: number[] };
  const history = run.convergence as { step: number[]; tstt: number[]; revenue: number[] };
  const tolls = surface.axes[0].values;
  // the grid's history has one row per grid point, in grid order
  expect(history.step).toEqual(tolls.map((_, i) => i));
  const expected: Record<string, number[]> = { tstt: history.tstt, revenue: history.revenue, welfare: surface.welfare };
  expect(surface.tstt).toEqual(history.tstt);
  expect(surface.revenue).toEqual(history.revenue);
  const chosen = run.summary.tolls[0].toll as number;
  let tsttPoints: Point[] = [];
  for (const key of ["tstt", "revenue", "welfare"]) {
    const pts = await plotted(key);
    expect(pts.map((p) => p.toll)).toEqual(tolls);
    expect(pts.map((p) => p.value)).toEqual(expected[key]);
    // drawn where they say: the height is one decreasing affine function of the value
    const [lo, hi] = [0, pts.length - 1].map((k) => pts.slice().sort((a, b) => a.value - b.value)[k]);
    if (hi.value > lo.value) {
      const slope = (hi.cy - lo.cy) / (hi.value - lo.value);
      expect(slope).toBeLessThan(0);
      for (const p of pts) expect(p.cy).toBeCloseTo(lo.cy + slope * (p.value - lo.value), 6);
    }
    // the chosen toll is marked: the dashed line at its x, the circle on its point
    const marks = await page.locator(`#tradeoff-${key}`).evaluate((svg) => {
      const line = svg.querySelector("line.chosen")!;
      const best = svg.querySelector("circle.best")!;
      const pt = [...svg.querySelectorAll("circle.point")];
      return {
        line: Number(line.getAttribute("x1")),
        cx: Number(best.getAttribute("cx")),
        xs: pt.map((c) => Number(c.getAttribute("cx"))),
      };
    });
    const k = tolls.indexOf(chosen);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(marks.line).toBeCloseTo(marks.xs[k], 6);
    expect(marks.cx).toBeCloseTo(marks.xs[k], 6);
    if (key === "tstt") tsttPoints = pts;
  }
  return tsttPoints;
}

describe("trade-off view and runs list (tollkit serve + Chromium)", () => {
  it("Braess: a single-link sweep plots TSTT, revenue and welfare against the toll, as the API reports them", async () => {
    const scenario = JSON.parse(readFileSync(join(ROOT, "scenarios", "braess.json"), "utf8"));
    const { id, run } = await design(scenario);
    const tstt = await checkTradeoff(id, run);
    // closed form (the scenario's own description): 552 without tolls, 498 once the shortcut is empty
    expect(tstt[0].value).toBeCloseTo(552, 6);
    expect(tstt[tstt.length - 1].value).toBeCloseTo(498, 6);
    // the design minimises TSTT over the grid: the chosen point is the lowest plotted one
    const chosen = run.summary.tolls[0].toll as number;
    expect(tstt.find((p) => p.toll === chosen)!.value).toBe(Math.min(...tstt.map((p) => p.value)));
    expect(await page.locator("#tradeoff-chosen").textContent()).toContain("chosen toll ¤13.00");
    mkdirSync(OUT, { recursive: true });
    await page.locator("#tradeoff-figure").screenshot({ path: join(OUT, "tradeoff.png") });
    // the README's picture, regenerated only on purpose
    if (process.env.TOLLKIT_REGEN_SCREENSHOT === "1") copyFileSync(join(OUT, "tradeoff.png"), join(ROOT, "docs", "tradeoff.png"));
    expect(errors).toEqual([]);
  });

  it("Sioux Falls: a cordon charge's sweep, revenue maximised: the chosen toll is the plotted maximum of revenue", async () => {
    const { id, run } = await design({
      name: "sf cordon sweep",
      network: "sioux-falls",
      classes: [{ name: "car", valueOfTime: 1 }],
      instrument: { type: "cordon", nodes: [10, 15, 16, 17], bounds: { min: 0, max: 60 } },
      objective: { type: "revenue" },
      method: { type: "grid", points: 6 },
      follower: { algorithm: "bush", gap: 1e-10 },
    });
    await checkTradeoff(id, run);
    const revenue = await plotted("revenue");
    const chosen = run.summary.tolls[0].toll as number;
    expect(revenue.find((p) => p.toll === chosen)!.value).toBe(Math.max(...revenue.map((p) => p.value)));
    // no charge, no revenue
    expect(revenue[0]).toMatchObject({ toll: 0, value: 0 });
    expect(errors).toEqual([]);
  });

  it("deletes a finished run from the runs list; a running run must be cancelled first", async () => {
    const start = (network: string, settings: unknown) =>
      apiJson<{ id: number }>(server, "/api/runs", { method: "POST", body: JSON.stringify({ kind: "assign", network, settings }) });
    const { id } = await start("two-route", { gap: 1e-8 });
    expect((await waitForRun(server, id)).status).toBe("done");
    await open(`run=${id}`);
    await waitForView(page, `run:${id}`);
    const item = page.locator(`#runs li[data-run="${id}"]`);
    await item.locator(".run-delete").click();
    // asks once more, in place; Keep leaves it
    await item.locator(".run-delete-no").click();
    expect(await item.locator(".run-button").count()).toBe(1);
    await item.locator(".run-delete").click();
    expect(await item.locator(".run-confirm").textContent()).toContain(`#${id}`);
    await item.locator(".run-delete-yes").click();
    await item.waitFor({ state: "detached" });
    const r = await fetch(`${server.url}/api/runs/${id}`);
    expect(r.status).toBe(404);
    // the map leaves the deleted run's view for its network
    await waitForView(page, "network:two-route");

    // a long run: its Delete button is disabled while it runs, and the API refuses it (409)
    const { id: long } = await start("sioux-falls", { algorithm: "fw", gap: 1e-14, maxSeconds: 120 });
    await page.reload(); // the page lists it (and follows it live)
    await page.waitForFunction(
      (id) => document.querySelector<HTMLButtonElement>(`#runs li[data-run="${id}"] .run-delete`)?.disabled === true,
      long,
      { timeout: 30_000 },
    );
    const refused = await fetch(`${server.url}/api/runs/${long}?purge=true`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/cancel it first/);
    await fetch(`${server.url}/api/runs/${long}/cancel`, { method: "POST" });
    await page.reload();
    await page.waitForFunction(
      (id) => document.querySelector<HTMLButtonElement>(`#runs li[data-run="${id}"] .run-delete`)?.disabled === false,
      long,
      { timeout: 30_000 },
    );
    await page.locator(`#runs li[data-run="${long}"] .run-delete`).click();
    await page.locator(`#runs li[data-run="${long}"] .run-delete-yes`).click();
    await page.locator(`#runs li[data-run="${long}"]`).waitFor({ state: "detached" });
    expect((await fetch(`${server.url}/api/runs/${long}`)).status).toBe(404);
    expect(errors).toEqual([]);
  });
});
