/**
 * Grid search over one or two tolls: every grid point is an equilibrium solve, visited in a
 * serpentine order so that each solve is warm-started from a neighbour. Returns the response
 * surface (objective, TSTT and revenue at every point) for plotting. With a revenue floor, the
 * best point is the best feasible one (revenue ≥ R) — the constraint is checked exactly.
 */

import { Evaluation } from "./evaluator.js";
import { Instrument } from "./instrument.js";
import { objectiveSign, objectiveValue } from "./objectives.js";
import { markAccepted, record, SearchContext, SearchOutcome } from "./search.js";
import { scenarioError } from "./scenario.js";

/** A response surface: values on a grid of one or two tolls (row-major, the first axis slowest). */
export interface ResponseSurface {
  axes: { variable: string; links: number[]; values: number[] }[];
  /** Objective value (natural units) at each point. */
  value: number[];
  tstt: number[];
  revenue: number[];
  welfare: number[];
}

/** Grid values between lo and hi inclusive, exact at both ends and at round fractions. */
export function gridValues(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (lo * (n - 1 - i) + hi * i) / (n - 1));
}

/**
 * Checks that a grid fits the instrument (done before any solve).
 * @throws InputError when the instrument has more than two decision variables, or `points`
 *   gives another number of axes than it has
 */
export function checkGrid(instrument: Instrument, points: number | [number, number], file?: string): void {
  const vars = instrument.variables;
  if (vars.length > 2)
    throw scenarioError(
      file,
      "method.type",
      `grid search covers one or two tolls; this instrument has ${vars.length}`,
      'an instrument with one or two tolls (e.g. "uniform": true), or method "gradient" / "derivative-free"',
    );
  if (typeof points !== "number" && points.length !== vars.length)
    throw scenarioError(file, "method.points", `${points.length} axes for ${vars.length} toll(s)`, `one count per toll (${vars.length})`);
}

/**
 * Runs the grid search.
 * @throws InputError when the instrument has more than two decision variables or no finite bounds
 */
export async function gridSearch(
  ctx: SearchContext,
  points: number | [number, number],
  file?: string,
): Promise<SearchOutcome & { surface: ResponseSurface }> {
  const { ev, merit, instrument } = ctx;
  const vars = instrument.variables;
  checkGrid(instrument, points, file);
  const counts = typeof points === "number" ? vars.map(() => points) : points.slice(0, vars.length);
  const axes = vars.map((v, k) => ({
    variable: v.label,
    links: Array.from(v.links, (a) => a + 1),
    values: gridValues(v.min, v.max, counts[k]),
  }));
  const n0 = axes[0].values.length;
  const n1 = axes.length > 1 ? axes[1].values.length : 1;
  const surface: ResponseSurface = { axes, value: [], tstt: [], revenue: [], welfare: [] };
  const total = n0 * n1;
  surface.value = new Array(total).fill(NaN);
  surface.tstt = new Array(total).fill(NaN);
  surface.revenue = new Array(total).fill(NaN);
  surface.welfare = new Array(total).fill(NaN);
  let best: Evaluation | undefined;
  let bestFeasible: Evaluation | undefined;
  const sign = objectiveSign(merit.type);
  const better = (a: Evaluation, b: Evaluation | undefined) =>
    !b || sign * objectiveValue(merit.type, a.ms) < sign * objectiveValue(merit.type, b.ms);
  let step = 0;
  let prev: Evaluation | undefined;
  for (let i = 0; i < n0; i++) {
    for (let jj = 0; jj < n1; jj++) {
      const j = i % 2 === 0 ? jj : n1 - 1 - jj; // serpentine
      const z = axes.length > 1 ? [axes[0].values[i], axes[1].values[j]] : [axes[0].values[i]];
      const e = await ev.evaluate(z, { warm: prev });
      prev = e;
      const idx = i * n1 + j;
      surface.value[idx] = objectiveValue(merit.type, e.ms);
      surface.tstt[idx] = e.ms.tstt;
      surface.revenue[idx] = e.ms.revenue;
      surface.welfare[idx] = e.ms.welfare;
      record(ctx, e, step++, false);
      if (better(e, best)) best = e;
      if (merit.minRevenue !== undefined && merit.feasible(e.ms) && better(e, bestFeasible)) bestFeasible = e;
    }
  }
  let stopReason = `all ${total} grid points evaluated`;
  let chosen = best!;
  if (merit.minRevenue !== undefined) {
    if (bestFeasible) chosen = bestFeasible;
    else {
      chosen = await bestRevenue(ctx);
      stopReason += `; no grid point meets the revenue floor ${merit.minRevenue}: the highest-revenue point is reported`;
    }
  }
  markAccepted(ctx, chosen);
  return { best: chosen, iterations: total, stopReason, surface };

  async function bestRevenue(c: SearchContext): Promise<Evaluation> {
    const row = c.history.reduce((a, r) => (r.revenue > a.revenue ? r : a), c.history[0]);
    return c.ev.evaluate(row.tolls);
  }
}
