/**
 * The page's one store: every panel reads and writes these signals (@preact/signals), none keeps
 * a private copy. The map is driven from one place ({@link ./map-sync.ts}), which pushes the
 * selection and the view into its feature state.
 *
 * - `networks`, `scenarios`, `runs`: what the API lists (networks also lists the inline networks
 *   of stored scenarios, see panels/run-form.tsx);
 * - `networkId` and `networkDetail`: the network the page is on, with its units;
 * - `view`: what the map and the results panel show (mirrored to `document.body.dataset.view`
 *   for tests: the view's data has been handed to the map);
 * - `selectedLinks`: the links picked in the study editor (1-based link ids);
 * - `draft`: the study being edited, a scenario file's JSON;
 * - `results`: what the results panel shows (a network, a live run, a run, a comparison), and
 *   `shownRun`, the finished run among them (null for other views).
 */
import { computed, signal } from "@preact/signals";
import type { Comparison, NetworkDetail, NetworkSummary, Run, ScenarioInput, StoredScenario } from "./api.js";
import type { GapPoint, HistoryPoint } from "./chart.js";
import type { LinkFeature } from "./geo.js";
import type { Metric } from "./panels.js";

export const networks = signal<NetworkSummary[]>([]);
export const scenarios = signal<StoredScenario[]>([]);
export const runs = signal<Run[]>([]);

/** The network the page is on (the run form's and the study editor's). */
export const networkId = signal<string>("");
/** Its `GET /api/networks/:id` (units, cost weights), null until loaded. */
export const networkDetail = signal<NetworkDetail | null>(null);

/** The view the map shows: `network:<id>`, `run:<id>`, `compare:<a>,<b>`, `live:<id>`. */
export const view = signal<string>("");

/** Links picked in the study editor (1-based ids). */
export const selectedLinks = signal<ReadonlySet<number>>(new Set());
/** True while the study editor is open: clicks on the map pick links instead of opening popups. */
export const picking = signal<boolean>(false);

/** The study being edited: a scenario file's JSON (as `tollkit design` reads it). */
export const draft = signal<ScenarioInput | null>(null);

/** What the results panel shows (panels/results.tsx draws it; the view loaders write it). */
export type ResultsView =
  /** A network before any run is opened. */
  | { kind: "network"; network: string }
  /** A run followed live: its relative gap per iteration (assignment) or objective per solve (design). */
  | { kind: "live"; id: number; gaps: GapPoint[]; history: HistoryPoint[] }
  /** A finished run, with its flows on the map. */
  | { kind: "run"; run: Run; features: LinkFeature[] }
  /** Two runs compared (B − A), with the per-link differences on the map. */
  | { kind: "compare"; a: Run; b: Run; comparison: Comparison; features: LinkFeature[] }
  /** An OD view of panels/od.tsx (incidence, select-link, trips not made): its metrics, then its tables. */
  | { kind: "od"; title: string; subtitle: string; metrics: Metric[] }
  /** A run that cannot be shown (failed, cancelled, or an error), in words. */
  | { kind: "message"; title: string; subtitle: string };

export const results = signal<ResultsView>({
  kind: "message",
  title: "Results",
  subtitle: "Run an assignment or a toll design, or pick one from the runs list.",
});

/** The finished run the results panel shows, as `GET /api/runs/:id` returned it (null: another view). */
export const shownRun = computed(() => {
  const r = results.value;
  return r.kind === "run" ? r.run : null;
});

/** The network summary of the page's network. */
export const currentNetwork = computed(() => networks.value.find((n) => n.id === networkId.value));

let controller: AbortController | null = null;

/**
 * Starts a new view: aborts every request of the previous view (an AbortController per view, so
 * a slow answer for an old view never lands on the new one) and returns the new view's signal.
 */
export function beginView(): AbortSignal {
  controller?.abort();
  controller = new AbortController();
  return controller.signal;
}

/** True for the error a fetch of an aborted view throws (to be ignored, not shown). */
export function isAbort(e: unknown): boolean {
  return (e as Error)?.name === "AbortError";
}
