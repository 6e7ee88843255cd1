/**
 * Instruments: which links the leader may toll, grouped into decision variables.
 *
 * A decision variable is one toll (money) charged on each link of its group: a link list gives
 * one variable per link (or one for all with `uniform`), a cordon gives one charge on every
 * link entering the area. Invariants: groups are disjoint; `variableOf[a]` is the variable of
 * link index a (0-based) or −1; tolls on links outside the instrument stay at the network's
 * own (background) tolls.
 */

import { linkLabel, Network, nodeIndexMap } from "@tollkit/graph-core";
import { InstrumentSpec, scenarioError } from "./scenario.js";

/** One decision variable: a toll (money) charged on every link of `links`. */
export interface TollVariable {
  /** Shown in reports: `link 12 (3→4)` or `cordon (14 links)`. */
  label: string;
  /** 0-based link indices. */
  links: Int32Array;
  /** Lower bound (money). */
  min: number;
  /** Upper bound (money); Infinity when none was given (first-best only). */
  max: number;
}

export interface Instrument {
  kind: InstrumentSpec["type"];
  variables: TollVariable[];
  /** Every instrument link (0-based, ascending). */
  links: Int32Array;
  /** Per link: its variable index, or −1. */
  variableOf: Int32Array;
  uniform: boolean;
}

/** Ray-casting point-in-polygon test (the ring need not be closed). */
export function insidePolygon(x: number, y: number, ring: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The links entering an area: from a node outside to a node inside.
 * @param inside per node index, 1 when the node is inside
 */
export function cordonLinks(net: Network, inside: Uint8Array): number[] {
  const out: number[] = [];
  for (let a = 0; a < net.linkCount; a++) if (!inside[net.links.from[a]] && inside[net.links.to[a]]) out.push(a);
  return out;
}

/**
 * Resolves an instrument specification on a network into decision variables.
 * @throws InputError (naming `file` and the JSON path) for link ids out of range, unknown node
 *   ids or link types, a cordon without coordinates or without entering links
 */
export function resolveInstrument(net: Network, spec: InstrumentSpec, file?: string): Instrument {
  const m = net.linkCount;
  let links: number[];
  switch (spec.type) {
    case "links":
      if (spec.links === "all") links = Array.from({ length: m }, (_, a) => a);
      else {
        spec.links.forEach((id, k) => {
          if (id > m)
            throw scenarioError(
              file,
              `instrument.links[${k}]`,
              `link ${id} does not exist (${net.name} has ${m} links)`,
              `a link id in 1..${m}`,
            );
        });
        const set = new Set(spec.links);
        if (set.size !== spec.links.length) throw scenarioError(file, "instrument.links", "a link is listed twice", "distinct link ids");
        links = [...set].map((id) => id - 1);
      }
      break;
    case "link-types": {
      const types = new Set(spec.linkTypes);
      links = [];
      for (let a = 0; a < m; a++) if (types.has(net.links.linkType[a])) links.push(a);
      spec.linkTypes.forEach((t, k) => {
        if (!links.some((a) => net.links.linkType[a] === t)) {
          const present = [...new Set(net.links.linkType)].sort((p, q) => p - q).join(", ");
          throw scenarioError(
            file,
            `instrument.linkTypes[${k}]`,
            `no link of type ${t} in ${net.name}`,
            `one of the link types present: ${present}`,
          );
        }
      });
      break;
    }
    case "cordon": {
      const inside = new Uint8Array(net.nodeCount);
      if (spec.nodes) {
        const idx = nodeIndexMap(net);
        spec.nodes.forEach((id, k) => {
          const i = idx.get(id);
          if (i === undefined)
            throw scenarioError(file, `instrument.nodes[${k}]`, `node ${id} is not in ${net.name}`, "a node id of the network");
          inside[i] = 1;
        });
      } else {
        const ring = spec.polygon!;
        let any = false;
        for (let i = 0; i < net.nodeCount; i++) {
          const x = net.nodeX[i];
          const y = net.nodeY[i];
          if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
          any = true;
          if (insidePolygon(x, y, ring)) inside[i] = 1;
        }
        if (!any) throw scenarioError(file, "instrument.polygon", `${net.name} has no node coordinates`, "a cordon given by node ids");
        if (!inside.some((v) => v === 1))
          throw scenarioError(
            file,
            "instrument.polygon",
            `no node of ${net.name} lies inside the polygon`,
            `a ring in the network's coordinates (${net.coordinateSystem})`,
          );
      }
      links = cordonLinks(net, inside);
      if (links.length === 0)
        throw scenarioError(
          file,
          `instrument.${spec.nodes ? "nodes" : "polygon"}`,
          "no link enters the cordon",
          "an area that some link enters",
        );
      break;
    }
  }
  links.sort((p, q) => p - q);
  const uniform = spec.uniform ?? spec.type === "cordon";
  const lo = spec.bounds.min;
  const hi = spec.bounds.max ?? Infinity;
  const variableOf = new Int32Array(m).fill(-1);
  let variables: TollVariable[];
  if (uniform) {
    const label =
      spec.type === "cordon"
        ? `cordon (${links.length} links)`
        : links.length === 1
          ? linkLabel(net, links[0])
          : `uniform toll on ${links.length} links`;
    variables = [{ label, links: Int32Array.from(links), min: lo, max: hi }];
    for (const a of links) variableOf[a] = 0;
  } else {
    const per = new Map<number, { min?: number; max?: number }>();
    spec.linkBounds?.forEach((b, k) => {
      if (!links.includes(b.link - 1))
        throw scenarioError(
          file,
          `instrument.linkBounds[${k}].link`,
          `link ${b.link} is not in the instrument`,
          "a link of the instrument",
        );
      per.set(b.link - 1, b);
    });
    variables = links.map((a, v) => {
      variableOf[a] = v;
      const b = per.get(a);
      return { label: linkLabel(net, a), links: Int32Array.of(a), min: b?.min ?? lo, max: b?.max ?? hi };
    });
  }
  return { kind: spec.type, variables, links: Int32Array.from(links), variableOf, uniform };
}

/**
 * Writes the full toll vector (money, per link): the background tolls, with every instrument
 * link set to its variable's value.
 */
export function applyVariables(ins: Instrument, z: ArrayLike<number>, background: Float64Array, out: Float64Array): Float64Array {
  out.set(background);
  ins.variables.forEach((v, k) => {
    for (let j = 0; j < v.links.length; j++) out[v.links[j]] = z[k];
  });
  return out;
}

/** Projects z onto the box of the instrument's bounds (in place). */
export function project(ins: Instrument, z: Float64Array): Float64Array {
  ins.variables.forEach((v, k) => {
    if (z[k] < v.min) z[k] = v.min;
    if (z[k] > v.max) z[k] = v.max;
  });
  return z;
}
