/**
 * The runs list (Preact, around the store's `runs`): every run of the API, newest first, each a
 * button that opens its results (`#run=<id>`) once it is done, its status, a Rename button (the
 * name field: Enter saves with PATCH /api/runs/:id, Escape cancels) and, for finished runs, a
 * Delete button that asks once more in place (DELETE /api/runs/:id; a queued or running run is
 * cancelled from the progress card first).
 */
import { signal } from "@preact/signals";
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api.js";
import { TERMINAL, type Run } from "../api.js";
import { el } from "../context.js";
import { networkById } from "../geometry.js";
import { networkId, runs, scenarios, view } from "../store.js";

/** A run as the lists name it: `#12 design of scenario X on sioux-falls`. */
export function runLabel(r: Run): string {
  if (r.name) return `#${r.id} ${r.name}`;
  const what = r.kind === "design" ? `design${r.scenario ? ` of scenario ${scenarioName(r.scenario)}` : ""}` : "assignment";
  return `#${r.id} ${what} on ${networkById(r.network)?.kind === "inline" ? "its own network" : r.network}`;
}

function scenarioName(id: number): string {
  return scenarios.value.find((s) => s.id === id)?.name ?? `#${id}`;
}

/** The API's last refusal to list the runs (shown in the header's status line). */
const listError = signal<string | null>(null);

/** Reloads the runs (the store's `runs`); the list redraws itself. */
export async function refreshRuns(): Promise<void> {
  try {
    runs.value = await api.listRuns();
    listError.value = null;
  } catch (e) {
    listError.value = (e as Error).message;
    el.apiStatus.textContent = `API: ${(e as Error).message}`;
  }
}

/** True when the view on the map shows run `id` (alone or in a comparison). */
function viewShows(id: number): boolean {
  const v = view.value;
  if (v === `run:${id}`) return true;
  const m = /^compare:(\d+),(\d+)$/.exec(v);
  return !!m && (Number(m[1]) === id || Number(m[2]) === id);
}

/** The name field of a run: Enter saves, Escape cancels. */
function NameField({ run, onDone }: { run: Run; onDone: () => void }) {
  const [error, setError] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const id = `run-name-${run.id}`;
  const save = async () => {
    try {
      await api.renameRun(run.id, input.current!.value.trim() || null);
      await refreshRuns();
      onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <label class="visually-hidden" for={id}>
        Name of run #{run.id}
      </label>
      <input
        id={id}
        ref={input}
        defaultValue={run.name ?? ""}
        placeholder={runLabel({ ...run, name: null }).replace(/^#\d+ /, "")}
        onKeyDown={(e) => {
          if (e.key === "Enter") void save();
          else if (e.key === "Escape") onDone();
        }}
      />
      <span class="field-error">{error}</span>
    </>
  );
}

/** The in-place confirmation of a deletion. */
function ConfirmDelete({ run, onDone }: { run: Run; onDone: () => void }) {
  const [error, setError] = useState("");
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => yes.current?.focus(), []);
  const remove = async () => {
    try {
      await api.deleteRun(run.id);
      // The map must not go on showing a run that no longer exists.
      if (viewShows(run.id)) location.hash = `network=${networkId.value || run.network}`;
      await refreshRuns();
      onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <span class="run-confirm">Delete {runLabel(run)} and its results?</span>
      <button ref={yes} type="button" class="small danger run-delete-yes" onClick={() => void remove()}>
        Delete
      </button>
      <button type="button" class="small run-delete-no" onClick={onDone}>
        Keep
      </button>
      <span class="field-error" role="alert">
        {error}
      </span>
    </>
  );
}

function RunItem({ run }: { run: Run }) {
  const [mode, setMode] = useState<"show" | "rename" | "delete">("show");
  const finished = TERMINAL.includes(run.status);
  const done = () => setMode("show");
  return (
    <li data-run={run.id}>
      {mode === "rename" ? (
        <NameField run={run} onDone={done} />
      ) : mode === "delete" ? (
        <ConfirmDelete run={run} onDone={done} />
      ) : (
        <>
          <button type="button" class="run-button" disabled={run.status !== "done"} onClick={() => (location.hash = `run=${run.id}`)}>
            {runLabel(run)}
          </button>
          <span class={`run-status status-${run.status}`}>{run.status}</span>
          <button type="button" class="small run-rename" aria-label={`Rename run #${run.id}`} onClick={() => setMode("rename")}>
            Rename
          </button>
          <button
            type="button"
            class="small run-delete"
            aria-label={`Delete run #${run.id}`}
            disabled={!finished}
            title={finished ? undefined : "Cancel the run first"}
            onClick={() => setMode("delete")}
          >
            Delete
          </button>
        </>
      )}
    </li>
  );
}

function RunsList() {
  const list = runs.value;
  return (
    <>
      <ol id="runs" class="runs">
        {list.map((r) => (
          <RunItem key={r.id} run={r} />
        ))}
      </ol>
      <p id="runs-empty" class="hint" hidden={list.length > 0}>
        {listError.value ? `Cannot list the runs: ${listError.value}` : "No runs yet."}
      </p>
    </>
  );
}

/** Renders the runs list into its card (call once). */
export function initRuns(root: HTMLElement): void {
  render(<RunsList />, root);
}
