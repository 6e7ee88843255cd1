/**
 * graphology interop: networks survive toGraphology → fromGraphology; the graph has the
 * documented keys and attributes; graphs built by hand become networks; bad graphs are errors
 * naming the node, edge or attribute.
 */
import { MultiDirectedGraph, UndirectedGraph } from "graphology";
import { dijkstra } from "graphology-shortest-path";
import { describe, expect, it } from "vitest";
import { AonLoader, compileNetwork, fromGraphology, loadNetwork, toGraphology } from "@tollkit/graph-core";
import { expectSameNetwork } from "./helpers.js";

describe("graphology interop", () => {
  for (const id of ["sioux-falls", "anaheim", "berlin-center", "two-route"]) {
    it(`${id}: toGraphology → fromGraphology is the same network`, async () => {
      const net = await loadNetwork(id);
      const g = toGraphology(net);
      expect(g.order).toBe(net.nodeCount);
      expect(g.size).toBe(net.linkCount);
      expect(g.multi).toBe(true);
      expect(g.type).toBe("directed");
      const back = fromGraphology(g);
      expectSameNetwork(back, net);
      expect(back.name).toBe(net.name);
      expect(back.units).toEqual(net.units);
    });
  }

  it("keys are file ids, attributes are link fields; graphology's own Dijkstra runs on it", async () => {
    const net = await loadNetwork("anaheim");
    const g = toGraphology(net);
    expect(g.hasNode("1")).toBe(true);
    expect(g.getNodeAttributes("1")).toMatchObject({ id: 1, zone: 1, throughBlocked: true });
    expect(g.getNodeAttributes("39").zone).toBeUndefined();
    expect(g.source("1")).toBe(String(net.nodeIds[net.links.from[0]]));
    expect(g.getEdgeAttributes("1")).toEqual({
      link: 1,
      capacity: net.links.capacity[0],
      length: net.links.length[0],
      freeFlowTime: net.links.freeFlowTime[0],
      b: net.links.b[0],
      power: net.links.power[0],
      speed: net.links.speed[0],
      toll: net.links.toll[0],
      linkType: net.links.linkType[0],
      vdf: "bpr",
    });
    expect(g.getAttribute("firstThruNode")).toBe(39);
    const path = dijkstra.bidirectional(g, "100", "200", "freeFlowTime");
    expect(path[0]).toBe("100");
    expect(path[path.length - 1]).toBe("200");
  });

  it("a graph built by hand (Braess) becomes a network, zones and demand given as options", () => {
    const g = new MultiDirectedGraph();
    for (const id of ["10", "20", "30", "40"]) g.addNode(id);
    g.addEdge("10", "30", { freeFlowTime: 0, b: 10, power: 1, vdf: "polynomial", capacity: 1 });
    g.addEdge("10", "40", { freeFlowTime: 50, b: 1, power: 1, vdf: "polynomial", capacity: 1 });
    g.addEdge("30", "20", { freeFlowTime: 50, b: 1, power: 1, vdf: "polynomial", capacity: 1 });
    g.addEdge("30", "40", { freeFlowTime: 10, b: 1, power: 1, vdf: "polynomial", capacity: 1 });
    g.addEdge("40", "20", { freeFlowTime: 0, b: 10, power: 1, vdf: "polynomial", capacity: 1 });
    const net = fromGraphology(g, { zones: [10, 20], demand: [[10, 20, 6]], name: "hand-made" });
    expect(Array.from(net.zoneIds)).toEqual([10, 20]);
    expect(Array.from(net.demand)).toEqual([0, 6, 0, 0]);
    expect(net.coordinateSystem).toBe("none");
    // at free flow all-or-nothing takes 10 → 30 → 40 → 20 (cost 10)
    const flows = new Float64Array(5);
    const r = new AonLoader(compileNetwork(net)).load(net.links.freeFlowTime, net.demand, flows);
    expect(Array.from(flows)).toEqual([6, 0, 0, 6, 6]);
    expect(r.sptt).toBe(60);
  });

  it("errors name the node, edge or attribute", () => {
    const g = new MultiDirectedGraph();
    g.addNode("a");
    expect(() => fromGraphology(g)).toThrow(/field "nodes\["a"\]": node key "a" is not a node id/);
    const h = new MultiDirectedGraph();
    h.addNode("1", { zone: 1 });
    h.addNode("2", { zone: 2 });
    h.addEdgeWithKey("e1", "1", "2", { b: 0.15, power: 4, capacity: 100 });
    expect(() => fromGraphology(h)).toThrow(/field "edges\["e1"\]\.freeFlowTime": freeFlowTime undefined \(expected a finite number\)/);
    h.setEdgeAttribute("e1", "freeFlowTime", 1);
    h.setEdgeAttribute("e1", "capacity", 0);
    expect(() => fromGraphology(h)).toThrow(/edges\["e1"\]\.capacity.*flow-dependent/);
    h.setEdgeAttribute("e1", "capacity", 100);
    expect(() => fromGraphology(h, { demand: [[1, 3, 5]] })).toThrow(/field "demand\[0\]\[1\]": destination 3 is not a zone/);
    expect(fromGraphology(h, { demand: [[1, 2, 5]] }).demand[1]).toBe(5);
    const u = new UndirectedGraph();
    u.addNode("1", { zone: 1 });
    u.addNode("2", { zone: 2 });
    u.addEdgeWithKey("u", "1", "2", { freeFlowTime: 1 });
    expect(() => fromGraphology(u)).toThrow(/an undirected edge/);
  });
});
