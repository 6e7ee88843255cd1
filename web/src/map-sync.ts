/**
 * The one place where the store drives the map: the selection of the study editor goes into the
 * links' feature state (`sel`), and while the editor is picking, clicks on links toggle it.
 * Panels never call the map for the selection; they write the store.
 */
import { effect } from "@preact/signals";
import { el, tollMap } from "./context.js";
import { renderSelectionRow } from "./legend.js";
import { networkDetail, picking, selectedLinks, view } from "./store.js";
import { unitsOf } from "./units.js";

/** Toggles one link in the store's selection (or, with `only`, makes it the whole selection). */
export function toggleLink(link: number, only = false): void {
  const next = new Set(only ? [] : selectedLinks.value);
  if (selectedLinks.value.has(link) && (!only || selectedLinks.value.size === 1)) next.delete(link);
  else next.add(link);
  selectedLinks.value = next;
}

/** Subscribes the map to the store (call once). */
export function initMapSync(): void {
  effect(() => {
    const links = selectedLinks.value;
    void view.value; // a new view may have reset the feature state (another network): push again
    tollMap.setSelection(links);
    el.legend.dataset.selected = String(links.size);
    renderSelectionRow(el.legend, links.size);
  });
  effect(() => {
    tollMap.units = unitsOf(networkDetail.value?.units);
  });
  effect(() => {
    tollMap.onPick = picking.value ? (link) => toggleLink(link) : null;
  });
}
