import { describe, expect, it } from "vitest";
import { loadCatalogue, loadNetwork, totalDemand } from "@tollkit/graph-core";

// Dimensions as the networks' own READMEs give them (../shared/networks/*/README.md).
const README_DIMENSIONS: Record<string, { zones: number; nodes: number; links: number; trips: number }> = {
  "sioux-falls": { zones: 24, nodes: 24, links: 76, trips: 360600 },
  anaheim: { zones: 38, nodes: 416, links: 914, trips: 104694.4 },
  barcelona: { zones: 110, nodes: 1020, links: 2522, trips: 184679.561 },
  winnipeg: { zones: 147, nodes: 1052, links: 2836, trips: 64784 },
  "chicago-sketch": { zones: 387, nodes: 933, links: 2950, trips: 1260907.44 },
  "berlin-center": { zones: 865, nodes: 12981, links: 28376, trips: 168222.302 },
  "eastern-massachusetts": { zones: 74, nodes: 74, links: 258, trips: 65576.375 },
  braess: { zones: 2, nodes: 4, links: 5, trips: 6 },
};

describe("catalogue networks", () => {
  for (const [id, dim] of Object.entries(README_DIMENSIONS)) {
    it(`${id} loads with the dimensions of its README`, async () => {
      const net = await loadNetwork(id);
      expect(net.zoneCount).toBe(dim.zones);
      expect(net.nodeCount).toBe(dim.nodes);
      expect(net.linkCount).toBe(dim.links);
      expect(totalDemand(net)).toBeCloseTo(dim.trips, 2);
    });
  }

  it("munich is rejected with a message naming file, line and field", async () => {
    await expect(loadNetwork("munich")).rejects.toThrow(/munich_net\.tntp:\d+, field "capacity"/);
  });

  it("every catalogue entry has sha256 and a public source for each file", () => {
    for (const e of loadCatalogue().networks) {
      for (const f of Object.values(e.files)) {
        expect(f!.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(f!.url).toMatch(/^https:\/\/raw\.githubusercontent\.com\/bstabler\/TransportationNetworks\//);
      }
    }
  });
});
