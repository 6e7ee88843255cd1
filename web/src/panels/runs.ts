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
      const li = h("li", {}, btn, status);
      li.dataset.run = String(r.id);
      return li;
    }),
  );
}
