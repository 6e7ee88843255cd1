/**
 * The one place where the page drives the map (which stays imperative, MapLibre's own way):
 * - the selection of the study editor goes into the links' feature state (`sel`), and while the
 *   editor is picking, clicks on links toggle it — panels write the store, never the map;
 * - a view's data (a network, a run's flows, a comparison's differences) is drawn with its
 *   legend by {@link drawNetwork}, {@link drawFlows} and {@link drawDifference}, the only calls
 *   the view loaders make to the map; {@link showLinkOnMap} for the links tables' buttons.
 */
import { effect } from "@preact/signals";
import { el, note, tollMap } from "./context.js";
import type { LinkCollection } from "./geo.js";
import { enterFrame, type Geometry } from "./geometry.js";
import { renderLegend, renderSelectionRow } from "./legend.js";
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

/** Draws a network before any results (links in grey, zones) with its legend. */
export async function drawNetwork(g: Geometry): Promise<void> {
  await enterFrame(g);
  await tollMap.showNetwork(g.links);
  renderLegend(el.legend, "network", 0, 0, g.zones.features.length > 0);
}

/** Draws a run's flows (width by flow, colour by v/c, tolled links marked) with its legend. */
export async function drawFlows(g: Geometry): Promise<void> {
  let maxFlow = 0;
  let tolled = 0;
  for (const f of g.links.features) {
    maxFlow = Math.max(maxFlow, Number(f.properties.flow) || 0);
    if (Number(f.properties.toll) > 0) tolled++;
  }
  await enterFrame(g);
  await tollMap.showFlows(g.links);
  renderLegend(el.legend, "flows", maxFlow, tolled, g.zones.features.length > 0);
}

/** Draws the flow change of a comparison (`links`: the network's links with the differences) with its legend. */
export async function drawDifference(g: Geometry, links: LinkCollection): Promise<void> {
  let maxAbs = 0;
  for (const f of links.features) maxAbs = Math.max(maxAbs, Math.abs(Number(f.properties.flowDifference) || 0));
  await enterFrame(g);
  await tollMap.showDifference(links);
  renderLegend(el.legend, "difference", maxAbs, 0, g.zones.features.length > 0);
}

/** The map's next `idle` (after a view was drawn). */
export function mapIdle(): Promise<void> {
  return tollMap.onceIdle();
}

/** Centres the map on a link and opens its popup (or says it is not on the map). */
export function showLinkOnMap(link: number): void {
  if (!tollMap.showLink(link)) note(`Link ${link} is not on the map.`);
}
