/**
 * The page's API status line tells a degraded server (its database refuses writes: a full disk)
 * from an unreachable one. The real `tollkit serve` with the store's test hook: while the file
 * named by TOLLKIT_TEST_STORE_FULL exists, every write fails with SQLite's own SQLITE_FULL, and
 * `GET /api/health` answers 503 `degraded` with the reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, startServer, watchErrors, type Browser, type Server } from "./harness.js";

const full = join(mkdtempSync(join(tmpdir(), "tollkit-full-")), "disk-is-full");
let server: Server;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  server = await startServer({ env: { TOLLKIT_TEST_STORE_FULL: full } });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(full, { force: true });
});

const status = () => page.locator("#api-status").textContent();

describe("the API status line", () => {
  it("says the storage is degraded, with the reason, while the database refuses writes; connected once it takes them again", async () => {
    writeFileSync(full, "");
    // the first write that fails marks the store degraded (507: the disk is full)
    const post = await fetch(`${server.url}/api/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "assign", network: "two-route", settings: { gap: 1e-6 } }),
    });
    expect(post.status).toBe(507);
    const h = await fetch(`${server.url}/api/health`);
    expect(h.status).toBe(503);
    await page.goto(server.url);
    await page.waitForFunction(() => /connected|unreachable/.test(document.querySelector("#api-status")?.textContent ?? ""), null, {
      timeout: 60_000,
    });
    expect(await status()).toMatch(/connected, storage degraded: .*(SQLITE_FULL|full)/);
    expect(await status()).not.toMatch(/unreachable/);

    rmSync(full);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    await page.reload();
    await page.waitForFunction(() => /connected/.test(document.querySelector("#api-status")?.textContent ?? ""), null, { timeout: 60_000 });
    expect(await status()).not.toMatch(/degraded/);
    // the browser's own note of the 503 answer is the only console error
    expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
  });
});
