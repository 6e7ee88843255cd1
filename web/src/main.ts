/**
 * The tollkit web map: choose a network and a scenario (or the no-toll baseline), start an
 * assignment or a toll design, follow it live (Server-Sent Events), and see the results on the
 * map and in the panels; compare two runs.
 *
 * The page state lives in the URL hash (`#run=12`, `#compare=3,7`, `#network=sioux-falls`) so that
 * a view can be bookmarked, reloaded and opened by tests. For tests and benchmarks the map is
 * exposed as `window.__tollkitMap`; `document.body.dataset.view` names the view whose data has
 * been handed to the map (then wait for the map's `idle`), and the performance marks
 * `tollkit:show` (a run's results asked for), `tollkit:results` (its flows GeoJSON received and
 * parsed) and `tollkit:idle` (the map's first `idle` after drawing them) time the drawing.
 */
import "./style.css";
import type { Map as MaplibreMap } from "maplibre-gl";
import * as api from "./api.js";
import type { Run, RunProgress, StoredScenario } from "./api.js";
import { drawConvergence, drawHistory, drawSurface, type GapPoint, type HistoryPoint } from "./chart.js";
import { byId, h } from "./dom.js";
import { formatGap, formatPercent, formatQuantity } from "./format.js";
import { splitCollection, zonePoints, type AnyCollection, type LinkCollection, type LinkFeature, type PointCollection } from "./geo.js";
import { renderLegend } from "./legend.js";
import { TollMap } from "./map.js";
import { compareMetrics, renderLinksTable, renderMetrics, runMetrics } from "./panels.js";
import { surfaceOf } from "./surface.js";

declare global {
  interface Window {
    __tollkitMap?: MaplibreMap;
  }
}

const BASEMAP_KEY = "tollkit.basemap";
const TOKEN_KEY = "tollkit.token";
/** The network the map opens on, and the built-in one used when its files are not available. */
const DEFAULT_NETWORK = "sioux-falls";
const FALLBACK_NETWORK = "grid-city";

/** A network's drawing: links, zone dots, and whether the coordinates are lon/lat. */
interface Geometry {
  id: string;
  links: LinkCollection;
  zones: PointCollection;
  lonlat: boolean;
  /** How the coordinates were obtained when they are not lon/lat. */
  note: string;
}

const el = {
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
  runs: byId("runs"),
  runsEmpty: byId("runs-empty"),
  compareForm: byId<HTMLFormElement>("compare-form"),
  compareA: byId<HTMLSelectElement>("compare-a"),
  compareB: byId<HTMLSelectElement>("compare-b"),
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
  linksSection: byId("links-section"),
  linksTitle: byId("links-title"),
  linksTable: byId<HTMLTableElement>("links-table"),
};

const state = {
  /** The API's networks, then the inline networks of stored scenarios. */
  networks: [] as api.NetworkSummary[],
  apiNetworks: [] as api.NetworkSummary[],
  scenarios: [] as StoredScenario[],
  runs: [] as Run[],
  geometry: new Map<string, Promise<Geometry>>(),
  /** Run being followed live, and the function that stops following it. */
  live: null as { id: number; stop: () => void; points: GapPoint[] } | null,
  /** Why the map did not open on Sioux Falls, when it did not. */
  fallbackNote: "",
  /** Bumped on every view change so that a slow response for an old view is dropped. */
  viewToken: 0,
};

const storedBasemap = new URLSearchParams(location.search).get("basemap") ?? localStorage.getItem(BASEMAP_KEY);
el.basemap.value = storedBasemap ?? "";
const tollMap = new TollMap(byId("map"), storedBasemap || null);
tollMap.onMessage = (text) => note(text);
window.__tollkitMap = tollMap.map;

function note(text: string): void {
  el.mapNote.textContent = text;
  el.mapNote.hidden = !text;
}

function setView(name: string): void {
  document.body.dataset.view = name;
}

// ---------------------------------------------------------------- networks and scenarios

function networkById(id: string): api.NetworkSummary | undefined {
  return state.networks.find((n) => n.id === id);
}

/** A network's drawing from any of its link collections (the network's GeoJSON or a run's flows). */
function geometryOf(id: string, doc: AnyCollection): Geometry {
  const { links, frame, note } = splitCollection(doc, `network ${id}`);
  const zoneCount = networkById(id)?.zones ?? 0;
  return { id, links, zones: zonePoints(links, zoneCount), lonlat: frame === "lonlat", note: frame === "lonlat" ? "" : (note ?? "") };
}

/** Network geometry (links and zones) from the API, cached per network. */
function geometry(id: string): Promise<Geometry> {
  let p = state.geometry.get(id);
  if (!p) {
    p = Promise.all([api.getNetworkGeojson(id), inlineZoneCount(id)]).then(([doc]) => geometryOf(id, doc));
    p.catch(() => state.geometry.delete(id));
    state.geometry.set(id, p);
  }
  return p;
}

const INLINE = /^scenario:([0-9]+)$/;

/**
 * The network list: the API's networks, then one entry per stored scenario that carries its own
 * (inline) network — the API names those `scenario:<id>`, serves their GeoJSON and runs their
 * design, but lists only catalogue and built-in networks.
 */
function listNetworks(): void {
  const known = new Set(state.apiNetworks.map((n) => n.id));
  const inline = state.scenarios
    .filter((s) => INLINE.test(s.network) && !known.has(s.network))
    .map((s): api.NetworkSummary => ({
      id: s.network,
      name: `${s.name} (the scenario's own network)`,
      kind: "inline",
      zones: 0,
      nodes: 0,
      links: 0,
      available: "local",
      coordinateSystem: "as in the scenario",
    }));
  state.networks = [...state.apiNetworks, ...inline];
}

/** For an inline network: reads its zone count from the scenario's JSON (zones are nodes 1..zones). */
async function inlineZoneCount(id: string): Promise<void> {
  const m = INLINE.exec(id);
  const n = networkById(id);
  if (!m || !n || n.zones > 0) return;
  const body = (await api.getScenario(Number(m[1]))).body as { network?: { zones?: number; links?: unknown[]; nodes?: unknown[] } };
  n.zones = Number(body?.network?.zones) || 0;
  n.links = body?.network?.links?.length ?? 0;
  n.nodes = body?.network?.nodes?.length ?? 0;
}

/** Puts the map in a network's frame (zones, base map or not, view). */
async function enterFrame(g: Geometry): Promise<void> {
  await tollMap.setFrame(g.id, g.links, g.zones, g.lonlat);
  // The API's note says how the frame was made, e.g. "state-plane-feet coordinates moved and scaled into a 0.2° box …; no base map".
  note(g.lonlat ? "" : `Drawn in a local frame: ${g.note || "the coordinates are not longitude/latitude; no base map"}`);
}

function renderNetworkOptions(): void {
  const current = el.network.value;
  el.network.replaceChildren(
    ...state.networks.map((n) => {
      const label = n.kind === "inline" ? n.name : `${n.name} (${n.links} links${n.available === "local" ? "" : ", needs download"})`;
      const o = h("option", { text: label });
      o.value = n.id;
      return o;
    }),
  );
  const preferred = current || defaultNetwork();
  if (preferred) el.network.value = preferred;
}

/**
 * The network shown first: Sioux Falls when this server has its files; otherwise (no internet
 * and no mirror) the built-in grid city, said out loud — as the README's main command does.
 */
function defaultNetwork(): string | undefined {
  const sf = networkById(DEFAULT_NETWORK);
  if (sf?.available === "local") return sf.id;
  const fallback = networkById(FALLBACK_NETWORK) ?? state.networks.find((n) => n.available === "local");
  if (sf && fallback) {
    state.fallbackNote = `${sf.name} is not available on this server (its files are neither cached nor in TOLLKIT_NETWORK_MIRROR; \`tollkit networks fetch ${sf.id}\` downloads them): showing ${fallback.name}.`;
  }
  return fallback?.id ?? state.networks[0]?.id;
}

function renderScenarioOptions(): void {
  const net = el.network.value;
  const current = el.scenario.value;
  const options = state.scenarios.filter((s) => s.network === net);
  const baseline = h("option", { text: "No tolls (baseline assignment)" });
  baseline.value = "";
  el.scenario.replaceChildren(
    baseline,
    ...options.map((s) => {
      const o = h("option", { text: `Design: ${s.name}` });
      o.value = String(s.id);
      return o;
    }),
  );
  if (options.some((s) => String(s.id) === current)) el.scenario.value = current;
  // A scenario's own network has no baseline assignment through the API: only its design.
  if (networkById(net)?.kind === "inline") {
    baseline.disabled = true;
    if (!el.scenario.value && options[0]) el.scenario.value = String(options[0].id);
  }
  updateStartLabel();
}

function updateStartLabel(): void {
  const design = el.scenario.value !== "";
  el.start.textContent = design ? "Design tolls" : "Run assignment";
  const s = state.scenarios.find((x) => String(x.id) === el.scenario.value);
  el.scenarioInfo.textContent = design
    ? `Toll design "${s?.name ?? ""}": the scenario sets the instrument, the objective and the method.`
    : "The follower equilibrium with the network's own tolls.";
}

async function showNetwork(id: string): Promise<void> {
  const token = ++state.viewToken;
  const describe = () => {
    const info = networkById(id);
    el.networkInfo.textContent =
      (info ? `${info.zones} zones, ${info.nodes} nodes, ${info.links} links; coordinates: ${info.coordinateSystem}.` : "") +
      (state.fallbackNote && id !== DEFAULT_NETWORK ? ` ${state.fallbackNote}` : "");
  };
  describe();
  try {
    const g = await geometry(id);
    if (token !== state.viewToken) return;
    describe(); // an inline network's dimensions are known once its scenario is read
    await enterFrame(g);
    await tollMap.showNetwork(g.links);
    renderLegend(el.legend, "network", 0, 0, g.zones.features.length > 0);
    setView(`network:${id}`);
  } catch (e) {
    if (token === state.viewToken) note(`Cannot draw ${id}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- runs

function runLabel(r: Run): string {
  const what = r.kind === "design" ? `design${r.scenario ? ` of scenario ${scenarioName(r.scenario)}` : ""}` : "assignment";
  return `#${r.id} ${what} on ${networkById(r.network)?.kind === "inline" ? "its own network" : r.network}`;
}

function scenarioName(id: number): string {
  return state.scenarios.find((s) => s.id === id)?.name ?? `#${id}`;
}

async function refreshRuns(): Promise<void> {
  try {
    state.runs = await api.listRuns();
  } catch (e) {
    el.apiStatus.textContent = `API: ${(e as Error).message}`;
    return;
  }
  el.runsEmpty.hidden = state.runs.length > 0;
  el.runs.replaceChildren(
    ...state.runs.map((r) => {
      const btn = h("button", { class: "run-button", text: runLabel(r) });
      btn.type = "button";
      btn.disabled = r.status !== "done";
      btn.addEventListener("click", () => (location.hash = `run=${r.id}`));
      const status = h("span", { class: `run-status status-${r.status}`, text: r.status });
      const li = h("li", {}, btn, status);
      li.dataset.run = String(r.id);
      return li;
    }),
  );
  const done = state.runs.filter((r) => r.status === "done");
  for (const [sel, pick] of [
    [el.compareA, done[1]],
    [el.compareB, done[0]],
  ] as const) {
    const current = sel.value;
    sel.replaceChildren(
      ...done.map((r) => {
        const o = h("option", { text: runLabel(r) });
        o.value = String(r.id);
        return o;
      }),
    );
    if (done.some((r) => String(r.id) === current)) sel.value = current;
    else if (pick) sel.value = String(pick.id);
  }
  byId<HTMLButtonElement>("compare").disabled = done.length < 2;
}

/** Stores a scenario file picked by the user (POST /api/scenarios) and selects it. */
async function onScenarioFile(): Promise<void> {
  el.formError.textContent = "";
  const file = el.scenarioFile.files?.[0];
  if (!file) return;
  let body: unknown;
  try {
    body = JSON.parse(await file.text());
  } catch (e) {
    el.formError.textContent = `${file.name}: not valid JSON (${(e as Error).message})`;
    return;
  }
  try {
    const stored = await api.createScenario(body);
    state.scenarios = await api.listScenarios();
    listNetworks();
    renderNetworkOptions();
    if (networkById(stored.network) && el.network.value !== stored.network) {
      el.network.value = stored.network;
      location.hash = `network=${stored.network}`;
    }
    renderScenarioOptions();
    el.scenario.value = String(stored.id);
    updateStartLabel();
  } catch (e) {
    el.formError.textContent = `${file.name}: ${(e as Error).message}`;
  } finally {
    el.scenarioFile.value = "";
  }
}

/** The number in a settings field; undefined when it is empty; throws (naming the field) when it is not a number. */
function numberOrUndefined(input: HTMLInputElement): number | undefined {
  const label = input.labels?.[0]?.textContent ?? input.name;
  if (input.validity.badInput) throw new Error(`${label}: not a number`);
  if (input.value.trim() === "") return undefined;
  const v = Number(input.value);
  if (!Number.isFinite(v)) throw new Error(`${label}: not a number`);
  return v;
}

async function onSubmit(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  el.formError.textContent = "";
  const network = el.network.value;
  if (!network) {
    el.formError.textContent = "Choose a network first.";
    return;
  }
  if (networkById(network)?.kind === "inline" && !el.scenario.value) {
    el.formError.textContent = "This network belongs to a scenario: run its design (assignments run on catalogue and built-in networks).";
    return;
  }
  let request: api.RunRequest;
  try {
    request = runRequest(network);
  } catch (e) {
    el.formError.textContent = (e as Error).message;
    return;
  }
  el.start.disabled = true;
  try {
    const { id } = await api.startRun(request);
    await refreshRuns();
    follow(id);
  } catch (e) {
    // The API names the field (e.g. settings.gap) and what it expected.
    el.formError.textContent = (e as Error).message;
  } finally {
    el.start.disabled = false;
  }
}

/** The run request the form describes (settings use the CLI's option names in camelCase). */
function runRequest(network: string): api.RunRequest {
  let request: api.RunRequest;
  if (el.scenario.value) {
    const maxSeconds = numberOrUndefined(el.maxSeconds);
    request = { kind: "design", scenario: Number(el.scenario.value), settings: maxSeconds ? { maxSeconds } : {} };
  } else {
    const settings: api.AssignSettings = { algorithm: el.algorithm.value, objective: el.objective.value };
    const gap = numberOrUndefined(el.gap);
    const maxIterations = numberOrUndefined(el.maxIterations);
    const maxSeconds = numberOrUndefined(el.maxSeconds);
    if (gap !== undefined) settings.gap = gap;
    if (maxIterations !== undefined) settings.maxIterations = maxIterations;
    if (maxSeconds !== undefined) settings.maxSeconds = maxSeconds;
    request = { kind: "assign", network, settings };
  }
  return request;
}

/** Follows a run live: progress bar, live convergence chart, then its results. */
function follow(id: number): void {
  state.live?.stop();
  const points: GapPoint[] = [];
  const history: HistoryPoint[] = [];
  el.progressCard.hidden = false;
  el.cancel.hidden = false;
  el.progress.removeAttribute("value"); // indeterminate until the first progress event
  el.progressText.textContent = `Run #${id} queued…`;
  const live = {
    id,
    points,
    stop: api.followRun(id, {
      onProgress: (p: RunProgress) => {
        if (typeof p.fraction === "number") el.progress.value = Math.max(0, Math.min(1, p.fraction));
        else el.progress.removeAttribute("value");
        if (typeof p.relativeGap === "number") {
          el.progressText.textContent = `Run #${id}: iteration ${p.iteration}, relative gap ${formatGap(p.relativeGap)}${
            typeof p.fraction === "number" ? ` (${formatPercent(p.fraction)})` : ""
          }`;
          if (points.length === 0 || points[points.length - 1].iteration !== p.iteration)
            points.push({ iteration: p.iteration, relativeGap: p.relativeGap });
          if (document.body.dataset.view === `live:${id}`) {
            el.convergenceCaption.textContent = "Convergence: relative gap per iteration (log scale)";
            drawConvergence(el.convergence, points);
          }
        } else {
          // A toll design: equilibrium solves, the phase and the last objective value.
          el.progressText.textContent = `Run #${id}: ${p.phase ?? "design"}, ${p.iteration} equilibrium solves${
            typeof p.value === "number" ? `, objective ${formatQuantity(p.value)}` : ""
          }`;
          if (typeof p.value === "number") history.push({ solves: p.iteration, value: p.value, accepted: true });
          if (document.body.dataset.view === `live:${id}`) {
            el.convergenceCaption.textContent = "Design progress: objective per equilibrium solve";
            drawHistory(el.convergence, history, "objective");
          }
        }
      },
      onEnd: (status) => {
        state.live = null;
        el.cancel.hidden = true;
        void refreshRuns();
        if (status === "done") {
          el.progress.value = 1;
          el.progressText.textContent = `Run #${id} done.`;
          location.hash = `run=${id}`;
        } else {
          void api.getRun(id).then(
            (r) => (el.progressText.textContent = `Run #${id} ${status}${r.error ? `: ${r.error}` : "."}`),
            () => (el.progressText.textContent = `Run #${id} ${status}.`),
          );
        }
      },
      onError: (message) => (el.progressText.textContent = `Run #${id}: ${message}`),
    }),
  };
  state.live = live;
  // Show the live convergence while it runs.
  el.resultsTitle.textContent = `Run #${id} (running)`;
  el.resultsSubtitle.textContent = "Results appear when the run is done.";
  el.metrics.replaceChildren();
  el.warnings.replaceChildren();
  el.surfaceFigure.hidden = true;
  el.linksSection.hidden = true;
  el.convergenceFigure.hidden = false;
  drawConvergence(el.convergence, points);
  setView(`live:${id}`);
}

async function onCancel(): Promise<void> {
  if (!state.live) return;
  try {
    await api.cancelRun(state.live.id);
  } catch (e) {
    el.progressText.textContent = (e as Error).message;
  }
}

/** Shows a finished run: flows on the map, metrics, convergence, surface, links table. */
async function showRun(id: number): Promise<void> {
  const token = ++state.viewToken;
  performance.mark("tollkit:show", { detail: { run: id } });
  try {
    const run = await api.getRun(id, true);
    if (token !== state.viewToken) return;
    if (run.status !== "done") {
      if (run.status === "queued" || run.status === "running") {
        if (state.live?.id !== id) follow(id);
        return;
      }
      el.resultsTitle.textContent = `${runLabel(run)}: ${run.status}`;
      el.resultsSubtitle.textContent = run.error ?? "";
      return;
    }
    if (el.network.value !== run.network && networkById(run.network)) {
      el.network.value = run.network;
      renderScenarioOptions();
    }
    // The form shows what produced the run, ready to run it again.
    const scenario = run.kind === "design" && run.scenario !== null ? String(run.scenario) : "";
    if ([...el.scenario.options].some((o) => o.value === scenario)) {
      el.scenario.value = scenario;
      updateStartLabel();
    }
    const flowsDoc = await api.getRunFlowsGeojson(id);
    if (token !== state.viewToken) return;
    performance.mark("tollkit:results", { detail: { run: id } });
    // The flows carry the geometry, the frame and (through from/to) the zones: no second download.
    await inlineZoneCount(run.network);
    const g = geometryOf(run.network, flowsDoc);
    const links = g.links;
    if (!state.geometry.has(run.network)) state.geometry.set(run.network, Promise.resolve(g));
    await enterFrame(g);
    await tollMap.showFlows(links);
    const idle = tollMap.onceIdle();
    setView(`run:${id}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { run: id } }));

    let maxFlow = 0;
    let tolled = 0;
    for (const f of links.features) {
      maxFlow = Math.max(maxFlow, Number(f.properties.flow) || 0);
      if (Number(f.properties.toll) > 0) tolled++;
    }
    renderLegend(el.legend, "flows", maxFlow, tolled, g.zones.features.length > 0);
    el.resultsTitle.textContent = runLabel(run);
    el.resultsSubtitle.textContent = runSubtitle(run);
    renderMetrics(el.metrics, runMetrics(run));
    renderWarnings(run);
    renderConvergence(run);
    const surface = surfaceOf(run.summary ?? {});
    el.surfaceFigure.hidden = !surface;
    if (surface) {
      el.surfaceCaption.textContent = `Toll response surface: ${drawSurface(el.surface, surface)}`;
    }
    renderLinks(links.features, "flows");
  } catch (e) {
    if (token === state.viewToken) {
      el.resultsTitle.textContent = `Run #${id}`;
      el.resultsSubtitle.textContent = `Cannot show this run: ${(e as Error).message}`;
    }
  }
}

function runSubtitle(run: Run): string {
  const s = run.summary ?? {};
  const parts: string[] = [];
  if (typeof s.algorithm === "string") parts.push(`${s.algorithm}${typeof s.objective === "string" ? `, ${s.objective}` : ""}`);
  if (typeof s.method === "string") parts.push(`method ${s.method}`);
  if (typeof s.converged === "boolean") parts.push(s.converged ? "converged" : "not converged");
  if (run.finishedAt) parts.push(`finished ${new Date(run.finishedAt).toLocaleString()}`);
  return parts.join(" · ");
}

/** The convergence chart of a run: relative gap per iteration (assignment) or objective per equilibrium solve (design). */
function renderConvergence(run: Run): void {
  const c = run.convergence ?? {};
  const col = (k: string) => (Array.isArray(c[k]) ? (c[k] as unknown[]) : []);
  if (run.kind === "design") {
    const solves = col("solves");
    const value = col("value");
    const accepted = col("accepted");
    const pts: HistoryPoint[] = solves.map((x, i) => ({ solves: Number(x), value: Number(value[i]), accepted: accepted[i] === true }));
    el.convergenceFigure.hidden = pts.length === 0;
    const obj = String(run.summary?.objective ?? "objective");
    const label = obj === "tstt" ? "TSTT" : obj;
    el.convergenceCaption.textContent = `Design progress: ${label} per equilibrium solve (line: accepted iterates)`;
    if (pts.length) drawHistory(el.convergence, pts, label);
  } else {
    const it = col("iteration");
    const gap = col("relativeGap");
    const pts: GapPoint[] = it.map((x, i) => ({ iteration: Number(x), relativeGap: Number(gap[i]) }));
    el.convergenceFigure.hidden = pts.length === 0;
    el.convergenceCaption.textContent = "Convergence: relative gap per iteration (log scale)";
    if (pts.length) drawConvergence(el.convergence, pts, typeof run.settings.gap === "number" ? run.settings.gap : undefined);
  }
}

function renderWarnings(run: Run): void {
  const w = run.summary?.warnings;
  const list = Array.isArray(w) ? w.filter((x): x is string => typeof x === "string") : [];
  el.warnings.replaceChildren(...list.map((t) => h("li", { text: t })));
}

function renderLinks(features: LinkFeature[], mode: "flows" | "difference"): void {
  el.linksSection.hidden = features.length === 0;
  renderLinksTable(el.linksTable, el.linksTitle, features, mode, (link) => {
    if (!tollMap.showLink(link)) note(`Link ${link} is not on the map.`);
  });
}

// ---------------------------------------------------------------- compare

async function showCompare(a: number, b: number): Promise<void> {
  const token = ++state.viewToken;
  el.compareError.textContent = "";
  try {
    const c = await api.compareRuns(a, b);
    if (token !== state.viewToken) return;
    const g = await geometry(c.network);
    if (token !== state.viewToken) return;
    const byLink = new Map(c.links.map((d) => [d.link, d]));
    const features: LinkFeature[] = g.links.features.map((f) => ({
      ...f,
      properties: { ...f.properties, ...(byLink.get(f.properties.link) ?? {}), link: f.properties.link },
    }));
    const links: LinkCollection = { type: "FeatureCollection", features };
    await enterFrame(g);
    await tollMap.showDifference(links);
    const idle = tollMap.onceIdle();
    setView(`compare:${a},${b}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { compare: [a, b] } }));
    let maxAbs = 0;
    for (const d of c.links) maxAbs = Math.max(maxAbs, Math.abs(d.flowDifference));
    renderLegend(el.legend, "difference", maxAbs, 0, g.zones.features.length > 0);
    el.resultsTitle.textContent = `Compare run #${a} (A) with run #${b} (B)`;
    el.resultsSubtitle.textContent = `${c.network}: differences are B − A.`;
    renderMetrics(el.metrics, compareMetrics(c));
    el.warnings.replaceChildren();
    el.convergenceFigure.hidden = true;
    el.surfaceFigure.hidden = true;
    renderLinks(features, "difference");
    el.compareA.value = String(a);
    el.compareB.value = String(b);
  } catch (e) {
    if (token === state.viewToken) el.compareError.textContent = `Cannot compare: ${(e as Error).message}`;
  }
}

// ---------------------------------------------------------------- routing and start-up

async function route(): Promise<void> {
  const params = new URLSearchParams(location.hash.slice(1));
  const run = Number(params.get("run"));
  const cmp = params.get("compare")?.split(",").map(Number);
  if (Number.isInteger(run) && run > 0) await showRun(run);
  else if (cmp && cmp.length === 2 && cmp.every((x) => Number.isInteger(x) && x > 0)) await showCompare(cmp[0], cmp[1]);
  else {
    const net = params.get("network");
    if (net && networkById(net)) {
      el.network.value = net;
      renderScenarioOptions();
    }
    if (el.network.value) await showNetwork(el.network.value);
  }
}

async function init(): Promise<void> {
  el.form.addEventListener("submit", (e) => void onSubmit(e as SubmitEvent));
  el.cancel.addEventListener("click", () => void onCancel());
  el.network.addEventListener("change", () => {
    renderScenarioOptions();
    location.hash = `network=${el.network.value}`;
  });
  el.scenario.addEventListener("change", updateStartLabel);
  el.scenarioFile.addEventListener("change", () => void onScenarioFile());
  el.token.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
  api.setToken(el.token.value || null);
  el.token.addEventListener("change", () => {
    sessionStorage.setItem(TOKEN_KEY, el.token.value);
    api.setToken(el.token.value || null);
  });
  el.compareForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const a = Number(el.compareA.value);
    const b = Number(el.compareB.value);
    if (!a || !b) el.compareError.textContent = "Choose two finished runs.";
    else if (a === b) el.compareError.textContent = "Choose two different runs.";
    else location.hash = `compare=${a},${b}`;
  });
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
  window.addEventListener("hashchange", () => void route());

  try {
    const health = await api.getHealth();
    el.apiStatus.textContent = `API ${health.version ?? ""} connected`;
    el.tokenRow.hidden = !health.authRequired;
  } catch (e) {
    el.apiStatus.textContent = `API unreachable: ${(e as Error).message}`;
  }
  try {
    [state.apiNetworks, state.scenarios] = await Promise.all([api.listNetworks(), api.listScenarios()]);
    listNetworks();
  } catch (e) {
    el.formError.textContent = (e as Error).message;
  }
  renderNetworkOptions();
  renderScenarioOptions();
  await refreshRuns();
  const live = state.runs.find((r) => r.status === "running" || r.status === "queued");
  if (live && !location.hash) follow(live.id);
  await route();
}

void init();
