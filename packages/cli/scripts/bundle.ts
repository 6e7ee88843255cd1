/**
 * Bundles the `tollkit` command into `packages/cli/dist/main.js` (run after `tsc -b packages/cli`,
 * by `pnpm build` and by vitest's global setup, tests/helpers/build.ts).
 *
 * Why: unbundled, `tollkit assign` made Node resolve, read and compile about 430 modules
 * (226 of them zod's) before the solve began, most of the command's start-up time
 * (docs/benchmarks.md, "CLI start-up"). The bundle is the same compiled code (tsc's output in each
 * package's `dist/`, so nothing is compiled twice or differently) in a few files, each command still
 * in its own lazily imported chunk.
 *
 * Entries: `dist/entry.js` (from src/entry.ts: `--version`, else the program of src/program.ts) → `dist/main.js`, and the run
 * child `@tollkit/runs`'s `dist/child.js` → `dist/child.js`, where the bundled executor looks for
 * it (beside itself). Chunks sit flat in `dist/` too, so every `import.meta.url` path in bundled
 * code (the repository root from graph-core's catalogue, `../package.json` for the version) keeps
 * the depth it has in its package's `dist/`.
 *
 * Not bundled: `serve` and `worker` (long-running; they load tsc's `dist/commands/*.js` as before,
 * with @tollkit/api, express, SQLite, bullmq and ioredis from node_modules), native and server
 * libraries (kept external so that a stray import of them shows in an import trace), and the
 * queue client (`@tollkit/runs/queue`, loaded only when a queue is asked for).
 */
import { build, type Metafile, type Plugin } from "esbuild";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readerCodeHashIn } from "@tollkit/graph-core";

const cli = resolve(import.meta.dirname, "..");
const root = resolve(cli, "..", "..");
const dist = join(cli, "dist");

/** Libraries never bundled: the server's, the queue's, and native modules. */
export const EXTERNAL = ["express", "compression", "better-sqlite3", "bullmq", "ioredis", "@tollkit/api", "@tollkit/runs/queue"];
/** Commands left to tsc's output beside the bundle (`./commands/<name>.js`). */
export const UNBUNDLED_COMMANDS = ["serve", "worker"];

/**
 * The metafile of the last bundle: which inputs (paths relative to the repository root) went into
 * which output; tests/cli-imports.test.ts reads it to see what a loaded chunk holds.
 */
export const METAFILE = join(dist, "bundle-meta.json");

const unbundledCommands: Plugin = {
  name: "tollkit-unbundled-commands",
  setup(b) {
    const filter = new RegExp(`^\\./commands/(${UNBUNDLED_COMMANDS.join("|")})\\.js$`);
    b.onResolve({ filter }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * Libraries without side effects at import that do not say so (CommonJS, no `sideEffects` field):
 * declared here, so that the bundle leaves them out where nothing uses them (graphology, 136 KB,
 * is imported by graph-core's adapter, which no command calls).
 */
const PURE_LIBRARIES = ["graphology"];

const pureLibraries: Plugin = {
  name: "tollkit-pure-libraries",
  setup(b) {
    const filter = new RegExp(`^(${PURE_LIBRARIES.join("|")})$`);
    b.onResolve({ filter }, async (a) => {
      if (a.pluginData === "pure") return undefined;
      const r = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: "pure" });
      return r.errors.length ? { errors: r.errors } : { ...r, sideEffects: false };
    });
  },
};

/** Builds the bundle; tsc's `dist/` must be up to date. Returns esbuild's metafile. */
export async function bundleCli(): Promise<Metafile> {
  for (const f of readdirSync(dist)) if (/^(main|child|chunk-[A-Z0-9]+)\.js(\.map)?$/.test(f)) rmSync(join(dist, f));
  const graphCoreDist = dirname(fileURLToPath(import.meta.resolve("@tollkit/graph-core")));
  const childEntry = fileURLToPath(import.meta.resolve("@tollkit/runs")).replace(/index\.js$/, "child.js");
  const r = await build({
    entryPoints: { main: join(dist, "entry.js"), child: childEntry },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    chunkNames: "chunk-[hash]",
    external: EXTERNAL,
    plugins: [unbundledCommands, pureLibraries],
    // commander is CommonJS: give its bundled require() Node's
    banner: {
      js: 'import { createRequire as __tollkitCreateRequire } from "node:module"; const require = __tollkitCreateRequire(import.meta.url);',
    },
    define: { __TOLLKIT_READER_HASH__: JSON.stringify(readerCodeHashIn(graphCoreDist)) },
    absWorkingDir: root,
    metafile: true,
    logLevel: "warning",
  });
  writeFileSync(METAFILE, JSON.stringify(r.metafile));
  return r.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli();
