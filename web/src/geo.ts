/**
 * GeoJSON shapes the map works with, and small geometry helpers. Link features carry the link
 * id (1-based, as everywhere in tollkit) in `properties.link`.
 */

export type Position = [number, number];

export interface LinkFeature {
  type: "Feature";
  id?: number | string;
  geometry: { type: "LineString"; coordinates: Position[] };
  properties: { link: number } & Record<string, unknown>;
}

export interface PointFeature {
  type: "Feature";
  geometry: { type: "Point"; coordinates: Position };
  properties: Record<string, unknown>;
}

export interface LinkCollection {
  type: "FeatureCollection";
  features: LinkFeature[];
}

export interface PointCollection {
  type: "FeatureCollection";
  features: PointFeature[];
}

/** Any GeoJSON feature collection as received over HTTP (checked before use). */
export interface AnyCollection {
  type: string;
  /** Foreign member of tollkit's GeoJSON: `frame` is "lonlat", "local" (scaled into a small box) or "layout" (no coordinates). */
  tollkit?: { frame?: string; note?: string; network?: string };
  features?: { type: string; geometry?: { type: string; coordinates: unknown } | null; properties?: Record<string, unknown> | null }[];
}

/**
 * Splits a FeatureCollection into its links (LineStrings with a numeric `link` property) and its
 * points. Throws when the document is not a FeatureCollection or a line has no link id.
 */
export function splitCollection(
  doc: AnyCollection,
  what: string,
): { links: LinkCollection; points: PointCollection; frame?: string; note?: string } {
  if (!doc || doc.type !== "FeatureCollection" || !Array.isArray(doc.features)) {
    throw new Error(`${what}: expected a GeoJSON FeatureCollection`);
  }
  const links: LinkFeature[] = [];
  const points: PointFeature[] = [];
  doc.features.forEach((f, i) => {
    const g = f.geometry;
    if (!g) return;
    if (g.type === "LineString") {
      const link = Number(f.properties?.link);
      if (!Number.isInteger(link)) throw new Error(`${what}: features[${i}].properties.link: expected a link id`);
      links.push(f as unknown as LinkFeature);
    } else if (g.type === "Point") {
      points.push(f as unknown as PointFeature);
    }
  });
  return {
    links: { type: "FeatureCollection", features: links },
    points: { type: "FeatureCollection", features: points },
    frame: doc.tollkit?.frame,
    note: doc.tollkit?.note,
  };
}

/**
 * Zone centroids taken from the link geometry: the point where a link starts or ends at a node
 * whose id is a zone id. The API serves catalogue (TNTP) and built-in networks, whose zones are
 * the nodes with ids 1..zones (the TNTP convention, see graph-core's network model).
 */
export function zonePoints(links: LinkCollection, zoneCount: number): PointCollection {
  const seen = new Map<number, Position>();
  for (const f of links.features) {
    const c = f.geometry.coordinates;
    const ends: [unknown, Position][] = [
      [f.properties.from, c[0]],
      [f.properties.to, c[c.length - 1]],
    ];
    for (const [id, at] of ends) {
      const z = Number(id);
      if (Number.isInteger(z) && z >= 1 && z <= zoneCount && !seen.has(z)) seen.set(z, at);
    }
  }
  return {
    type: "FeatureCollection",
    features: [...seen.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([zone, at]) => ({ type: "Feature", geometry: { type: "Point", coordinates: at }, properties: { zone } })),
  };
}

/** [[west, south], [east, north]] of every coordinate of the links, or null when empty. */
export function boundsOf(links: LinkCollection): [Position, Position] | null {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const f of links.features) {
    for (const [x, y] of f.geometry.coordinates) {
      if (x < w) w = x;
      if (x > e) e = x;
      if (y < s) s = y;
      if (y > n) n = y;
    }
  }
  if (!Number.isFinite(w)) return null;
  return [
    [w, s],
    [e, n],
  ];
}

/** The point a fraction `t` ∈ [0, 1] of the way along a polyline (planar, in its own coordinates). */
export function pointAlong(coords: Position[], t: number): Position {
  if (coords.length === 1) return coords[0];
  let total = 0;
  for (let i = 1; i < coords.length; i++) total += Math.hypot(coords[i][0] - coords[i - 1][0], coords[i][1] - coords[i - 1][1]);
  let target = total * t;
  for (let i = 1; i < coords.length; i++) {
    const [x0, y0] = coords[i - 1];
    const [x1, y1] = coords[i];
    const d = Math.hypot(x1 - x0, y1 - y0);
    if (target <= d || i === coords.length - 1) {
      const u = d > 0 ? Math.min(1, target / d) : 0;
      return [x0 + (x1 - x0) * u, y0 + (y1 - y0) * u];
    }
    target -= d;
  }
  return coords[coords.length - 1];
}
