/**
 * Shared by the browser end-to-end tests and the map benchmark: start the real `tollkit serve`
 * (built dist, on a free port, with a temporary database), drive the system Chromium headless
 * through playwright-core (never a downloaded browser), and read the map's state.
 *
 * Needs `pnpm build` first (the CLI's dist and web/dist); says so when they are missing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const CLI = join(ROOT, "packages", "cli", "dist", "main.js");
export const WEB_DIST = join(ROOT, "web", "dist", "index.html");
/** The system Chromium (apt package); override with TOLLKIT_CHROMIUM. */
export const CHROMIUM = process.env.TOLLKIT_CHROMIUM ?? "/usr/bin/chromium";
/** Where tests write screenshots (git-ignored). */
export const OUT = join(ROOT, "tests", ".out");

/** Chromium flags: headless WebGL through SwiftShader, and nothing that phones home. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--no-first-run",
  "--no-default-browser-check",
];

/** A free TCP port on localhost. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface Server {
  url: string;
  port: number;
  db: string;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Environment overrides (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/**
 * Starts `tollkit serve --port <free> --db <temp file>` and waits until /api/health answers.
 * Writes are open (any TOLLKIT_API_TOKEN of the caller's environment is dropped).
 */
export async function startServer(opts: ServerOptions = {}): Promise<Server> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  for (const [f, what] of [
    [CLI, "the CLI"],
    [WEB_DIST, "the web app"],
  ] as const)
    if (!existsSync(f)) throw new Error(`e2e: ${what} is not built (${f} is missing): run \`pnpm build\` first`);
  const dir = mkdtempSync(join(tmpdir(), "tollkit-e2e-"));
  const db = join(dir, "tollkit.db");
  const port = await freePort();
  let out = "";
  const child: ChildProcess = spawn(process.execPath, [CLI, "serve", "--port", String(port), "--db", db], {
    cwd: ROOT,
    env: serverEnv(opts.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  let exited: number | null = null;
  child.on("exit", (code) => (exited = code ?? -1));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (exited !== null) throw new Error(`e2e: tollkit serve exited with ${exited}:\n${out}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`e2e: tollkit serve did not answer /api/health within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    db,
    output: () => out,
    stop: async () => {
      if (exited === null) {
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function serverEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TOLLKIT_API_TOKEN: undefined };
  for (const [k, v] of Object.entries(overrides)) env[k] = v;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

/** JSON from the API; throws with the server's message on an error status. */
export async function apiJson<T>(server: Server, path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(`${server.url}${path}`, {
    ...init,
    headers: init?.body ? { "content-type": "application/json" } : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`e2e: ${init?.method ?? "GET"} ${path}: HTTP ${r.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Polls a run until it reaches a terminal status; returns it. */
export async function waitForRun(server: Server, id: number, timeoutMs = 240_000): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  for (;;) {
    const run = await apiJson<Record<string, unknown>>(server, `/api/runs/${id}`);
    if (["done", "failed", "cancelled", "interrupted"].includes(run.status as string)) return run;
    if (Date.now() - t0 > timeoutMs) throw new Error(`e2e: run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches the system Chromium headless with a fresh profile directory. */
export async function launchBrowser(viewport = { width: 1366, height: 768 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`e2e: no Chromium at ${CHROMIUM} (apt-get install chromium, or set TOLLKIT_CHROMIUM)`);
  const profile = mkdtempSync(join(tmpdir(), "tollkit-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor: 1,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Collects console errors and uncaught page errors (tests assert there are none). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  return errors;
}

/** Waits until the app has handed the data of `view` to the map (`document.body.dataset.view`). */
export async function waitForView(page: Page, view: string, timeoutMs = 240_000): Promise<void> {
  await page.waitForFunction((v) => document.body.dataset.view === v, view, { timeout: timeoutMs, polling: 100 });
}

/** Resolves at the map's next `idle` (a repaint is requested so that one always comes). */
export async function mapIdle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const map = window.__tollkitMap!;
        map.once("idle", () => resolve());
        map.triggerRepaint();
      }),
  );
}

/** Distinct link ids among the features rendered in a layer (a feature split over tiles counts once). */
export async function renderedLinkIds(page: Page, layer = "tk-links"): Promise<number[]> {
  return page.evaluate((layer) => {
    const fs = window.__tollkitMap!.queryRenderedFeatures({ layers: [layer] });
    return [...new Set(fs.map((f) => Number(f.properties.link)))].sort((a, b) => a - b);
  }, layer);
}

/** A toll label as rendered: its link, its text, and its box on screen (CSS px). */
export interface LabelBox {
  link: number;
  label: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The toll labels MapLibre placed (queryRenderedFeatures returns only the symbols that
 * survived collision), each with its box: the label image's size around its projected point.
 */
export async function renderedLabels(page: Page): Promise<LabelBox[]> {
  return page.evaluate(() => {
    const map = window.__tollkitMap! as unknown as {
      queryRenderedFeatures(o: {
        layers: string[];
      }): { properties: Record<string, unknown>; geometry: { coordinates: [number, number] } }[];
      project(c: [number, number]): { x: number; y: number };
    };
    const seen = new Set<number>();
    const out: { link: number; label: string; x0: number; y0: number; x1: number; y1: number }[] = [];
    for (const f of map.queryRenderedFeatures({ layers: ["tk-toll-labels"] })) {
      const link = Number(f.properties.link);
      if (seen.has(link)) continue;
      seen.add(link);
      const p = map.project(f.geometry.coordinates);
      const w = Number(f.properties.iw);
      const h = Number(f.properties.ih);
      out.push({ link, label: String(f.properties.label), x0: p.x - w / 2, y0: p.y - h / 2, x1: p.x + w / 2, y1: p.y + h / 2 });
    }
    return out;
  });
}

/** Pairs of label boxes that overlap (by more than a rounding pixel). */
export function overlaps(boxes: LabelBox[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > 1 && Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > 1) out.push([a.link, b.link]);
    }
  return out;
}

/** The part of the MapLibre map the tests use (the tests package does not depend on maplibre-gl). */
export interface TestMap {
  once(event: "idle", fn: () => void): void;
  triggerRepaint(): void;
  isMoving(): boolean;
  queryRenderedFeatures(options: { layers: string[] }): { properties: Record<string, unknown> }[];
  project(lngLat: [number, number]): { x: number; y: number };
  getCanvas(): HTMLCanvasElement;
}

declare global {
  interface Window {
    __tollkitMap?: TestMap;
  }
}
