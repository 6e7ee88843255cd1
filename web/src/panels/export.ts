/**
 * Export from the page: a run's flows (CSV, GeoJSON — the API's own files), its result (the
 * summary JSON, as `assign --json` / `design --json` print it), the scenario it was designed
 * from (JSON that `tollkit design` runs unchanged), and a PNG of the map as drawn.
 */
import * as api from "../api.js";
import type { Run } from "../api.js";
import { el, tollMap } from "../context.js";
import { h } from "../dom.js";

/** Saves `blob` under `name` (a download). */
export function saveBlob(name: string, blob: Blob): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const json = (v: unknown) => new Blob([`${JSON.stringify(v, null, 2)}\n`], { type: "application/json" });

/** The map as a PNG, read in the frame just rendered (the WebGL buffer is only valid then). */
export function mapPng(): Promise<Blob> {
  return new Promise((resolve, reject) => {
    tollMap.map.once("render", () => {
      tollMap.map.getCanvas().toBlob((b) => (b ? resolve(b) : reject(new Error("the map could not be read as PNG"))), "image/png");
    });
    tollMap.map.triggerRepaint();
  });
}

function link(text: string, href: string, download: string, id: string): HTMLElement {
  const a = h("a", { class: "button-link", text }) as HTMLAnchorElement;
  a.href = href;
  a.download = download;
  a.id = id;
  return a;
}

function button(text: string, id: string, onClick: () => Promise<void>): HTMLElement {
  const b = h("button", { text }) as HTMLButtonElement;
  b.type = "button";
  b.id = id;
  b.addEventListener("click", () => void onClick().catch((e: Error) => (el.exportError.textContent = e.message)));
  return b;
}

/** Fills the export row of a finished run (or hides it for other views). */
export function renderExports(run: Run | null): void {
  el.exportError.textContent = "";
  if (!run) {
    el.exports.hidden = true;
    return;
  }
  const base = `run-${run.id}-${run.network.replace(/[^a-zA-Z0-9-]+/g, "-")}`;
  const items: HTMLElement[] = [
    link("Flows (CSV)", `/api/runs/${run.id}/flows?format=csv`, `${base}-flows.csv`, "export-flows-csv"),
    link("Flows (GeoJSON)", `/api/runs/${run.id}/flows?format=geojson`, `${base}-flows.geojson`, "export-flows-geojson"),
    button(run.kind === "design" ? "Design result (JSON)" : "Result (JSON)", "export-result", async () =>
      saveBlob(`${base}-result.json`, json(run.summary ?? {})),
    ),
  ];
  if (run.kind === "design" && run.scenario !== null) {
    const id = run.scenario;
    items.push(
      button("Scenario (JSON)", "export-scenario", async () => {
        const s = await api.getScenario(id);
        saveBlob(`${s.name.replace(/[^a-zA-Z0-9._-]+/g, "-")}.json`, json(s.body));
      }),
    );
  }
  items.push(button("Map (PNG)", "export-png", async () => saveBlob(`${base}-map.png`, await mapPng())));
  el.exportList.replaceChildren(...items);
  el.exports.hidden = false;
}
