/**
 * Results of a run in the formats tollkit writes and serves: per-link columns (what the API
 * stores), `flows.csv` (`link,from,to,flow,time,cost,toll,voc`), `convergence.csv`,
 * `history.csv`, `flows.geojson` and `design.json`, the files of an output folder, and the
 * comparison of two runs. `tollkit assign|design --out`, every batch run and
 * `GET /api/runs/:id/flows` use these same functions, so the formats cannot drift apart.
 */
import type { FollowerResult, IterationRecord } from "@tollkit/follower";
import { CsvCell, formatCsv, InputError, linksToGeojson, Network } from "@tollkit/graph-core";
import type { DesignResult } from "@tollkit/leader";
import type { KeptBushes } from "./od-analysis.js";
import type { SelectLinkTable, SkimTable } from "./incidence.js";
import { DesignSummary, HEADLINE_FIELDS, RunSummary, summaryField } from "./summary.js";

const MOD = "runs/results";

/** Per-link columns of a result, by name (each of length `linkCount`, link id = index + 1). */
export interface LinkColumns {
  linkCount: number;
  columns: Record<string, Float64Array>;
}

/** What a finished run produced: its summary, a columnar convergence report (a design: its search history) and per-link columns. */
export interface RunOutput {
  summary: RunSummary;
  /** Columnar convergence report, e.g. `{iteration: [...], relativeGap: [...]}`. */
  convergence: Record<string, unknown[]>;
  links: LinkColumns;
  /** Skims of the equilibrium, when the task asked for them. */
  skims?: SkimTable;
  /** Select-link analysis, when the task named links. */
  selectLink?: SelectLinkTable;
  /** The equilibrium's bushes (a bush run, when the task asked to keep them), for select-link later. */
  bushes?: KeptBushes;
}

/** One file of an output folder. */
export interface OutputFile {
  name: string;
  content: string;
}

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

/** The columns of `flows.csv`. */
export const CSV_COLUMNS = ["link", "from", "to", "flow", "time", "cost", "toll", "voc"] as const;

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Per-link columns of a follower result: from/to (file node ids), capacity, flow (PCE), time,
 * cost (generalised cost of the first class), toll and revenue (Σ over tolled classes of class
 * flow × toll; `tolled[k]` says whether class k pays, default every class). With several
 * classes, also each class's flow (its vehicles) and generalised cost: `flow_<class>`,
 * `cost_<class>`.
 */
export function linkColumns(net: Network, r: FollowerResult, tolled?: readonly boolean[]): LinkColumns {
  const m = net.linkCount;
  const from = new Float64Array(m);
  const to = new Float64Array(m);
  const revenue = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    from[i] = net.nodeIds[net.links.from[i]];
    to[i] = net.nodeIds[net.links.to[i]];
  }
  r.classes.forEach((c, k) => {
    if (tolled && !tolled[k]) return;
    for (let i = 0; i < m; i++) revenue[i] += c.flows[i] * r.tolls[i];
  });
  return {
    linkCount: m,
    columns: {
      from,
      to,
      capacity: Float64Array.from(net.links.capacity),
      flow: Float64Array.from(r.flows),
      time: Float64Array.from(r.times),
      cost: Float64Array.from(r.classes[0]?.costs ?? r.times),
      toll: Float64Array.from(r.tolls),
      revenue,
      ...(r.classes.length > 1
        ? Object.fromEntries(
            r.classes.flatMap((c) => [
              [`flow_${c.name}`, Float64Array.from(c.flows)],
              [`cost_${c.name}`, Float64Array.from(c.costs)],
            ]),
          )
        : {}),
    },
  };
}

/** The per-class columns of a result (`flow_<class>`, `cost_<class>`), in order. */
export function classColumns(links: LinkColumns): string[] {
  return Object.keys(links.columns).filter((k) => k.startsWith("flow_") || k.startsWith("cost_"));
}

/** Volume/capacity per link (NaN where the capacity is not positive). */
export function volumeCapacity(links: LinkColumns): Float64Array {
  const { flow, capacity } = links.columns;
  const out = new Float64Array(links.linkCount);
  for (let i = 0; i < links.linkCount; i++) out[i] = capacity[i] > 0 ? flow[i] / capacity[i] : NaN;
  return out;
}

/** The result as one JSON row per link. */
export function linkRows(links: LinkColumns): LinkRow[] {
  const c = links.columns;
  const voc = volumeCapacity(links);
  const rows: LinkRow[] = new Array(links.linkCount);
  for (let i = 0; i < links.linkCount; i++)
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
  return rows;
}

/**
 * `flows.csv`: the header {@link CSV_COLUMNS}, one row per link; with several classes, then each
 * class's flow and generalised cost (`flow_<class>`, `cost_<class>`; `cost` is the first class's).
 */
export function linkCsv(links: LinkColumns): string {
  const c = links.columns;
  const voc = volumeCapacity(links);
  const extra = classColumns(links);
  const cols = extra.map((k) => c[k]);
  function* rows(): Generator<CsvCell[]> {
    for (let i = 0; i < links.linkCount; i++)
      yield [i + 1, c.from[i], c.to[i], c.flow[i], c.time[i], c.cost[i], c.toll[i], voc[i], ...cols.map((col) => col[i])];
  }
  return formatCsv([...CSV_COLUMNS, ...extra], rows());
}

/**
 * The result as a GeoJSON FeatureCollection over the network's links (graph-core's
 * `linksToGeojson`), each feature carrying the run's `flow`, `voc` (volume/capacity), `time`,
 * `cost`, `revenue` and the toll the run used (`toll`, replacing the network's own).
 * @throws InputError when the network has another number of links than the result
 */
export function linkGeojson(net: Network, links: LinkColumns): ReturnType<typeof linksToGeojson> {
  if (net.linkCount !== links.linkCount)
    throw new InputError(MOD, `network ${net.name} has ${net.linkCount} links but the result has ${links.linkCount}`);
  const c = links.columns;
  const fc = linksToGeojson(net, {
    properties: { flow: c.flow, voc: volumeCapacity(links), time: c.time, cost: c.cost, revenue: c.revenue },
  });
  for (let i = 0; i < links.linkCount; i++) fc.features[i].properties.toll = finiteOrNull(c.toll[i]);
  return fc;
}

/** Columnar form of a convergence report. */
export function convergenceColumns(records: readonly IterationRecord[]): Record<string, number[]> {
  return {
    iteration: records.map((r) => r.iteration),
    relativeGap: records.map((r) => r.relativeGap),
    step: records.map((r) => r.step),
    objective: records.map((r) => r.objective),
    elapsedMs: records.map((r) => r.elapsedMs),
  };
}

/** `convergence.csv` of a follower result: iteration, relative gap, step, conjugate weights, objective, elapsed ms. */
export function convergenceCsv(r: FollowerResult): string {
  return formatCsv(
    ["iteration", "relativeGap", "step", "conjugateWeights", "objective", "elapsedMs"],
    r.convergence.map((it) => [it.iteration, it.relativeGap, it.step, it.conjugateWeights.join(" "), it.objective, it.elapsedMs]),
  );
}

/** Columnar form of a design's search history. */
export function historyColumns(rows: DesignResult["history"]): Record<string, unknown[]> {
  return {
    step: rows.map((h) => h.step),
    solves: rows.map((h) => h.solves),
    value: rows.map((h) => h.value),
    merit: rows.map((h) => h.merit),
    tstt: rows.map((h) => h.tstt),
    revenue: rows.map((h) => h.revenue),
    accepted: rows.map((h) => h.accepted),
    phase: rows.map((h) => h.phase),
  };
}

/** Column name of a decision variable in history.csv. */
function tollColumn(v: DesignResult["variables"][number], k: number): string {
  return v.links.length === 1 ? `toll_link_${v.links[0]}` : v.label.startsWith("cordon") ? `toll_cordon` : `toll_group_${k + 1}`;
}

/** `history.csv`: one row per evaluated design. */
export function historyCsv(r: DesignResult): string {
  return formatCsv(
    ["step", "solves", "phase", "accepted", "value", "merit", "tstt", "revenue", ...r.variables.map(tollColumn)],
    r.history.map((h) => [h.step, h.solves, h.phase, h.accepted, h.value, h.merit, h.tstt, h.revenue, ...h.tolls]),
  );
}

/**
 * The files of an equilibrium: `summary.json` (the given summary), `flows.csv`,
 * `convergence.csv` and `flows.geojson`.
 * @param tolled per class, whether it pays tolls (for the per-link revenue); default all
 */
export function equilibriumFiles(net: Network, r: FollowerResult, summary: RunSummary, tolled?: readonly boolean[]): OutputFile[] {
  const links = linkColumns(net, r, tolled);
  return [
    { name: "summary.json", content: `${JSON.stringify(summary, null, 2)}\n` },
    { name: "flows.csv", content: linkCsv(links) },
    { name: "convergence.csv", content: convergenceCsv(r) },
    { name: "flows.geojson", content: `${JSON.stringify(linkGeojson(net, links))}\n` },
  ];
}

/** `design.json`: the summary plus first-best tolls, the search history and the response surface. */
export function designFile(r: DesignResult, summary: DesignSummary): Record<string, unknown> {
  return { ...summary, firstBestDetail: r.firstBestDetail ?? null, history: r.history, surface: r.surface ?? null };
}

/**
 * The files of a design's output folder: the tolled equilibrium as an assignment's (its
 * summary.json is the design summary), design.json and history.csv.
 * @param tolled per class of the scenario, whether it pays tolls
 */
export function designFiles(net: Network, r: DesignResult, summary: DesignSummary, tolled: readonly boolean[]): OutputFile[] {
  return [
    ...equilibriumFiles(net, r.equilibrium, summary, tolled),
    { name: "design.json", content: `${JSON.stringify(designFile(r, summary), null, 2)}\n` },
    { name: "history.csv", content: historyCsv(r) },
  ];
}

/** One headline difference: b − a, and (b − a)/|a| where a ≠ 0. */
export interface HeadlineDifference {
  a: number;
  b: number;
  difference: number;
  relative: number | null;
}

/** A run to compare: its id (or folder), network, summary and per-link columns. */
export interface ComparedRun<Id> {
  id: Id;
  network: string;
  summary: RunSummary | Record<string, unknown>;
  links: LinkColumns;
}

/** Whether two runs can be compared: the same network and number of links. */
export function sameNetwork(a: ComparedRun<unknown>, b: ComparedRun<unknown>): boolean {
  return a.network === b.network && a.links.linkCount === b.links.linkCount;
}

/**
 * Compares two runs on the same network: headline differences of the summaries (a design's
 * fields from its tolled equilibrium) and per-link differences, all as b − a.
 * @throws InputError when the runs are on networks with different links ({@link sameNetwork})
 */
export function compareRuns<Id>(a: ComparedRun<Id>, b: ComparedRun<Id>) {
  if (!sameNetwork(a, b))
    throw new InputError(MOD, `runs ${String(a.id)} (${a.network}) and ${String(b.id)} (${b.network}) are on different networks`);
  const headline: Record<string, HeadlineDifference> = {};
  for (const f of HEADLINE_FIELDS) {
    const va = summaryField(a.summary, f);
    const vb = summaryField(b.summary, f);
    if (typeof va === "number" && typeof vb === "number")
      headline[f] = { a: va, b: vb, difference: vb - va, relative: va !== 0 ? (vb - va) / Math.abs(va) : null };
  }
  const A = a.links.columns;
  const B = b.links.columns;
  const vocA = volumeCapacity(a.links);
  const vocB = volumeCapacity(b.links);
  const links = new Array(a.links.linkCount);
  for (let i = 0; i < a.links.linkCount; i++)
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
  return { a: a.id, b: b.id, network: a.network, headline, links };
}
