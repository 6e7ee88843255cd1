/**
 * GeoJSON export of a network's links: a FeatureCollection with one LineString per link, for
 * maps (the CLI's `flows.geojson`, the API's `/geojson` layers, the web map).
 *
 * Each feature has `id` = link id (1-based, usable as a MapLibre feature id) and properties:
 * `link`, `from`, `to` (file node ids), `capacity`, `length`, `freeFlowTime`, `b`, `power`,
 * `speed`, `toll`, `linkType`, `vdf` (name), plus any per-link arrays the caller passes
 * (`flow`, `voc`, `time`, …). Non-finite values become `null` (JSON has no NaN).
 *
 * Coordinates come from {@link drawingPositions}: lon/lat networks keep theirs; others are
 * drawn in a local frame scaled into a small box around (0°, 0°), and networks without
 * coordinates get a deterministic layout. The collection's foreign member `tollkit` says which
 * (`frame`: `lonlat` | `local` | `layout`, and a `note`), so a client knows whether a base map
 * makes sense. Parallel links share a geometry; a renderer can offset them (`line-offset`).
 */

import { InputError } from "./errors.js";
import { DrawingFrame, DrawingOptions, drawingPositions } from "./layout.js";
import { Network } from "./network.js";
import { VDF_NAMES } from "./vdf.js";

/** One link as a GeoJSON feature. */
export interface LinkFeature {
  type: "Feature";
  id: number;
  geometry: { type: "LineString"; coordinates: [number, number][] };
  properties: Record<string, number | string | null>;
}

/** The FeatureCollection of a network's links. */
export interface LinkFeatureCollection {
  type: "FeatureCollection";
  bbox: [number, number, number, number];
  features: LinkFeature[];
  /** Foreign member: how the coordinates were obtained. */
  tollkit: { network: string; frame: DrawingFrame; coordinateSystem: Network["coordinateSystem"]; note: string };
}

/** Options of {@link linksToGeojson}. */
export interface LinksGeojsonOptions extends DrawingOptions {
  /** Extra per-link properties, each an array indexed by link index (link id − 1). */
  properties?: Record<string, ArrayLike<number>>;
  /** Decimal places kept in coordinates. Default 7 (about 1 cm in lon/lat). */
  precision?: number;
}

const STANDARD = ["link", "from", "to", "capacity", "length", "freeFlowTime", "b", "power", "speed", "toll", "linkType", "vdf"];

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Exports a network's links as a GeoJSON FeatureCollection (see the module notes).
 * @throws InputError when an extra property array does not have one value per link, or its
 *   name clashes with a standard property
 */
export function linksToGeojson(net: Network, opts: LinksGeojsonOptions = {}): LinkFeatureCollection {
  const extras = Object.entries(opts.properties ?? {});
  for (const [name, arr] of extras) {
    if (arr.length !== net.linkCount)
      throw new InputError(
        "graph-core/geojson",
        `property "${name}" has ${arr.length} values`,
        { field: `properties.${name}` },
        `${net.linkCount}, one per link`,
      );
    if (STANDARD.includes(name))
      throw new InputError(
        "graph-core/geojson",
        `property "${name}" is a standard link property`,
        { field: `properties.${name}` },
        `a name other than ${STANDARD.join(", ")}`,
      );
  }
  const pos = drawingPositions(net, opts);
  const scale = Math.pow(10, opts.precision ?? 7);
  const round = (v: number) => Math.round(v * scale) / scale;
  const l = net.links;
  const features: LinkFeature[] = new Array(net.linkCount);
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < net.nodeCount; i++) {
    if (pos.x[i] < x0) x0 = pos.x[i];
    if (pos.x[i] > x1) x1 = pos.x[i];
    if (pos.y[i] < y0) y0 = pos.y[i];
    if (pos.y[i] > y1) y1 = pos.y[i];
  }
  for (let i = 0; i < net.linkCount; i++) {
    const a = l.from[i];
    const b = l.to[i];
    const properties: Record<string, number | string | null> = {
      link: i + 1,
      from: net.nodeIds[a],
      to: net.nodeIds[b],
      capacity: finite(l.capacity[i]),
      length: finite(l.length[i]),
      freeFlowTime: finite(l.freeFlowTime[i]),
      b: finite(l.b[i]),
      power: finite(l.power[i]),
      speed: finite(l.speed[i]),
      toll: finite(l.toll[i]),
      linkType: l.linkType[i],
      vdf: VDF_NAMES[l.vdf[i]],
    };
    for (const [name, arr] of extras) properties[name] = finite(arr[i]);
    features[i] = {
      type: "Feature",
      id: i + 1,
      geometry: {
        type: "LineString",
        coordinates: [
          [round(pos.x[a]), round(pos.y[a])],
          [round(pos.x[b]), round(pos.y[b])],
        ],
      },
      properties,
    };
  }
  return {
    type: "FeatureCollection",
    bbox: [round(x0), round(y0), round(x1), round(y1)],
    features,
    tollkit: { network: net.name, frame: pos.frame, coordinateSystem: net.coordinateSystem, note: pos.note },
  };
}
