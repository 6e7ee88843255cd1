import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Browser end-to-end tests (`pnpm test:e2e`): the real `tollkit serve` (built dist) and the built
// web app in the system Chromium. Kept apart from the main vitest config, which excludes tests/e2e.
const root = resolve(import.meta.dirname, "..", "..");
const sharedMirror = resolve(root, "..", "shared", "networks");
const mirror = process.env.TOLLKIT_NETWORK_MIRROR ?? (existsSync(sharedMirror) ? sharedMirror : undefined);

export default defineConfig({
  root,
  test: {
    include: ["tests/e2e/**/*.e2e.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: "forks",
    // One browser and one server at a time: the machine has two cores.
    maxWorkers: 1,
    fileParallelism: false,
    env: mirror ? { TOLLKIT_NETWORK_MIRROR: mirror } : {},
  },
});
