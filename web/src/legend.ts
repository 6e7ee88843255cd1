/**
 * The map legend, drawn from the same scales as the map layers (colors.ts).
 */
import { DIFF_STOPS, MAX_WIDTH, MIN_WIDTH, NETWORK_COLOR, SELECTED_COLOR, TOLL_COLOR, VOC_MAX, VOC_STOPS, widthFor } from "./colors.js";
import { formatQuantity, formatSigned } from "./format.js";
import { tollMap } from "./context.js";
import type { MapMode } from "./map.js";

/** A CSS gradient of colour stops between lo and hi (the legend ramps). */
export function gradient(stops: readonly [number, string][], lo: number, hi: number): string {
  const parts = stops.map(([v, c]) => `${c} ${(((v - lo) / (hi - lo)) * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${parts.join(", ")})`;
}

function h(tag: string, cls: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Tick labels under a ramp, each at its position (fraction of the ramp's width). */
export function ticks(items: [number, string][]): HTMLElement {
  const row = h("div", "legend-ticks");
  for (const [at, label] of items) {
    const t = h("span", "", label);
    t.style.left = `${(at * 100).toFixed(1)}%`;
    if (at <= 0) t.classList.add("first");
    else if (at >= 1) t.classList.add("last");
    row.append(t);
  }
  return row;
}

export function widthRow(label: string, w: number, color = "#555"): HTMLElement {
  const row = h("div", "legend-row");
  const sw = h("span", "legend-line");
  sw.style.height = `${w.toFixed(1)}px`;
  sw.style.background = color;
  row.append(sw, h("span", "", label));
  return row;
}

/**
 * Renders the legend for a map mode. `maxValue` is the largest flow (flows) or largest absolute
 * flow change (difference); `tolled` is the number of tolled links; `zones` whether zones are shown.
 */
export function renderLegend(root: HTMLElement, mode: MapMode, maxValue: number, tolled: number, zones: boolean): void {
  const selected = Number(root.dataset.selected ?? 0);
  root.replaceChildren();
  root.append(h("h2", "legend-title", "Legend"));
  if (mode === "network") {
    root.append(widthRow("link (no results yet)", 2, NETWORK_COLOR));
  } else if (mode === "flows") {
    root.append(h("div", "legend-label", "Colour: volume / capacity"));
    const bar = h("div", "legend-ramp");
    bar.style.background = gradient(VOC_STOPS, 0, VOC_MAX);
    root.append(
      bar,
      ticks([
        [0, "0"],
        [1 / VOC_MAX, "1.0"],
        [1, `≥ ${VOC_MAX}`],
      ]),
    );
    root.append(h("div", "legend-label", "Width: flow"));
    for (const f of [0.25, 0.5, 1]) root.append(widthRow(formatQuantity(maxValue * f), widthFor(maxValue * f, maxValue)));
  } else {
    root.append(h("div", "legend-label", "Flow change, B − A"));
    const bar = h("div", "legend-ramp");
    bar.style.background = gradient(DIFF_STOPS, -1, 1);
    root.append(
      bar,
      ticks([
        [0, formatSigned(-maxValue)],
        [0.5, "0"],
        [1, formatSigned(maxValue)],
      ]),
      h("div", "legend-label", `Width: |change| (${MIN_WIDTH}–${MAX_WIDTH} px)`),
    );
  }
  if (mode !== "difference") {
    const row = h("div", "legend-row");
    const sw = h("span", "legend-line legend-toll");
    sw.style.borderColor = TOLL_COLOR;
    row.append(sw, h("span", "", tolled > 0 ? `tolled link (${tolled}), label = toll` : "tolled link (none)"));
    root.append(row);
  }
  if (zones) {
    const row = h("div", "legend-row");
    row.append(h("span", "legend-zone"), h("span", "", tollMap.zonesMinZoom > 0 ? "zone (zoom in to see them)" : "zone"));
    root.append(row);
  }
  renderSelectionRow(root, selected);
}

/**
 * Shows (or hides, for 0) the legend row of the links picked in the study editor; kept apart
 * from {@link renderLegend} so that the selection can change without redrawing the legend.
 */
export function renderSelectionRow(root: HTMLElement, selected: number): void {
  let row = root.querySelector<HTMLElement>(".legend-selection");
  if (selected === 0) {
    row?.remove();
    return;
  }
  if (!row) {
    row = h("div", "legend-row legend-selection");
    const sw = h("span", "legend-line");
    sw.style.height = "4px";
    sw.style.background = SELECTED_COLOR;
    row.append(sw, h("span", "legend-selection-text"));
    root.append(row);
  }
  row.querySelector(".legend-selection-text")!.textContent = `tollable in the study (${selected})`;
}
