/**
 * The results panel and the map of a view: a network before any run, a finished run (flows on
 * the map, metrics, convergence, response surface, links table). Each view starts with
 * `beginView()`, which aborts the requests of the view it replaces.
 */
import * as api from "../api.js";
import type { Run } from "../api.js";
import { drawConvergence, drawHistory, drawSurface, type GapPoint, type HistoryPoint } from "../chart.js";
import { el, note, setView, tollMap } from "../context.js";
import { h } from "../dom.js";
import type { LinkFeature } from "../geo.js";
import { enterFrame, geometry, geometryOf, INLINE, inlineZoneCount, networkById, rememberGeometry } from "../geometry.js";
import { renderLegend } from "../legend.js";
import { renderLinksTable, renderMetrics, runMetrics } from "../panels.js";
import { beginView, isAbort, networkDetail, shownRun } from "../store.js";
import { surfaceOf } from "../surface.js";
import { unitsOf } from "../units.js";
import { follow, isFollowing, selectNetwork, showRunSource, fallbackNote, startAndFollow } from "./run-form.js";
import { renderExports } from "./export.js";
import { runLabel } from "./runs.js";

/** Draws a network before any results (links in grey, zones) and describes it. */
export async function showNetwork(id: string): Promise<void> {
  const signal = beginView();
  const describe = () => {
    const info = networkById(id);
    el.networkInfo.textContent =
      (info ? `${info.zones} zones, ${info.nodes} nodes, ${info.links} links; coordinates: ${info.coordinateSystem}.` : "") +
      (fallbackNote() && id !== "sioux-falls" ? ` ${fallbackNote()}` : "");
  };
  describe();
  try {
    const g = await geometry(id);
    if (signal.aborted) return;
    describe(); // an inline network's dimensions are known once its scenario is read
    await enterFrame(g);
    await tollMap.showNetwork(g.links);
    renderLegend(el.legend, "network", 0, 0, g.zones.features.length > 0);
    clearResults(id);
    setView(`network:${id}`);
  } catch (e) {
    if (!signal.aborted && !isAbort(e)) note(`Cannot draw ${id}: ${(e as Error).message}`);
  }
}

/**
 * On a design: a button that solves the no-toll baseline with the follower settings the design
 * used (its scenario's algorithm and gap), so that comparing the two compares like with like
 * (a baseline assignment defaults to BFW at 1e-4; a design to the bush algorithm at 1e-10).
 */
function renderBaselineButton(run: Run): void {
  if (run.kind !== "design" || run.scenario === null || INLINE.test(run.network)) return;
  const scenarioId = run.scenario;
  const b = h("button", { text: "Solve the no-toll baseline at this design's precision" }) as HTMLButtonElement;
  b.type = "button";
  b.id = "solve-baseline";
  b.addEventListener("click", () => {
    b.disabled = true;
    void api
      .getScenario(scenarioId)
      .then((s) => {
        const f = ((s.body as { follower?: { algorithm?: string; gap?: number } }).follower ?? {}) as { algorithm?: string; gap?: number };
        const settings: api.AssignSettings = {
          algorithm: (f.algorithm ?? "bush") as api.AssignSettings["algorithm"],
          gap: f.gap ?? 1e-10,
        };
        return startAndFollow({ kind: "assign", network: run.network, settings });
      })
      .catch((e: Error) => {
        el.exportError.textContent = e.message;
        b.disabled = false;
      });
  });
  el.exportList.append(b);
}

/** The results panel of a network before any run is opened. */
function clearResults(id: string): void {
  el.resultsTitle.textContent = "Results";
  el.resultsSubtitle.textContent = `${networkById(id)?.name ?? id}: run an assignment or a toll design, or pick one from the runs list.`;
  el.metrics.replaceChildren();
  el.warnings.replaceChildren();
  el.convergenceFigure.hidden = true;
  el.surfaceFigure.hidden = true;
  el.linksSection.hidden = true;
  renderExports(null);
}

/** Shows a finished run: flows on the map, metrics, convergence, surface, links table. */
export async function showRun(id: number): Promise<void> {
  const signal = beginView();
  performance.mark("tollkit:show", { detail: { run: id } });
  try {
    const run = await api.getRun(id, true, signal);
    if (run.status !== "done") {
      if (run.status === "queued" || run.status === "running") {
        if (!isFollowing(id)) follow(id);
        return;
      }
      el.resultsTitle.textContent = `${runLabel(run)}: ${run.status}`;
      el.resultsSubtitle.textContent = run.error ?? "";
      return;
    }
    if (networkById(run.network)) await selectNetwork(run.network);
    // The form shows what produced the run, ready to run it again.
    showRunSource(run);
    const flowsDoc = await api.getRunFlowsGeojson(id, signal);
    performance.mark("tollkit:results", { detail: { run: id } });
    // The flows carry the geometry, the frame and (through from/to) the zones: no second download.
    await inlineZoneCount(run.network);
    if (signal.aborted) return;
    const g = geometryOf(run.network, flowsDoc);
    const links = g.links;
    rememberGeometry(g);
    await enterFrame(g);
    await tollMap.showFlows(links);
    const idle = tollMap.onceIdle();
    setView(`run:${id}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { run: id } }));

    let maxFlow = 0;
    let tolled = 0;
    for (const f of links.features) {
      maxFlow = Math.max(maxFlow, Number(f.properties.flow) || 0);
      if (Number(f.properties.toll) > 0) tolled++;
    }
    const units = unitsOf(networkDetail.value?.id === run.network ? networkDetail.value.units : undefined);
    renderLegend(el.legend, "flows", maxFlow, tolled, g.zones.features.length > 0);
    el.resultsTitle.textContent = runLabel(run);
    el.resultsSubtitle.textContent = runSubtitle(run);
    renderMetrics(el.metrics, runMetrics(run, units));
    renderWarnings(run);
    renderConvergence(run);
    const surface = surfaceOf(run.summary ?? {});
    el.surfaceFigure.hidden = !surface;
    if (surface) {
      el.surfaceCaption.textContent = `Toll response surface: ${drawSurface(el.surface, surface)}`;
    }
    renderLinks(links.features, "flows");
    shownRun.value = run;
    renderExports(run);
    renderBaselineButton(run);
  } catch (e) {
    if (!signal.aborted && !isAbort(e)) {
      el.resultsTitle.textContent = `Run #${id}`;
      el.resultsSubtitle.textContent = `Cannot show this run: ${(e as Error).message}`;
    }
  }
}

function runSubtitle(run: Run): string {
  const s = run.summary ?? {};
  const parts: string[] = [];
  if (typeof s.algorithm === "string") parts.push(`${s.algorithm}${typeof s.objective === "string" ? `, ${s.objective}` : ""}`);
  if (typeof s.method === "string") parts.push(`method ${s.method}`);
  if (typeof s.converged === "boolean") parts.push(s.converged ? "converged" : "not converged");
  if (run.finishedAt) parts.push(`finished ${new Date(run.finishedAt).toLocaleString()}`);
  return parts.join(" · ");
}

/** The convergence chart of a run: relative gap per iteration (assignment) or objective per equilibrium solve (design). */
function renderConvergence(run: Run): void {
  const c = (run.convergence ?? {}) as Record<string, unknown>;
  const col = (k: string) => (Array.isArray(c[k]) ? (c[k] as unknown[]) : []);
  if (run.kind === "design") {
    const solves = col("solves");
    const value = col("value");
    const accepted = col("accepted");
    const pts: HistoryPoint[] = solves.map((x, i) => ({ solves: Number(x), value: Number(value[i]), accepted: accepted[i] === true }));
    el.convergenceFigure.hidden = pts.length === 0;
    const obj = String(run.summary?.objective ?? "objective");
    const label = obj === "tstt" ? "TSTT" : obj;
    el.convergenceCaption.textContent = `Design progress: ${label} per equilibrium solve (line: accepted iterates)`;
    if (pts.length) drawHistory(el.convergence, pts, label);
  } else {
    const it = col("iteration");
    const gap = col("relativeGap");
    const pts: GapPoint[] = it.map((x, i) => ({ iteration: Number(x), relativeGap: Number(gap[i]) }));
    el.convergenceFigure.hidden = pts.length === 0;
    el.convergenceCaption.textContent = "Convergence: relative gap per iteration (log scale)";
    if (pts.length) drawConvergence(el.convergence, pts, typeof run.settings.gap === "number" ? run.settings.gap : undefined);
  }
}

function renderWarnings(run: Run): void {
  const w = run.summary?.warnings;
  const list = Array.isArray(w) ? w.filter((x): x is string => typeof x === "string") : [];
  el.warnings.replaceChildren(...list.map((t) => h("li", { text: t })));
}

/** The links table under the results, each row's button showing its link on the map. */
export function renderLinks(features: LinkFeature[], mode: "flows" | "difference"): void {
  el.linksSection.hidden = features.length === 0;
  const units = unitsOf(networkDetail.value?.units);
  renderLinksTable(el.linksTable, el.linksTitle, features, mode, units, (link) => {
    if (!tollMap.showLink(link)) note(`Link ${link} is not on the map.`);
  });
}
