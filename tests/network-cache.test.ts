import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNetwork, Network, networkCachePath } from "@tollkit/graph-core";
import { solveBush } from "@tollkit/follower";

/**
 * The binary network cache (graph-core/network-cache.ts): a network loaded from the cache is the
 * parsed network bit for bit, so the equilibrium computed on it is the same to the last bit; a
 * cache whose source files changed is never used (the network is parsed again and the cache
 * file replaced); a damaged cache file is parsed around.
 *
 * The cache goes to a temporary folder (TOLLKIT_NETWORK_CACHE); networks come from the mirror.
 */

const mirror = process.env.TOLLKIT_NETWORK_MIRROR;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tollkit-network-cache-"));
  process.env.TOLLKIT_NETWORK_CACHE = join(dir, "cache");
});
afterAll(() => {
  delete process.env.TOLLKIT_NETWORK_CACHE;
  delete process.env.TOLLKIT_NETWORK_BINARY_CACHE;
  rmSync(dir, { recursive: true, force: true });
});

/** Loads with the binary cache turned off: the networks' files parsed. */
async function parsed(spec: string): Promise<Network> {
  process.env.TOLLKIT_NETWORK_BINARY_CACHE = "0";
  try {
    return await loadNetwork(spec);
  } finally {
    delete process.env.TOLLKIT_NETWORK_BINARY_CACHE;
  }
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Every field of two networks equal; typed arrays of the same type and equal byte for byte. */
function expectBitIdentical(got: unknown, want: unknown, path = "network"): void {
  if (ArrayBuffer.isView(want)) {
    expect(ArrayBuffer.isView(got), path).toBe(true);
    expect((got as object).constructor.name, path).toBe((want as object).constructor.name);
    expect(bytes(got as ArrayBufferView).equals(bytes(want)), `${path}: bytes differ`).toBe(true);
    return;
  }
  if (want !== null && typeof want === "object" && !Array.isArray(want)) {
    expect(Object.keys(got as object).sort(), path).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want))
      expectBitIdentical((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  expect(got, path).toEqual(want);
}

describe.skipIf(!mirror)("binary network cache", () => {
  it("Chicago-Sketch from the cache is the parsed network bit for bit, and so is its equilibrium to gap 1e-10", async () => {
    const file = networkCachePath(process.env.TOLLKIT_NETWORK_CACHE!, { id: "chicago-sketch" });
    expect(existsSync(file)).toBe(false);
    const fromText = await parsed("chicago-sketch");
    expect(existsSync(file)).toBe(false); // the cache turned off writes nothing
    const first = await loadNetwork("chicago-sketch"); // a miss: parsed and cached
    expect(existsSync(file)).toBe(true);
    const ino = statSync(file).ino;
    const cached = await loadNetwork("chicago-sketch"); // a hit
    expect(statSync(file).ino).toBe(ino); // not rewritten
    expectBitIdentical(first, fromText);
    expectBitIdentical(cached, fromText);

    const a = solveBush(fromText, { algorithm: "bush", gap: 1e-10, maxSeconds: 120 });
    const b = solveBush(cached, { algorithm: "bush", gap: 1e-10, maxSeconds: 120 });
    expect(a.converged && b.converged).toBe(true);
    expect(b.iterations).toBe(a.iterations);
    expect(bytes(b.flows).equals(bytes(a.flows))).toBe(true);
    expect(b.beckmann).toBe(a.beckmann);
    expect(b.relativeGap).toBe(a.relativeGap);
  });

  it("the network is taken from the cache file when its key matches (a marked copy is what loads)", async () => {
    await loadNetwork("sioux-falls");
    const file = networkCachePath(process.env.TOLLKIT_NETWORK_CACHE!, { id: "sioux-falls" });
    const c = deserialize(readFileSync(file)) as { network: Network };
    c.network.name = "marked in the cache";
    writeFileSync(file, serialize(c));
    expect((await loadNetwork("sioux-falls")).name).toBe("marked in the cache");
    rmSync(file);
    expect((await loadNetwork("sioux-falls")).name).toBe("sioux-falls");
  });

  it("a stale cache is never used: a changed net or trips file is parsed again and the cache replaced", async () => {
    const src = join(mirror!, "Chicago-Sketch");
    const folder = join(dir, "net");
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder);
    for (const f of ["ChicagoSketch_net.tntp", "ChicagoSketch_trips.tntp", "ChicagoSketch_node.tntp"])
      copyFileSync(join(src, f), join(folder, f));
    const netFile = join(folder, "ChicagoSketch_net.tntp");
    const tripsFile = join(folder, "ChicagoSketch_trips.tntp");
    const cacheFile = networkCachePath(process.env.TOLLKIT_NETWORK_CACHE!, { path: netFile });

    const before = await loadNetwork(netFile);
    expect(existsSync(cacheFile)).toBe(true);
    expectBitIdentical(await loadNetwork(netFile), await parsed(netFile));
    const keyOf = () => (deserialize(readFileSync(cacheFile)) as { key: string }).key;
    const key0 = keyOf();

    // link 1's capacity 49500 → 24750: a different file, a different network
    const text = readFileSync(netFile, "utf8");
    const edited = text.replace(/^\t1\t547\t49500\t/m, "\t1\t547\t24750\t");
    expect(edited).not.toBe(text);
    writeFileSync(netFile, edited);
    const after = await loadNetwork(netFile);
    expect(before.links.capacity[0]).toBe(49500);
    expect(after.links.capacity[0]).toBe(24750);
    expectBitIdentical(after, await parsed(netFile));
    const key1 = keyOf();
    expect(key1).not.toBe(key0);

    // the trips file: 347.31 trips from zone 1 to zone 2 become 694.62
    const trips = readFileSync(tripsFile, "utf8");
    const more = trips.replace(/(Origin\s+1\s+1 :\s+273\.18;\s+2 :\s+)347\.31;/, "$1694.62;");
    expect(more).not.toBe(trips);
    writeFileSync(tripsFile, more);
    const reloaded = await loadNetwork(netFile);
    expect(after.demand[1]).toBe(347.31);
    expect(reloaded.demand[1]).toBe(694.62);
    expectBitIdentical(reloaded, await parsed(netFile));
    expect(keyOf()).not.toBe(key1);

    // and back to the original files: the original network again
    writeFileSync(tripsFile, trips);
    writeFileSync(netFile, text);
    expectBitIdentical(await loadNetwork(netFile), before);
    expect(keyOf()).toBe(key0);
  });

  it("a small network named by path is parsed, not cached", async () => {
    const netFile = join(mirror!, "SiouxFalls", "SiouxFalls_net.tntp");
    expectBitIdentical(await loadNetwork(netFile), await parsed(netFile));
    expect(existsSync(networkCachePath(process.env.TOLLKIT_NETWORK_CACHE!, { path: netFile }))).toBe(false);
  });

  it("a damaged cache file is parsed around and replaced", async () => {
    const file = networkCachePath(process.env.TOLLKIT_NETWORK_CACHE!, { id: "sioux-falls" });
    rmSync(file, { force: true });
    await loadNetwork("sioux-falls");
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length >> 1));
    const net = await loadNetwork("sioux-falls");
    expectBitIdentical(net, await parsed("sioux-falls"));
    expect(readFileSync(file).length).toBe(whole.length);
  });
});
