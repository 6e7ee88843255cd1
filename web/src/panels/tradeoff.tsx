/**
 * The trade-off view of a one-toll sweep: for a grid design over one uniform toll (a cordon
 * charge, a single link, or one toll on several links), TSTT, revenue and welfare against the
 * toll, one chart each on the same toll axis, the chosen design marked on all three.
 *
 * The points are the grid design's own evaluations as the API returns them in the run's summary
 * (`surface`: the axis' toll values and `tstt`, `revenue`, `welfare` at every point — the same
 * equilibria as the rows of its search history). Reads the store's `shownRun`; draws nothing
 * for other runs. Part of the results panel (./results.tsx).
 */
import { computed } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { drawTradeoff, type TradeoffSeries } from "../chart.js";
import { networkDetail, shownRun } from "../store.js";
import { unitsOf, type Units } from "../units.js";

/** A one-toll sweep: the tolls of the grid, the measures at each, and the chosen toll. */
export interface Sweep {
  /** The decision variable's label (`cordon (12 links)`, `link 4 (3→4)`). */
  variable: string;
  tolls: number[];
  tstt: number[];
  revenue: number[];
  welfare: number[];
  /** The toll the design chose (absent when the summary does not say). */
  chosen?: number;
}

const nums = (v: unknown): number[] | undefined => (Array.isArray(v) ? v.map((x) => (typeof x === "number" ? x : NaN)) : undefined); // JSON null (a failed point) → NaN

/** The one-toll sweep of a design summary, or undefined when it is not a grid over one toll. */
export function sweepOf(summary: Record<string, unknown> | null | undefined): Sweep | undefined {
  const s = summary?.surface as {
    axes?: { variable: string; values: number[] }[];
    tstt?: unknown;
    revenue?: unknown;
    welfare?: unknown;
  } | null;
  if (!s || !Array.isArray(s.axes) || s.axes.length !== 1) return undefined;
  const [axis] = s.axes;
  const tstt = nums(s.tstt);
  const revenue = nums(s.revenue);
  const welfare = nums(s.welfare);
  const n = axis.values.length;
  if (!tstt || !revenue || !welfare || tstt.length !== n || revenue.length !== n || welfare.length !== n) return undefined;
  const variables = Array.isArray(summary!.variables) ? (summary!.variables as { label?: string; toll?: number }[]) : [];
  const chosen = variables.find((v) => v.label === axis.variable)?.toll;
  return { variable: axis.variable, tolls: axis.values, tstt, revenue, welfare, ...(typeof chosen === "number" ? { chosen } : {}) };
}

function series(sw: Sweep, u: Units): TradeoffSeries[] {
  return [
    { key: "tstt", label: "TSTT", values: sw.tstt, format: u.vehicleTime },
    { key: "revenue", label: `revenue (${u.moneyLabel})`, values: sw.revenue, format: u.money, tick: u.money },
    { key: "welfare", label: `welfare (${u.moneyLabel})`, values: sw.welfare, format: u.money, tick: u.money },
  ];
}

function Chart({ sweep, s, units }: { sweep: Sweep; s: TradeoffSeries; units: Units }) {
  const svg = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (svg.current)
      drawTradeoff(svg.current, {
        x: sweep.tolls,
        xLabel: `toll: ${sweep.variable} (${units.moneyLabel})`,
        series: s,
        best: sweep.chosen,
        formatX: units.money,
      });
  }, [sweep, s, units]);
  return <svg ref={svg} id={`tradeoff-${s.key}`} data-series={s.key} role="img" />;
}

const view = computed(() => {
  const run = shownRun.value;
  const sweep = run?.kind === "design" ? sweepOf(run.summary) : undefined;
  if (!run || !sweep) return null;
  const units = unitsOf(networkDetail.value?.id === run.network ? networkDetail.value.units : undefined);
  return { sweep, units, series: series(sweep, units) };
});

/** The trade-off figure of the run the results panel shows (nothing for other runs). */
export function Tradeoff() {
  const v = view.value;
  if (!v) return null;
  const { sweep, units } = v;
  const i = sweep.chosen === undefined ? -1 : sweep.tolls.indexOf(sweep.chosen);
  return (
    <figure id="tradeoff-figure" class="figure tradeoff">
      <figcaption id="tradeoff-caption">Trade-off of one toll: {sweep.variable}</figcaption>
      <p class="hint" id="tradeoff-chosen">
        TSTT, revenue and welfare at each of the {sweep.tolls.length} tolls of the sweep
        {sweep.chosen !== undefined
          ? `; the dashed line marks the chosen toll ${units.money(sweep.chosen)}${
              i >= 0
                ? ` (TSTT ${units.vehicleTime(sweep.tstt[i])}, revenue ${units.money(sweep.revenue[i])}, welfare ${units.money(sweep.welfare[i])})`
                : ""
            }`
          : ""}
        .
      </p>
      {v.series.map((s) => (
        <Chart key={s.key} sweep={sweep} s={s} units={units} />
      ))}
      <p class="hint">Hover a point for its values; each point is one equilibrium of the sweep.</p>
    </figure>
  );
}
