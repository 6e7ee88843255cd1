/**
 * How the API keeps a run's OD results (table `od_results`, schema version 2): its skims and,
 * for a bush run, its bushes (so that `GET /api/runs/:id/select-link` can answer for any links).
 *
 * BLOB layouts (little-endian, as the per-link results):
 * - skims: Float64 zoneIds (Z), then per class demand, time, toll, distance, cost (Z² each,
 *   row = origin); meta JSON {network, rule, zoneCount, classes: [{name, tollFactor, distanceFactor}]}.
 * - bushes: Float64 flows of every bush (in bush order), then per class its demand (Z²), then
 *   Int32 links of every bush; meta JSON {nodeCount, linkCount, zoneCount, classCount,
 *   classes: [{name, pce}], bushes: [[class, zone, length], …]}.
 */
import type { KeptBushes, SkimTable } from "@tollkit/runs";

/** A packed BLOB with its JSON meta. */
export interface Packed {
  meta: string;
  data: Buffer;
}

function f64(buf: Buffer, offset: number, count: number): Float64Array {
  const out = new Float64Array(count);
  Buffer.from(out.buffer).set(buf.subarray(offset, offset + 8 * count));
  return out;
}

/** Packs a skim table. */
export function packSkims(t: SkimTable): Packed {
  const Z = t.zoneIds.length;
  const all = new Float64Array(Z + t.classes.length * 5 * Z * Z);
  all.set(t.zoneIds, 0);
  let o = Z;
  for (const c of t.classes)
    for (const a of [c.demand, c.time, c.toll, c.distance, c.cost]) {
      all.set(a, o);
      o += Z * Z;
    }
  const meta = {
    network: t.network,
    rule: t.rule,
    zoneCount: Z,
    classes: t.classes.map((c) => ({ name: c.name, tollFactor: c.tollFactor, distanceFactor: c.distanceFactor })),
  };
  return { meta: JSON.stringify(meta), data: Buffer.from(all.buffer, all.byteOffset, all.byteLength) };
}

/** Unpacks a skim table. */
export function unpackSkims(p: Packed): SkimTable {
  const meta = JSON.parse(p.meta) as {
    network: string;
    rule: string;
    zoneCount: number;
    classes: { name: string; tollFactor: number; distanceFactor: number }[];
  };
  const Z = meta.zoneCount;
  const zoneIds = f64(p.data, 0, Z);
  let o = 8 * Z;
  const next = () => {
    const a = f64(p.data, o, Z * Z);
    o += 8 * Z * Z;
    return a;
  };
  return {
    network: meta.network,
    rule: meta.rule,
    zoneIds,
    classes: meta.classes.map((c) => ({ ...c, demand: next(), time: next(), toll: next(), distance: next(), cost: next() })),
  };
}

/** Packs kept bushes. */
export function packBushes(k: KeptBushes): Packed {
  const s = k.state;
  const Z = s.zoneCount;
  let total = 0;
  for (const b of s.bushes) total += b.links.length;
  const floats = new Float64Array(total + k.classes.length * Z * Z);
  const ints = new Int32Array(total);
  let o = 0;
  for (const b of s.bushes) {
    floats.set(b.flows, o);
    ints.set(b.links, o);
    o += b.links.length;
  }
  for (const c of k.classes) {
    floats.set(c.demand, o);
    o += Z * Z;
  }
  const meta = {
    nodeCount: s.nodeCount,
    linkCount: s.linkCount,
    zoneCount: Z,
    classCount: s.classCount,
    classes: k.classes.map((c) => ({ name: c.name, pce: c.pce })),
    bushes: s.bushes.map((b) => [b.cls, b.zone, b.links.length]),
  };
  return {
    meta: JSON.stringify(meta),
    data: Buffer.concat([
      Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength),
      Buffer.from(ints.buffer, ints.byteOffset, ints.byteLength),
    ]),
  };
}

/** Unpacks kept bushes. */
export function unpackBushes(p: Packed): KeptBushes {
  const meta = JSON.parse(p.meta) as {
    nodeCount: number;
    linkCount: number;
    zoneCount: number;
    classCount: number;
    classes: { name: string; pce: number }[];
    bushes: [number, number, number][];
  };
  const Z = meta.zoneCount;
  let total = 0;
  for (const b of meta.bushes) total += b[2];
  const floats = f64(p.data, 0, total + meta.classes.length * Z * Z);
  const ints = new Int32Array(total);
  Buffer.from(ints.buffer).set(p.data.subarray(8 * floats.length, 8 * floats.length + 4 * total));
  let o = 0;
  const bushes = meta.bushes.map(([cls, zone, len]) => {
    const b = { cls, zone, links: ints.subarray(o, o + len), flows: floats.subarray(o, o + len) };
    o += len;
    return b;
  });
  const classes = meta.classes.map((c) => {
    const demand = floats.subarray(o, o + Z * Z);
    o += Z * Z;
    return { ...c, demand };
  });
  return {
    classes,
    state: {
      kind: "tollkit-bush",
      version: 1,
      nodeCount: meta.nodeCount,
      linkCount: meta.linkCount,
      zoneCount: Z,
      classCount: meta.classCount,
      bushes,
    },
  };
}
