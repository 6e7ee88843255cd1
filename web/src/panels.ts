/**
 * The results panels: headline metrics of a run or a comparison, and the links table.
 *
 * Every metric is a `<dd data-metric="…" data-value="…">` holding the API's number unchanged in
 * `data-value` and its formatted text as content, so that tests (and screen readers) read the same
 * value the API returned.
 */
import type { Comparison, Run } from "./api.js";
import { h } from "./dom.js";
import { formatGap, formatPercent, formatQuantity, formatRatio, formatSeconds, formatSigned, formatToll } from "./format.js";
import type { LinkFeature } from "./geo.js";

/** One headline metric. */
export interface Metric {
  key: string;
  label: string;
  value: number | null | undefined;
  text: string;
  hint?: string;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Renders metrics into a `<dl>`. */
export function renderMetrics(dl: HTMLElement, metrics: Metric[]): void {
  dl.replaceChildren(
    ...metrics.map((m) => {
      const dd = h("dd", { text: m.text });
      dd.dataset.metric = m.key;
      if (m.value !== null && m.value !== undefined) dd.dataset.value = String(m.value);
      const box = h("div", { class: "metric" }, h("dt", { text: m.label }), dd);
      if (m.hint) box.append(h("p", { class: "metric-hint", text: m.hint }));
      return box;
    }),
  );
}

/** The summary object a design run stores next to its equilibrium (see `design --json`). */
export interface DesignNumbers {
  /** Objective value of the design, of the no-toll baseline and of first-best tolls. */
  value?: number;
  baseline?: number;
  firstBest?: number;
}

/**
 * Share of the first-best improvement a design captures: (baseline − design) / (baseline − firstBest),
 * in objective units (for TSTT: minutes saved by the design over minutes saved by first-best tolls).
 * Undefined when the numbers are missing or first-best improves nothing.
 */
export function firstBestShare(d: DesignNumbers): number | undefined {
  if (d.value === undefined || d.baseline === undefined || d.firstBest === undefined) return undefined;
  const denom = d.baseline - d.firstBest;
  if (!(Math.abs(denom) > 0)) return undefined;
  return (d.baseline - d.value) / denom;
}

/** Headline metrics of a finished run, from its summary exactly as the API returned it. */
export function runMetrics(run: Run): Metric[] {
  const s = run.summary ?? {};
  const out: Metric[] = [
    { key: "tstt", label: "TSTT (total travel time)", value: num(s.tstt), text: formatQuantity(num(s.tstt)) },
    { key: "revenue", label: "Toll revenue", value: num(s.revenue), text: formatQuantity(num(s.revenue)) },
    { key: "relativeGap", label: "Relative gap", value: num(s.relativeGap), text: formatGap(num(s.relativeGap)) },
  ];
  const d = designNumbers(s);
  const share = firstBestShare(d);
  out.push({
    key: "firstBestShare",
    label: "Share of first-best improvement",
    value: share,
    text: formatPercent(share),
    hint:
      share === undefined
        ? run.kind === "design"
          ? "not reported by this design"
          : "for toll designs"
        : "(baseline − design) / (baseline − first-best)",
  });
  if (num(s.iterations) !== undefined)
    out.push({ key: "iterations", label: "Iterations", value: num(s.iterations), text: String(s.iterations) });
  if (num(s.seconds) !== undefined)
    out.push({ key: "seconds", label: "Run time", value: num(s.seconds), text: formatSeconds(num(s.seconds)) });
  return out;
}

/** Reads value / baseline / firstBest from a design summary (numbers, or objects with a `value`). */
export function designNumbers(s: Record<string, unknown>): DesignNumbers {
  const pick = (v: unknown): number | undefined => num(v) ?? num((v as Record<string, unknown> | undefined)?.value);
  return { value: pick(s.value), baseline: pick(s.baseline), firstBest: pick(s.firstBest) };
}

const HEADLINE_LABELS: Record<string, string> = {
  tstt: "TSTT",
  revenue: "Toll revenue",
  relativeGap: "Relative gap",
  totalCost: "Total generalised cost",
  sptt: "SPTT",
  beckmann: "Beckmann objective",
};

/** Headline differences of a comparison (B − A), in the order the API lists them. */
export function compareMetrics(c: Comparison): Metric[] {
  return Object.entries(c.headline).map(([key, d]) => ({
    key: `diff-${key}`,
    label: `${HEADLINE_LABELS[key] ?? key}: B − A`,
    value: d.difference,
    text: key === "relativeGap" ? formatGap(d.difference) : formatSigned(d.difference),
    hint: `${key === "relativeGap" ? formatGap(d.a) : formatQuantity(d.a)} → ${key === "relativeGap" ? formatGap(d.b) : formatQuantity(d.b)}${
      d.relative !== null && d.relative !== undefined ? ` (${d.relative >= 0 ? "+" : ""}${formatPercent(d.relative)})` : ""
    }`,
  }));
}

/** A column of the links table. */
interface Column {
  label: string;
  cell: (p: Record<string, unknown>) => string;
  numeric?: boolean;
}

/**
 * Fills the links table with the links worth a look — tolled links (all of them) when there are
 * tolls, else the most congested; for a comparison, the largest flow changes — each with a
 * button that shows the link on the map.
 */
export function renderLinksTable(
  table: HTMLTableElement,
  caption: HTMLElement,
  features: LinkFeature[],
  mode: "flows" | "difference",
  onShow: (link: number) => void,
  limit = 15,
): void {
  let rows: LinkFeature[];
  let cols: Column[];
  const n = (p: Record<string, unknown>, k: string) => Number(p[k]);
  if (mode === "difference") {
    rows = [...features]
      .sort((a, b) => Math.abs(n(b.properties, "flowDifference")) - Math.abs(n(a.properties, "flowDifference")))
      .slice(0, limit);
    caption.textContent = `Largest flow changes (top ${rows.length})`;
    cols = [
      { label: "Flow A", cell: (p) => formatQuantity(n(p, "flowA")), numeric: true },
      { label: "Flow B", cell: (p) => formatQuantity(n(p, "flowB")), numeric: true },
      { label: "Change", cell: (p) => formatSigned(n(p, "flowDifference")), numeric: true },
    ];
  } else {
    const tolled = features.filter((f) => n(f.properties, "toll") > 0);
    if (tolled.length > 0) {
      rows = [...tolled].sort((a, b) => a.properties.link - b.properties.link);
      caption.textContent = `Tolled links (${rows.length})`;
    } else {
      rows = [...features].sort((a, b) => n(b.properties, "voc") - n(a.properties, "voc")).slice(0, limit);
      caption.textContent = `Most congested links (top ${rows.length}, no tolls)`;
    }
    cols = [
      { label: "Toll", cell: (p) => formatToll(n(p, "toll")), numeric: true },
      { label: "Flow", cell: (p) => formatQuantity(n(p, "flow")), numeric: true },
      { label: "v/c", cell: (p) => formatRatio(n(p, "voc")), numeric: true },
      { label: "Revenue", cell: (p) => formatQuantity(n(p, "revenue")), numeric: true },
    ];
  }
  const head = h("tr", {}, h("th", { text: "Link" }), ...cols.map((c) => h("th", { text: c.label, class: c.numeric ? "num" : "" })));
  head.querySelectorAll("th").forEach((th) => th.setAttribute("scope", "col"));
  const body = rows.map((f) => {
    const p = f.properties;
    const btn = h("button", { class: "link-button", text: `${p.link}` });
    btn.type = "button";
    btn.setAttribute("aria-label", `Show link ${p.link}${p.from !== undefined ? ` (${p.from} to ${p.to})` : ""} on the map`);
    btn.addEventListener("click", () => onShow(p.link));
    const th = h("th", {}, btn, p.from !== undefined ? h("span", { class: "link-ends", text: ` ${p.from}→${p.to}` }) : "");
    th.setAttribute("scope", "row");
    const tr = h("tr", {}, th, ...cols.map((c) => h("td", { text: c.cell(p), class: c.numeric ? "num" : "" })));
    tr.dataset.link = String(p.link);
    return tr;
  });
  table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
}
