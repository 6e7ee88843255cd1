/**
 * The results panel (Preact, drawn from the store's `results`) and the loaders of the views it
 * shows: a network before any run, a finished run (flows on the map, metrics, convergence,
 * response surface, trade-off, links table, exports). Each loader starts with `beginView()`,
 * which aborts the requests of the view it replaces; the map is drawn through map-sync.ts.
 */
import { render } from "preact";
import { useEffect, useMemo, useRef } from "preact/hooks";
import * as api from "../api.js";
import type { Run } from "../api.js";
import { drawConvergence, drawHistory, drawSurface, type GapPoint, type HistoryPoint, type Surface } from "../chart.js";
import type { LinkFeature } from "../geo.js";
import { note, setView } from "../context.js";
import { geometry, geometryOf, INLINE, inlineZoneCount, networkById, rememberGeometry } from "../geometry.js";
import { drawFlows, drawNetwork, mapIdle, showLinkOnMap } from "../map-sync.js";
import { compareMetrics, LinksTable, Metrics, runMetrics } from "../panels.js";
import { beginView, isAbort, networkDetail, results, type ResultsView } from "../store.js";
import { surfaceOf } from "../surface.js";
import { unitsOf } from "../units.js";
import { Exports } from "./export.js";
import { follow, isFollowing, selectNetwork, showRunSource, startAndFollow } from "./run-form.js";
import { runLabel } from "./runs.js";
import { gapWarning } from "./compare.js";
import { OdResult } from "./od.js";
import { Tradeoff } from "./tradeoff.js";

/** Draws a network before any results (links in grey, zones) and describes it. */
export async function showNetwork(id: string): Promise<void> {
  const signal = beginView();
  try {
    const g = await geometry(id);
    if (signal.aborted) return;
    await drawNetwork(g);
    results.value = { kind: "network", network: id };
    setView(`network:${id}`);
  } catch (e) {
    if (!signal.aborted && !isAbort(e)) note(`Cannot draw ${id}: ${(e as Error).message}`);
  }
}

/** Shows a finished run: flows on the map, metrics, convergence, surface, links table. */
export async function showRun(id: number): Promise<void> {
  const signal = beginView();
  performance.mark("tollkit:show", { detail: { run: id } });
  try {
    const run = await api.getRun(id, false, signal);
    if (run.status !== "done") {
      if (run.status === "queued" || run.status === "running") {
        if (!isFollowing(id)) follow(id);
        return;
      }
      results.value = { kind: "message", title: `${runLabel(run)}: ${run.status}`, subtitle: run.error ?? "" };
      return;
    }
    // the convergence report, paged, while the map loads (a failure only hides the chart)
    const convergence = api.getRunConvergence(id, signal).catch((): Record<string, unknown[]> => ({}));
    if (networkById(run.network)) await selectNetwork(run.network);
    // The form shows what produced the run, ready to run it again.
    showRunSource(run);
    const flowsDoc = await api.getRunFlowsGeojson(id, signal);
    performance.mark("tollkit:results", { detail: { run: id } });
    // The flows carry the geometry, the frame and (through from/to) the zones: no second download.
    await inlineZoneCount(run.network);
    if (signal.aborted) return;
    const g = geometryOf(run.network, flowsDoc);
    rememberGeometry(g);
    await drawFlows(g);
    const idle = mapIdle();
    run.convergence = (await convergence) as Run["convergence"];
    if (signal.aborted) return;
    results.value = { kind: "run", run, features: g.links.features };
    setView(`run:${id}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { run: id } }));
  } catch (e) {
    if (!signal.aborted && !isAbort(e))
      results.value = { kind: "message", title: `Run #${id}`, subtitle: `Cannot show this run: ${(e as Error).message}` };
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

/** A chart drawn by one of chart.ts's functions into its `<svg>` whenever its data change. */
function Chart({ id, label, draw }: { id: string; label: string; draw: (svg: SVGSVGElement) => void }) {
  const svg = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (svg.current) draw(svg.current);
  });
  return <svg ref={svg} id={id} role="img" aria-label={label} />;
}

/** The convergence chart: relative gap per iteration (assignment) or objective per equilibrium solve (design). */
function Convergence({
  gaps,
  history,
  historyLabel,
  target,
}: {
  gaps: GapPoint[];
  history: HistoryPoint[];
  historyLabel?: string;
  target?: number;
}) {
  const design = historyLabel !== undefined;
  return (
    <figure id="convergence-figure" class="figure">
      <figcaption id="convergence-caption">
        {design
          ? `Design progress: ${historyLabel} per equilibrium solve${history.some((p) => !p.accepted) ? " (line: accepted iterates)" : ""}`
          : "Convergence: relative gap per iteration (log scale)"}
      </figcaption>
      <Chart
        id="convergence"
        label={design ? `${historyLabel} per equilibrium solve` : "Relative gap per iteration"}
        draw={(svg) => (design ? drawHistory(svg, history, historyLabel) : drawConvergence(svg, gaps, target))}
      />
    </figure>
  );
}

/** The convergence report of a finished run, as points. */
function reportOf(run: Run): { gaps: GapPoint[]; history: HistoryPoint[] } {
  const c = (run.convergence ?? {}) as Record<string, unknown>;
  const col = (k: string) => (Array.isArray(c[k]) ? (c[k] as unknown[]) : []);
  if (run.kind === "design") {
    const value = col("value");
    const accepted = col("accepted");
    return {
      gaps: [],
      history: col("solves").map((x, i) => ({ solves: Number(x), value: Number(value[i]), accepted: accepted[i] === true })),
    };
  }
  const gap = col("relativeGap");
  return { gaps: col("iteration").map((x, i) => ({ iteration: Number(x), relativeGap: Number(gap[i]) })), history: [] };
}

/**
 * On a design: a button that solves the no-toll baseline with the follower settings the design
 * used (its scenario's algorithm and gap), so that comparing the two compares like with like
 * (a baseline assignment defaults to BFW at 1e-4; a design to the bush algorithm at 1e-10).
 */
function BaselineButton({ run, onError }: { run: Run; onError: (message: string) => void }) {
  const button = useRef<HTMLButtonElement>(null);
  if (run.kind !== "design" || run.scenario === null || INLINE.test(run.network)) return null;
  const scenarioId = run.scenario;
  const solve = async () => {
    button.current!.disabled = true;
    try {
      const s = await api.getScenario(scenarioId);
      const f = (s.body as { follower?: { algorithm?: string; gap?: number } }).follower ?? {};
      const settings: api.AssignSettings = { algorithm: (f.algorithm ?? "bush") as api.AssignSettings["algorithm"], gap: f.gap ?? 1e-10 };
      await startAndFollow({ kind: "assign", network: run.network, settings });
    } catch (e) {
      onError((e as Error).message);
      if (button.current) button.current.disabled = false;
    }
  };
  return (
    <button ref={button} type="button" id="solve-baseline" onClick={() => void solve()}>
      Solve the no-toll baseline at this design's precision
    </button>
  );
}

/** The response surface of a grid design, its caption from the chart's own description. */
function SurfaceFigure({ surface }: { surface: Surface }) {
  const svg = useRef<SVGSVGElement>(null);
  const caption = useRef<HTMLElement>(null);
  useEffect(() => {
    if (svg.current && caption.current) caption.current.textContent = `Toll response surface: ${drawSurface(svg.current, surface)}`;
  }, [surface]);
  return (
    <figure id="surface-figure" class="figure">
      <figcaption id="surface-caption" ref={caption}>
        Toll response surface
      </figcaption>
      <svg ref={svg} id="surface" role="img" aria-label="Toll response surface" />
    </figure>
  );
}

function RunResults({ run, features }: { run: Run; features: LinkFeature[] }) {
  const units = unitsOf(networkDetail.value?.id === run.network ? networkDetail.value.units : undefined);
  const { gaps, history } = reportOf(run);
  const obj = String(run.summary?.objective ?? "objective");
  const surface = useMemo(() => surfaceOf(run.summary ?? {}), [run]);
  const warnings = Array.isArray(run.summary?.warnings)
    ? (run.summary.warnings as unknown[]).filter((x): x is string => typeof x === "string")
    : [];
  return (
    <>
      <h2 id="results-title">{runLabel(run)}</h2>
      <p id="results-subtitle" class="hint">
        {runSubtitle(run)}
      </p>
      <Metrics metrics={runMetrics(run, units)} />
      <Exports run={run} extra={(onError) => <BaselineButton run={run} onError={onError} />} />
      <ul id="warnings" class="warnings">
        {warnings.map((t) => (
          <li key={t}>{t}</li>
        ))}
      </ul>
      {gaps.length || history.length ? (
        <Convergence
          gaps={gaps}
          history={history}
          historyLabel={run.kind === "design" ? (obj === "tstt" ? "TSTT" : obj) : undefined}
          target={typeof run.settings.gap === "number" ? run.settings.gap : undefined}
        />
      ) : null}
      {surface ? <SurfaceFigure surface={surface} /> : null}
      <Tradeoff />
      {features.length ? <LinksTable features={features} mode="flows" units={units} onShow={showLinkOnMap} /> : null}
    </>
  );
}

function CompareResults({ view }: { view: ResultsView & { kind: "compare" } }) {
  const { a, b, comparison: c, features } = view;
  const units = unitsOf(networkDetail.value?.id === c.network ? networkDetail.value.units : undefined);
  const warning = gapWarning(a, b);
  return (
    <>
      <h2 id="results-title">
        Compare run #{a.id} (A) with run #{b.id} (B)
      </h2>
      <p id="results-subtitle" class="hint">
        {c.network}: differences are B − A.
      </p>
      <Metrics metrics={compareMetrics(c, units)} />
      <ul id="warnings" class="warnings">
        {warning ? <li data-warning="gap">{warning}</li> : null}
      </ul>
      {features.length ? <LinksTable features={features} mode="difference" units={units} onShow={showLinkOnMap} /> : null}
    </>
  );
}

function Results() {
  const v = results.value;
  switch (v.kind) {
    case "run":
      return <RunResults run={v.run} features={v.features} />;
    case "compare":
      return <CompareResults view={v} />;
    case "live":
      return (
        <>
          <h2 id="results-title">Run #{v.id} (running)</h2>
          <p id="results-subtitle" class="hint">
            Results appear when the run is done.
          </p>
          <Convergence
            gaps={v.gaps}
            history={v.history}
            historyLabel={v.gaps.length === 0 && v.history.length > 0 ? "objective" : undefined}
          />
        </>
      );
    case "od":
      return (
        <>
          <h2 id="results-title">{v.title}</h2>
          <p id="results-subtitle" class="hint">
            {v.subtitle}
          </p>
          <Metrics metrics={v.metrics} />
          <OdResult />
        </>
      );
    case "network":
      return (
        <>
          <h2 id="results-title">Results</h2>
          <p id="results-subtitle" class="hint">
            {networkById(v.network)?.name ?? v.network}: run an assignment or a toll design, or pick one from the runs list.
          </p>
        </>
      );
    default:
      return (
        <>
          <h2 id="results-title">{v.title}</h2>
          <p id="results-subtitle" class="hint">
            {v.subtitle}
          </p>
        </>
      );
  }
}

/** Renders the results panel into its section (call once). */
export function initResults(root: HTMLElement): void {
  render(<Results />, root);
}
