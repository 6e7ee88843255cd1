import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Standard networks come from a mirror folder (never committed): default to ../shared/networks.
const sharedMirror = resolve(import.meta.dirname, "..", "shared", "networks");
const mirror = process.env.TOLLKIT_NETWORK_MIRROR ?? (existsSync(sharedMirror) ? sharedMirror : undefined);

// Tests run against the TypeScript sources (no build needed, and one package's half-finished
// edit cannot break another's tests). CLI tests that spawn the binary use the built dist, which
// the global setup brings up to date first (tests/helpers/build.ts).
const pkgs = ["graph-core", "follower", "leader", "runs", "api", "cli"];
// Subpath entries first: `@tollkit/runs` would otherwise also match `@tollkit/runs/queue`.
const alias = [
  { find: "@tollkit/runs/queue", replacement: resolve(import.meta.dirname, "packages", "runs", "src", "queue", "index.ts") },
  ...pkgs.map((p) => ({ find: `@tollkit/${p}`, replacement: resolve(import.meta.dirname, "packages", p, "src", "index.ts") })),
];

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "tests/e2e/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    globalSetup: ["tests/helpers/build.ts"],
    env: mirror ? { TOLLKIT_NETWORK_MIRROR: mirror } : {},
  },
});
