/**
 * The follower's entry points: {@link solve} and {@link solveSync} dispatch an algorithm name to
 * its engine — `aon`, `msa`, `fw`, `cfw`, `bfw` to the Frank-Wolfe family ({@link frankWolfe}),
 * `bush` to the bush-based algorithm — after validating the options. An unknown name is an error.
 */

import { Network } from "@tollkit/graph-core";
import { solveBush, solveBushAsync } from "./bush.js";
import { frankWolfe } from "./fw.js";
import { resolveFollowerOptions } from "./options.js";
import { FollowerOptions, FollowerResult } from "./types.js";

/**
 * Solves the follower problem (user equilibrium or system optimum, one or more user classes)
 * and returns flows, times, costs, TSTT, SPTT, relative gap, Beckmann objective, revenue and
 * the convergence report. Yields to the event loop between iterations, so that
 * `options.signal` can cancel a running solve (stopReason "cancelled", the flows reached so far).
 *
 * Units: times and costs in the network's time unit, tolls in money, flows in vehicles per
 * class and PCE in total; `seconds` is wall time.
 * @throws InputError for bad options (naming the option: unknown algorithm or objective, no
 *   stopping rule, gap ≤ 0, maxIterations not a positive integer, maxSeconds ≤ 0), demand that
 *   cannot be routed (naming the OD pairs) or a negative/non-finite link cost (naming the link)
 */
export async function solve(net: Network, options: FollowerOptions): Promise<FollowerResult> {
  const t0 = performance.now();
  const opts = resolveFollowerOptions(net, options);
  if (opts.algorithm === "bush") return await solveBushAsync(net, opts);
  const run = frankWolfe(net, opts, t0);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * {@link solve} without yielding to the event loop: the same results; a signal can only cancel
 * it when aborted from `onProgress` (or before the call).
 * @throws InputError as {@link solve}
 */
export function solveSync(net: Network, options: FollowerOptions): FollowerResult {
  const t0 = performance.now();
  const opts = resolveFollowerOptions(net, options);
  if (opts.algorithm === "bush") return solveBush(net, opts);
  const run = frankWolfe(net, opts, t0);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}
