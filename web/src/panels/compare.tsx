/**
 * Compare two runs (Preact, around the store's `runs`): A (before) and B (after), B offering only
 * finished runs of A's network other than A; by default the newest run as B and the run before
 * it on the same network as A. The comparison (`#compare=a,b`) draws the flow change on the map
 * and the headline differences (B − A) in the results panel, with a warning when the two runs
 * were solved to different gaps.
 */
import { computed, signal } from "@preact/signals";
import { render } from "preact";
import * as api from "../api.js";
import type { Run } from "../api.js";
import { setView } from "../context.js";
import type { LinkCollection, LinkFeature } from "../geo.js";
import { geometry } from "../geometry.js";
import { drawDifference, mapIdle } from "../map-sync.js";
import { beginView, isAbort, results, runs } from "../store.js";
import { selectNetwork } from "./run-form.js";
import { runLabel } from "./runs.js";

/** The runs chosen in the form (null: the default). */
const chosenA = signal<number | null>(null);
const chosenB = signal<number | null>(null);
/** The form's message (a refusal, or why a comparison cannot be shown). */
const error = signal("");

const done = computed(() => runs.value.filter((r) => r.status === "done"));

/** A's choices and value: every finished run; by default the run before the newest on its network. */
const optionsA = computed(() => {
  const list = done.value;
  const newest = list[0];
  const before = newest && list.find((r) => r.id !== newest.id && r.network === newest.network);
  const fallback = before ?? newest;
  const value = list.some((r) => r.id === chosenA.value) ? chosenA.value! : (fallback?.id ?? null);
  return { list, value };
});

/** B's choices and value: the finished runs of A's network other than A. */
const optionsB = computed(() => {
  const { list, value: a } = optionsA.value;
  const ra = list.find((r) => r.id === a);
  const same = list.filter((r) => ra && r.network === ra.network && r.id !== ra.id);
  const value = same.some((r) => r.id === chosenB.value) ? chosenB.value! : (same[0]?.id ?? null);
  return { list: same, value };
});

function RunSelect({
  id,
  label,
  list,
  value,
  onChange,
}: {
  id: string;
  label: string;
  list: Run[];
  value: number | null;
  onChange: (v: number) => void;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <select
        id={id}
        name={id.slice(-1)}
        required
        value={value === null ? "" : String(value)}
        onChange={(e) => onChange(Number((e.target as HTMLSelectElement).value))}
      >
        {list.map((r) => (
          <option key={r.id} value={String(r.id)}>
            {runLabel(r)}
          </option>
        ))}
      </select>
    </>
  );
}

function CompareForm() {
  const a = optionsA.value;
  const b = optionsB.value;
  return (
    <form
      id="compare-form"
      class="card"
      aria-labelledby="compare-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!a.value || !b.value) error.value = "Choose two finished runs of the same network.";
        else if (a.value === b.value) error.value = "Choose two different runs.";
        else location.hash = `compare=${a.value},${b.value}`;
      }}
    >
      <h2 id="compare-title">Compare two runs</h2>
      <RunSelect id="compare-a" label="Run A (before)" list={a.list} value={a.value} onChange={(v) => (chosenA.value = v)} />
      <RunSelect id="compare-b" label="Run B (after)" list={b.list} value={b.value} onChange={(v) => (chosenB.value = v)} />
      <button id="compare" type="submit" disabled={b.list.length === 0}>
        Compare
      </button>
      <p id="compare-error" class="error" role="alert">
        {error.value}
      </p>
    </form>
  );
}

/** Renders the compare form in place of `root` (call once). */
export function initCompare(root: HTMLElement): void {
  render(<CompareForm />, root);
}

/** Shows the comparison of runs a and b on the map and in the results panel. */
export async function showCompare(a: number, b: number): Promise<void> {
  const signal = beginView();
  error.value = "";
  try {
    const [ra, rb] = await Promise.all([api.getRun(a, false, signal), api.getRun(b, false, signal)]);
    if (ra.network !== rb.network) {
      error.value = `Cannot compare: run #${a} is on ${ra.network} and run #${b} on ${rb.network}; choose two runs of the same network.`;
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
    await drawDifference(g, links);
    const idle = mapIdle();
    results.value = { kind: "compare", a: ra, b: rb, comparison: c, features };
    setView(`compare:${a},${b}`);
    void idle.then(() => performance.mark("tollkit:idle", { detail: { compare: [a, b] } }));
    chosenA.value = a;
    chosenB.value = b;
  } catch (e) {
    if (!isAbort(e) && !signal.aborted) error.value = `Cannot compare: ${(e as Error).message}`;
  }
}

/** Relative gap below which solver error no longer matters for a comparison. */
const PRECISE_GAP = 1e-9;

/** The relative gap a run's equilibrium reached (a design's tolled equilibrium), if reported. */
function gapOf(r: Run): number | undefined {
  const s = (r.summary ?? {}) as Record<string, unknown>;
  const v = s.relativeGap ?? (s.equilibrium as Record<string, unknown> | undefined)?.relativeGap;
  return typeof v === "number" ? v : undefined;
}

/** A warning when the two runs were solved to different precision (their differences then mix solver error into the tolls' effect). */
export function gapWarning(a: Run, b: Run): string | null {
  const ga = gapOf(a);
  const gb = gapOf(b);
  if (ga === undefined || gb === undefined) return null;
  // Below 1e-9 the error a gap leaves in TSTT (about gap × TSTT) is far below anything a toll
  // changes: two runs both that precise compare like with like even when their gaps differ.
  const ratio = Math.max(ga, gb) / Math.max(Math.min(ga, gb), 1e-300);
  if (ratio < 10 || Math.max(ga, gb) <= PRECISE_GAP) return null;
  return `The two runs were solved to different relative gaps (A ${ga.toExponential(1)}, B ${gb.toExponential(1)}): part of the differences is solver error, not the effect of the tolls. Re-run the less precise one with a smaller gap.`;
}
