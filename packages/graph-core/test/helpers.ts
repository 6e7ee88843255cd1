/** Shared checks for graph-core tests. */
import { expect } from "vitest";
import { InputError, isInputError, Network } from "@tollkit/graph-core";

const LINK_FIELDS = ["from", "to", "capacity", "length", "freeFlowTime", "b", "power", "speed", "toll", "linkType", "vdf"] as const;

/** Asserts that two networks have the same nodes, zones, links (every field) and demand, value for value. */
export function expectSameNetwork(got: Network, want: Network, opts: { coordinates?: boolean } = {}): void {
  expect(got.nodeCount).toBe(want.nodeCount);
  expect(Array.from(got.nodeIds)).toEqual(Array.from(want.nodeIds));
  expect(got.linkCount).toBe(want.linkCount);
  for (const f of LINK_FIELDS) expect(Array.from(got.links[f]), `links.${f}`).toEqual(Array.from(want.links[f]));
  expect(got.zoneCount).toBe(want.zoneCount);
  expect(Array.from(got.zoneIds)).toEqual(Array.from(want.zoneIds));
  expect(Array.from(got.zoneNodes)).toEqual(Array.from(want.zoneNodes));
  expect(got.firstThruNode).toBe(want.firstThruNode);
  expect(Array.from(got.throughBlocked)).toEqual(Array.from(want.throughBlocked));
  expect(Array.from(got.demand)).toEqual(Array.from(want.demand));
  expect(got.costWeights).toEqual(want.costWeights);
  if (opts.coordinates !== false) {
    expect(got.coordinateSystem).toBe(want.coordinateSystem);
    expect(Array.from(got.nodeX)).toEqual(Array.from(want.nodeX));
    expect(Array.from(got.nodeY)).toEqual(Array.from(want.nodeY));
  }
}

/** The InputError that `f` throws (failing the test when it throws nothing or another error). */
export function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(isInputError(e), String(e)).toBe(true);
    return e as InputError;
  }
  throw new Error("no error was thrown");
}
