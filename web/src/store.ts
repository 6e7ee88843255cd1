/**
 * The page's one store: every panel reads and writes these signals (@preact/signals), none keeps
 * a private copy. The map is driven from one place ({@link ./map-sync.ts}), which pushes the
 * selection and the view into its feature state.
 *
 * - `networks`, `scenarios`, `runs`: what the API lists (networks also lists the inline networks
 *   of stored scenarios, see panels/run-form.ts);
 * - `networkId` and `networkDetail`: the network the page is on, with its units;
 * - `view`: what the map and the results panel show (mirrored to `document.body.dataset.view`
 *   for tests: the view's data has been handed to the map);
 * - `selectedLinks`: the links picked in the study editor (1-based link ids);
 * - `draft`: the study being edited, a scenario file's JSON;
 * - `shownRun`: the finished run the results panel shows (null for other views).
 */
import { computed, signal } from "@preact/signals";
import type { NetworkDetail, NetworkSummary, Run, ScenarioInput, StoredScenario } from "./api.js";

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

/** The finished run the results panel shows, as `GET /api/runs/:id` returned it (null: another view). */
export const shownRun = signal<Run | null>(null);

/** The network summary of the page's network. */
export const currentNetwork = computed(() => networks.value.find((n) => n.id === networkId.value));

let controller: AbortController | null = null;

/**
 * Starts a new view: aborts every request of the previous view (an AbortController per view, so
 * a slow answer for an old view never lands on the new one) and returns the new view's signal.
 */
export function beginView(): AbortSignal {
  controller?.abort();
  shownRun.value = null;
  controller = new AbortController();
  return controller.signal;
}

/** True for the error a fetch of an aborted view throws (to be ignored, not shown). */
export function isAbort(e: unknown): boolean {
  return (e as Error)?.name === "AbortError";
}
