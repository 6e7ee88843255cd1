/**
 * Validation of {@link FollowerOptions}, shared by every follower algorithm: an unknown name, a
 * missing stopping rule or a malformed number is an {@link InputError} naming the option.
 */

import { InputError, Network } from "@tollkit/graph-core";
import { defaultClasses } from "./cost-model.js";
import { Algorithm, ALGORITHMS, FollowerOptions, Objective, OBJECTIVES, UserClass } from "./types.js";

const MOD = "follower";

/**
 * The follower's defaults where a user gives no setting: the CLI's `assign` flags, the API's
 * assign settings and sweep files' assign entries all take them from here. `algorithm` "bfw"
 * (bi-conjugate Frank-Wolfe), `objective` "ue" (user equilibrium), `gap` 1e-4 (relative gap,
 * dimensionless). Scenario files have their own follower defaults (the bush algorithm to 1e-10),
 * since toll design needs equilibrium sensitivities.
 */
export const FOLLOWER_DEFAULTS: Readonly<{ algorithm: Algorithm; objective: Objective; gap: number }> = Object.freeze({
  algorithm: "bfw",
  objective: "ue",
  gap: 1e-4,
});

/** Options after validation, with defaults filled in. */
export interface ResolvedFollowerOptions extends FollowerOptions {
  algorithm: Algorithm;
  objective: Objective;
  classes: UserClass[];
  tolls: Float64Array;
}

/**
 * Checks follower options against a network and fills in the defaults (objective "ue", the
 * network's single class, the network's link tolls).
 * @throws InputError naming the option: an unknown algorithm or objective (listing the valid
 *   ones), no stopping rule, gap ≤ 0, maxIterations not a positive integer, maxSeconds ≤ 0,
 *   an empty class list, or a warm start whose shape does not match the classes and links
 */
export function resolveFollowerOptions(net: Network, options: FollowerOptions): ResolvedFollowerOptions {
  if (!options || typeof options !== "object")
    throw new InputError(MOD, "no options given", { field: "options" }, "an object with algorithm and a stopping rule");
  const algorithm = options.algorithm;
  if (!(ALGORITHMS as readonly string[]).includes(algorithm as string))
    throw new InputError(MOD, `unknown algorithm "${String(algorithm)}"`, { field: "algorithm" }, `one of ${ALGORITHMS.join(", ")}`);
  const objective = options.objective ?? FOLLOWER_DEFAULTS.objective;
  if (!(OBJECTIVES as readonly string[]).includes(objective as string))
    throw new InputError(MOD, `unknown objective "${String(objective)}"`, { field: "objective" }, `one of ${OBJECTIVES.join(", ")}`);
  const { gap, maxIterations, maxSeconds } = options;
  if (gap === undefined && maxIterations === undefined && maxSeconds === undefined)
    throw new InputError(MOD, "no stopping rule given", { field: "gap" }, "at least one of gap, maxIterations, maxSeconds");
  if (gap !== undefined && !(typeof gap === "number" && Number.isFinite(gap) && gap > 0))
    throw new InputError(MOD, `gap ${String(gap)}`, { field: "gap" }, "a relative gap > 0, e.g. 1e-4");
  if (maxIterations !== undefined && !(typeof maxIterations === "number" && Number.isInteger(maxIterations) && maxIterations > 0))
    throw new InputError(MOD, `maxIterations ${String(maxIterations)}`, { field: "maxIterations" }, "a positive integer");
  if (maxSeconds !== undefined && !(typeof maxSeconds === "number" && Number.isFinite(maxSeconds) && maxSeconds > 0))
    throw new InputError(MOD, `maxSeconds ${String(maxSeconds)}`, { field: "maxSeconds" }, "a number of seconds > 0");
  const classes = options.classes ?? defaultClasses(net);
  if (!Array.isArray(classes) || classes.length === 0)
    throw new InputError(MOD, "no user classes", { field: "classes" }, "at least one class");
  const names = new Set<string>();
  classes.forEach((c, k) => {
    if (names.has(c.name))
      throw new InputError(MOD, `duplicate class name "${c.name}"`, { field: `classes[${k}].name` }, "unique class names");
    names.add(c.name);
  });
  // a copy: the result reports the tolls it was solved with, even if the caller reuses its array
  const tolls = Float64Array.from(options.tolls ?? net.links.toll);
  const warm = options.warmStart;
  if (warm !== undefined) {
    const flows = warm.classFlows;
    if (!Array.isArray(flows) || flows.length !== classes.length)
      throw new InputError(
        MOD,
        `warm start has ${Array.isArray(flows) ? flows.length : 0} class flow arrays`,
        { field: "warmStart.classFlows" },
        `${classes.length}, one per class`,
      );
    flows.forEach((f, k) => {
      if (!(f instanceof Float64Array) || f.length !== net.linkCount)
        throw new InputError(
          MOD,
          `warm-start flows of class ${k} have ${f?.length ?? 0} entries`,
          { field: `warmStart.classFlows[${k}]` },
          `${net.linkCount}, one per link`,
        );
      for (let i = 0; i < f.length; i++)
        if (!(f[i] >= 0 && f[i] < Infinity))
          throw new InputError(
            MOD,
            `warm-start flow ${f[i]} on link ${i + 1}`,
            { field: `warmStart.classFlows[${k}][${i}]` },
            "a finite flow ≥ 0",
          );
    });
  }
  const start = options.initialTripsNotMade;
  if (start !== undefined) {
    if (algorithm !== "bush")
      throw new InputError(
        MOD,
        `initialTripsNotMade given for algorithm "${algorithm}"`,
        { field: "initialTripsNotMade" },
        "algorithm bush",
      );
    if (!(start instanceof Float64Array) || start.length !== net.linkCount)
      throw new InputError(
        MOD,
        `initialTripsNotMade has ${(start as { length?: number } | null)?.length ?? 0} entries`,
        { field: "initialTripsNotMade" },
        `${net.linkCount}, one per link`,
      );
    for (let i = 0; i < start.length; i++)
      if (!(start[i] >= 0 && start[i] < Infinity))
        throw new InputError(
          MOD,
          `initial trips not made ${start[i]} on link ${i + 1}`,
          { field: `initialTripsNotMade[${i}]` },
          "a finite number ≥ 0",
        );
  }
  return { ...options, algorithm, objective, classes, tolls };
}
