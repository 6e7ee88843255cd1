/**
 * Export from the page (Preact): a run's flows (CSV, GeoJSON — the API's own files), its result
 * (the summary JSON, as `assign --json` / `design --json` print it), the scenario it was designed
 * from (JSON that `tollkit design` runs unchanged), and a PNG of the map as drawn.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import * as api from "../api.js";
import type { Run } from "../api.js";
import { tollMap } from "../context.js";

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

/** The export row of a finished run; `extra` adds buttons of the caller's (with the row's error line). */
export function Exports({ run, extra }: { run: Run; extra?: (onError: (message: string) => void) => ComponentChildren }) {
  const [error, setError] = useState("");
  const base = `run-${run.id}-${run.network.replace(/[^a-zA-Z0-9-]+/g, "-")}`;
  const act = (f: () => Promise<void>) => () => {
    setError("");
    void f().catch((e: Error) => setError(e.message));
  };
  const scenario = run.kind === "design" ? run.scenario : null;
  return (
    <section id="exports" class="exports" aria-labelledby="exports-title">
      <h3 id="exports-title">Export</h3>
      <div id="export-list" class="button-row">
        <a class="button-link" id="export-flows-csv" href={`/api/runs/${run.id}/flows?format=csv`} download={`${base}-flows.csv`}>
          Flows (CSV)
        </a>
        <a
          class="button-link"
          id="export-flows-geojson"
          href={`/api/runs/${run.id}/flows?format=geojson`}
          download={`${base}-flows.geojson`}
        >
          Flows (GeoJSON)
        </a>
        <button type="button" id="export-result" onClick={act(async () => saveBlob(`${base}-result.json`, json(run.summary ?? {})))}>
          {run.kind === "design" ? "Design result (JSON)" : "Result (JSON)"}
        </button>
        {scenario !== null ? (
          <button
            type="button"
            id="export-scenario"
            onClick={act(async () => {
              const s = await api.getScenario(scenario);
              saveBlob(`${s.name.replace(/[^a-zA-Z0-9._-]+/g, "-")}.json`, json(s.body));
            })}
          >
            Scenario (JSON)
          </button>
        ) : null}
        <button type="button" id="export-png" onClick={act(async () => saveBlob(`${base}-map.png`, await mapPng()))}>
          Map (PNG)
        </button>
        {extra?.(setError)}
      </div>
      <p id="export-error" class="error" role="alert">
        {error}
      </p>
    </section>
  );
}
