/**
 * Network drawings (links, zone dots, frame) as the API serves them, cached per network, and
 * the inline networks of stored scenarios (named `scenario:<id>`).
 */
import * as api from "./api.js";
import { note, tollMap } from "./context.js";
import { splitCollection, zonePoints, type AnyCollection, type LinkCollection, type PointCollection } from "./geo.js";
import { networks } from "./store.js";

/** A network's drawing: links, zone dots, and whether the coordinates are lon/lat. */
export interface Geometry {
  id: string;
  links: LinkCollection;
  zones: PointCollection;
  lonlat: boolean;
  /** How the coordinates were obtained when they are not lon/lat. */
  note: string;
}

const cache = new Map<string, Promise<Geometry>>();

export const INLINE = /^scenario:([0-9]+)$/;

/** The network summary of `id` in the store's list. */
export function networkById(id: string): api.NetworkSummary | undefined {
  return networks.value.find((n) => n.id === id);
}

/** A network's drawing from any of its link collections (the network's GeoJSON or a run's flows). */
export function geometryOf(id: string, doc: AnyCollection): Geometry {
  const { links, frame, note } = splitCollection(doc, `network ${id}`);
  const zoneCount = networkById(id)?.zones ?? 0;
  return { id, links, zones: zonePoints(links, zoneCount), lonlat: frame === "lonlat", note: frame === "lonlat" ? "" : (note ?? "") };
}

/** Network geometry (links and zones) from the API, cached per network. */
export function geometry(id: string): Promise<Geometry> {
  let p = cache.get(id);
  if (!p) {
    p = Promise.all([api.getNetworkGeojson(id), inlineZoneCount(id)]).then(([doc]) => geometryOf(id, doc));
    p.catch(() => cache.delete(id));
    cache.set(id, p);
  }
  return p;
}

/** Keeps a geometry obtained otherwise (a run's flows carry the network's geometry). */
export function rememberGeometry(g: Geometry): void {
  if (!cache.has(g.id)) cache.set(g.id, Promise.resolve(g));
}

/** For an inline network: reads its zone count from the scenario's JSON (zones are nodes 1..zones). */
export async function inlineZoneCount(id: string): Promise<void> {
  const m = INLINE.exec(id);
  const n = networkById(id);
  if (!m || !n || n.zones > 0) return;
  const body = (await api.getScenario(Number(m[1]))).body as { network?: { zones?: number; links?: unknown[]; nodes?: unknown[] } };
  const counts = {
    zones: Number(body?.network?.zones) || 0,
    links: body?.network?.links?.length ?? 0,
    nodes: body?.network?.nodes?.length ?? 0,
  };
  networks.value = networks.value.map((x) => (x.id === id ? { ...x, ...counts } : x));
}

/** Puts the map in a network's frame (zones, base map or not, view). */
export async function enterFrame(g: Geometry): Promise<void> {
  await tollMap.setFrame(g.id, g.links, g.zones, g.lonlat);
  // The API's note says how the frame was made, e.g. "state-plane-feet coordinates moved and scaled into a 0.2° box …; no base map".
  note(g.lonlat ? "" : `Drawn in a local frame: ${g.note || "the coordinates are not longitude/latitude; no base map"}`);
}
