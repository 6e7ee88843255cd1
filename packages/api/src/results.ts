/**
 * Per-link results of a run in the formats the API serves — JSON rows, CSV (the CLI's
 * `flows.csv` columns) and GeoJSON for map styling — and the comparison of two runs.
 */
import { linksToGeojson, Network } from "@tollkit/graph-core";
import { ApiError } from "./errors.js";
import type { LinkColumns } from "./store.js";

/** One link of a run's result. `voc` = flow / capacity (null when the capacity is 0). */
export interface LinkRow {
  link: number;
  from: number;
  to: number;
  flow: number;
  time: number;
  cost: number;
  toll: number;
  voc: number | null;
  revenue: number;
}

/** The columns of `flows.csv`, as the CLI writes them. */
export const CSV_COLUMNS = ["link", "from", "to", "flow", "time", "cost", "toll", "voc"] as const;

/** Volume/capacity per link (NaN where the capacity is not positive). */
export function volumeCapacity(links: LinkColumns): Float64Array {
  const { flow, capacity } = links.columns;
  const out = new Float64Array(links.linkCount);
  for (let i = 0; i < links.linkCount; i++) out[i] = capacity[i] > 0 ? flow[i] / capacity[i] : NaN;
  return out;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** The result as one JSON row per link. */
export function linkRows(links: LinkColumns): LinkRow[] {
  const c = links.columns;
  const voc = volumeCapacity(links);
  const rows: LinkRow[] = new Array(links.linkCount);
  for (let i = 0; i < links.linkCount; i++) {
    rows[i] = {
      link: i + 1,
      from: c.from[i],
      to: c.to[i],
      flow: c.flow[i],
      time: c.time[i],
      cost: c.cost[i],
      toll: c.toll[i],
      voc: finiteOrNull(voc[i]),
      revenue: c.revenue[i],
    };
  }
  return rows;
}

/** The result as CSV with the CLI's `flows.csv` header (`link,from,to,flow,time,cost,toll,voc`). */
export function linkCsv(links: LinkColumns): string {
  const c = links.columns;
  const voc = volumeCapacity(links);
  const lines: string[] = [CSV_COLUMNS.join(",")];
  for (let i = 0; i < links.linkCount; i++) {
    lines.push(
      `${i + 1},${c.from[i]},${c.to[i]},${c.flow[i]},${c.time[i]},${c.cost[i]},${c.toll[i]},${Number.isFinite(voc[i]) ? voc[i] : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The result as a GeoJSON FeatureCollection over the network's links (graph-core's
 * `linksToGeojson`), each feature carrying the run's `flow`, `voc` (volume/capacity), `time`,
 * `cost`, `revenue` and the toll the run used (`toll`, replacing the network's own).
 * @throws ApiError 409 when the network no longer matches the stored result
 */
export function linkGeojson(net: Network, links: LinkColumns): ReturnType<typeof linksToGeojson> {
  if (net.linkCount !== links.linkCount)
    throw new ApiError(409, `api: network ${net.name} now has ${net.linkCount} links but the run's result has ${links.linkCount}`);
  const c = links.columns;
  const fc = linksToGeojson(net, {
    properties: { flow: c.flow, voc: volumeCapacity(links), time: c.time, cost: c.cost, revenue: c.revenue },
  });
  for (let i = 0; i < links.linkCount; i++) fc.features[i].properties.toll = finiteOrNull(c.toll[i]);
  return fc;
}

/** Summary fields compared in the headline of a comparison (those numeric in both runs; a design run's from its tolled equilibrium where it has no field of that name). */
export const HEADLINE_FIELDS = [
  "tstt",
  "totalCost",
  "sptt",
  "beckmann",
  "revenue",
  "relativeGap",
  "averageExcessCost",
  "iterations",
  "seconds",
] as const;

/** One headline difference: b − a, and (b − a)/|a| where a ≠ 0. */
export interface HeadlineDifference {
  a: number;
  b: number;
  difference: number;
  relative: number | null;
}

/**
 * Compares two runs on the same network: headline differences of the summaries and per-link
 * differences (all as b − a).
 * @throws ApiError 409 when the runs are on networks with different links
 */
export function compareRuns(
  a: { id: number; network: string; summary: Record<string, unknown>; links: LinkColumns },
  b: { id: number; network: string; summary: Record<string, unknown>; links: LinkColumns },
) {
  if (a.network !== b.network || a.links.linkCount !== b.links.linkCount)
    throw new ApiError(
      409,
      `api: runs ${a.id} (${a.network}) and ${b.id} (${b.network}) are on different networks; compare runs of one network`,
      {
        path: "b",
        in: "query",
      },
    );
  const headline: Record<string, HeadlineDifference> = {};
  // A design run's summary carries its tolled equilibrium's measures under `equilibrium`.
  const field = (s: Record<string, unknown>, f: string) => s[f] ?? (s.equilibrium as Record<string, unknown> | undefined)?.[f];
  for (const f of HEADLINE_FIELDS) {
    const va = field(a.summary, f);
    const vb = field(b.summary, f);
    if (typeof va === "number" && typeof vb === "number")
      headline[f] = { a: va, b: vb, difference: vb - va, relative: va !== 0 ? (vb - va) / Math.abs(va) : null };
  }
  const A = a.links.columns;
  const B = b.links.columns;
  const vocA = volumeCapacity(a.links);
  const vocB = volumeCapacity(b.links);
  const links = new Array(a.links.linkCount);
  for (let i = 0; i < a.links.linkCount; i++) {
    links[i] = {
      link: i + 1,
      from: A.from[i],
      to: A.to[i],
      flowA: A.flow[i],
      flowB: B.flow[i],
      flowDifference: B.flow[i] - A.flow[i],
      timeDifference: B.time[i] - A.time[i],
      vocDifference: finiteOrNull(vocB[i] - vocA[i]),
      tollDifference: B.toll[i] - A.toll[i],
      revenueDifference: B.revenue[i] - A.revenue[i],
    };
  }
  return { a: a.id, b: b.id, network: a.network, headline, links };
}
