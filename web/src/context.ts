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
  runFormPanel: byId("run-form-panel"),
  progressPanel: byId("progress-panel"),
  runsPanel: byId("runs-panel"),
  comparePanel: byId("compare-panel"),
  mapSettingsPanel: byId("map-settings-panel"),
  legend: byId("legend"),
  mapNote: byId("map-note"),
  results: byId("results"),
  studio: byId("studio"),
};

/** The base-map style URL the page opens with (`?basemap=`, else the one saved in localStorage). */
export const storedBasemap = new URLSearchParams(location.search).get("basemap") ?? localStorage.getItem(BASEMAP_KEY);

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
