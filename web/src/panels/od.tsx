/**
 * Who pays and who gains, on the map (issues 18 and 19; definitions in docs/incidence.md and
 * docs/elastic-demand.md). Three views, each with its URL hash so that it can be bookmarked:
 *
 * - **Incidence** (`#incidence=A,B&by=origin&class=0&threshold=…`): run B (a design) against
 *   run A (its baseline, same network), from `GET /api/compare/incidence`. Zones are coloured by
 *   the change of generalised cost per trip of the class shown (diverging, centred on 0: red
 *   loses, blue gains; time units of the network), the winners and losers (groups beyond the
 *   threshold, as the API names them) are tabled, and the CSV is the API's, the one
 *   `tollkit incidence --csv` writes.
 * - **Select-link** (`#select-link=RUN&links=16,19`): the trips that use some links (the links
 *   picked on the map, typed, or by default the run's tolled links), from
 *   `GET /api/runs/:id/select-link`; links coloured by the flow of those trips, the totals per
 *   class (the selected links' flow, summed exactly by origin, and the trips using them), and the
 *   API's CSV files (`select-link.csv`, `select-link-flows.csv`, by zone).
 * - **Trips not made** (`#demand=RUN`, optionally `&base=RUN`): a run with elastic demand; zones
 *   coloured by trips not made (trip table − trips made, per origin zone), and welfare —
 *   consumer surplus, revenue and their sum — against the design's own no-toll baseline (or a
 *   chosen run), all from the run's summary (`summary.demand`).
 *
 * Nothing is computed here that the API reports: the page draws and tables the API's numbers
 * unchanged (`data-value` and the zones' feature state `v` hold them, for tests).
 */
import { computed, effect, signal } from "@preact/signals";
import { render } from "preact";
import { useEffect } from "preact/hooks";
import * as api from "../api.js";
import type { IncidenceAnswer, IncidenceRow, Run } from "../api.js";
import { colorAt, DIFF_STOPS, MAX_WIDTH, MIN_WIDTH, SELECT_STOPS } from "../colors.js";
import { el, setView, tollMap } from "../context.js";
import { formatQuantity, formatSigned } from "../format.js";
import type { LinkCollection } from "../geo.js";
import { enterFrame, geometry } from "../geometry.js";
import { gradient, renderSelectionRow, ticks } from "../legend.js";
import type { ZoneValue } from "../map.js";
import type { Metric } from "../panels.js";
import { beginView, isAbort, networkDetail, results, runs, selectedLinks, view } from "../store.js";
import { unitsOf, type Units } from "../units.js";
import { selectNetwork } from "./run-form.js";
import { runLabel } from "./runs.js";

type By = "origin" | "destination";

/** What the results panel shows under the metrics for an OD view (null: another view). */
const result = signal<
  | { kind: "incidence"; inc: IncidenceAnswer; cls: string; units: Units }
  | { kind: "select-link"; run: number; links: number[]; zones: ZoneRow[]; units: Units }
  | { kind: "demand"; run: Run; zones: DemandZone[]; units: Units }
  | null
>(null);
/** The last error of a view, shown in the panel. */
const error = signal("");

interface ZoneRow {
  zone: number;
  class: string;
  originTrips: number;
  destinationTrips: number;
  originFlow: number;
}

/** One origin zone of `summary.demand.zones` (designs add the change of consumer surplus). */
interface DemandZone {
  zone: number;
  tripsReference: number;
  tripsMade: number;
  tripsNotMade: number;
  consumerSurplus?: number;
  consumerSurplusChange?: number;
}

/** The elastic-demand part of a summary (an assignment's, or a design's report with its baseline). */
interface DemandSummary {
  type: "elastic";
  form: string;
  tripsReference: number;
  tripsMade: number;
  tripsNotMade: number;
  consumerSurplus: number;
  welfare: number;
  baselineConsumerSurplus?: number;
  baselineWelfare?: number;
  welfareChange?: number;
  zones: DemandZone[];
}

const done = computed(() => runs.value.filter((r) => r.status === "done"));

/** The elastic-demand summary of a run, if it has one. */
export function demandOf(r: Run): DemandSummary | undefined {
  const d = (r.summary as { demand?: DemandSummary } | null | undefined)?.demand;
  return d && d.type === "elastic" ? d : undefined;
}

function unitsFor(network: string): Units {
  return unitsOf(networkDetail.value?.id === network ? networkDetail.value.units : undefined);
}

/** Parses "16, 19 29" into link ids; throws a message naming the bad entry. */
export function parseLinks(text: string): number[] {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p) || Number(p) < 1) throw new Error(`"${p}" is not a link id (expected 1-based link ids, e.g. 16, 19)`);
    if (!out.includes(Number(p))) out.push(Number(p));
  }
  return out;
}

// ---------------------------------------------------------------- legend and results panel

function legendOf(title: string, stops: readonly [number, string][], lo: string, mid: string | null, hi: string, rows: string[]): void {
  const root = el.legend;
  const h = (tag: string, cls: string, text?: string) => {
    const e = document.createElement(tag);
    e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const bar = h("div", "legend-ramp");
  bar.style.background = gradient(stops, stops[0][0], stops[stops.length - 1][0]);
  const t: [number, string][] =
    mid === null
      ? [
          [0, lo],
          [1, hi],
        ]
      : [
          [0, lo],
          [0.5, mid],
          [1, hi],
        ];
  root.replaceChildren(h("h2", "legend-title", "Legend"), h("div", "legend-label", title), bar, ticks(t));
  for (const r of rows) root.append(h("div", "legend-row", r));
  renderSelectionRow(root, Number(root.dataset.selected ?? 0));
}

/** The results panel's common part for an OD view: title, subtitle, metrics (panels/results.tsx draws it, then {@link OdResult}). */
function panel(title: string, subtitle: string, metrics: Metric[]): void {
  results.value = { kind: "od", title, subtitle, metrics };
}

/** Zone values on a diverging scale centred on 0 (largest |value| at the ends). */
function divergingZones(values: [number, number][], text: (v: number) => string): { zones: Map<number, ZoneValue>; maxAbs: number } {
  let maxAbs = 0;
  for (const [, v] of values) maxAbs = Math.max(maxAbs, Math.abs(v));
  const zones = new Map<number, ZoneValue>();
  for (const [z, v] of values) zones.set(z, { value: v, color: colorAt(DIFF_STOPS, maxAbs > 0 ? v / maxAbs : 0), text: text(v) });
  return { zones, maxAbs };
}

function signedDuration(u: Units, v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : `${formatSigned(v)} ${u.time}`;
}

function signedMoney(u: Units, v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : v > 0 ? `+${u.money(v)}` : u.money(v);
}

// ---------------------------------------------------------------- incidence

/** Shows the incidence of run b against run a by origin or destination, zones coloured for class `k`. */
export async function showIncidence(a: number, b: number, by: By, k: number, threshold?: number): Promise<void> {
  const signal = beginView();
  error.value = "";
  try {
    const [ra, rb] = await Promise.all([api.getRun(a, false, signal), api.getRun(b, false, signal)]);
    if (ra.network !== rb.network)
      throw new Error(`run #${a} is on ${ra.network} and run #${b} on ${rb.network}: choose a baseline of the same network`);
    await selectNetwork(rb.network);
    const inc = await api.getIncidence({ a, b, by, threshold }, signal);
    const g = await geometry(rb.network);
    if (signal.aborted) return;
    const units = unitsFor(rb.network);
    const cls = inc.classes[Math.min(Math.max(0, k), inc.classes.length - 1)]?.name ?? "";
    const values: [number, number][] = [];
    for (const r of inc.rows) {
      const z = by === "origin" ? r.origin : r.destination;
      if (r.class === cls && z !== undefined && r.costChangePerTrip !== null) values.push([z, r.costChangePerTrip]);
    }
    await enterFrame(g);
    await tollMap.showNetwork(g.links);
    const { zones, maxAbs } = divergingZones(values, (v) => `${signedDuration(units, v)} per trip`);
    tollMap.setZoneValues(zones, `Generalised cost per trip from ${by === "origin" ? "this origin" : "to this destination"}, B − A`);
    const idle = tollMap.onceIdle();
    legendOf(
      `Generalised cost per trip ${by === "origin" ? "from" : "to"} each zone, B − A (${units.time})`,
      DIFF_STOPS,
      signedDuration(units, -maxAbs),
      "0",
      signedDuration(units, maxAbs),
      ["red: users lose, blue: users gain", `class ${cls}; tolls at the value of time (${units.moneyLabel} → ${units.time})`],
    );
    const t = inc.totals;
    panel(
      `Who pays and who gains: run #${a} → run #${b}`,
      `${rb.network}, by ${by}, class ${cls}: B − A (${runLabel(rb)} against ${runLabel(ra)}).`,
      [
        {
          key: "inc-userCostChange",
          label: `Users' change of generalised cost`,
          value: t.userCostChange,
          text: `${formatSigned(t.userCostChange)} veh·${units.time}`,
          hint: `${signedDuration(units, t.trips > 0 ? t.userCostChange / t.trips : NaN)} per trip (all classes)`,
        },
        {
          key: "inc-resourceCostChange",
          label: "Time and distance cost change",
          value: t.resourceCostChange,
          text: `${formatSigned(t.resourceCostChange)} veh·${units.time}`,
          hint: "society's change (tolls are a transfer)",
        },
        {
          key: "inc-revenueChange",
          label: "Revenue change",
          value: t.revenueChange,
          text: signedMoney(units, t.revenueChange),
          hint: `paid by the users: ${formatSigned(t.tollCostChange)} veh·${units.time} at their value of time`,
        },
        {
          key: "inc-threshold",
          label: "Loss or gain threshold",
          value: inc.threshold,
          text: `${formatQuantity(inc.threshold)} ${units.time} per trip`,
        },
      ],
    );
    result.value = { kind: "incidence", inc, cls, units };
    setView(`incidence:${a},${b}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { incidence: [a, b] } }));
  } catch (e) {
    if (!signal.aborted && !isAbort(e)) error.value = `Cannot show the incidence: ${(e as Error).message}`;
  }
}

function IncidenceTable({ rows, by, units, id, caption }: { rows: IncidenceRow[]; by: string; units: Units; id: string; caption: string }) {
  return (
    <div class="table-wrap">
      <table class="data-table" id={id}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{by === "origin" ? "Origin" : by === "destination" ? "Destination" : "OD pair"}</th>
            <th scope="col" class="num">
              Trips
            </th>
            <th scope="col" class="num">
              Cost per trip ({units.time})
            </th>
            <th scope="col" class="num">
              of which tolls ({units.time})
            </th>
            <th scope="col" class="num">
              Toll per trip ({units.moneyLabel})
            </th>
            <th scope="col" class="num">
              Tolls paid ({units.moneyLabel})
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={6}>none beyond the threshold</td>
            </tr>
          )}
          {rows.map((r) => {
            const z = by === "origin" ? r.origin : r.destination;
            return (
              <tr key={`${r.class}:${r.origin}:${r.destination}`} data-zone={z} data-value={String(r.costChangePerTrip)}>
                <th scope="row">{by === "od" ? `${r.origin} → ${r.destination}` : String(z)}</th>
                <td class="num">{formatQuantity(r.trips)}</td>
                <td class="num">{signedDuration(units, r.costChangePerTrip)}</td>
                <td class="num">{signedDuration(units, r.tollCostChangePerTrip)}</td>
                <td class="num">{units.money(r.tollPerTrip)}</td>
                <td class="num">{units.money(r.tollPaid)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function IncidenceResult({ inc, cls, units }: { inc: IncidenceAnswer; cls: string; units: Units }) {
  const losers = inc.losers.filter((r) => r.class === cls);
  const winners = inc.winners.filter((r) => r.class === cls);
  const thr = `${formatQuantity(inc.threshold)} ${units.time}`;
  return (
    <section class="od-result" id="incidence-result" aria-labelledby="incidence-title">
      <h3 id="incidence-title">Winners and losers</h3>
      <IncidenceTable
        rows={losers}
        by={inc.by}
        units={units}
        id="incidence-losers"
        caption={`Losers: cost per trip up by more than ${thr}`}
      />
      <IncidenceTable
        rows={winners}
        by={inc.by}
        units={units}
        id="incidence-winners"
        caption={`Winners: cost per trip down by more than ${thr}`}
      />
      {inc.warnings.length > 0 && (
        <ul class="warnings">
          {inc.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <div class="button-row">
        <a
          class="button-link"
          id="export-incidence-csv"
          href={api.incidenceUrl({ a: inc.a, b: inc.b, by: inc.by }, "csv")}
          download={`incidence-${inc.a}-${inc.b}-${inc.by}.csv`}
        >
          Incidence by {inc.by} (CSV)
        </a>
        <a
          class="button-link"
          id="export-incidence-od-csv"
          href={api.incidenceUrl({ a: inc.a, b: inc.b, by: "od" }, "csv")}
          download={`incidence-${inc.a}-${inc.b}-od.csv`}
        >
          By OD pair (CSV)
        </a>
      </div>
    </section>
  );
}

// ---------------------------------------------------------------- select-link

/** Shows the select-link analysis of run `id` for `links` (empty: its tolled links). */
export async function showSelectLink(id: number, links: number[]): Promise<void> {
  const signal = beginView();
  error.value = "";
  try {
    const run = await api.getRun(id, false, signal);
    await selectNetwork(run.network);
    const [flows, zones] = await Promise.all([api.getSelectLinkFlows(id, links, signal), api.getSelectLinkZones(id, links, signal)]);
    const g = await geometry(run.network);
    if (signal.aborted) return;
    const units = unitsFor(run.network);
    const byLink = new Map(flows.rows.map((r) => [r.link, r]));
    const collection: LinkCollection = {
      type: "FeatureCollection",
      features: g.links.features.map((f) => ({
        ...f,
        properties: { ...f.properties, ...byLink.get(f.properties.link), link: f.properties.link },
      })),
    };
    await enterFrame(g);
    await tollMap.showSelectLink(collection);
    const idle = tollMap.onceIdle();
    let max = 0;
    for (const r of flows.rows) max = Math.max(max, r.selectLinkFlow);
    const selected = flows.links;
    legendOf("Flow of the trips using the selected links (PCE)", SELECT_STOPS, "0", null, formatQuantity(max), [
      `width: that flow (${MIN_WIDTH}–${MAX_WIDTH} px); grey: not used by them`,
      `selected links (${selected.length}): ${selected.join(", ")}`,
    ]);
    const sum = (f: (c: api.SelectLinkHead["classes"][number]) => number) => flows.classes.reduce((s, c) => s + f(c), 0);
    const perClass =
      flows.classes.length > 1 ? ` (${flows.classes.map((c) => `${c.name} ${formatQuantity(c.selectedFlow)}`).join(", ")})` : "";
    panel(`Select-link: run #${id}`, `${run.network}: the trips that use link${selected.length === 1 ? "" : "s"} ${selected.join(", ")}.`, [
      {
        key: "sl-selectedFlow",
        label: "Flow on the selected links",
        value: sum((c) => c.selectedFlow),
        text: formatQuantity(sum((c) => c.selectedFlow)),
        hint: `Σ over origins of their exact flow on the links${perClass}`,
      },
      {
        key: "sl-trips",
        label: "Trips using them",
        value: sum((c) => c.trips),
        text: formatQuantity(sum((c) => c.trips)),
        hint: "a trip over several selected links counts once",
      },
      { key: "sl-links", label: "Selected links", value: selected.length, text: String(selected.length) },
    ]);
    result.value = { kind: "select-link", run: id, links: selected, zones: zones.rows, units };
    setView(`select-link:${id}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { selectLink: id } }));
  } catch (e) {
    if (!signal.aborted && !isAbort(e)) error.value = `Cannot show the select-link analysis: ${(e as Error).message}`;
  }
}

function SelectLinkResult({ run, links, zones }: { run: number; links: number[]; zones: ZoneRow[] }) {
  const top = [...zones].sort((x, y) => y.originTrips - x.originTrips).slice(0, 20);
  return (
    <section class="od-result" id="select-link-result" aria-labelledby="select-link-title">
      <h3 id="select-link-title">Where the selected trips come from</h3>
      <div class="table-wrap">
        <table class="data-table" id="select-link-zones">
          <caption>Zones by trips from them that use the links (top {top.length})</caption>
          <thead>
            <tr>
              <th scope="col">Zone</th>
              <th scope="col">Class</th>
              <th scope="col" class="num">
                Trips from it
              </th>
              <th scope="col" class="num">
                Trips to it
              </th>
              <th scope="col" class="num">
                Its flow on the links
              </th>
            </tr>
          </thead>
          <tbody>
            {top.map((z) => (
              <tr key={`${z.class}:${z.zone}`} data-zone={z.zone}>
                <th scope="row">{z.zone}</th>
                <td>{z.class}</td>
                <td class="num">{formatQuantity(z.originTrips)}</td>
                <td class="num">{formatQuantity(z.destinationTrips)}</td>
                <td class="num" data-value={String(z.originFlow)}>
                  {formatQuantity(z.originFlow)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="button-row">
        <a
          class="button-link"
          id="export-select-link-csv"
          href={api.selectLinkUrl(run, links, "od", "csv")}
          download={`run-${run}-select-link.csv`}
        >
          By OD pair (select-link.csv)
        </a>
        <a
          class="button-link"
          id="export-select-link-flows-csv"
          href={api.selectLinkUrl(run, links, "link", "csv")}
          download={`run-${run}-select-link-flows.csv`}
        >
          Per link (select-link-flows.csv)
        </a>
        <a
          class="button-link"
          id="export-select-link-zones-csv"
          href={api.selectLinkUrl(run, links, "zone", "csv")}
          download={`run-${run}-select-link-zones.csv`}
        >
          By zone (CSV)
        </a>
      </div>
    </section>
  );
}

// ---------------------------------------------------------------- elastic demand

/** Shows trips not made by zone and welfare of run `id` (elastic demand), against its design's baseline or run `base`. */
export async function showDemand(id: number, base?: number): Promise<void> {
  const signal = beginView();
  error.value = "";
  try {
    const [run, baseRun] = await Promise.all([
      api.getRun(id, false, signal),
      base ? api.getRun(base, false, signal) : Promise.resolve(null),
    ]);
    const d = demandOf(run);
    if (!d) throw new Error(`run #${id} has fixed demand (every trip of the trip table is made): set elastic demand in the study editor`);
    const bd = baseRun ? demandOf(baseRun) : undefined;
    if (baseRun && (!bd || baseRun.network !== run.network))
      throw new Error(`run #${base} is not a run with elastic demand on ${run.network}: choose another baseline`);
    await selectNetwork(run.network);
    const g = await geometry(run.network);
    if (signal.aborted) return;
    const units = unitsFor(run.network);
    await enterFrame(g);
    await tollMap.showNetwork(g.links);
    const { zones, maxAbs } = divergingZones(
      d.zones.map((z) => [z.zone, z.tripsNotMade]),
      (v) => `${formatSigned(v)} trips not made`,
    );
    tollMap.setZoneValues(zones, "Trips from this zone not made");
    const idle = tollMap.onceIdle();
    legendOf("Trips not made, by origin zone (vehicles)", DIFF_STOPS, formatSigned(-maxAbs), "0", formatSigned(maxAbs), [
      "red: trips priced off the road; blue: more trips than the trip table",
      `${d.form} demand, pivoted on the no-toll equilibrium`,
    ]);
    // welfare = consumer surplus + revenue (money); the baseline: the design's own no-toll solve, or run `base`
    const s = (run.summary ?? {}) as Record<string, unknown>;
    const revenue = Number((s.equilibrium as Record<string, unknown> | undefined)?.revenue ?? s.revenue);
    const baseCs = bd ? bd.consumerSurplus : d.baselineConsumerSurplus;
    const baseWelfare = bd ? bd.welfare : d.baselineWelfare;
    const baseRevenue = baseWelfare !== undefined && baseCs !== undefined ? baseWelfare - baseCs : undefined;
    const against = bd ? `run #${base}` : d.baselineWelfare !== undefined ? "the design's no-toll baseline" : null;
    const change = (v: number, b: number | undefined) => (b === undefined ? undefined : v - b);
    const m = (key: string, label: string, v: number, b: number | undefined): Metric => ({
      key,
      label,
      value: v,
      text: units.money(v),
      hint:
        against && b !== undefined
          ? `${signedMoney(units, change(v, b))} against ${against} (${units.money(b)})`
          : "no baseline: open a design, or choose a baseline run",
    });
    const metrics: Metric[] = [
      { key: "dem-tripsReference", label: "Trips of the trip table", value: d.tripsReference, text: formatQuantity(d.tripsReference) },
      { key: "dem-tripsMade", label: "Trips made", value: d.tripsMade, text: formatQuantity(d.tripsMade) },
      {
        key: "dem-tripsNotMade",
        label: "Trips not made",
        value: d.tripsNotMade,
        text: formatQuantity(d.tripsNotMade),
        hint: `${((100 * d.tripsNotMade) / d.tripsReference).toFixed(2)} % of the trip table`,
      },
      m("dem-consumerSurplus", "Consumer surplus", d.consumerSurplus, baseCs),
      m("dem-revenue", "Toll revenue", revenue, baseRevenue),
      m("dem-welfare", "Welfare (surplus + revenue)", d.welfare, baseWelfare),
    ];
    const wc = change(d.welfare, baseWelfare);
    if (wc !== undefined)
      metrics.push({
        key: "dem-welfareChange",
        label: `Welfare change`,
        value: wc,
        text: signedMoney(units, wc),
        hint: `against ${against}`,
      });
    panel(`Trips not made: run #${id}`, `${run.network}: ${runLabel(run)}, elastic demand (${d.form}).`, metrics);
    const csChange = (z: DemandZone, i: number) =>
      z.consumerSurplusChange ??
      (bd && z.consumerSurplus !== undefined ? z.consumerSurplus - (bd.zones[i]?.consumerSurplus ?? NaN) : undefined);
    result.value = { kind: "demand", run, zones: d.zones.map((z, i) => ({ ...z, consumerSurplusChange: csChange(z, i) })), units };
    setView(`demand:${id}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { demand: id } }));
  } catch (e) {
    if (!signal.aborted && !isAbort(e)) error.value = `Cannot show the trips not made: ${(e as Error).message}`;
  }
}

function DemandResult({ zones, units }: { zones: DemandZone[]; units: Units }) {
  const rows = [...zones].sort((a, b) => b.tripsNotMade - a.tripsNotMade);
  const withCs = rows.some((z) => z.consumerSurplusChange !== undefined);
  return (
    <section class="od-result" id="demand-result" aria-labelledby="demand-title">
      <h3 id="demand-title">Trips not made by origin zone</h3>
      <div class="table-wrap">
        <table class="data-table" id="demand-zones">
          <thead>
            <tr>
              <th scope="col">Zone</th>
              <th scope="col" class="num">
                Trip table
              </th>
              <th scope="col" class="num">
                Made
              </th>
              <th scope="col" class="num">
                Not made
              </th>
              {withCs && (
                <th scope="col" class="num">
                  Consumer surplus change ({units.moneyLabel})
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {rows.map((z) => (
              <tr key={z.zone} data-zone={z.zone} data-value={String(z.tripsNotMade)}>
                <th scope="row">{z.zone}</th>
                <td class="num">{formatQuantity(z.tripsReference)}</td>
                <td class="num">{formatQuantity(z.tripsMade)}</td>
                <td class="num">{formatSigned(z.tripsNotMade)}</td>
                {withCs && <td class="num">{signedMoney(units, z.consumerSurplusChange)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The tables of the OD view the results panel shows (under its metrics). */
export function OdResult() {
  const r = result.value;
  if (!r) return null;
  if (r.kind === "incidence") return <IncidenceResult inc={r.inc} cls={r.cls} units={r.units} />;
  if (r.kind === "select-link") return <SelectLinkResult run={r.run} links={r.links} zones={r.zones} />;
  return <DemandResult zones={r.zones} units={r.units} />;
}

// ---------------------------------------------------------------- the sidebar card

const incForm = signal({ b: "", a: "", by: "origin" as By, cls: "0", threshold: "" });
const slForm = signal({ run: "", links: "" });
const demForm = signal({ run: "", base: "" });

function RunOptions({ list, empty }: { list: Run[]; empty: string }) {
  if (list.length === 0) return <option value="">{empty}</option>;
  return (
    <>
      {list.map((r) => (
        <option key={r.id} value={String(r.id)}>
          {runLabel(r)}
        </option>
      ))}
    </>
  );
}

/** The run the page shows (`run:<id>`), if any: the forms offer it first. */
const shownRun = computed(() => /^run:(\d+)$/.exec(view.value)?.[1] ?? "");

/** A chosen id when it is among the list, else the run shown when listed, else the list's first (the select shows that one). */
function pick(v: string, list: Run[]): string {
  const has = (id: string) => list.some((r) => String(r.id) === id);
  return has(v) ? v : has(shownRun.value) ? shownRun.value : list[0] ? String(list[0].id) : "";
}

/** Class names by run id (the runs list carries no summaries: read from `GET /api/runs/:id` once per run). */
const classCache = signal<Record<number, string[]>>({});

/** The class names of a run's equilibrium once loaded (until then: one unnamed class). */
function classNames(r: Run | undefined): string[] {
  return (r && classCache.value[r.id]) || ["first class"];
}

/** Loads the class names of run `id` (once). */
function loadClasses(id: number): void {
  if (classCache.peek()[id]) return;
  classCache.value = { ...classCache.peek(), [id]: ["first class"] };
  void api.getRun(id).then(
    (full) => {
      const s = (full.summary ?? {}) as { classes?: { name: string }[]; equilibrium?: { classes?: { name: string }[] } };
      const names = (s.classes ?? s.equilibrium?.classes ?? []).map((c) => c.name);
      if (names.length) classCache.value = { ...classCache.peek(), [id]: names };
    },
    () => {},
  );
}

function Incidence() {
  const f = incForm.value;
  const all = done.value;
  const designs = all.filter((r) => r.kind === "design");
  const bList = designs.length ? [...designs, ...all.filter((r) => r.kind !== "design")] : all;
  const b = pick(f.b, bList);
  const rb = all.find((r) => String(r.id) === b);
  // the baseline: another finished run of the same network, untolled assignments first
  const aList = all
    .filter((r) => rb && r.network === rb.network && r.id !== rb.id)
    .sort((x, y) => Number(x.kind === "design") - Number(y.kind === "design"));
  const a = pick(f.a, aList);
  useEffect(() => {
    if (b) loadClasses(Number(b));
  }, [b]);
  const set = (p: Partial<typeof f>) => (incForm.value = { ...f, b, a, ...p });
  return (
    <form
      id="incidence-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const thr = f.threshold.trim();
        if (!a || !b) return void (error.value = "Choose a design and a finished baseline run of the same network.");
        if (thr && !(Number(thr) >= 0))
          return void (error.value = `Threshold "${thr}": expected a number ≥ 0 (${unitsFor(rb!.network).time} per trip).`);
        const p = new URLSearchParams({ incidence: `${a},${b}`, by: f.by, class: f.cls });
        if (thr) p.set("threshold", thr);
        location.hash = p.toString();
      }}
    >
      <h3>Incidence of a design</h3>
      <label for="incidence-b">Design (B)</label>
      <select id="incidence-b" value={b} onChange={(e) => set({ b: (e.target as HTMLSelectElement).value, a: "" })}>
        <RunOptions list={bList} empty="no finished runs yet" />
      </select>
      <label for="incidence-a">Baseline (A), same network</label>
      <select id="incidence-a" value={a} onChange={(e) => set({ a: (e.target as HTMLSelectElement).value })}>
        <RunOptions list={aList} empty="none: open the design, Solve the no-toll baseline…" />
      </select>
      <div class="settings-grid">
        <label for="incidence-by">Zones as</label>
        <select id="incidence-by" value={f.by} onChange={(e) => set({ by: (e.target as HTMLSelectElement).value as By })}>
          <option value="origin">origins</option>
          <option value="destination">destinations</option>
        </select>
        <label for="incidence-class">Class</label>
        <select id="incidence-class" value={f.cls} onChange={(e) => set({ cls: (e.target as HTMLSelectElement).value })}>
          {classNames(rb).map((name, k) => (
            <option key={k} value={String(k)}>
              {name}
            </option>
          ))}
        </select>
        <label for="incidence-threshold">Threshold ({rb ? unitsFor(rb.network).time : "time units"}/trip)</label>
        <input
          id="incidence-threshold"
          inputMode="decimal"
          placeholder="0.1 % of A's cost"
          value={f.threshold}
          onInput={(e) => set({ threshold: (e.target as HTMLInputElement).value })}
        />
      </div>
      <button type="submit" id="incidence-show" disabled={!a || !b}>
        Show who pays and who gains
      </button>
    </form>
  );
}

function SelectLink() {
  const f = slForm.value;
  // designs first: by default their tolled links are the selection
  const list = [...done.value].sort((x, y) => Number(y.kind === "design") - Number(x.kind === "design"));
  const run = pick(f.run, list);
  const sel = [...selectedLinks.value].sort((x, y) => x - y);
  const set = (p: Partial<typeof f>) => (slForm.value = { ...f, run, ...p });
  return (
    <form
      id="select-link-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        try {
          const links = parseLinks(f.links);
          if (!run) throw new Error("Choose a finished run (of the bush algorithm: select-link needs its bushes).");
          location.hash = new URLSearchParams({ "select-link": run, ...(links.length ? { links: links.join(",") } : {}) }).toString();
        } catch (err) {
          error.value = (err as Error).message;
        }
      }}
    >
      <h3>Select-link</h3>
      <label for="select-link-run">Run (bush algorithm)</label>
      <select id="select-link-run" value={run} onChange={(e) => set({ run: (e.target as HTMLSelectElement).value })}>
        <RunOptions list={list} empty="no finished runs yet" />
      </select>
      <label for="select-link-links">Links</label>
      <input
        id="select-link-links"
        placeholder="the run's tolled links"
        value={f.links}
        onInput={(e) => set({ links: (e.target as HTMLInputElement).value })}
      />
      <div class="button-row">
        <button type="button" id="select-link-use-selection" disabled={sel.length === 0} onClick={() => set({ links: sel.join(", ") })}>
          Use the links picked on the map ({sel.length})
        </button>
        <button type="submit" id="select-link-show" disabled={!run}>
          Show select-link
        </button>
      </div>
    </form>
  );
}

function Demand() {
  const f = demForm.value;
  // the runs list carries no summaries: any finished run is offered, and one with fixed demand says so when shown
  const list = done.value;
  const run = pick(f.run, list);
  const r = list.find((x) => String(x.id) === run);
  const bases = list.filter((x) => r && x.network === r.network && x.id !== r.id);
  const set = (p: Partial<typeof f>) => (demForm.value = { ...f, run, ...p });
  return (
    <form
      id="demand-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (run) location.hash = new URLSearchParams({ demand: run, ...(f.base ? { base: f.base } : {}) }).toString();
      }}
    >
      <h3>Trips not made (elastic demand)</h3>
      <label for="demand-run">Run with elastic demand</label>
      <select id="demand-run" value={run} onChange={(e) => set({ run: (e.target as HTMLSelectElement).value, base: "" })}>
        <RunOptions list={list} empty="no finished runs yet" />
      </select>
      <label for="demand-base">Welfare against</label>
      <select id="demand-base" value={f.base} onChange={(e) => set({ base: (e.target as HTMLSelectElement).value })}>
        <option value="">{r?.kind === "design" ? "the design's no-toll baseline" : "no baseline (designs have their own)"}</option>
        <RunOptions list={bases} empty="" />
      </select>
      <button type="submit" id="demand-show" disabled={!run}>
        Show trips not made
      </button>
    </form>
  );
}

function Card() {
  return (
    <>
      <h2 id="od-title">Who pays and who gains</h2>
      <Incidence />
      <SelectLink />
      <Demand />
      {error.value && (
        <p class="error" id="od-error" role="alert">
          {error.value}
        </p>
      )}
    </>
  );
}

/** Renders the card into `card` (call once); the views' tables are drawn by the results panel ({@link OdResult}). */
export function initOd(card: HTMLElement): void {
  render(<Card />, card);
  // another view (a run, a comparison, a network) replaces ours: drop our tables
  effect(() => {
    if (!/^(incidence|select-link|demand):/.test(view.value) && result.peek()) result.value = null;
  });
}

/**
 * Opens the OD view the URL hash names, if any: `incidence=A,B&by=&class=&threshold=`,
 * `select-link=RUN&links=`, `demand=RUN&base=`. Returns false when the hash names none.
 */
export async function routeOd(p: URLSearchParams): Promise<boolean> {
  const ids = (s: string | null) => (s ?? "").split(",").map(Number);
  const ok = (n: number) => Number.isInteger(n) && n > 0;
  if (p.has("incidence")) {
    const [a, b] = ids(p.get("incidence"));
    if (!ok(a) || !ok(b)) return false;
    const by = p.get("by") === "destination" ? "destination" : "origin";
    const thr = p.get("threshold");
    incForm.value = { ...incForm.value, a: String(a), b: String(b), by, cls: p.get("class") ?? "0", threshold: thr ?? "" };
    await showIncidence(a, b, by, Number(p.get("class")) || 0, thr ? Number(thr) : undefined);
    return true;
  }
  if (p.has("select-link")) {
    const id = Number(p.get("select-link"));
    if (!ok(id)) return false;
    let links: number[] = [];
    try {
      links = parseLinks(p.get("links") ?? "");
    } catch (e) {
      error.value = (e as Error).message;
      return true;
    }
    slForm.value = { run: String(id), links: links.join(", ") };
    await showSelectLink(id, links);
    return true;
  }
  if (p.has("demand")) {
    const id = Number(p.get("demand"));
    if (!ok(id)) return false;
    const base = Number(p.get("base"));
    demForm.value = { run: String(id), base: ok(base) ? String(base) : "" };
    await showDemand(id, ok(base) ? base : undefined);
    return true;
  }
  return false;
}
