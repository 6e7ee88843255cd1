/**
 * What every panel shares besides the store: the static page's elements (index.html), the one
 * map, and the map-note line. The map is created here once and exposed as
 * `window.__tollkitMap` for tests and benchmarks.
 */
import type { Map as MaplibreMap } from "maplibre-gl";
import { byId } from "./dom.js";
import { TollMap } from "./map.js";
import { view } from "./store.js";

declare global {
  interface Window {
    __tollkitMap?: MaplibreMap;
  }
}

export const BASEMAP_KEY = "tollkit.basemap";

export const el = {
  apiStatus: byId("api-status"),
  form: byId<HTMLFormElement>("run-form"),
  network: byId<HTMLSelectElement>("network"),
  networkInfo: byId("network-info"),
  scenario: byId<HTMLSelectElement>("scenario"),
  scenarioInfo: byId("scenario-info"),
  scenarioFile: byId<HTMLInputElement>("scenario-file"),
  tokenRow: byId("token-row"),
  token: byId<HTMLInputElement>("token"),
  algorithm: byId<HTMLSelectElement>("algorithm"),
  objective: byId<HTMLSelectElement>("objective"),
  gap: byId<HTMLInputElement>("gap"),
  maxIterations: byId<HTMLInputElement>("max-iterations"),
  maxSeconds: byId<HTMLInputElement>("max-seconds"),
  start: byId<HTMLButtonElement>("start"),
  formError: byId("form-error"),
  progressCard: byId("progress-card"),
  progress: byId<HTMLProgressElement>("progress"),
  progressText: byId("progress-text"),
  cancel: byId<HTMLButtonElement>("cancel"),
  runsPanel: byId("runs-panel"),
  compareForm: byId<HTMLFormElement>("compare-form"),
  compareA: byId<HTMLSelectElement>("compare-a"),
  compareB: byId<HTMLSelectElement>("compare-b"),
  compareButton: byId<HTMLButtonElement>("compare"),
  compareError: byId("compare-error"),
  basemap: byId<HTMLInputElement>("basemap"),
  basemapApply: byId<HTMLButtonElement>("basemap-apply"),
  basemapClear: byId<HTMLButtonElement>("basemap-clear"),
  legend: byId("legend"),
  mapNote: byId("map-note"),
  results: byId("results"),
  resultsTitle: byId("results-title"),
  resultsSubtitle: byId("results-subtitle"),
  metrics: byId("metrics"),
  warnings: byId("warnings"),
  convergenceFigure: byId("convergence-figure"),
  convergenceCaption: byId("convergence-caption"),
  convergence: byId<SVGSVGElement>("convergence"),
  surfaceFigure: byId("surface-figure"),
  surfaceCaption: byId("surface-caption"),
  surface: byId<SVGSVGElement>("surface"),
  tradeoff: byId("tradeoff"),
  linksSection: byId("links-section"),
  linksTitle: byId("links-title"),
  linksTable: byId<HTMLTableElement>("links-table"),
  studio: byId("studio"),
  exports: byId("exports"),
  exportList: byId("export-list"),
  exportError: byId("export-error"),
};

const storedBasemap = new URLSearchParams(location.search).get("basemap") ?? localStorage.getItem(BASEMAP_KEY);
el.basemap.value = storedBasemap ?? "";

/** The one map of the page. */
export const tollMap = new TollMap(byId("map"), storedBasemap || null);
tollMap.onMessage = (text) => note(text);
window.__tollkitMap = tollMap.map;

/** Shows a line under the map (empty: hides it). */
export function note(text: string): void {
  el.mapNote.textContent = text;
  el.mapNote.hidden = !text;
}

/** Names the view whose data has been handed to the map (the store's `view` and `body[data-view]`). */
export function setView(name: string): void {
  view.value = name;
  document.body.dataset.view = name;
}
