/**
 * The toll response surface of a grid-search design, read from the run's summary.
 * (Filled in against the leader's real output once it lands.)
 */
import type { Surface } from "./chart.js";

/** The response surface in a design summary, or undefined when the run has none. */
export function surfaceOf(summary: Record<string, unknown>): Surface | undefined {
  const s = summary.surface as Partial<Surface> | undefined;
  if (!s || !Array.isArray(s.x) || !Array.isArray(s.values)) return undefined;
  return s as Surface;
}
