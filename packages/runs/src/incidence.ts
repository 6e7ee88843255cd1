/**
 * Who pays and who gains: skim tables (per OD pair and class), their CSV form (`skims.csv`,
 * streamed, never one string), select-link tables (`select-link.csv`) and the incidence of one
 * run against another (per origin, destination or OD pair, and per class) with totals that
 * reconcile with the runs' summaries. `tollkit assign|design --skims --select-link`,
 * `tollkit incidence` and the API's skims, select-link and incidence routes all use these
 * functions. Definitions and rules: docs/incidence.md.
 *
 * Incidence of run b against run a (b − a), for a group G of OD pairs of one class:
 * - trips: Σ demand (a and b; equal with a fixed trip table);
 * - cost per trip: Σ trips·cost / Σ trips in each run (generalised cost, time units), and its
 *   change, split into time, toll (tollFactor·toll, time units) and distance parts;
 * - toll paid per trip (money) and in all (the group's share of the revenue);
 * - totals: users' change = Σ_b trips·cost − Σ_a trips·cost; the change of their time and
 *   distance cost plus the change of revenue (in time units) equals it, and it equals the change
 *   of the runs' total generalised cost (`totalCost`) up to the runs' gaps; revenue by origin
 *   sums to the revenue. The residuals are reported, never hidden.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { SelectLinkResult, Skims } from "@tollkit/follower";
import { CsvCell, formatCsv, InputError, Network, parseCsv } from "@tollkit/graph-core";
import type { LinkColumns } from "./results.js";
import { RunSummary, summaryField } from "./summary.js";

const MOD = "runs/incidence";

/** Skims of one class, zone × zone arrays (row = origin; NaN on the diagonal and where unreachable). */
export interface ClassSkimTable {
  name: string;
  /** Minutes (time units) per unit of toll, and per unit of length. */
  tollFactor: number;
  distanceFactor: number;
  demand: Float64Array;
  time: Float64Array;
  toll: Float64Array;
  distance: Float64Array;
  cost: Float64Array;
}

/** A run's skims with the zone ids of its network (what runs pass over IPC and the API stores). */
export interface SkimTable {
  network: string;
  /** How the skims were computed: `bush-flow-weighted` or `shortest-path` (docs/incidence.md). */
  rule: string;
  zoneIds: Float64Array;
  classes: ClassSkimTable[];
}

/** The columns of `skims.csv`. `tollCost` = tollFactor·toll and `distanceCost` = distanceFactor·distance, so time + tollCost + distanceCost = cost. */
export const SKIM_COLUMNS = [
  "origin",
  "destination",
  "class",
  "demand",
  "time",
  "toll",
  "distance",
  "cost",
  "tollCost",
  "distanceCost",
] as const;

/** One row of a skim table (zone ids as in the network file). */
export interface SkimRow {
  origin: number;
  destination: number;
  class: string;
  demand: number;
  time: number | null;
  toll: number | null;
  distance: number | null;
  cost: number | null;
  tollCost: number | null;
  distanceCost: number | null;
}

/** The skim table of a follower's skims. */
export function skimTable(net: Network, s: Skims): SkimTable {
  return {
    network: net.name,
    rule: s.rule,
    zoneIds: Float64Array.from(net.zoneIds),
    classes: s.classes.map((c) => ({
      name: c.name,
      tollFactor: c.tolled ? c.tollFactor : 0,
      distanceFactor: c.distanceFactor,
      demand: c.demand,
      time: c.time,
      toll: c.toll,
      distance: c.distance,
      cost: c.cost,
    })),
  };
}

/** Rows of a skim table: every class, origin and destination ≠ origin (K·Z·(Z−1) rows). */
export function skimRowCount(t: SkimTable): number {
  const Z = t.zoneIds.length;
  return t.classes.length * Z * (Z - 1);
}

const nn = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The row of index `r` (0 ≤ r < {@link skimRowCount}): class-major, then origin, then destination. */
export function skimRow(t: SkimTable, r: number): SkimRow {
  const Z = t.zoneIds.length;
  const per = Z * (Z - 1);
  const k = Math.floor(r / per);
  const q = r - k * per;
  const o = Math.floor(q / (Z - 1));
  let d = q - o * (Z - 1);
  if (d >= o) d++;
  const c = t.classes[k];
  const i = o * Z + d;
  const toll = c.toll[i];
  const dist = c.distance[i];
  return {
    origin: t.zoneIds[o],
    destination: t.zoneIds[d],
    class: c.name,
    demand: c.demand[i],
    time: nn(c.time[i]),
    toll: nn(toll),
    distance: nn(dist),
    cost: nn(c.cost[i]),
    tollCost: nn(c.tollFactor * toll),
    distanceCost: nn(c.distanceFactor * dist),
  };
}

function skimCells(r: SkimRow): CsvCell[] {
  return [r.origin, r.destination, r.class, r.demand, r.time, r.toll, r.distance, r.cost, r.tollCost, r.distanceCost];
}

/**
 * `skims.csv` in pieces: the header with the first rows, then `chunkRows` rows at a time (so that
 * Berlin-Center's 748,000 OD pairs are never one string).
 * @param from first row index; @param to one past the last (default all)
 */
export function* skimCsvChunks(
  t: SkimTable,
  opts: { from?: number; to?: number; chunkRows?: number; header?: boolean } = {},
): Generator<string> {
  const total = skimRowCount(t);
  const from = Math.max(0, opts.from ?? 0);
  const to = Math.min(total, opts.to ?? total);
  // small pieces: their strings die young (a scavenge frees them), so streaming a large table
  // does not grow the old generation (Berlin-Center: peak memory, docs/benchmarks.md)
  const chunk = opts.chunkRows ?? 2000;
  let header = opts.header ?? true;
  if (from >= to && header) {
    yield formatCsv(SKIM_COLUMNS, []);
    return;
  }
  for (let s = from; s < to; s += chunk) {
    const e = Math.min(to, s + chunk);
    const rows: CsvCell[][] = [];
    for (let r = s; r < e; r++) rows.push(skimCells(skimRow(t, r)));
    const text = formatCsv(SKIM_COLUMNS, rows);
    yield header ? text : text.slice(text.indexOf("\n") + 1);
    header = false;
  }
}

/**
 * Writes text pieces to `path` atomically: a temporary name beside it, renamed when complete.
 * @throws InputError naming the file when it cannot be written (the temporary file is removed)
 */
export function writeChunksAtomic(path: string, chunks: Iterable<string>): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(tmp, "w");
    for (const c of chunks) writeSync(fd, c);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new InputError(
      MOD,
      `cannot write the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file: path },
      "a writable file",
    );
  }
}

/**
 * Reads `skims.csv` back into a skim table (the CSV is read in pieces of 50,000 lines with the
 * one CSV reader, so that large tables stay within memory).
 * @throws InputError naming the file, line and field for a missing column, a zone or class out of
 *   place, or a value that is not a number
 */
export function parseSkimsCsv(text: string, file: string, network: string): SkimTable {
  const nl = text.indexOf("\n");
  const headerLine = nl < 0 ? text : text.slice(0, nl);
  parseCsv(`${headerLine}\n`, file, { module: MOD, required: SKIM_COLUMNS });
  const zoneIndex = new Map<number, number>();
  const zoneIds: number[] = [];
  const classIndex = new Map<string, number>();
  type Acc = { name: string; tf: number; df: number };
  // zones and classes are known only at the end: keep the rows as flat columns until then
  const cols: number[][] = [[], [], [], [], [], [], [], []]; // o, d, k, demand, time, toll, distance, cost
  const classes: Acc[] = [];
  const lines = text.split("\n");
  const CH = 50000;
  for (let s = 1; s < lines.length; s += CH) {
    const piece = [headerLine, ...lines.slice(s, s + CH)].join("\n");
    if (piece.trim() === headerLine.trim()) continue;
    const t = parseCsv(piece, file, { module: MOD });
    for (let r = 0; r < t.rows.length; r++) {
      const row = t.rows[r];
      const line = t.lines[r] + s - 1;
      const num = (f: string, empty: boolean): number => {
        const cell = row[f];
        if (cell === "" && empty) return NaN;
        const v = Number(cell);
        if (cell === "" || !Number.isFinite(v))
          throw new InputError(MOD, `got ${JSON.stringify(cell)}`, { file, line, field: f }, "a number");
        return v;
      };
      const o = num("origin", false);
      const d = num("destination", false);
      for (const z of [o, d])
        if (!zoneIndex.has(z)) {
          zoneIndex.set(z, zoneIds.length);
          zoneIds.push(z);
        }
      let k = classIndex.get(row.class);
      if (k === undefined) {
        k = classes.length;
        classIndex.set(row.class, k);
        classes.push({ name: row.class, tf: NaN, df: NaN });
      }
      const v = [num("demand", false), num("time", true), num("toll", true), num("distance", true), num("cost", true)];
      const tc = num("tollCost", true);
      const dc = num("distanceCost", true);
      const c = classes[k];
      if (Number.isNaN(c.tf) && v[2] !== 0 && Number.isFinite(v[2]) && Number.isFinite(tc)) c.tf = tc / v[2];
      if (Number.isNaN(c.df) && v[3] !== 0 && Number.isFinite(v[3]) && Number.isFinite(dc)) c.df = dc / v[3];
      const rec = [zoneIndex.get(o)!, zoneIndex.get(d)!, k, ...v];
      for (let j = 0; j < 8; j++) cols[j].push(rec[j]);
    }
  }
  const Z = zoneIds.length;
  const table: SkimTable = {
    network,
    rule: "read from skims.csv",
    zoneIds: Float64Array.from(zoneIds),
    classes: classes.map((c) => {
      const a = () => new Float64Array(Z * Z).fill(NaN);
      return {
        name: c.name,
        tollFactor: Number.isNaN(c.tf) ? 0 : c.tf,
        distanceFactor: Number.isNaN(c.df) ? 0 : c.df,
        demand: new Float64Array(Z * Z),
        time: a(),
        toll: a(),
        distance: a(),
        cost: a(),
      };
    }),
  };
  for (let r = 0; r < cols[0].length; r++) {
    const c = table.classes[cols[2][r]];
    const i = cols[0][r] * Z + cols[1][r];
    c.demand[i] = cols[3][r];
    c.time[i] = cols[4][r];
    c.toll[i] = cols[5][r];
    c.distance[i] = cols[6][r];
    c.cost[i] = cols[7][r];
  }
  return table;
}

// ---------------------------------------------------------------- select-link tables

/** The columns of `select-link.csv`: one row per (class, origin, destination) with trips using the links. */
export const SELECT_LINK_COLUMNS = ["origin", "destination", "class", "trips", "demand", "share"] as const;
/** The columns of `select-link-flows.csv`: the flow of those trips on every link. */
export const SELECT_LINK_FLOW_COLUMNS = ["link", "from", "to", "flow", "selectLinkFlow", "share"] as const;

/** A select-link result with what is needed to write and serve it (zone ids, demand). */
export interface SelectLinkTable {
  network: string;
  links: number[];
  zoneIds: Float64Array;
  classes: {
    name: string;
    pce: number;
    demand: Float64Array;
    odTrips: Float64Array;
    originTrips: Float64Array;
    destinationTrips: Float64Array;
    originFlow: Float64Array;
    selectedFlow: number;
    trips: number;
  }[];
  linkFlowsPce: Float64Array;
}

/** The select-link table of a follower's select-link result. */
export function selectLinkTable(
  net: Network,
  s: SelectLinkResult,
  classes: readonly { pce: number; demand: Float64Array }[],
): SelectLinkTable {
  return {
    network: net.name,
    links: s.links,
    zoneIds: Float64Array.from(net.zoneIds),
    classes: s.classes.map((c, k) => ({
      name: c.name,
      pce: classes[k].pce,
      demand: classes[k].demand,
      odTrips: c.odTrips,
      originTrips: c.originTrips,
      destinationTrips: c.destinationTrips,
      originFlow: c.originFlow,
      selectedFlow: c.selectedFlow,
      trips: c.trips,
    })),
    linkFlowsPce: s.linkFlowsPce,
  };
}

/** The OD rows of a select-link table with trips > 0, in class, origin, destination order. */
export function* selectLinkRows(
  t: SelectLinkTable,
): Generator<{ origin: number; destination: number; class: string; trips: number; demand: number; share: number }> {
  const Z = t.zoneIds.length;
  for (const c of t.classes)
    for (let o = 0; o < Z; o++)
      for (let d = 0; d < Z; d++) {
        const i = o * Z + d;
        const v = c.odTrips[i];
        if (v > 0)
          yield { origin: t.zoneIds[o], destination: t.zoneIds[d], class: c.name, trips: v, demand: c.demand[i], share: v / c.demand[i] };
      }
}

/** Per zone and class: trips from the zone and to the zone that use the links, and the zone's exact flow on them. */
export function selectLinkZones(
  t: SelectLinkTable,
): { zone: number; class: string; originTrips: number; destinationTrips: number; originFlow: number }[] {
  const out = [];
  for (const c of t.classes)
    for (let z = 0; z < t.zoneIds.length; z++)
      if (c.originTrips[z] > 0 || c.destinationTrips[z] > 0 || c.originFlow[z] > 0)
        out.push({
          zone: t.zoneIds[z],
          class: c.name,
          originTrips: c.originTrips[z],
          destinationTrips: c.destinationTrips[z],
          originFlow: c.originFlow[z],
        });
  return out;
}

/** `select-link.csv` in pieces (header first). */
export function* selectLinkCsvChunks(t: SelectLinkTable, chunkRows = 2000): Generator<string> {
  let rows: CsvCell[][] = [];
  let header = true;
  const flush = function* () {
    const text = formatCsv(SELECT_LINK_COLUMNS, rows);
    yield header ? text : text.slice(text.indexOf("\n") + 1);
    header = false;
    rows = [];
  };
  for (const r of selectLinkRows(t)) {
    rows.push([r.origin, r.destination, r.class, r.trips, r.demand, r.share]);
    if (rows.length >= chunkRows) yield* flush();
  }
  if (rows.length > 0 || header) yield* flush();
}

/** `select-link-flows.csv`: per link, its assigned flow and the flow of the trips that use the selected links (PCE). */
export function selectLinkFlowsCsv(links: LinkColumns, t: SelectLinkTable): string {
  const { from, to, flow } = links.columns;
  const rows: CsvCell[][] = [];
  for (let a = 0; a < links.linkCount; a++)
    rows.push([a + 1, from[a], to[a], flow[a], t.linkFlowsPce[a], flow[a] > 0 ? t.linkFlowsPce[a] / flow[a] : null]);
  return formatCsv(SELECT_LINK_FLOW_COLUMNS, rows);
}

/** Headline of a select-link table: per class, the selected links' assigned flow, the exact flow by origin summed, and the trips using them. */
export function selectLinkSummary(t: SelectLinkTable) {
  return {
    network: t.network,
    links: t.links,
    classes: t.classes.map((c) => ({ name: c.name, selectedFlow: c.selectedFlow, trips: c.trips })),
  };
}

// ---------------------------------------------------------------- incidence

/** The grouping of an incidence table. */
export const INCIDENCE_BY = ["origin", "destination", "od"] as const;
export type IncidenceBy = (typeof INCIDENCE_BY)[number];

/** Trip-weighted sums of one group of OD pairs of one class in runs a and b. */
interface Sums {
  tripsA: number;
  tripsB: number;
  timeA: number;
  timeB: number;
  tollA: number;
  tollB: number;
  tollCostA: number;
  tollCostB: number;
  distanceCostA: number;
  distanceCostB: number;
  costA: number;
  costB: number;
}

const zero = (): Sums => ({
  tripsA: 0,
  tripsB: 0,
  timeA: 0,
  timeB: 0,
  tollA: 0,
  tollB: 0,
  tollCostA: 0,
  tollCostB: 0,
  distanceCostA: 0,
  distanceCostB: 0,
  costA: 0,
  costB: 0,
});

/** One row of an incidence table (b − a; costs in time units, tolls in money). */
export interface IncidenceRow {
  origin?: number;
  destination?: number;
  class: string;
  tripsA: number;
  trips: number;
  costPerTripA: number | null;
  costPerTripB: number | null;
  /** Change of generalised cost per trip (time units); > 0: the group's users lose. */
  costChangePerTrip: number | null;
  timeChangePerTrip: number | null;
  tollCostChangePerTrip: number | null;
  distanceCostChangePerTrip: number | null;
  /** Toll paid per trip in b, and its change (money). */
  tollPerTrip: number | null;
  tollChangePerTrip: number | null;
  /** Users' change of total generalised cost, Σ_b trips·cost − Σ_a trips·cost (time units). */
  costChange: number;
  /** Tolls paid in b (money): the group's share of the revenue; and the change. */
  tollPaid: number;
  tollPaidChange: number;
}

/** The columns of an incidence CSV, in order (origin/destination present as the grouping says). */
export const INCIDENCE_COLUMNS = [
  "class",
  "tripsA",
  "trips",
  "costPerTripA",
  "costPerTripB",
  "costChangePerTrip",
  "timeChangePerTrip",
  "tollCostChangePerTrip",
  "distanceCostChangePerTrip",
  "tollPerTrip",
  "tollChangePerTrip",
  "costChange",
  "tollPaid",
  "tollPaidChange",
] as const;

const per = (v: number, n: number): number | null => (n > 0 ? v / n : null);
const diff = (b: number | null, a: number | null): number | null => (b === null || a === null ? null : b - a);

function row(s: Sums, cls: string, key: { origin?: number; destination?: number }): IncidenceRow {
  const cA = per(s.costA, s.tripsA);
  const cB = per(s.costB, s.tripsB);
  return {
    ...key,
    class: cls,
    tripsA: s.tripsA,
    trips: s.tripsB,
    costPerTripA: cA,
    costPerTripB: cB,
    costChangePerTrip: diff(cB, cA),
    timeChangePerTrip: diff(per(s.timeB, s.tripsB), per(s.timeA, s.tripsA)),
    tollCostChangePerTrip: diff(per(s.tollCostB, s.tripsB), per(s.tollCostA, s.tripsA)),
    distanceCostChangePerTrip: diff(per(s.distanceCostB, s.tripsB), per(s.distanceCostA, s.tripsA)),
    tollPerTrip: per(s.tollB, s.tripsB),
    tollChangePerTrip: diff(per(s.tollB, s.tripsB), per(s.tollA, s.tripsA)),
    costChange: s.costB - s.costA,
    tollPaid: s.tollB,
    tollPaidChange: s.tollB - s.tollA,
  };
}

/** Totals of an incidence, with the identities they satisfy and their residuals. */
export interface IncidenceTotals {
  tripsA: number;
  trips: number;
  /** Users' change of generalised cost (time units, tolls included): Σ_b trips·cost − Σ_a trips·cost. */
  userCostChange: number;
  /** Its parts: time, distance cost, and toll cost (= the change of revenue in time units, tollFactor·toll). */
  timeChange: number;
  distanceCostChange: number;
  tollCostChange: number;
  /** Time and distance cost change (what travel costs society; tolls are a transfer). */
  resourceCostChange: number;
  revenueA: number;
  revenueB: number;
  revenueChange: number;
  /** The runs' own total generalised cost (summary `totalCost`) and its change. */
  totalCostA: number | null;
  totalCostB: number | null;
  totalCostChange: number | null;
  /** Residuals of the identities, relative: users' change vs the summaries' totalCost change (scaled by totalCost), revenue by origin vs the summaries' revenue (scaled by revenue, or 1). */
  residuals: { resourcePlusRevenue: number; totalCost: number | null; revenueA: number | null; revenueB: number | null };
}

/** The incidence of run b against run a. */
export interface Incidence {
  network: string;
  by: IncidenceBy;
  rules: { a: string; b: string };
  totals: IncidenceTotals;
  /** Per class (same fields as totals, without the residuals). */
  classes: (Omit<IncidenceTotals, "residuals" | "totalCostA" | "totalCostB" | "totalCostChange"> & { name: string })[];
  /** Groups whose users lose more than `threshold` per trip (largest loss first), and gain more than it (largest gain first). */
  threshold: number;
  losers: IncidenceRow[];
  winners: IncidenceRow[];
  /** The number of rows (see {@link incidenceRows}). */
  rowCount: number;
  warnings: string[];
}

/**
 * Checks that two skim tables can be compared: same zones and as many classes (matched by
 * position; returns a warning when their names differ, e.g. a baseline's `all` and a scenario's `car`).
 */
function checkTables(a: SkimTable, b: SkimTable, where: string): string[] {
  const same = a.zoneIds.length === b.zoneIds.length && a.zoneIds.every((z, i) => z === b.zoneIds[i]);
  if (!same)
    throw new InputError(
      MOD,
      `the runs' skims have different zones (${a.zoneIds.length} and ${b.zoneIds.length})`,
      { file: where },
      "two runs of one network",
    );
  const na = a.classes.map((c) => c.name).join(",");
  const nb = b.classes.map((c) => c.name).join(",");
  if (a.classes.length !== b.classes.length)
    throw new InputError(MOD, `the runs have different classes (${na} and ${nb})`, { file: where }, "two runs with the same user classes");
  return na === nb ? [] : [`classes matched by position: ${a.classes.map((c, k) => `${c.name} = ${b.classes[k].name}`).join(", ")}`];
}

/** Sums over OD pairs of one class into groups `key(o, d)` (−1 skips). */
function groupSums(
  a: ClassSkimTable,
  b: ClassSkimTable,
  Z: number,
  groups: Sums[],
  key: (o: number, d: number) => number,
  skipped: { n: number },
): void {
  for (let o = 0; o < Z; o++)
    for (let d = 0; d < Z; d++) {
      if (o === d) continue;
      const i = o * Z + d;
      const ta = a.demand[i];
      const tb = b.demand[i];
      if (!(ta > 0) && !(tb > 0)) continue;
      if (!Number.isFinite(a.cost[i]) || !Number.isFinite(b.cost[i])) {
        skipped.n++;
        continue;
      }
      const g = groups[key(o, d)];
      g.tripsA += ta;
      g.tripsB += tb;
      g.timeA += ta * a.time[i];
      g.timeB += tb * b.time[i];
      g.tollA += ta * a.toll[i];
      g.tollB += tb * b.toll[i];
      g.tollCostA += ta * a.tollFactor * a.toll[i];
      g.tollCostB += tb * b.tollFactor * b.toll[i];
      g.distanceCostA += ta * a.distanceFactor * a.distance[i];
      g.distanceCostB += tb * b.distanceFactor * b.distance[i];
      g.costA += ta * a.cost[i];
      g.costB += tb * b.cost[i];
    }
}

function add(t: Sums, s: Sums): void {
  for (const k of Object.keys(t) as (keyof Sums)[]) t[k] += s[k];
}

function totalsOf(s: Sums) {
  return {
    tripsA: s.tripsA,
    trips: s.tripsB,
    userCostChange: s.costB - s.costA,
    timeChange: s.timeB - s.timeA,
    distanceCostChange: s.distanceCostB - s.distanceCostA,
    tollCostChange: s.tollCostB - s.tollCostA,
    resourceCostChange: s.timeB - s.timeA + (s.distanceCostB - s.distanceCostA),
    revenueA: s.tollA,
    revenueB: s.tollB,
    revenueChange: s.tollB - s.tollA,
  };
}

/**
 * Rows of an incidence table, grouped by origin, destination or OD pair, one per class and
 * group with trips (OD rows: Z² per class, produced one at a time).
 */
export function* incidenceRows(a: SkimTable, b: SkimTable, by: IncidenceBy): Generator<IncidenceRow> {
  const Z = a.zoneIds.length;
  for (let k = 0; k < a.classes.length; k++) {
    const ca = a.classes[k];
    const cb = b.classes[k];
    if (by === "od") {
      for (let o = 0; o < Z; o++)
        for (let d = 0; d < Z; d++) {
          if (o === d) continue;
          const i = o * Z + d;
          if (!(ca.demand[i] > 0) && !(cb.demand[i] > 0)) continue;
          if (!Number.isFinite(ca.cost[i]) || !Number.isFinite(cb.cost[i])) continue;
          const g = zero();
          groupSums1(ca, cb, i, g);
          yield row(g, ca.name, { origin: a.zoneIds[o], destination: a.zoneIds[d] });
        }
      continue;
    }
    const groups = Array.from({ length: Z }, zero);
    groupSums(ca, cb, Z, groups, by === "origin" ? (o) => o : (_o, d) => d, { n: 0 });
    for (let z = 0; z < Z; z++)
      if (groups[z].tripsA > 0 || groups[z].tripsB > 0)
        yield row(groups[z], ca.name, by === "origin" ? { origin: a.zoneIds[z] } : { destination: a.zoneIds[z] });
  }
}

function groupSums1(a: ClassSkimTable, b: ClassSkimTable, i: number, g: Sums): void {
  const ta = a.demand[i];
  const tb = b.demand[i];
  g.tripsA = ta;
  g.tripsB = tb;
  g.timeA = ta * a.time[i];
  g.timeB = tb * b.time[i];
  g.tollA = ta * a.toll[i];
  g.tollB = tb * b.toll[i];
  g.tollCostA = ta * a.tollFactor * a.toll[i];
  g.tollCostB = tb * b.tollFactor * b.toll[i];
  g.distanceCostA = ta * a.distanceFactor * a.distance[i];
  g.distanceCostB = tb * b.distanceFactor * b.distance[i];
  g.costA = ta * a.cost[i];
  g.costB = tb * b.cost[i];
}

/**
 * The incidence of run b against run a: totals (reconciled with the summaries), per class, and
 * the winners and losers of the grouping `by` (for `od`: OD pairs).
 * @param threshold time units per trip; default 0.1% of run a's average generalised cost per trip
 * @throws InputError when the skims have different zones or classes
 */
export function incidence(
  a: { skims: SkimTable; summary?: RunSummary | Record<string, unknown>; label: string },
  b: { skims: SkimTable; summary?: RunSummary | Record<string, unknown>; label: string },
  by: IncidenceBy = "origin",
  threshold?: number,
  listed = 20,
): Incidence {
  const warnings = checkTables(a.skims, b.skims, b.label);
  const Z = a.skims.zoneIds.length;
  const total = zero();
  const skipped = { n: 0 };
  const classes = a.skims.classes.map((ca, k) => {
    const g = [zero()];
    groupSums(ca, b.skims.classes[k], Z, g, () => 0, skipped);
    add(total, g[0]);
    return { name: ca.name, ...totalsOf(g[0]) };
  });
  const t = totalsOf(total);
  const num = (s: unknown, f: string): number | null => {
    const v = s ? summaryField(s as Record<string, unknown>, f) : undefined;
    return typeof v === "number" ? v : null;
  };
  const totalCostA = num(a.summary, "totalCost");
  const totalCostB = num(b.summary, "totalCost");
  const revA = num(a.summary, "revenue");
  const revB = num(b.summary, "revenue");
  const totalCostChange = totalCostA !== null && totalCostB !== null ? totalCostB - totalCostA : null;
  const scale = Math.max(Math.abs(total.costA), Math.abs(total.costB), 1e-300);
  const totals: IncidenceTotals = {
    ...t,
    totalCostA,
    totalCostB,
    totalCostChange,
    residuals: {
      resourcePlusRevenue: (t.resourceCostChange + t.tollCostChange - t.userCostChange) / scale,
      totalCost: totalCostChange !== null ? (t.userCostChange - totalCostChange) / scale : null,
      revenueA: revA !== null ? (t.revenueA - revA) / Math.max(Math.abs(revA), 1) : null,
      revenueB: revB !== null ? (t.revenueB - revB) / Math.max(Math.abs(revB), 1) : null,
    },
  };
  const thr = threshold ?? (total.tripsA > 0 ? (1e-3 * total.costA) / total.tripsA : 0);
  // winners and losers: the `listed` largest of each (all rows are streamed once)
  const losers: IncidenceRow[] = [];
  const winners: IncidenceRow[] = [];
  let loserCount = 0;
  let winnerCount = 0;
  let rowCount = 0;
  const keep = (list: IncidenceRow[], r: IncidenceRow, sign: number) => {
    list.push(r);
    if (list.length > 4 * listed) {
      list.sort((x, y) => sign * (y.costChangePerTrip! - x.costChangePerTrip!));
      list.length = listed;
    }
  };
  for (const r of incidenceRows(a.skims, b.skims, by)) {
    rowCount++;
    const c = r.costChangePerTrip;
    if (c === null) continue;
    if (c > thr) {
      loserCount++;
      keep(losers, r, 1);
    } else if (c < -thr) {
      winnerCount++;
      keep(winners, r, -1);
    }
  }
  losers.sort((x, y) => y.costChangePerTrip! - x.costChangePerTrip!);
  winners.sort((x, y) => x.costChangePerTrip! - y.costChangePerTrip!);
  if (skipped.n > 0) warnings.push(`${skipped.n} OD pairs with trips have no skim in one of the runs (unreachable) and are left out`);
  if (losers.length > listed) losers.length = listed;
  if (winners.length > listed) winners.length = listed;
  if (loserCount > listed || winnerCount > listed)
    warnings.push(
      `${loserCount} losing and ${winnerCount} gaining ${by === "od" ? "OD pairs" : "zones"}; the ${listed} largest of each are listed`,
    );
  return {
    network: a.skims.network,
    by,
    rules: { a: a.skims.rule, b: b.skims.rule },
    totals,
    classes,
    threshold: thr,
    losers,
    winners,
    rowCount,
    warnings,
  };
}

/** The columns of an incidence CSV for a grouping. */
export function incidenceColumns(by: IncidenceBy): string[] {
  return [...(by === "destination" ? ["destination"] : ["origin"]), ...(by === "od" ? ["destination"] : []), ...INCIDENCE_COLUMNS];
}

/** An incidence table as CSV, in pieces (header first). */
export function* incidenceCsvChunks(a: SkimTable, b: SkimTable, by: IncidenceBy, chunkRows = 2000): Generator<string> {
  const cols = incidenceColumns(by);
  let rows: CsvCell[][] = [];
  let header = true;
  const text = () => {
    const s = formatCsv(cols, rows);
    const out = header ? s : s.slice(s.indexOf("\n") + 1);
    header = false;
    rows = [];
    return out;
  };
  for (const r of incidenceRows(a, b, by)) {
    rows.push(cols.map((c) => (r as unknown as Record<string, CsvCell>)[c]));
    if (rows.length >= chunkRows) yield text();
  }
  if (rows.length > 0 || header) yield text();
}
