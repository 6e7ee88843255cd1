/**
 * The tollkit web map — the planner's studio: choose a network, author a toll study on the map
 * (study editor), start an assignment or a toll design, follow it live (Server-Sent Events),
 * see the results on the map and in the panels, compare two runs.
 *
 * The page is built to grow: one module per panel (panels/run-form.ts, runs.ts, results.ts,
 * compare.ts, studio.tsx) around one store (store.ts: signals), the map kept imperative behind
 * map.ts and driven from map-sync.ts, the API types generated from `/api/openapi.json`.
 *
 * The page state lives in the URL hash (`#run=12`, `#compare=3,7`, `#network=sioux-falls`) so that
 * a view can be bookmarked, reloaded and opened by tests. For tests and benchmarks the map is
 * exposed as `window.__tollkitMap`; `document.body.dataset.view` names the view whose data has
 * been handed to the map (then wait for the map's `idle`), and the performance marks
 * `tollkit:show` (a run's results asked for), `tollkit:results` (its flows GeoJSON received and
 * parsed) and `tollkit:idle` (the map's first `idle` after drawing them) time the drawing.
 */
import "./style.css";
import * as api from "./api.js";
import { BASEMAP_KEY, el, note, tollMap } from "./context.js";
import { networkById } from "./geometry.js";
import { initMapSync } from "./map-sync.js";
import { initCompare, showCompare } from "./panels/compare.js";
import { showNetwork, showRun } from "./panels/results.js";
import { follow, initRunForm, liveRun, selectNetwork } from "./panels/run-form.js";
import { initRuns, refreshRuns } from "./panels/runs.js";
import { initStudio } from "./panels/studio.js";
import { initTradeoff } from "./panels/tradeoff.js";
import { runs } from "./store.js";

const TOKEN_KEY = "tollkit.token";

async function route(): Promise<void> {
  const params = new URLSearchParams(location.hash.slice(1));
  const run = Number(params.get("run"));
  const cmp = params.get("compare")?.split(",").map(Number);
  if (Number.isInteger(run) && run > 0) await showRun(run);
  else if (cmp && cmp.length === 2 && cmp.every((x) => Number.isInteger(x) && x > 0)) await showCompare(cmp[0], cmp[1]);
  else {
    const net = params.get("network");
    const id = net && networkById(net) ? net : el.network.value;
    if (id) {
      await selectNetwork(id);
      await showNetwork(id);
    }
  }
}

function initBasemap(): void {
  el.basemapApply.addEventListener("click", () => {
    const url = el.basemap.value.trim();
    if (url && !el.basemap.checkValidity()) {
      note("The base-map style URL is not a valid URL.");
      return;
    }
    if (url) localStorage.setItem(BASEMAP_KEY, url);
    else localStorage.removeItem(BASEMAP_KEY);
    tollMap.setBaseStyle(url || null);
  });
  el.basemapClear.addEventListener("click", () => {
    el.basemap.value = "";
    localStorage.removeItem(BASEMAP_KEY);
    tollMap.setBaseStyle(null);
  });
}

async function init(): Promise<void> {
  el.token.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
  api.setToken(el.token.value || null);
  el.token.addEventListener("change", () => {
    sessionStorage.setItem(TOKEN_KEY, el.token.value);
    api.setToken(el.token.value || null);
  });
  initBasemap();
  initCompare();
  initMapSync();
  window.addEventListener("hashchange", () => void route());

  try {
    const health = await api.getHealth();
    el.apiStatus.textContent = `API ${health.version ?? ""} connected`;
    el.tokenRow.hidden = !health.authRequired;
  } catch (e) {
    el.apiStatus.textContent = `API unreachable: ${(e as Error).message}`;
  }
  await initRunForm();
  initStudio(el.studio);
  initRuns(el.runsPanel);
  initTradeoff(el.tradeoff);
  await refreshRuns();
  const live = liveRun(runs.value);
  if (live && !location.hash) follow(live.id);
  await route();
}

void init();
