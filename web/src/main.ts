/**
 * The tollkit web map — the planner's studio: choose a network, author a toll study on the map
 * (study editor), start an assignment or a toll design, follow it live (Server-Sent Events),
 * see the results on the map and in the panels, compare two runs.
 *
 * The page is built to grow: one Preact module per panel (panels/run-form.tsx, runs.tsx,
 * results.tsx with export.tsx and tradeoff.tsx, compare.tsx, studio.tsx, map-settings.tsx), each
 * rendered into its mount point of index.html, around one store (store.ts: signals); the map is
 * kept imperative behind map.ts and driven only from map-sync.ts; every view's requests share one
 * AbortController (store.ts `beginView`); the API types are generated from `/api/openapi.json`.
 * This file is the glue: it mounts the panels and routes the address to the view loaders.
 *
 * The page state lives in the URL hash (`#run=12`, `#compare=3,7`, `#network=sioux-falls`, and the
 * OD views of panels/od.tsx: `#incidence=3,7`, `#select-link=7&links=16,19`, `#demand=9`) so that
 * a view can be bookmarked, reloaded and opened by tests. For tests and benchmarks the map is
 * exposed as `window.__tollkitMap`; `document.body.dataset.view` names the view whose data has
 * been handed to the map (then wait for the map's `idle`), and the performance marks
 * `tollkit:show` (a run's results asked for), `tollkit:results` (its flows GeoJSON received and
 * parsed) and `tollkit:idle` (the map's first `idle` after drawing them) time the drawing.
 */
import "./style.css";
import * as api from "./api.js";
import { el } from "./context.js";
import { byId } from "./dom.js";
import { networkById } from "./geometry.js";
import { initMapSync } from "./map-sync.js";
import { initCompare, showCompare } from "./panels/compare.js";
import { initMapSettings } from "./panels/map-settings.js";
import { initOd, routeOd } from "./panels/od.js";
import { initResults, showNetwork, showRun } from "./panels/results.js";
import { authRequired, defaultNetwork, follow, initRunForm, liveRun, selectNetwork } from "./panels/run-form.js";
import { initRuns, refreshRuns } from "./panels/runs.js";
import { initStudio } from "./panels/studio.js";
import { networkId, runs } from "./store.js";

async function route(): Promise<void> {
  const params = new URLSearchParams(location.hash.slice(1));
  const run = Number(params.get("run"));
  const cmp = params.get("compare")?.split(",").map(Number);
  if (await routeOd(params)) return;
  if (Number.isInteger(run) && run > 0) await showRun(run);
  else if (cmp && cmp.length === 2 && cmp.every((x) => Number.isInteger(x) && x > 0)) await showCompare(cmp[0], cmp[1]);
  else {
    const net = params.get("network");
    const id = net && networkById(net) ? net : networkId.value || defaultNetwork();
    if (id) {
      await selectNetwork(id);
      await showNetwork(id);
    }
  }
}

async function init(): Promise<void> {
  initMapSettings(el.mapSettingsPanel);
  initCompare(el.comparePanel);
  initResults(el.results);
  initMapSync();
  window.addEventListener("hashchange", () => void route());

  try {
    const health = await api.getHealth();
    el.apiStatus.textContent =
      health.status === "degraded"
        ? `API ${health.version ?? ""} connected, storage degraded: ${health.storage?.reason ?? "the database refuses writes"} (runs wait to be written)`
        : `API ${health.version ?? ""} connected`;
    authRequired.value = !!health.authRequired;
  } catch (e) {
    el.apiStatus.textContent = `API unreachable: ${(e as Error).message}`;
  }
  await initRunForm(el.runFormPanel, el.progressPanel);
  initStudio(el.studio);
  initOd(byId("od"));
  initRuns(el.runsPanel);
  await refreshRuns();
  const live = liveRun(runs.value);
  if (live && !location.hash) follow(live.id);
  await route();
}

void init();
