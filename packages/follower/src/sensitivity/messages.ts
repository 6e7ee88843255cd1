/**
 * The words of the derivative problem: every failure and every cause of the end of a linear
 * piece that `./derivative.ts`, `./cycles.ts` and `./linear-range.ts` report, in one place so
 * that the same situation is always described the same way (the leader and the CLI pass them
 * on verbatim). Link and zone numbers are 1-based, as the user sees them; the functions only
 * format, they compute nothing.
 */

import type { DerivativeBush } from "./tight.js";

/** A cycle without curvature carries a cost change: flows jump between constant-cost routes. */
export const UNBOUNDED_CONSTANT_COST = "unbounded: flows jump between routes whose costs do not depend on flow";

/** Conjugate gradients diverged or met a direction without curvature along the gradient. */
export const UNBOUNDED_JUMP =
  "unbounded: flows jump (routes shared by classes that weigh tolls differently, or routes whose cost does not depend on flow)";

/** Conjugate gradients stopped at relative residual `residual` (> 1e-8, < 1). */
export function cgStalled(residual: number): string {
  return `conjugate gradients stopped at a relative residual of ${residual.toExponential(2)}`;
}

/** The active-set loop did not settle within `rounds` rounds. */
export function activeSetUnsettled(rounds: number): string {
  return `the routes at the margin of use did not settle in ${rounds} rounds`;
}

/**
 * The piece ends because the origins that leave network link `link` (0-based) run out of flow.
 * @param poolFlow their flow there (PCE); `linkFlow` the link's total flow (PCE)
 * @param ratePercent their rate of loss as a percentage of the largest link-flow derivative
 */
export function poolRunsOut(link: number, poolFlow: number, linkFlow: number, ratePercent: number): string {
  const part =
    poolFlow < linkFlow * (1 - 1e-9)
      ? `${poolFlow.toPrecision(3)} of its ${linkFlow.toPrecision(3)} PCE`
      : `${linkFlow.toPrecision(3)} PCE`;
  return `the flow on link ${link + 1} of the origins that leave it (${part}, at ${ratePercent.toPrecision(2)}% of the largest rate of change of a link flow) runs out`;
}

/**
 * The piece ends because an unused route of bush `d` enters over its candidate link `c`.
 * @param className the class's name when there are several classes, else undefined
 */
export function routeEnters(d: DerivativeBush, c: number, className: string | undefined): string {
  const who = `origin zone ${d.zone + 1}${className !== undefined ? ` (class ${className})` : ""}`;
  return `an unused route of ${who} over link ${d.candLink[c] + 1} (reduced cost ${d.candRc[c].toPrecision(3)}) becomes as cheap as the used ones`;
}
