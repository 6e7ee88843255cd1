import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Standard networks come from a mirror folder (never committed): default to ../shared/networks.
const sharedMirror = resolve(import.meta.dirname, "..", "shared", "networks");
const mirror = process.env.TOLLKIT_NETWORK_MIRROR ?? (existsSync(sharedMirror) ? sharedMirror : undefined);

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "tests/e2e/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    env: mirror ? { TOLLKIT_NETWORK_MIRROR: mirror } : {},
  },
});
