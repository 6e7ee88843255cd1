/**
 * `tollkit networks list | info | fetch` through the built binary (run `pnpm build` first; this
 * test does not build). Expected values are the README's network table and the networks' own
 * READMEs (zones, nodes, links, total demand, FIRST THRU NODE, cost weights, coordinates).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { builtinNetwork, writeGmnsNetwork } from "@tollkit/graph-core";
import { tollkit as run } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "packages", "cli", "dist", "main.js");
const work = mkdtempSync(join(tmpdir(), "tollkit-cli-networks-"));
// an empty cache of our own, so that files resolve from the mirror (and nothing is downloaded)
const cache = join(work, "cache");

const tollkit = (...args: string[]) => run(...args, { timeout: 60_000, env: { TOLLKIT_NETWORK_CACHE: cache } });

beforeAll(() => {
  if (!existsSync(bin)) throw new Error("run `pnpm build` before the CLI tests");
  if (!process.env.TOLLKIT_NETWORK_MIRROR) throw new Error("TOLLKIT_NETWORK_MIRROR must name the folder of standard networks");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

// From README.md's network table and each network's README (total demand in trips).
const EXPECTED = {
  "sioux-falls": {
    zones: 24,
    nodes: 24,
    links: 76,
    totalDemand: 360600,
    firstThruNode: 1,
    costWeights: { tollFactor: 0, distanceFactor: 0 },
    coordinateSystem: "lonlat",
  },
  anaheim: {
    zones: 38,
    nodes: 416,
    links: 914,
    totalDemand: 104694.4,
    firstThruNode: 39,
    costWeights: { tollFactor: 0, distanceFactor: 0 },
    coordinateSystem: "lonlat",
  },
  barcelona: {
    zones: 110,
    nodes: 1020,
    links: 2522,
    totalDemand: 184679.561,
    firstThruNode: 111,
    costWeights: { tollFactor: 0, distanceFactor: 0 },
    coordinateSystem: "none",
  },
  "chicago-sketch": {
    zones: 387,
    nodes: 933,
    links: 2950,
    totalDemand: 1260907.44,
    firstThruNode: 1,
    costWeights: { tollFactor: 0.02, distanceFactor: 0.04 },
    coordinateSystem: "state-plane-feet",
  },
  "berlin-center": {
    zones: 865,
    nodes: 12981,
    links: 28376,
    totalDemand: 168222.302,
    firstThruNode: 866,
    costWeights: { tollFactor: 0, distanceFactor: 0 },
    coordinateSystem: "local",
  },
};

describe("tollkit networks info", () => {
  for (const [id, want] of Object.entries(EXPECTED)) {
    test(`${id} --json prints the README's values`, () => {
      const r = tollkit("networks", "info", id, "--json");
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.id).toBe(id);
      const { totalDemand, ...rest } = want;
      expect(j).toMatchObject(rest);
      expect(j.totalDemand).toBeCloseTo(totalDemand, 2);
    });
  }

  test("a built-in network and a GMNS folder", () => {
    const b = JSON.parse(tollkit("networks", "info", "braess-builtin", "--json").stdout);
    expect(b).toMatchObject({ id: "braess-builtin", zones: 2, nodes: 4, links: 5, totalDemand: 6, firstThruNode: 1 });
    const dir = join(work, "grid-gmns");
    writeGmnsNetwork(builtinNetwork("grid-city"), dir);
    const r = tollkit("networks", "info", dir, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ zones: 16, nodes: 100, links: 360, coordinateSystem: "lonlat" });
  });

  test("text output names the dimensions, FIRST THRU NODE and cost weights", () => {
    const r = tollkit("networks", "info", "anaheim");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/zones 38, nodes 416, links 914/);
    expect(r.stdout).toMatch(/first thru node 39/);
    expect(r.stdout).toMatch(/coordinates: lonlat/);
  });

  test("an unknown id exits 2 with a one-line message and no stack trace", () => {
    for (const cmd of ["info", "fetch"]) {
      const r = tollkit("networks", cmd, "nowhere");
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^tollkit: graph-core\/catalogue: unknown network "nowhere" \(expected one of sioux-falls, .*grid-city/);
    }
  });

  test("a malformed file exits 2 naming file, line and field", () => {
    const r = tollkit("networks", "info", "munich");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/munich_net\.tntp:\d+, field "capacity"/);
  });
});

describe("tollkit networks list and fetch", () => {
  test("list --json has every catalogue and built-in network, and which are available offline", () => {
    const r = tollkit("networks", "list", "--json");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; zones: number; nodes: number; links: number; kind: string; available: string }[];
    const byId = Object.fromEntries(rows.map((x) => [x.id, x]));
    for (const [id, want] of Object.entries(EXPECTED)) {
      expect(byId[id]).toMatchObject({ zones: want.zones, nodes: want.nodes, links: want.links, kind: "catalogue", available: "local" });
    }
    expect(byId.munich.available).toBe("unsupported");
    for (const id of ["two-route", "braess-builtin", "pigou", "grid-city"])
      expect(byId[id]).toMatchObject({ kind: "built-in", available: "local" });
  });

  test("fetch --json resolves every file of a network (here from the mirror)", () => {
    const r = tollkit("networks", "fetch", "sioux-falls", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { id: string; files: { kind: string; path: string; origin: string }[] };
    expect(j.id).toBe("sioux-falls");
    expect(j.files.map((f) => f.kind).sort()).toEqual(["flow", "net", "node", "trips"]);
    for (const f of j.files) {
      expect(f.origin).toBe("mirror");
      expect(existsSync(f.path)).toBe(true);
    }
  });
});
