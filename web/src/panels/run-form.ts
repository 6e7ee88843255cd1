/**
 * The "New run" form: the network (the page's network, shared with the study editor), a stored
 * scenario's design or the no-toll baseline assignment, a scenario file to add, the assignment
 * settings; and the progress card that follows a run live (Server-Sent Events).
 */
import * as api from "../api.js";
import type { Run, RunProgress } from "../api.js";
import { drawConvergence, drawHistory, type GapPoint, type HistoryPoint } from "../chart.js";
import { el, setView } from "../context.js";
import { h } from "../dom.js";
import { formatGap, formatPercent, formatQuantity } from "../format.js";
import { INLINE, networkById } from "../geometry.js";
import { networkDetail, networkId, networks, scenarios, shownRun, view } from "../store.js";
import { refreshRuns } from "./runs.js";

/** The network the map opens on, and the built-in one used when its files are not available. */
const DEFAULT_NETWORK = "sioux-falls";
const FALLBACK_NETWORK = "grid-city";

let apiNetworks: api.NetworkSummary[] = [];
let fallback = "";
/** Run being followed live, and the function that stops following it. */
let live: { id: number; stop: () => void } | null = null;
const details = new Map<string, Promise<api.NetworkDetail>>();

/** Why the map did not open on Sioux Falls, when it did not. */
export function fallbackNote(): string {
  return fallback;
}

/** True while run `id` is followed live. */
export function isFollowing(id: number): boolean {
  return live?.id === id;
}

/**
 * The network list: the API's networks, then one entry per stored scenario that carries its own
 * (inline) network — the API names those `scenario:<id>`, serves their GeoJSON and runs their
 * design, but lists only catalogue and built-in networks.
 */
function listNetworks(): void {
  const known = new Set(apiNetworks.map((n) => n.id));
  const inline = scenarios.value
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
  networks.value = [...apiNetworks, ...inline];
}

function renderNetworkOptions(): void {
  const current = el.network.value;
  el.network.replaceChildren(
    ...networks.value.map((n) => {
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
  const other = networkById(FALLBACK_NETWORK) ?? networks.value.find((n) => n.available === "local");
  if (sf && other) {
    fallback = `${sf.name} is not available on this server (its files are neither cached nor in TOLLKIT_NETWORK_MIRROR; \`tollkit networks fetch ${sf.id}\` downloads them): showing ${other.name}.`;
  }
  return other?.id ?? networks.value[0]?.id;
}

function renderScenarioOptions(): void {
  const net = el.network.value;
  const current = el.scenario.value;
  const options = scenarios.value.filter((s) => s.network === net);
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
  const s = scenarios.value.find((x) => String(x.id) === el.scenario.value);
  el.scenarioInfo.textContent = design
    ? `Toll design "${s?.name ?? ""}": the scenario sets the instrument, the objective and the method.`
    : "The follower equilibrium with the network's own tolls.";
}

/** The network's detail (units, cost weights), cached per network. */
export function loadNetworkDetail(id: string): Promise<api.NetworkDetail | null> {
  if (INLINE.test(id)) return Promise.resolve(null);
  let p = details.get(id);
  if (!p) {
    p = api.getNetwork(id);
    p.catch(() => details.delete(id));
    details.set(id, p);
  }
  return p.catch(() => null);
}

/** Makes `id` the page's network: the select, the store's `networkId` and `networkDetail` (awaited), the scenario list. */
export async function selectNetwork(id: string): Promise<void> {
  if (el.network.value !== id) {
    el.network.value = id;
    renderScenarioOptions();
  }
  networkId.value = id;
  const d = await loadNetworkDetail(id);
  if (networkId.value === id) networkDetail.value = d;
}

/** The form shows what produced a run, ready to run it again. */
export function showRunSource(run: Run): void {
  const scenario = run.kind === "design" && run.scenario !== null ? String(run.scenario) : "";
  if ([...el.scenario.options].some((o) => o.value === scenario)) {
    el.scenario.value = scenario;
    updateStartLabel();
  }
}

/** Reloads the stored scenarios (the store's `scenarios`) and the lists that show them. */
export async function refreshScenarios(): Promise<void> {
  scenarios.value = await api.listScenarios();
  listNetworks();
  renderNetworkOptions();
  renderScenarioOptions();
}

/** Stores a scenario (POST /api/scenarios), goes to its network and selects it in the form. */
export async function storeScenario(body: unknown): Promise<api.StoredScenario> {
  const stored = await api.createScenario(body);
  await refreshScenarios();
  if (networkById(stored.network) && el.network.value !== stored.network) {
    el.network.value = stored.network;
    location.hash = `network=${stored.network}`;
  }
  renderScenarioOptions();
  el.scenario.value = String(stored.id);
  updateStartLabel();
  return stored;
}

/** Stores a scenario file picked by the user and selects it. */
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
    await storeScenario(body);
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
    await startAndFollow(request);
  } catch (e) {
    // The API names the field (e.g. settings.gap) and what it expected.
    el.formError.textContent = (e as Error).message;
  } finally {
    el.start.disabled = false;
  }
}

/** Starts a run (POST /api/runs) and follows it live; throws the API's message. */
export async function startAndFollow(request: api.RunRequest): Promise<number> {
  const { id } = await api.startRun(request);
  await refreshRuns();
  follow(id);
  return id;
}

/** The run request the form describes (settings use the CLI's option names in camelCase). */
function runRequest(network: string): api.RunRequest {
  if (el.scenario.value) {
    const maxSeconds = numberOrUndefined(el.maxSeconds);
    return { kind: "design", scenario: Number(el.scenario.value), settings: maxSeconds ? { maxSeconds } : {} };
  }
  const settings: api.AssignSettings = {
    algorithm: el.algorithm.value as api.AssignSettings["algorithm"],
    objective: el.objective.value as api.AssignSettings["objective"],
  };
  const gap = numberOrUndefined(el.gap);
  const maxIterations = numberOrUndefined(el.maxIterations);
  const maxSeconds = numberOrUndefined(el.maxSeconds);
  if (gap !== undefined) settings.gap = gap;
  if (maxIterations !== undefined) settings.maxIterations = maxIterations;
  if (maxSeconds !== undefined) settings.maxSeconds = maxSeconds;
  return { kind: "assign", network, settings };
}

/** Follows a run live: progress bar, live convergence chart, then its results. */
export function follow(id: number): void {
  live?.stop();
  const points: GapPoint[] = [];
  const history: HistoryPoint[] = [];
  el.progressCard.hidden = false;
  el.cancel.hidden = false;
  el.progress.removeAttribute("value"); // indeterminate until the first progress event
  el.progressText.textContent = `Run #${id} queued…`;
  const showing = () => view.value === `live:${id}`;
  live = {
    id,
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
          if (showing()) {
            el.convergenceCaption.textContent = "Convergence: relative gap per iteration (log scale)";
            drawConvergence(el.convergence, points);
          }
        } else {
          // A toll design: equilibrium solves, the phase and the last objective value.
          el.progressText.textContent = `Run #${id}: ${p.phase ?? "design"}, ${p.iteration} equilibrium solves${
            typeof p.value === "number" ? `, objective ${formatQuantity(p.value)}` : ""
          }`;
          if (typeof p.value === "number") history.push({ solves: p.iteration, value: p.value, accepted: true });
          if (showing()) {
            el.convergenceCaption.textContent = "Design progress: objective per equilibrium solve";
            drawHistory(el.convergence, history, "objective");
          }
        }
      },
      onEnd: (status) => {
        live = null;
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
  // Show the live convergence while it runs.
  el.resultsTitle.textContent = `Run #${id} (running)`;
  el.resultsSubtitle.textContent = "Results appear when the run is done.";
  el.metrics.replaceChildren();
  el.warnings.replaceChildren();
  el.surfaceFigure.hidden = true;
  el.linksSection.hidden = true;
  el.exports.hidden = true;
  el.convergenceFigure.hidden = false;
  drawConvergence(el.convergence, points);
  shownRun.value = null;
  setView(`live:${id}`);
}

async function onCancel(): Promise<void> {
  if (!live) return;
  try {
    await api.cancelRun(live.id);
  } catch (e) {
    el.progressText.textContent = (e as Error).message;
  }
}

/** Binds the form and loads the networks and scenarios it lists. */
export async function initRunForm(): Promise<void> {
  el.form.addEventListener("submit", (e) => void onSubmit(e as SubmitEvent));
  el.cancel.addEventListener("click", () => void onCancel());
  el.network.addEventListener("change", () => {
    renderScenarioOptions();
    location.hash = `network=${el.network.value}`;
  });
  el.scenario.addEventListener("change", updateStartLabel);
  el.scenarioFile.addEventListener("change", () => void onScenarioFile());
  try {
    [apiNetworks, scenarios.value] = await Promise.all([api.listNetworks(), api.listScenarios()]);
    listNetworks();
  } catch (e) {
    el.formError.textContent = (e as Error).message;
  }
  renderNetworkOptions();
  renderScenarioOptions();
}

/** The live run to follow at start-up (none when the address names a view). */
export function liveRun(list: Run[]): Run | undefined {
  return list.find((r) => r.status === "running" || r.status === "queued");
}
