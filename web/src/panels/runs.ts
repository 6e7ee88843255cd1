/**
 * The runs list: every run of the API, newest first, each a button that opens its results
 * (`#run=<id>`) once it is done.
 */
import * as api from "../api.js";
import type { Run } from "../api.js";
import { el } from "../context.js";
import { h } from "../dom.js";
import { networkById } from "../geometry.js";
import { runs, scenarios } from "../store.js";

/** A run as the lists name it: `#12 design of scenario X on sioux-falls`. */
export function runLabel(r: Run): string {
  if (r.name) return `#${r.id} ${r.name}`;
  const what = r.kind === "design" ? `design${r.scenario ? ` of scenario ${scenarioName(r.scenario)}` : ""}` : "assignment";
  return `#${r.id} ${what} on ${networkById(r.network)?.kind === "inline" ? "its own network" : r.network}`;
}

function scenarioName(id: number): string {
  return scenarios.value.find((s) => s.id === id)?.name ?? `#${id}`;
}

/** Reloads the runs (the store's `runs`) and redraws the list. */
export async function refreshRuns(): Promise<void> {
  try {
    runs.value = await api.listRuns();
  } catch (e) {
    el.apiStatus.textContent = `API: ${(e as Error).message}`;
    return;
  }
  renderRuns();
}

/** Replaces a run's button by a name field: Enter saves (PATCH /api/runs/:id), Escape cancels. */
function editName(li: HTMLElement, r: Run): void {
  const id = `run-name-${r.id}`;
  const label = h("label", { class: "visually-hidden", text: `Name of run #${r.id}` });
  label.setAttribute("for", id);
  const input = h("input", {}) as HTMLInputElement;
  input.id = id;
  input.value = r.name ?? "";
  input.placeholder = runLabel({ ...r, name: null }).replace(/^#\d+ /, "");
  const error = h("span", { class: "field-error" });
  const save = async () => {
    try {
      await api.renameRun(r.id, input.value.trim() || null);
      await refreshRuns();
    } catch (e) {
      error.textContent = (e as Error).message;
    }
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") void save();
    else if (e.key === "Escape") renderRuns();
  });
  li.replaceChildren(label, input, error);
  input.focus();
}

function renderRuns(): void {
  const list = runs.value;
  el.runsEmpty.hidden = list.length > 0;
  el.runs.replaceChildren(
    ...list.map((r) => {
      const btn = h("button", { class: "run-button", text: runLabel(r) });
      btn.type = "button";
      btn.disabled = r.status !== "done";
      btn.addEventListener("click", () => (location.hash = `run=${r.id}`));
      const status = h("span", { class: `run-status status-${r.status}`, text: r.status });
      const rename = h("button", { class: "small run-rename", text: "Rename" });
      rename.type = "button";
      rename.setAttribute("aria-label", `Rename run #${r.id}`);
      const li = h("li", {}, btn, status, rename);
      li.dataset.run = String(r.id);
      rename.addEventListener("click", () => editName(li, r));
      return li;
    }),
  );
}
