/**
 * The built-in networks have the shapes their documentation gives, and their costs give the
 * textbook answers (checked here by hand-computed closed forms, not by a solver).
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_NETWORKS, builtinNetwork, CompiledVdf, gridCity, totalDemand, unreachableDemand, VDF_NAMES } from "@tollkit/graph-core";

const times = (id: string, flows: number[]) => {
  const net = builtinNetwork(id);
  const out = new Float64Array(net.linkCount);
  new CompiledVdf(net.links).times(Float64Array.from(flows), out);
  return Array.from(out);
};

describe("built-in networks", () => {
  it("are exactly two-route, braess-builtin, pigou and grid-city", () => {
    expect(Object.keys(BUILTIN_NETWORKS).sort()).toEqual(["braess-builtin", "grid-city", "pigou", "two-route"]);
  });

  it("two-route: one OD pair of 10 trips, t1 = 10 + x1, t2 = 15 + 2·x2", () => {
    const net = builtinNetwork("two-route");
    expect([net.nodeCount, net.linkCount, net.zoneCount]).toEqual([2, 2, 2]);
    expect(Array.from(net.demand)).toEqual([0, 10, 0, 0]);
    expect(Array.from(net.links.from)).toEqual([0, 0]);
    expect(Array.from(net.links.to)).toEqual([1, 1]);
    expect(times("two-route", [0, 0])).toEqual([10, 15]);
    expect(times("two-route", [3, 4])).toEqual([13, 23]);
  });

  it("braess-builtin: demand 6; the UE flows (4, 2, 2, 2, 4) cost 92 on every path (TSTT 552), the SO flows (3, 3, 3, 0, 3) give TSTT 498", () => {
    const net = builtinNetwork("braess-builtin");
    expect([net.nodeCount, net.linkCount, net.zoneCount, totalDemand(net)]).toEqual([4, 5, 2, 6]);
    const ue = [4, 2, 2, 2, 4];
    const t = times("braess-builtin", ue);
    const paths = [
      [0, 2],
      [1, 4],
      [0, 3, 4],
    ].map((p) => p.reduce((s, l) => s + t[l], 0));
    expect(paths).toEqual([92, 92, 92]);
    expect(ue.reduce((s, x, i) => s + x * t[i], 0)).toBe(552);
    const so = [3, 3, 3, 0, 3];
    const ts = times("braess-builtin", so);
    expect(so.reduce((s, x, i) => s + x * ts[i], 0)).toBe(498);
  });

  it("pigou: t1 = 1, t2 = x, demand 1", () => {
    const net = builtinNetwork("pigou");
    expect([net.nodeCount, net.linkCount, totalDemand(net)]).toEqual([2, 2, 1]);
    expect(times("pigou", [0, 0])).toEqual([1, 0]);
    expect(times("pigou", [0.5, 0.5])).toEqual([1, 0.5]);
    expect(times("pigou", [0.3, 0.7])).toEqual([1, 0.7]);
    expect(Array.from(net.links.vdf, (k) => VDF_NAMES[k])).toEqual(["polynomial", "polynomial"]);
  });

  it("grid-city: a 10 × 10 grid of two-way streets, 16 zones, lon/lat, deterministic, every trip routable", () => {
    const net = builtinNetwork("grid-city");
    expect(net.nodeCount).toBe(100);
    expect(net.linkCount).toBe(2 * 2 * 10 * 9);
    expect(net.zoneCount).toBe(16);
    expect(net.coordinateSystem).toBe("lonlat");
    expect(new Set(net.zoneNodes).size).toBe(16);
    expect(totalDemand(net)).toBeGreaterThan(0);
    expect(unreachableDemand(net)).toEqual([]);
    // every street is two-way: for each link there is one in the other direction
    const pairs = new Set(Array.from(net.links.from, (f, i) => `${f},${net.links.to[i]}`));
    for (let i = 0; i < net.linkCount; i++) expect(pairs.has(`${net.links.to[i]},${net.links.from[i]}`)).toBe(true);
    // the same seed gives the same city; another seed another demand
    expect(Array.from(gridCity().demand)).toEqual(Array.from(net.demand));
    expect(Array.from(gridCity({ seed: 2 }).demand)).not.toEqual(Array.from(net.demand));
    expect(gridCity({ size: 5, zones: 4 }).nodeCount).toBe(25);
    expect(() => gridCity({ size: 1 })).toThrow(/expected an integer in 2\.\.400/);
  });
});
