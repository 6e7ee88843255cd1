/**
 * The toll response surface of a grid-search design, read from the run's summary as the API
 * returns it (the leader's `ResponseSurface`): `axes` (one or two, each with a `variable` label,
 * its `links` and grid `values`), and `value`, `tstt`, `revenue`, `welfare` at every grid point,
 * row-major with the first axis slowest.
 */
import type { Surface } from "./chart.js";

interface ApiSurface {
  axes: { variable: string; links: number[]; values: number[] }[];
  value: number[];
}

const OBJECTIVE_LABEL: Record<string, string> = { tstt: "TSTT", revenue: "revenue", welfare: "welfare" };

function isApiSurface(s: unknown): s is ApiSurface {
  const x = s as ApiSurface;
  return !!x && Array.isArray(x.axes) && x.axes.length >= 1 && x.axes.length <= 2 && Array.isArray(x.value);
}

/** The response surface in a design summary, or undefined when the run has none. */
export function surfaceOf(summary: Record<string, unknown>): Surface | undefined {
  const s = summary.surface;
  if (!isApiSurface(s)) return undefined;
  const label = (a: ApiSurface["axes"][number]) => `toll ${a.variable}`;
  const valueLabel = OBJECTIVE_LABEL[String(summary.objective)] ?? "objective";
  const variables = Array.isArray(summary.variables) ? (summary.variables as { label?: string; toll?: number }[]) : [];
  const chosen = (a: ApiSurface["axes"][number]) => variables.find((v) => v.label === a.variable)?.toll;
  const [ax, ay] = s.axes;
  const num = (v: unknown) => (typeof v === "number" ? v : NaN); // JSON null (a failed point) → NaN
  if (!ay) {
    const bx = chosen(ax);
    return {
      xLabel: label(ax),
      valueLabel,
      x: ax.values,
      values: [s.value.map(num)],
      ...(bx !== undefined ? { best: { x: bx } } : {}),
    };
  }
  // value[i * ny + j] is at (ax.values[i], ay.values[j]); the chart wants values[j][i].
  const ny = ay.values.length;
  const values = ay.values.map((_, j) => ax.values.map((_, i) => num(s.value[i * ny + j])));
  const bx = chosen(ax);
  const by = chosen(ay);
  return {
    xLabel: label(ax),
    yLabel: label(ay),
    valueLabel,
    x: ax.values,
    y: ay.values,
    values,
    ...(bx !== undefined && by !== undefined ? { best: { x: bx, y: by } } : {}),
  };
}
