/**
 * GeoJSON export: one LineString per link between its nodes' positions, with the link's fields
 * and any extra per-link arrays; lon/lat kept, other coordinates scaled into a small box with
 * their shape kept, and a deterministic layout for networks without coordinates.
 */
import { describe, expect, it } from "vitest";
import { buildNetwork, drawingPositions, isInputError, linksToGeojson, loadCatalogue, loadNetwork, Network } from "@tollkit/graph-core";

const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe("GeoJSON export of links", () => {
  it("Sioux Falls: lon/lat kept, one feature per link with its fields and extra arrays", async () => {
    const net = await loadNetwork("sioux-falls");
    const flow = Float64Array.from({ length: net.linkCount }, (_, i) => 1000 + i);
    const fc = linksToGeojson(net, { properties: { flow, voc: flow.map((f, i) => f / net.links.capacity[i]) } });
    expect(fc.type).toBe("FeatureCollection");
    expect(fc.tollkit.frame).toBe("lonlat");
    expect(fc.features).toHaveLength(76);
    const f = fc.features[0];
    expect(f.id).toBe(1);
    expect(f.geometry.type).toBe("LineString");
    // link 1 is 1 → 2; the node file gives their lon/lat
    expect(f.geometry.coordinates).toEqual([
      [-96.7704197, 43.6128279],
      [-96.7112506, 43.605813],
    ]);
    expect(f.properties).toMatchObject({
      link: 1,
      from: 1,
      to: 2,
      capacity: 25900.20064,
      length: 6,
      freeFlowTime: 6,
      b: 0.15,
      power: 4,
      toll: 0,
      linkType: 1,
      vdf: "bpr",
      flow: 1000,
    });
    expect(f.properties.voc).toBeCloseTo(1000 / 25900.20064, 12);
    expect(fc.features[75].properties).toMatchObject({ link: 76, from: 24, to: 23, flow: 1075 });
    // every endpoint is its node's coordinate, to 1e-7 degrees
    for (const ft of fc.features) {
      const i = (ft.properties.link as number) - 1;
      expect(Math.abs(ft.geometry.coordinates[0][0] - net.nodeX[net.links.from[i]])).toBeLessThan(1e-7);
      expect(Math.abs(ft.geometry.coordinates[1][1] - net.nodeY[net.links.to[i]])).toBeLessThan(1e-7);
    }
    expect(JSON.parse(JSON.stringify(fc))).toEqual(fc);
  });

  it("Chicago-Sketch (State Plane feet): a local frame in a 0.2° box, shape kept", async () => {
    const net = await loadNetwork("chicago-sketch");
    const fc = linksToGeojson(net);
    expect(fc.tollkit.frame).toBe("local");
    expect(fc.tollkit.note).toMatch(/0\.2° box/);
    const [x0, y0, x1, y1] = fc.bbox;
    expect(Math.max(x1 - x0, y1 - y0)).toBeCloseTo(0.2, 6);
    expect(Math.abs(x0 + x1)).toBeLessThan(1e-6);
    // ratios of link lengths are the same in feet and in the box (a similarity transform)
    const a = fc.features[100].geometry.coordinates;
    const b = fc.features[2000].geometry.coordinates;
    const la = Math.hypot(
      net.nodeX[net.links.from[100]] - net.nodeX[net.links.to[100]],
      net.nodeY[net.links.from[100]] - net.nodeY[net.links.to[100]],
    );
    const lb = Math.hypot(
      net.nodeX[net.links.from[2000]] - net.nodeX[net.links.to[2000]],
      net.nodeY[net.links.from[2000]] - net.nodeY[net.links.to[2000]],
    );
    expect(dist(a[0], a[1]) / dist(b[0], b[1])).toBeCloseTo(la / lb, 3);
  });

  it("Barcelona (no coordinates): a deterministic layout, flagged, in the box, nodes spread out", async () => {
    const net = await loadNetwork("barcelona");
    const fc = linksToGeojson(net);
    expect(fc.tollkit.frame).toBe("layout");
    expect(fc.tollkit.note).toMatch(/no coordinates.*PivotMDS.*seed 1/);
    expect(linksToGeojson(net)).toEqual(fc);
    const pos = drawingPositions(net);
    const distinct = new Set(Array.from(pos.x, (x, i) => `${x.toFixed(9)},${pos.y[i].toFixed(9)}`));
    expect(distinct.size).toBe(net.nodeCount);
    // a layout worth drawing: linked nodes are, on average, much closer than random pairs
    let linked = 0;
    for (let i = 0; i < net.linkCount; i++)
      linked += dist([pos.x[net.links.from[i]], pos.y[net.links.from[i]]], [pos.x[net.links.to[i]], pos.y[net.links.to[i]]]);
    linked /= net.linkCount;
    let random = 0;
    for (let k = 0; k < 2000; k++) {
      const u = (k * 7919) % net.nodeCount;
      const v = (k * 104729 + 13) % net.nodeCount;
      random += dist([pos.x[u], pos.y[u]], [pos.x[v], pos.y[v]]);
    }
    random /= 2000;
    expect(linked).toBeLessThan(random / 5);
    expect(drawingPositions(net, { seed: 2 }).x).not.toEqual(pos.x);
  });

  it("every catalogue network and built-in can be drawn: finite coordinates, inside their frame", async () => {
    const ids = [
      ...loadCatalogue()
        .networks.filter((e) => e.supported !== false)
        .map((e) => e.id),
      "two-route",
      "braess-builtin",
      "pigou",
      "grid-city",
    ];
    for (const id of ids) {
      const fc = linksToGeojson(await loadNetwork(id));
      for (const ft of fc.features)
        for (const c of ft.geometry.coordinates) expect(Number.isFinite(c[0]) && Number.isFinite(c[1]), id).toBe(true);
      if (fc.tollkit.frame !== "lonlat") for (const v of fc.bbox) expect(Math.abs(v), id).toBeLessThanOrEqual(0.1 + 1e-9);
    }
  });

  it("places a node without coordinates at the mean of its neighbours, and says so", () => {
    const net: Network = buildNetwork({
      name: "gap",
      nodes: [{ id: 1, x: 0, y: 0 }, { id: 2, x: 2, y: 0 }, { id: 3 }],
      zones: 2,
      links: [
        { from: 1, to: 3, freeFlowTime: 1 },
        { from: 3, to: 2, freeFlowTime: 1 },
      ],
      demand: [[1, 2, 1]],
      coordinateSystem: "lonlat",
    });
    const fc = linksToGeojson(net);
    expect(fc.tollkit.frame).toBe("lonlat");
    expect(fc.tollkit.note).toMatch(/1 nodes without coordinates placed at the mean of their neighbours/);
    expect(fc.features[0].geometry.coordinates[1]).toEqual([1, 0]);
  });

  it("rejects an extra property without one value per link, or with a standard name", async () => {
    const net = await loadNetwork("two-route");
    const err = (() => {
      try {
        linksToGeojson(net, { properties: { flow: [1, 2, 3] } });
      } catch (e) {
        return e;
      }
    })();
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toMatch(/field "properties\.flow": property "flow" has 3 values \(expected 2, one per link\)/);
    expect(() => linksToGeojson(net, { properties: { toll: [1, 2] } })).toThrow(/standard link property/);
  });
});
