/**
 * Plain-SVG charts: the convergence chart (relative gap per iteration, log scale), the toll
 * response surface of a grid search (a line for one toll, a heat map for two) and the trade-off
 * charts of a one-toll sweep (TSTT, revenue, welfare against the toll). No chart library: these
 * are a few line charts whose points carry their numbers (`data-value`) for tests and tooltips; a
 * library (Observable Plot brings d3, uPlot draws on a canvas) would not make them shorter.
 */
import { colorAt } from "./colors.js";
import { formatGap, formatQuantity, formatToll } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 340;
const H = 200;
const M = { left: 56, right: 18, top: 10, bottom: 34 };

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  parent?: Element,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.append(e);
  return e;
}

function text(parent: Element, x: number, y: number, s: string, attrs: Record<string, string | number> = {}): SVGTextElement {
  const t = el("text", { x, y, ...attrs }, parent);
  t.textContent = s;
  return t;
}

function reset(svg: SVGSVGElement): void {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumSignificantDigits: 4 });

/** An axis tick label: short ("7.48M", "12.5K", "0.25"), so that it never runs into the axis title. */
function formatTick(v: number): string {
  return Math.abs(v) >= 1000 ? compact.format(v) : formatQuantity(v);
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** One point of the convergence chart. */
export interface GapPoint {
  iteration: number;
  relativeGap: number;
}

/**
 * Draws the frame shared by the line charts: horizontal grid lines with their labels at
 * `yTicks`, integer ticks on the x axis between x0 and x1, both axes and both axis titles.
 */
function drawFrame(
  axes: SVGElement,
  o: {
    yTicks: { y: number; label: string }[];
    x0: number;
    x1: number;
    sx: (x: number) => number;
    xLabel: string;
    yLabel: string;
    yLabelX: number;
  },
): void {
  for (const { y, label } of o.yTicks) {
    el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: "grid" }, axes);
    text(axes, M.left - 4, y + 3, label, { "text-anchor": "end" });
  }
  for (const t of niceTicks(o.x0, o.x1, 5).filter((t) => Number.isInteger(t))) {
    const x = o.sx(t);
    el("line", { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 4, class: "tick" }, axes);
    text(axes, x, H - M.bottom + 14, String(t), { "text-anchor": "middle" });
  }
  el("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axis" }, axes);
  el("line", { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: "axis" }, axes);
  const ymid = (M.top + H - M.bottom) / 2;
  text(axes, (M.left + W - M.right) / 2, H - 4, o.xLabel, { "text-anchor": "middle" });
  text(axes, o.yLabelX, ymid, o.yLabel, { "text-anchor": "middle", transform: `rotate(-90 ${o.yLabelX} ${ymid})` });
}

/**
 * Draws relative gap against iteration on a log-10 y axis. Non-positive gaps (an exact
 * equilibrium) are clipped to the lowest decade shown. `target` draws the requested gap as a dashed line.
 */
export function drawConvergence(svg: SVGSVGElement, points: GapPoint[], target?: number): void {
  reset(svg);
  const pts = points.filter((p) => Number.isFinite(p.relativeGap));
  if (pts.length === 0) {
    text(svg, W / 2, H / 2, "no iterations yet", { "text-anchor": "middle", class: "chart-empty" });
    return;
  }
  const positive = pts.map((p) => p.relativeGap).filter((g) => g > 0);
  if (target && target > 0) positive.push(target);
  const lo = Math.floor(Math.log10(Math.min(...positive, 1)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive, 10 ** (lo + 1)))));
  const x0 = Math.min(...pts.map((p) => p.iteration));
  const x1 = Math.max(x0 + 1, ...pts.map((p) => p.iteration));
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const sy = (g: number) => {
    const l = g > 0 ? Math.log10(g) : lo;
    return M.top + ((hi - Math.max(lo, l)) / (hi - lo)) * (H - M.top - M.bottom);
  };
  const axes = el("g", { class: "axes" }, svg);
  const decadeStep = Math.max(1, Math.ceil((hi - lo) / 6));
  const yTicks: { y: number; label: string }[] = [];
  for (let d = lo; d <= hi; d += decadeStep) yTicks.push({ y: sy(10 ** d), label: `1e${d}` });
  drawFrame(axes, { yTicks, x0, x1, sx, xLabel: "iteration", yLabel: "relative gap", yLabelX: 12 });
  if (target && target > 0) {
    const y = sy(target);
    el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: "target" }, svg);
  }
  const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p.iteration).toFixed(1)},${sy(p.relativeGap).toFixed(1)}`).join("");
  el("path", { d, class: "series" }, svg);
  const last = pts[pts.length - 1];
  const c = el("circle", { cx: sx(last.iteration), cy: sy(last.relativeGap), r: 3, class: "series-end" }, svg);
  el("title", {}, c).textContent = `iteration ${last.iteration}: relative gap ${formatGap(last.relativeGap)}`;
  svg.setAttribute(
    "aria-label",
    `Relative gap per iteration, log scale: ${pts.length} iterations, last gap ${formatGap(last.relativeGap)}`,
  );
}

/** One row of a toll design's history: the objective after some equilibrium solves. */
export interface HistoryPoint {
  solves: number;
  value: number;
  /** An iterate of the method (true) or a trial point (false). */
  accepted: boolean;
}

/**
 * Draws a toll design's progress: the objective value of every evaluated point against the
 * equilibrium solves used so far (linear scale); accepted iterates are joined by a line, trial
 * points are dots.
 */
export function drawHistory(svg: SVGSVGElement, points: HistoryPoint[], valueLabel: string): void {
  reset(svg);
  const pts = points.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.solves));
  if (pts.length === 0) {
    text(svg, W / 2, H / 2, "no evaluations yet", { "text-anchor": "middle", class: "chart-empty" });
    return;
  }
  const vmin = Math.min(...pts.map((p) => p.value));
  const vmax = Math.max(...pts.map((p) => p.value));
  const span = vmax - vmin || Math.abs(vmax) * 0.01 || 1;
  const lo = vmin - span * 0.05;
  const hi = vmax + span * 0.05;
  const x0 = Math.min(...pts.map((p) => p.solves));
  const x1 = Math.max(x0 + 1, ...pts.map((p) => p.solves));
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const sy = (v: number) => M.top + ((hi - v) / (hi - lo)) * (H - M.top - M.bottom);
  const axes = el("g", { class: "axes" }, svg);
  const yTicks = niceTicks(lo, hi, 4).map((t) => ({ y: sy(t), label: formatTick(t) }));
  drawFrame(axes, { yTicks, x0, x1, sx, xLabel: "equilibrium solves", yLabel: valueLabel, yLabelX: 10 });
  for (const p of pts.filter((p) => !p.accepted)) el("circle", { cx: sx(p.solves), cy: sy(p.value), r: 2, class: "trial" }, svg);
  const acc = pts.filter((p) => p.accepted);
  if (acc.length) {
    const d = acc.map((p, i) => `${i ? "L" : "M"}${sx(p.solves).toFixed(1)},${sy(p.value).toFixed(1)}`).join("");
    el("path", { d, class: "series" }, svg);
    const last = acc[acc.length - 1];
    const c = el("circle", { cx: sx(last.solves), cy: sy(last.value), r: 3, class: "series-end" }, svg);
    el("title", {}, c).textContent = `after ${last.solves} solves: ${formatQuantity(last.value)}`;
  }
  svg.setAttribute("aria-label", `${valueLabel} per equilibrium solve: ${pts.length} evaluations, ${acc.length} accepted`);
}

/** A response surface over one toll (`y` absent) or two tolls; `values[j][i]` at (x[i], y[j]). */
export interface Surface {
  xLabel: string;
  yLabel?: string;
  valueLabel: string;
  x: number[];
  y?: number[];
  values: number[][];
  /** The chosen tolls, marked on the chart. */
  best?: { x: number; y?: number };
}

/** Draws a toll response surface: a line chart for one toll, a heat map for two. Returns a one-line description for its caption. */
export function drawSurface(svg: SVGSVGElement, s: Surface): string {
  reset(svg);
  const flat = s.values.flat().filter(Number.isFinite);
  if (flat.length === 0 || s.x.length === 0) {
    text(svg, W / 2, H / 2, "no surface", { "text-anchor": "middle", class: "chart-empty" });
    return "";
  }
  const vmin = Math.min(...flat);
  const vmax = Math.max(...flat);
  const xlo = Math.min(...s.x);
  const xhi = Math.max(xlo + 1e-9, ...s.x);
  const axes = el("g", { class: "axes" }, svg);
  const ymid = (M.top + H - M.bottom) / 2;
  // Two tolls: cells centred on the grid points, half a cell inside the plot on every side.
  const two = !!s.y && s.y.length > 1;
  const cw = two ? (W - M.left - M.right) / s.x.length : 0;
  const sx = (x: number) => M.left + cw / 2 + ((x - xlo) / (xhi - xlo)) * (W - M.left - M.right - cw);
  for (const t of niceTicks(xlo, xhi, 5)) {
    const x = sx(t);
    el("line", { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 4, class: "tick" }, axes);
    text(axes, x, H - M.bottom + 14, formatToll(t), { "text-anchor": "middle" });
  }
  text(axes, (M.left + W - M.right) / 2, H - 4, s.xLabel, { "text-anchor": "middle" });
  if (!two) {
    drawCurve(svg, axes, { x: s.x, values: s.values[0], valueLabel: s.valueLabel, best: s.best?.x, sx, vmin, vmax });
    return `${s.valueLabel} against ${s.xLabel}; the circle marks the chosen toll`;
  }
  const ys = s.y!;
  const ylo = Math.min(...ys);
  const yhi = Math.max(ylo + 1e-9, ...ys);
  const ch = (H - M.top - M.bottom) / ys.length;
  const sy = (y: number) => H - M.bottom - ch / 2 - ((y - ylo) / (yhi - ylo)) * (H - M.top - M.bottom - ch);
  const stops: [number, string][] = [
    [0, "#2c7bb6"],
    [0.5, "#ffffbf"],
    [1, "#d7191c"],
  ];
  const cells = el("g", { class: "cells" }, svg);
  ys.forEach((y, j) =>
    s.x.forEach((x, i) => {
      const v = s.values[j][i];
      const r = el("rect", { x: sx(x) - cw / 2, y: sy(y) - ch / 2, width: cw, height: ch }, cells);
      r.setAttribute("fill", Number.isFinite(v) ? colorAt(stops, (v - vmin) / (vmax - vmin || 1)) : "#cccccc");
      el("title", {}, r).textContent = `${s.xLabel} ${formatToll(x)}, ${s.yLabel} ${formatToll(y)}: ${formatQuantity(v)}`;
    }),
  );
  for (const t of niceTicks(ylo, yhi, 4)) text(axes, M.left - 4, sy(t) + 3, formatToll(t), { "text-anchor": "end" });
  text(axes, 12, ymid, s.yLabel ?? "", { "text-anchor": "middle", transform: `rotate(-90 12 ${ymid})` });
  if (s.best && s.best.y !== undefined) el("circle", { cx: sx(s.best.x), cy: sy(s.best.y), r: 4, class: "best" }, svg);
  return `${s.valueLabel} from ${formatQuantity(vmin)} (blue) to ${formatQuantity(vmax)} (red); the circle marks the chosen tolls`;
}

/**
 * The curve of a one-toll chart on its axes: y grid and labels, the line, one dot per point
 * (`circle.point` with `data-toll` and `data-value`: the numbers plotted, and a tooltip), and the
 * chosen toll marked by a larger circle and a dashed vertical line.
 */
function drawCurve(
  svg: SVGSVGElement,
  axes: SVGElement,
  o: {
    x: number[];
    values: number[];
    valueLabel: string;
    best?: number;
    sx: (x: number) => number;
    vmin: number;
    vmax: number;
    format?: (v: number) => string;
    formatX?: (v: number) => string;
    /** Labels of the y ticks (default: short numbers). */
    tick?: (v: number) => string;
  },
): void {
  const fmt = o.format ?? formatQuantity;
  const fmtX = o.formatX ?? formatToll;
  const ymid = (M.top + H - M.bottom) / 2;
  const span = o.vmax - o.vmin || Math.abs(o.vmax) || 1;
  const lo = o.vmax - o.vmin ? o.vmin : o.vmin - span / 2;
  const sy = (v: number) => M.top + ((lo + span - v) / span) * (H - M.top - M.bottom);
  for (const t of niceTicks(lo, lo + span, 4)) {
    const y = sy(t);
    el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: "grid" }, axes);
    text(axes, M.left - 4, y + 3, (o.tick ?? formatTick)(t), { "text-anchor": "end" });
  }
  text(axes, 12, ymid, o.valueLabel, { "text-anchor": "middle", transform: `rotate(-90 12 ${ymid})` });
  const idx = o.x.map((_, i) => i).filter((i) => Number.isFinite(o.values[i]));
  const d = idx.map((i, k) => `${k ? "L" : "M"}${o.sx(o.x[i]).toFixed(1)},${sy(o.values[i]).toFixed(1)}`).join("");
  el("path", { d, class: "series" }, svg);
  if (o.best !== undefined) {
    const bx = o.sx(o.best);
    el("line", { x1: bx, x2: bx, y1: M.top, y2: H - M.bottom, class: "chosen" }, svg);
  }
  const points = el("g", { class: "points" }, svg);
  for (const i of idx) {
    const c = el(
      "circle",
      { cx: o.sx(o.x[i]), cy: sy(o.values[i]), r: 2, class: "point", "data-toll": o.x[i], "data-value": o.values[i] },
      points,
    );
    el("title", {}, c).textContent = `toll ${fmtX(o.x[i])}: ${o.valueLabel} ${fmt(o.values[i])}`;
  }
  if (o.best !== undefined && idx.length) {
    const i = idx.reduce((a, b) => (Math.abs(o.x[b] - o.best!) < Math.abs(o.x[a] - o.best!) ? b : a));
    const c = el("circle", { cx: o.sx(o.x[i]), cy: sy(o.values[i]), r: 4, class: "best" }, svg);
    el("title", {}, c).textContent = `chosen toll ${fmtX(o.x[i])}: ${fmt(o.values[i])}`;
  }
}

/** One series of a trade-off chart: a measure at every toll of a sweep. */
export interface TradeoffSeries {
  key: string;
  label: string;
  values: number[];
  format: (v: number) => string;
  /** Labels of its y ticks (default: short numbers). */
  tick?: (v: number) => string;
}

/**
 * Draws one measure of a one-toll sweep against the toll (a line with a dot per point), the
 * chosen toll marked; the trade-off view stacks one such chart per measure on the same x axis.
 */
export function drawTradeoff(
  svg: SVGSVGElement,
  o: { x: number[]; xLabel: string; series: TradeoffSeries; best?: number; formatX: (v: number) => string },
): void {
  reset(svg);
  const vals = o.series.values.filter(Number.isFinite);
  if (vals.length === 0 || o.x.length === 0) {
    text(svg, W / 2, H / 2, "no points", { "text-anchor": "middle", class: "chart-empty" });
    return;
  }
  const xlo = Math.min(...o.x);
  const xhi = Math.max(xlo + 1e-9, ...o.x);
  const sx = (x: number) => M.left + ((x - xlo) / (xhi - xlo)) * (W - M.left - M.right);
  const axes = el("g", { class: "axes" }, svg);
  for (const t of niceTicks(xlo, xhi, 5)) {
    const x = sx(t);
    el("line", { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 4, class: "tick" }, axes);
    text(axes, x, H - M.bottom + 14, o.formatX(t), { "text-anchor": "middle" });
  }
  el("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axis" }, axes);
  text(axes, (M.left + W - M.right) / 2, H - 4, o.xLabel, { "text-anchor": "middle" });
  drawCurve(svg, axes, {
    x: o.x,
    values: o.series.values,
    valueLabel: o.series.label,
    best: o.best,
    sx,
    vmin: Math.min(...vals),
    vmax: Math.max(...vals),
    format: o.series.format,
    formatX: o.formatX,
    tick: o.series.tick,
  });
  svg.setAttribute(
    "aria-label",
    `${o.series.label} against ${o.xLabel}: ${vals.length} points${o.best !== undefined ? `, chosen toll ${o.formatX(o.best)}` : ""}`,
  );
}
