/**
 * The OpenAPI document passes a standard linter: Redocly's `recommended` rules
 * (@redocly/openapi-core, the engine of `redocly lint`), with and without a token configured.
 * Every operation declares its security (public reads `security: []`), `info.license` is set.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { createApp, openStore, Store, TollkitApp } from "@tollkit/api";
import { tempDir } from "../packages/api/test/helpers.js";

const apps: { store: Store; tk: TollkitApp }[] = [];
afterAll(async () => {
  for (const a of apps) {
    await a.tk.close(0);
    a.store.close();
  }
});

async function document(token?: string): Promise<unknown> {
  const store = openStore(join(tempDir(), "openapi.db"));
  const tk = createApp({ store, token, webDir: null, log: () => {} });
  apps.push({ store, tk });
  const route = tk.routes.find((r) => r.path === "/api/openapi.json")!;
  return route.handler({ params: {}, query: {}, body: undefined } as never);
}

describe("GET /api/openapi.json under Redocly's recommended rules", () => {
  let config: Awaited<ReturnType<typeof createConfig>>;
  beforeAll(async () => {
    config = await createConfig({ extends: ["recommended"] });
  });
  for (const token of [undefined, "s3cret"])
    it(`no errors or warnings (${token ? "with" : "without"} a token)`, async () => {
      const doc = await document(token);
      const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: "openapi.json", config });
      const shown = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? ""}`);
      expect(shown).toEqual([]);
    });

  it("the linter sees what it must: the same document without info.license and with a read's security removed fails", async () => {
    const doc = structuredClone(await document("s3cret")) as {
      info: Record<string, unknown>;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    delete doc.info.license;
    delete doc.paths["/api/health"].get.security;
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: "openapi.json", config });
    expect(problems.map((p) => p.ruleId)).toEqual(expect.arrayContaining(["info-license", "security-defined"]));
  });
});
