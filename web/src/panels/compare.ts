/**
 * Compare two runs: A (before) and B (after), B offering only finished runs of A's network; by
 * default the newest run as B and the run before it on the same network as A. The comparison
 * (`#compare=a,b`) draws the flow change on the map and the headline differences (B − A).
 */
import { effect } from "@preact/signals";
import * as api from "../api.js";
import type { Run } from "../api.js";
import { el, setView, tollMap } from "../context.js";
import { h } from "../dom.js";
import { enterFrame, geometry } from "../geometry.js";
import type { LinkCollection, LinkFeature } from "../geo.js";
import { renderLegend } from "../legend.js";
import { compareMetrics, renderMetrics } from "../panels.js";
import { beginView, isAbort, networkDetail, runs } from "../store.js";
import { unitsOf } from "../units.js";
import { selectNetwork } from "./run-form.js";
import { renderExports } from "./export.js";
import { renderLinks } from "./results.js";
import { runLabel } from "./runs.js";

function options(sel: HTMLSelectElement, list: Run[], pick: Run | undefined): void {
  const current = sel.value;
  sel.replaceChildren(
    ...list.map((r) => {
      const o = h("option", { text: runLabel(r) });
      o.value = String(r.id);
      return o;
    }),
  );
  if (list.some((r) => String(r.id) === current)) sel.value = current;
  else if (pick) sel.value = String(pick.id);
}

/** Fills B with the finished runs of A's network other than A. */
function renderB(done: Run[]): void {
  const a = done.find((r) => String(r.id) === el.compareA.value);
  const same = done.filter((r) => a && r.network === a.network && r.id !== a.id);
  options(el.compareB, same, same[0]);
  el.compareButton.disabled = same.length === 0;
}

function renderCompareOptions(): void {
  const done = runs.value.filter((r) => r.status === "done");
  const newest = done[0];
  const before = newest && done.find((r) => r.id !== newest.id && r.network === newest.network);
  options(el.compareA, done, before ?? newest);
  renderB(done);
}

/** Binds the compare form (to the store's runs). */
export function initCompare(): void {
  effect(() => {
    void runs.value;
    renderCompareOptions();
  });
  el.compareA.addEventListener("change", () => renderB(runs.value.filter((r) => r.status === "done")));
  el.compareForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const a = Number(el.compareA.value);
    const b = Number(el.compareB.value);
    if (!a || !b) el.compareError.textContent = "Choose two finished runs of the same network.";
    else if (a === b) el.compareError.textContent = "Choose two different runs.";
    else location.hash = `compare=${a},${b}`;
  });
}

/** Shows the comparison of runs a and b on the map and in the results panel. */
export async function showCompare(a: number, b: number): Promise<void> {
  const signal = beginView();
  el.compareError.textContent = "";
  try {
    const [ra, rb] = await Promise.all([api.getRun(a, false, signal), api.getRun(b, false, signal)]);
    if (ra.network !== rb.network) {
      el.compareError.textContent = `Cannot compare: run #${a} is on ${ra.network} and run #${b} on ${rb.network}; choose two runs of the same network.`;
      return;
    }
    const c = await api.compareRuns(a, b, signal);
    await selectNetwork(c.network);
    const g = await geometry(c.network);
    if (signal.aborted) return;
    const byLink = new Map(c.links.map((d) => [d.link, d]));
    const features: LinkFeature[] = g.links.features.map((f) => ({
      ...f,
      properties: { ...f.properties, ...(byLink.get(f.properties.link) ?? {}), link: f.properties.link },
    }));
    const links: LinkCollection = { type: "FeatureCollection", features };
    await enterFrame(g);
    await tollMap.showDifference(links);
    const idle = tollMap.onceIdle();
    setView(`compare:${a},${b}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { compare: [a, b] } }));
    let maxAbs = 0;
    for (const d of c.links) maxAbs = Math.max(maxAbs, Math.abs(d.flowDifference));
    renderLegend(el.legend, "difference", maxAbs, 0, g.zones.features.length > 0);
    el.resultsTitle.textContent = `Compare run #${a} (A) with run #${b} (B)`;
    el.resultsSubtitle.textContent = `${c.network}: differences are B − A.`;
    renderMetrics(el.metrics, compareMetrics(c, unitsOf(networkDetail.value?.id === c.network ? networkDetail.value.units : undefined)));
    el.warnings.replaceChildren(...gapWarning(ra, rb));
    el.convergenceFigure.hidden = true;
    el.surfaceFigure.hidden = true;
    renderLinks(features, "difference");
    renderExports(null);
    el.compareA.value = String(a);
    renderB(runs.value.filter((r) => r.status === "done"));
    el.compareB.value = String(b);
  } catch (e) {
    if (!isAbort(e) && !signal.aborted) el.compareError.textContent = `Cannot compare: ${(e as Error).message}`;
  }
}

/** The relative gap a run's equilibrium reached (a design's tolled equilibrium), if reported. */
function gapOf(r: Run): number | undefined {
  const s = (r.summary ?? {}) as Record<string, unknown>;
  const v = s.relativeGap ?? (s.equilibrium as Record<string, unknown> | undefined)?.relativeGap;
  return typeof v === "number" ? v : undefined;
}

/** A warning when the two runs were solved to different precision (their differences then mix solver error into the tolls' effect). */
function gapWarning(a: Run, b: Run): HTMLElement[] {
  const ga = gapOf(a);
  const gb = gapOf(b);
  if (ga === undefined || gb === undefined) return [];
  const ratio = Math.max(ga, gb) / Math.max(Math.min(ga, gb), 1e-300);
  if (ratio < 10) return [];
  const li = h("li", {
    text: `The two runs were solved to different relative gaps (A ${ga.toExponential(1)}, B ${gb.toExponential(1)}): part of the differences is solver error, not the effect of the tolls. Re-run the less precise one with a smaller gap.`,
  });
  li.dataset.warning = "gap";
  return [li];
}
