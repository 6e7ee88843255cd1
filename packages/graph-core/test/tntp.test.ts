/**
 * TNTP writer round trip: a network written as TNTP net and trips files and read back is the
 * same network, link for link and trip for trip; the writer refuses what TNTP cannot express.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  builtinNetwork,
  loadNetwork,
  parseTntpNet,
  parseTntpTrips,
  readTntpNetwork,
  totalDemand,
  writeTntpNet,
  writeTntpTrips,
} from "@tollkit/graph-core";
import { expectSameNetwork } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tollkit-tntp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("TNTP writer round trip", () => {
  for (const id of ["sioux-falls", "chicago-sketch", "anaheim", "berlin-center"]) {
    it(`${id}: write, read back, same links and demand`, async () => {
      const net = await loadNetwork(id);
      const netPath = join(dir, `${id}_net.tntp`);
      writeFileSync(netPath, writeTntpNet(net));
      writeFileSync(join(dir, `${id}_trips.tntp`), writeTntpTrips(net));
      const back = readTntpNetwork(netPath, { costWeights: net.costWeights });
      expectSameNetwork(back, net, { coordinates: false });
      expect(back.warnings).toEqual([]);
      expect(totalDemand(back)).toBe(totalDemand(net));
    });
  }

  it("keeps cost weights written as <TOLL FACTOR> and <DISTANCE FACTOR>", async () => {
    const net = await loadNetwork("chicago-sketch");
    const part = parseTntpNet(writeTntpNet(net), "chicago_net.tntp");
    expect(part.costWeights).toEqual({ tollFactor: 0.02, distanceFactor: 0.04 });
    expect(part.firstThruNode).toBe(1);
    const demand = parseTntpTrips(writeTntpTrips(net), "chicago_trips.tntp", part.zoneCount);
    expect(Array.from(demand)).toEqual(Array.from(net.demand));
  });

  it("refuses a network TNTP cannot express: non-BPR links, zones that are not nodes 1..Z", () => {
    expect(() => writeTntpNet(builtinNetwork("two-route"))).toThrow(/link 1 has a polynomial volume-delay function.*expected BPR links/);
    const net = builtinNetwork("grid-city");
    const moved = { ...net, zoneIds: net.zoneIds.map((z) => z + 100) };
    expect(() => writeTntpTrips(moved)).toThrow(/zone 101 .*TNTP cannot say so.*expected zones 1\.\.Z on nodes 1\.\.Z/);
  });
});
