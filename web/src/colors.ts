/**
 * Colour and width scales of the map, shared by the MapLibre style expressions and the legend
 * so that the two can never disagree.
 */
import type { ExpressionSpecification } from "maplibre-gl";

/** Volume/capacity stops: green (free) → yellow (near capacity) → red → dark red (over capacity). */
export const VOC_STOPS: readonly [number, string][] = [
  [0, "#1a9850"],
  [0.5, "#91cf60"],
  [0.75, "#d9ef8b"],
  [0.9, "#fee08b"],
  [1.0, "#fc8d59"],
  [1.25, "#d73027"],
  [1.5, "#7f0000"],
];

/** Diverging stops for a flow change, as a fraction of the largest absolute change: blue = less, red = more. */
export const DIFF_STOPS: readonly [number, string][] = [
  [-1, "#2166ac"],
  [-0.5, "#67a9cf"],
  [-0.05, "#d1e5f0"],
  [0, "#e0e0e0"],
  [0.05, "#fddbc7"],
  [0.5, "#ef8a62"],
  [1, "#b2182b"],
];

/** Colour of the casing drawn around tolled links. */
export const TOLL_COLOR = "#6a3d9a";
/** Colour of links before any results are drawn. */
export const NETWORK_COLOR = "#7a8590";

/** Line width in pixels of the thinnest and the widest link. */
export const MIN_WIDTH = 1.5;
export const MAX_WIDTH = 12;

/** Interpolates a colour for `v` on `stops` (used by the legend and the surface chart). */
export function colorAt(stops: readonly [number, string][], v: number): string {
  if (!(v > stops[0][0])) return stops[0][1];
  for (let i = 1; i < stops.length; i++) {
    const [x1, c1] = stops[i];
    if (v <= x1) {
      const [x0, c0] = stops[i - 1];
      return mix(c0, c1, (v - x0) / (x1 - x0));
    }
  }
  return stops[stops.length - 1][1];
}

function mix(a: string, b: string, t: number): string {
  const pa = parseInt(a.slice(1), 16);
  const pb = parseInt(b.slice(1), 16);
  const ch = (p: number, s: number) => (p >> s) & 255;
  const c = [16, 8, 0].map((s) => Math.round(ch(pa, s) + (ch(pb, s) - ch(pa, s)) * t));
  return `#${c.map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

/** MapLibre expression: colour by the `voc` property. */
export function vocColorExpression(): ExpressionSpecification {
  return ["interpolate", ["linear"], ["to-number", ["get", "voc"], 0], ...VOC_STOPS.flat()] as ExpressionSpecification;
}

/** MapLibre expression: colour by `value / maxAbs` on the diverging scale. */
export function diffColorExpression(property: string, maxAbs: number): ExpressionSpecification {
  const m = maxAbs > 0 ? maxAbs : 1;
  return ["interpolate", ["linear"], ["/", ["to-number", ["get", property], 0], m], ...DIFF_STOPS.flat()] as ExpressionSpecification;
}

/** Width in pixels for a value in [0, max] (linear). */
export function widthFor(v: number, max: number): number {
  const m = max > 0 ? max : 1;
  return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * Math.min(1, Math.max(0, v / m));
}

/** MapLibre expression: width by `|property|` from 0 to `max`, scaled by `scale` (for offsets). */
export function widthExpression(property: string, max: number, scale = 1, add = 0): ExpressionSpecification {
  const m = max > 0 ? max : 1;
  return [
    "interpolate",
    ["linear"],
    ["abs", ["to-number", ["get", property], 0]],
    0,
    MIN_WIDTH * scale + add,
    m,
    MAX_WIDTH * scale + add,
  ] as ExpressionSpecification;
}
