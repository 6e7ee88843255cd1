/**
 * web/src/api-types.ts is generated from the server's own OpenAPI document
 * (web/scripts/gen-api-types.ts): it must be what the script writes today, so that the page's
 * types never drift from the routes. Regenerate with `pnpm --filter @tollkit/web gen:api`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiTypesSource } from "../web/scripts/gen-api-types.js";

describe("web API types", () => {
  it("are generated from GET /api/openapi.json and up to date", async () => {
    const committed = readFileSync(join(import.meta.dirname, "..", "web", "src", "api-types.ts"), "utf8");
    expect(committed === (await apiTypesSource()), "web/src/api-types.ts is stale: run pnpm --filter @tollkit/web gen:api").toBe(true);
  });
});
