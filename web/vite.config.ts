import { defineConfig } from "vite";

/**
 * The web map is a static single-page app: `vite build` writes web/dist, which `tollkit serve`
 * serves on the same port as the API. In development (`pnpm --filter @tollkit/web dev`) Vite
 * proxies /api to a running `tollkit serve` (TOLLKIT_API, default http://localhost:8080).
 */
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  // Preact's automatic JSX runtime for the panels written in TSX.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    // MapLibre alone is ~800 kB minified; one chunk is fine for an app served from localhost.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { "/api": process.env.TOLLKIT_API ?? "http://localhost:8080" },
  },
});
