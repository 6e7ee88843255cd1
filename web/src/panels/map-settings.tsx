/**
 * Map settings (Preact): an optional base-map style URL, kept in localStorage (or given as
 * `?basemap=` in the address). The map draws a base map only under lon/lat networks.
 */
import { render } from "preact";
import { useRef } from "preact/hooks";
import { BASEMAP_KEY, note, storedBasemap, tollMap } from "../context.js";

function MapSettings() {
  const input = useRef<HTMLInputElement>(null);
  const apply = () => {
    const url = input.current!.value.trim();
    if (url && !input.current!.checkValidity()) {
      note("The base-map style URL is not a valid URL.");
      return;
    }
    if (url) localStorage.setItem(BASEMAP_KEY, url);
    else localStorage.removeItem(BASEMAP_KEY);
    tollMap.setBaseStyle(url || null);
  };
  const clear = () => {
    input.current!.value = "";
    localStorage.removeItem(BASEMAP_KEY);
    tollMap.setBaseStyle(null);
  };
  return (
    <details id="map-settings" class="card">
      <summary>Map settings</summary>
      <label for="basemap">Base-map style URL (optional)</label>
      <input
        id="basemap"
        ref={input}
        type="url"
        placeholder="https://example.org/style.json"
        autoComplete="off"
        defaultValue={storedBasemap ?? ""}
      />
      <div class="button-row">
        <button id="basemap-apply" type="button" onClick={apply}>
          Apply
        </button>
        <button id="basemap-clear" type="button" onClick={clear}>
          Use blank map
        </button>
      </div>
      <p class="hint">The map needs no internet: by default it has no base map. A base map is only drawn under lon/lat networks.</p>
    </details>
  );
}

/** Renders the map settings into `root` (call once). */
export function initMapSettings(root: HTMLElement): void {
  render(<MapSettings />, root);
}
