/**
 * The results panels' parts (Preact): headline metrics of a run or a comparison, and the links table.
 *
 * Every metric is a `<dd data-metric="…" data-value="…">` holding the API's number unchanged in
 * `data-value` and its formatted text as content, so that tests (and screen readers) read the same
 * value the API returned.
 */
import type { Comparison, Run } from "./api.js";
import { formatGap, formatPercent, formatQuantity, formatSignedPercent, formatRatio, formatSeconds, formatSigned } from "./format.js";
import type { LinkFeature } from "./geo.js";
import { unitsOf, type Units } from "./units.js";

/** One headline metric. */
export interface Metric {
  key: string;
  label: string;
  value: number | null | undefined;
  text: string;
  hint?: string;
  /** Solver internals: shown folded under "Solver details". */
  details?: boolean;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function MetricBox({ m }: { m: Metric }) {
  return (
    <div class="metric">
      <dt>{m.label}</dt>
      <dd data-metric={m.key} data-value={m.value !== null && m.value !== undefined ? String(m.value) : undefined}>
        {m.text}
      </dd>
      {m.hint ? <p class="metric-hint">{m.hint}</p> : null}
    </div>
  );
}

/** Headline metrics as a `<dl id="metrics">`; solver internals folded under "Solver details". */
export function Metrics({ metrics }: { metrics: Metric[] }) {
  const more = metrics.filter((m) => m.details);
  return (
    <dl id="metrics" class="metrics">
      {metrics
        .filter((m) => !m.details)
        .map((m) => (
          <MetricBox key={m.key} m={m} />
        ))}
      {more.length ? (
        <div class="metric-more">
          <details class="metric-details">
            <summary>Solver details</summary>
            <dl class="metrics">
              {more.map((m) => (
                <MetricBox key={m.key} m={m} />
              ))}
            </dl>
          </details>
        </div>
      ) : null}
    </dl>
  );
}

/** A design run's summary keeps its tolled equilibrium's measures under `equilibrium`. */
function field(s: Record<string, unknown>, k: string): number | undefined {
  return num(s[k]) ?? num((s.equilibrium as Record<string, unknown> | undefined)?.[k]);
}

const OBJECTIVES: Record<string, string> = { tstt: "TSTT", revenue: "revenue", welfare: "welfare" };

/** Headline metrics of a finished run, from its summary exactly as the API returned it. */
export function runMetrics(run: Run, units: Units = unitsOf(undefined)): Metric[] {
  const s = run.summary ?? {};
  const tstt = field(s, "tstt");
  const revenue = field(s, "revenue");
  const gap = field(s, "relativeGap");
  const out: Metric[] = [
    { key: "tstt", label: "Total travel time (TSTT)", value: tstt, text: units.vehicleTime(tstt) },
    { key: "revenue", label: "Toll revenue", value: revenue, text: units.money(revenue) },
    { key: "relativeGap", label: "Relative gap", value: gap, text: formatGap(gap) },
  ];
  if (run.kind === "design") {
    const share = num(s.shareCaptured);
    out.push({
      key: "shareCaptured",
      label: "Share of first-best improvement",
      value: share,
      text: formatPercent(share),
      hint: share === undefined ? "not reported for this objective" : "(design − no toll) / (first-best − no toll)",
    });
    const obj = OBJECTIVES[String(s.objective)] ?? String(s.objective ?? "objective");
    const fmt =
      s.objective === "tstt" ? units.vehicleTime : s.objective === "revenue" || s.objective === "welfare" ? units.money : formatQuantity;
    const v = num(s.value);
    const base = num(s.baseline);
    const fb = num(s.firstBest);
    out.push({
      key: "value",
      label: `Design ${obj}`,
      value: v,
      text: fmt(v),
      hint: typeof s.method === "string" ? `${s.sense ?? ""} by ${s.method}` : undefined,
    });
    out.push({
      key: "baseline",
      label: `No-toll ${obj}`,
      value: base,
      text: fmt(base),
      hint: "the no-toll equilibrium this design solved, at its own precision",
    });
    if (fb !== undefined) out.push({ key: "firstBest", label: `First-best ${obj}`, value: fb, text: fmt(fb) });
    const solves = num(s.equilibriumSolves);
    if (solves !== undefined) out.push({ key: "equilibriumSolves", label: "Equilibrium solves", value: solves, text: String(solves) });
  } else {
    out.push({
      key: "shareCaptured",
      label: "Share of first-best improvement",
      value: undefined,
      text: "—",
      hint: "reported by toll designs",
    });
    const it = num(s.iterations);
    if (it !== undefined) out.push({ key: "iterations", label: "Iterations", value: it, text: String(it) });
  }
  const sec = num(s.seconds);
  if (sec !== undefined) out.push({ key: "seconds", label: "Run time", value: sec, text: formatSeconds(sec) });
  return out;
}

/** The headline differences in the planner's words, in this order (the API reports a few more). */
const HEADLINE_LABELS: Record<string, string> = {
  tstt: "Travel time (TSTT)",
  revenue: "Tolls paid (revenue)",
  totalCost: "Generalised cost incl. tolls",
};
/** Solver internals, shown under "Solver details". */
const DETAIL_LABELS: Record<string, string> = {
  relativeGap: "Relative gap",
  averageExcessCost: "Average excess cost",
};

function signed(fmt: (v: number) => string, v: number): string {
  const t = fmt(Math.abs(v));
  return v > 0 ? `+${t}` : v < 0 ? `−${t}` : t;
}

/** Headline differences of a comparison (B − A), as the API computed them, with the network's units. */
export function compareMetrics(c: Comparison, units: Units = unitsOf(undefined)): Metric[] {
  const fmtOf = (key: string): ((v: number) => string) =>
    key === "relativeGap"
      ? formatGap
      : key === "revenue"
        ? units.money
        : key === "tstt" || key === "totalCost"
          ? units.vehicleTime
          : key === "averageExcessCost"
            ? units.duration
            : formatQuantity;
  const one = (key: string, label: string, details: boolean): Metric => {
    const d = c.headline[key];
    const fmt = fmtOf(key);
    return {
      key: `diff-${key}`,
      label: `${label}: B − A`,
      value: d.difference,
      text: key === "relativeGap" ? formatGap(d.difference) : signed(fmt, d.difference),
      hint: `${fmt(d.a)} → ${fmt(d.b)}${d.relative !== null && d.relative !== undefined ? ` (${formatSignedPercent(d.relative)})` : ""}`,
      details,
    };
  };
  return [
    ...Object.keys(HEADLINE_LABELS)
      .filter((k) => c.headline[k])
      .map((k) => one(k, HEADLINE_LABELS[k], false)),
    ...Object.keys(DETAIL_LABELS)
      .filter((k) => c.headline[k])
      .map((k) => one(k, DETAIL_LABELS[k], true)),
  ];
}

/** A column of the links table. */
interface Column {
  label: string;
  cell: (p: Record<string, unknown>) => string;
  numeric?: boolean;
}

/**
 * The links table: the links worth a look — tolled links (all of them) when there are tolls,
 * else the most congested; for a comparison, the largest flow changes — each with a button that
 * shows the link on the map.
 */
export function LinksTable({
  features,
  mode,
  units,
  onShow,
  limit = 15,
}: {
  features: LinkFeature[];
  mode: "flows" | "difference";
  units: Units;
  onShow: (link: number) => void;
  limit?: number;
}) {
  let rows: LinkFeature[];
  let cols: Column[];
  let caption: string;
  const n = (p: Record<string, unknown>, k: string) => Number(p[k]);
  if (mode === "difference") {
    rows = [...features]
      .sort((a, b) => Math.abs(n(b.properties, "flowDifference")) - Math.abs(n(a.properties, "flowDifference")))
      .slice(0, limit);
    caption = `Largest flow changes (top ${rows.length})`;
    cols = [
      { label: "Flow A", cell: (p) => formatQuantity(n(p, "flowA")), numeric: true },
      { label: "Flow B", cell: (p) => formatQuantity(n(p, "flowB")), numeric: true },
      { label: "Change", cell: (p) => formatSigned(n(p, "flowDifference")), numeric: true },
    ];
  } else {
    const tolled = features.filter((f) => n(f.properties, "toll") > 0);
    if (tolled.length > 0) {
      rows = [...tolled].sort((a, b) => a.properties.link - b.properties.link);
      caption = `Tolled links (${rows.length})`;
    } else {
      rows = [...features].sort((a, b) => n(b.properties, "voc") - n(a.properties, "voc")).slice(0, limit);
      caption = `Most congested links (top ${rows.length}, no tolls)`;
    }
    cols = [
      { label: `Toll (${units.moneyLabel})`, cell: (p) => units.money(n(p, "toll")), numeric: true },
      { label: "Flow", cell: (p) => formatQuantity(n(p, "flow")), numeric: true },
      { label: "v/c", cell: (p) => formatRatio(n(p, "voc")), numeric: true },
      { label: `Revenue (${units.moneyLabel})`, cell: (p) => units.money(n(p, "revenue")), numeric: true },
    ];
  }
  return (
    <section id="links-section" aria-labelledby="links-title">
      <h3 id="links-title">{caption}</h3>
      <div class="table-wrap">
        <table id="links-table" class="data-table">
          <thead>
            <tr>
              <th scope="col">Link</th>
              {cols.map((c) => (
                <th key={c.label} scope="col" class={c.numeric ? "num" : ""}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => {
              const p = f.properties;
              return (
                <tr key={p.link} data-link={String(p.link)}>
                  <th scope="row">
                    <button
                      type="button"
                      class="link-button"
                      aria-label={`Show link ${p.link}${p.from !== undefined ? ` (${p.from} to ${p.to})` : ""} on the map`}
                      onClick={() => onShow(p.link)}
                    >
                      {p.link}
                    </button>
                    {p.from !== undefined ? <span class="link-ends">{` ${p.from}→${p.to}`}</span> : null}
                  </th>
                  {cols.map((c) => (
                    <td key={c.label} class={c.numeric ? "num" : ""}>
                      {c.cell(p)}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
