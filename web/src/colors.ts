/**
 * Colour and width scales of the map, shared by the map (which computes each link's colour and
 * width from them) and the legend, so that the two can never disagree.
 */

/**
 * Volume/capacity stops: green (free) → yellow (near capacity) → red (over) → dark red. The scale
 * runs to 2.5 because TNTP capacities are often hourly against daily demand (Sioux Falls' v/c
 * reaches 2–3 at equilibrium): stopping at 1.5 would paint most of such a network one colour.
 */
export const VOC_STOPS: readonly [number, string][] = [
  [0, "#1a9850"],
  [0.5, "#91cf60"],
  [0.8, "#d9ef8b"],
  [1.0, "#fee08b"],
  [1.25, "#fdae61"],
  [1.5, "#f46d43"],
  [2.0, "#d73027"],
  [2.5, "#7f0000"],
];
/** Largest v/c with its own colour (the legend's right end). */
export const VOC_MAX = 2.5;

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

/**
 * Sequential stops for a select-link flow, as a fraction of its largest value: pale (a little of
 * the selected demand) → dark blue (all of it at its peak). Links the selected trips do not use
 * stay grey.
 */
export const SELECT_STOPS: readonly [number, string][] = [
  [0, "#c7e9b4"],
  [0.25, "#7fcdbb"],
  [0.5, "#41b6c4"],
  [0.75, "#225ea8"],
  [1, "#081d58"],
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

/** Width in pixels for a value in [0, max] (linear). */
export function widthFor(v: number, max: number): number {
  const m = max > 0 ? max : 1;
  return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * Math.min(1, Math.max(0, v / m));
}

/** Colour of the links picked in the study editor (tollable links of the draft). */
export const SELECTED_COLOR = "#e6550d";
