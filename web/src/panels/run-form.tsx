/**
 * The "New run" form (Preact, around the store): the network (the store's `networkId`, shared
 * with the study editor), a stored scenario's design or the no-toll baseline assignment, a
 * scenario file to add, the assignment settings, the API token where the server needs one; and
 * the progress card that follows a run live (Server-Sent Events) and feeds the results panel's
 * live chart.
 */
import { computed, signal } from "@preact/signals";
import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import * as api from "../api.js";
import type { Run, RunProgress } from "../api.js";
import type { GapPoint, HistoryPoint } from "../chart.js";
import { setView } from "../context.js";
import { formatGap, formatPercent, formatQuantity } from "../format.js";
import { INLINE, networkById } from "../geometry.js";
import { networkDetail, networkId, networks, results, scenarios, view } from "../store.js";
import { refreshRuns } from "./runs.js";

/** The network the map opens on, and the built-in one used when its files are not available. */
const DEFAULT_NETWORK = "sioux-falls";
const FALLBACK_NETWORK = "grid-city";
const TOKEN_KEY = "tollkit.token";

const apiNetworks = signal<api.NetworkSummary[]>([]);
/** The chosen stored scenario ("" : the no-toll baseline assignment). */
const choice = signal("");
const formError = signal("");
const starting = signal(false);
/** Whether this server needs a bearer token for writes (from GET /api/health). */
export const authRequired = signal(false);
/** The run followed live: the progress card's state. */
const progress = signal<{ id: number; fraction: number | null; text: string; running: boolean } | null>(null);

/** Run being followed live, and the function that stops following it. */
let live: { id: number; stop: () => void } | null = null;
let fallback = "";
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
  const known = new Set(apiNetworks.value.map((n) => n.id));
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
  networks.value = [...apiNetworks.value, ...inline];
}

/**
 * The network shown first: Sioux Falls when this server has its files; otherwise (no internet
 * and no mirror) the built-in grid city, said out loud — as the README's main command does.
 */
export function defaultNetwork(): string | undefined {
  const sf = networkById(DEFAULT_NETWORK);
  if (sf?.available === "local") return sf.id;
  const other = networkById(FALLBACK_NETWORK) ?? networks.value.find((n) => n.available === "local");
  if (sf && other) {
    fallback = `${sf.name} is not available on this server (its files are neither cached nor in TOLLKIT_NETWORK_MIRROR; \`tollkit networks fetch ${sf.id}\` downloads them): showing ${other.name}.`;
  }
  return other?.id ?? networks.value[0]?.id;
}

/** The designs offered for the page's network, and the effective choice among them. */
const scenarioOptions = computed(() => {
  const net = networkId.value;
  const list = scenarios.value.filter((s) => s.network === net);
  // A scenario's own network has no baseline assignment through the API: only its design.
  const inline = networkById(net)?.kind === "inline";
  let value = list.some((s) => String(s.id) === choice.value) ? choice.value : "";
  if (inline && !value && list[0]) value = String(list[0].id);
  return { list, value, inline };
});

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

/** Makes `id` the page's network: the store's `networkId` and `networkDetail` (awaited). */
export async function selectNetwork(id: string): Promise<void> {
  networkId.value = id;
  const d = await loadNetworkDetail(id);
  if (networkId.value === id) networkDetail.value = d;
}

/** The form shows what produced a run, ready to run it again. */
export function showRunSource(run: Run): void {
  const scenario = run.kind === "design" && run.scenario !== null ? String(run.scenario) : "";
  if (scenario === "" || scenarioOptions.value.list.some((s) => String(s.id) === scenario)) choice.value = scenario;
}

/** Reloads the stored scenarios (the store's `scenarios`) and the network list that shows their own networks. */
export async function refreshScenarios(): Promise<void> {
  scenarios.value = await api.listScenarios();
  listNetworks();
}

/** Stores a scenario (POST /api/scenarios), goes to its network and selects it in the form. */
export async function storeScenario(body: unknown): Promise<api.StoredScenario> {
  const stored = await api.createScenario(body);
  await refreshScenarios();
  if (networkById(stored.network) && networkId.value !== stored.network) {
    networkId.value = stored.network;
    location.hash = `network=${stored.network}`;
  }
  choice.value = String(stored.id);
  return stored;
}

/** Starts a run (POST /api/runs) and follows it live; throws the API's message. */
export async function startAndFollow(request: api.RunRequest): Promise<number> {
  const { id } = await api.startRun(request);
  await refreshRuns();
  follow(id);
  return id;
}

/** Follows a run live: the progress card, the live convergence chart (the results panel's `live` view), then its results. */
export function follow(id: number): void {
  live?.stop();
  let gaps: GapPoint[] = [];
  let history: HistoryPoint[] = [];
  progress.value = { id, fraction: null, text: `Run #${id} queued…`, running: true };
  const update = (patch: Partial<NonNullable<typeof progress.value>>) => {
    if (progress.value?.id === id) progress.value = { ...progress.value, ...patch };
  };
  // The live chart, while the results panel shows this run.
  const draw = () => {
    if (view.value === `live:${id}`) results.value = { kind: "live", id, gaps, history };
  };
  live = {
    id,
    stop: api.followRun(id, {
      onProgress: (p: RunProgress) => {
        const fraction = typeof p.fraction === "number" ? Math.max(0, Math.min(1, p.fraction)) : null;
        if (typeof p.relativeGap === "number") {
          update({
            fraction,
            text: `Run #${id}: iteration ${p.iteration}, relative gap ${formatGap(p.relativeGap)}${
              typeof p.fraction === "number" ? ` (${formatPercent(p.fraction)})` : ""
            }`,
          });
          if (gaps.length === 0 || gaps[gaps.length - 1].iteration !== p.iteration)
            gaps = [...gaps, { iteration: p.iteration, relativeGap: p.relativeGap }];
        } else {
          // A toll design: equilibrium solves, the phase and the last objective value.
          update({
            fraction,
            text: `Run #${id}: ${p.phase ?? "design"}, ${p.iteration} equilibrium solves${
              typeof p.value === "number" ? `, objective ${formatQuantity(p.value)}` : ""
            }`,
          });
          if (typeof p.value === "number") history = [...history, { solves: p.iteration, value: p.value, accepted: true }];
        }
        draw();
      },
      onEnd: (status) => {
        live = null;
        update({ running: false });
        void refreshRuns();
        if (status === "done") {
          update({ fraction: 1, text: `Run #${id} done.` });
          location.hash = `run=${id}`;
        } else {
          void api.getRun(id).then(
            (r) => update({ text: `Run #${id} ${status}${r.error ? `: ${r.error}` : "."}` }),
            () => update({ text: `Run #${id} ${status}.` }),
          );
        }
      },
      onError: (message) => update({ text: `Run #${id}: ${message}` }),
    }),
  };
  // Show the live convergence while it runs.
  setView(`live:${id}`);
  draw();
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

/** Stores a scenario file picked by the user and selects it. */
async function onScenarioFile(input: HTMLInputElement): Promise<void> {
  formError.value = "";
  const file = input.files?.[0];
  if (!file) return;
  let body: unknown;
  try {
    body = JSON.parse(await file.text());
  } catch (e) {
    formError.value = `${file.name}: not valid JSON (${(e as Error).message})`;
    return;
  }
  try {
    await storeScenario(body);
  } catch (e) {
    formError.value = `${file.name}: ${(e as Error).message}`;
  } finally {
    input.value = "";
  }
}

interface SettingsFields {
  algorithm: HTMLSelectElement | null;
  objective: HTMLSelectElement | null;
  gap: HTMLInputElement | null;
  maxIterations: HTMLInputElement | null;
  maxSeconds: HTMLInputElement | null;
}

/** The run request the form describes (settings use the CLI's option names in camelCase). */
function runRequest(network: string, scenario: string, f: SettingsFields): api.RunRequest {
  if (scenario) {
    const maxSeconds = numberOrUndefined(f.maxSeconds!);
    return { kind: "design", scenario: Number(scenario), settings: maxSeconds ? { maxSeconds } : {} };
  }
  const settings: api.AssignSettings = {
    algorithm: f.algorithm!.value as api.AssignSettings["algorithm"],
    objective: f.objective!.value as api.AssignSettings["objective"],
  };
  const gap = numberOrUndefined(f.gap!);
  const maxIterations = numberOrUndefined(f.maxIterations!);
  const maxSeconds = numberOrUndefined(f.maxSeconds!);
  if (gap !== undefined) settings.gap = gap;
  if (maxIterations !== undefined) settings.maxIterations = maxIterations;
  if (maxSeconds !== undefined) settings.maxSeconds = maxSeconds;
  return { kind: "assign", network, settings };
}

function NetworkInfo() {
  const id = networkId.value;
  const info = networkById(id);
  return (
    <p id="network-info" class="hint">
      {info ? `${info.zones} zones, ${info.nodes} nodes, ${info.links} links; coordinates: ${info.coordinateSystem}.` : ""}
      {fallbackNote() && id !== DEFAULT_NETWORK ? ` ${fallbackNote()}` : ""}
    </p>
  );
}

function RunForm() {
  const fields = useRef<SettingsFields>({ algorithm: null, objective: null, gap: null, maxIterations: null, maxSeconds: null }).current;
  const opts = scenarioOptions.value;
  const design = opts.value !== "";
  const chosen = opts.list.find((s) => String(s.id) === opts.value);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    formError.value = "";
    const network = networkId.value;
    if (!network) {
      formError.value = "Choose a network first.";
      return;
    }
    if (opts.inline && !opts.value) {
      formError.value = "This network belongs to a scenario: run its design (assignments run on catalogue and built-in networks).";
      return;
    }
    let request: api.RunRequest;
    try {
      request = runRequest(network, opts.value, fields);
    } catch (e) {
      formError.value = (e as Error).message;
      return;
    }
    starting.value = true;
    try {
      await startAndFollow(request);
    } catch (e) {
      // The API names the field (e.g. settings.gap) and what it expected.
      formError.value = (e as Error).message;
    } finally {
      starting.value = false;
    }
  };
  return (
    <form id="run-form" class="card" noValidate onSubmit={(e) => void submit(e)}>
      <h2>New run</h2>
      <label for="network">Network</label>
      <select
        id="network"
        name="network"
        required
        value={networkId.value}
        onChange={(e) => (location.hash = `network=${(e.target as HTMLSelectElement).value}`)}
      >
        {networks.value.map((n) => (
          <option key={n.id} value={n.id}>
            {n.kind === "inline" ? n.name : `${n.name} (${n.links} links${n.available === "local" ? "" : ", needs download"})`}
          </option>
        ))}
      </select>
      <NetworkInfo />

      <label for="scenario">Tolls</label>
      <select id="scenario" name="scenario" value={opts.value} onChange={(e) => (choice.value = (e.target as HTMLSelectElement).value)}>
        <option value="" disabled={opts.inline}>
          No tolls (baseline assignment)
        </option>
        {opts.list.map((s) => (
          <option key={s.id} value={String(s.id)}>
            Design: {s.name}
          </option>
        ))}
      </select>
      <p id="scenario-info" class="hint">
        {design
          ? `Toll design "${chosen?.name ?? ""}": the scenario sets the instrument, the objective and the method.`
          : "The follower equilibrium with the network's own tolls."}
      </p>
      <label for="scenario-file">Add a scenario file (JSON)</label>
      <input
        id="scenario-file"
        type="file"
        accept=".json,application/json"
        onChange={(e) => void onScenarioFile(e.target as HTMLInputElement)}
      />
      <p class="hint">
        A scenario file as for <code>tollkit design</code>, e.g. from the repository's <code>scenarios/</code> folder.
      </p>

      <details id="settings">
        <summary>Assignment settings</summary>
        <div class="settings-grid">
          <label for="algorithm">Algorithm</label>
          <select id="algorithm" name="algorithm" ref={(e) => void (fields.algorithm = e)} defaultValue="bfw">
            <option value="bfw">Bi-conjugate Frank-Wolfe (bfw)</option>
            <option value="cfw">Conjugate Frank-Wolfe (cfw)</option>
            <option value="fw">Frank-Wolfe (fw)</option>
            <option value="msa">Method of successive averages (msa)</option>
            <option value="bush">Bush-based (bush)</option>
            <option value="aon">All-or-nothing (aon)</option>
          </select>
          <label for="objective">Objective</label>
          <select id="objective" name="objective" ref={(e) => void (fields.objective = e)} defaultValue="ue">
            <option value="ue">User equilibrium (ue)</option>
            <option value="so">System optimum (so)</option>
          </select>
          <label for="gap">Relative gap</label>
          <input
            id="gap"
            name="gap"
            type="number"
            inputMode="decimal"
            min="0"
            step="any"
            defaultValue="0.0001"
            ref={(e) => void (fields.gap = e)}
          />
          <label for="max-iterations">Max iterations</label>
          <input
            id="max-iterations"
            name="maxIterations"
            type="number"
            inputMode="numeric"
            min="1"
            step="1"
            placeholder="none"
            ref={(e) => void (fields.maxIterations = e)}
          />
          <label for="max-seconds">Max seconds</label>
          <input
            id="max-seconds"
            name="maxSeconds"
            type="number"
            inputMode="decimal"
            min="0"
            step="any"
            placeholder="none"
            ref={(e) => void (fields.maxSeconds = e)}
          />
        </div>
        <p class="hint">Toll designs use the scenario's own settings.</p>
      </details>

      <div id="token-row" hidden={!authRequired.value}>
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          defaultValue={sessionStorage.getItem(TOKEN_KEY) ?? ""}
          onChange={(e) => {
            const t = (e.target as HTMLInputElement).value;
            sessionStorage.setItem(TOKEN_KEY, t);
            api.setToken(t || null);
          }}
        />
        <p class="hint">This server needs a bearer token to start runs and store scenarios.</p>
      </div>

      <button id="start" type="submit" class="primary" disabled={starting.value}>
        {design ? "Design tolls" : "Run assignment"}
      </button>
      <p id="form-error" class="error" role="alert">
        {formError.value}
      </p>
    </form>
  );
}

function ProgressCard() {
  const p = progress.value;
  const bar = useRef<HTMLProgressElement>(null);
  // An unknown fraction is an indeterminate bar: no value attribute at all.
  useEffect(() => {
    if (!bar.current) return;
    if (p?.fraction === null || p?.fraction === undefined) bar.current.removeAttribute("value");
    else bar.current.value = p.fraction;
  }, [p?.fraction, p?.id]);
  const cancel = async () => {
    if (!live) return;
    try {
      await api.cancelRun(live.id);
    } catch (e) {
      if (progress.value) progress.value = { ...progress.value, text: (e as Error).message };
    }
  };
  return (
    <section id="progress-card" class="card" aria-labelledby="progress-title" hidden={!p}>
      <h2 id="progress-title">Progress</h2>
      <progress id="progress" ref={bar} max={1} aria-labelledby="progress-title" />
      <p id="progress-text" role="status" aria-live="polite">
        {p?.text ?? ""}
      </p>
      <button id="cancel" type="button" hidden={!p?.running} onClick={() => void cancel()}>
        Cancel run
      </button>
    </section>
  );
}

/** Renders the form and the progress card, and loads the networks and scenarios the form lists. */
export async function initRunForm(formRoot: HTMLElement, progressRoot: HTMLElement): Promise<void> {
  api.setToken(sessionStorage.getItem(TOKEN_KEY) || null);
  render(<RunForm />, formRoot);
  render(<ProgressCard />, progressRoot);
  try {
    const [nets, stored] = await Promise.all([api.listNetworks(), api.listScenarios()]);
    apiNetworks.value = nets;
    scenarios.value = stored;
    listNetworks();
  } catch (e) {
    formError.value = (e as Error).message;
  }
}

/** The live run to follow at start-up (none when the address names a view). */
export function liveRun(list: Run[]): Run | undefined {
  return list.find((r) => r.status === "running" || r.status === "queued");
}
