/**
 * What every use of the derivative problem starts with (directional derivatives in
 * `../sensitivity.ts`, adjoint gradients in `../adjoint.ts`): checking that a follower result
 * carries bushes of this network and these classes, re-adopting them, and building the tight
 * subnetworks, with the warnings a loose equilibrium deserves. Error messages start with the
 * caller's module name.
 */

import { AonLoader, InputError, Network } from "@tollkit/graph-core";
import { BushEngine } from "../bush/engine.js";
import { BushState, isBushState } from "../bush/store.js";
import { CostModel } from "../cost-model.js";
import { FollowerResult, UserClass } from "../types.js";
import { DerivativeProblem } from "./derivative.js";

/**
 * The bush state of `result`, checked against the network and the classes.
 * @param mod the caller's module name, for messages
 * @throws InputError when the result holds no bushes or they belong to another network or other classes
 */
export function bushStateOf(net: Network, result: FollowerResult, classes: UserClass[], mod: string): BushState {
  const state = result.warmStart?.state;
  if (!isBushState(state))
    throw new InputError(
      mod,
      "the result holds no bushes",
      { field: "result.warmStart.state" },
      'a result of the bush algorithm (algorithm: "bush")',
    );
  if (state.classCount !== classes.length || state.linkCount !== net.linkCount || state.nodeCount !== net.nodeCount)
    throw new InputError(
      mod,
      "the result's bushes do not match this network and these classes",
      { field: "classes" },
      `the network and the ${state.classCount} classes of the solve`,
    );
  return state;
}

/** A derivative problem built from a result, with its cost model and the warnings of the build. */
export interface PreparedProblem {
  model: CostModel;
  problem: DerivativeProblem;
  warnings: string[];
}

/**
 * Re-adopts the bushes of `state` (from {@link bushStateOf}) and builds the derivative problem.
 * Warns (in `warnings`, appended) about a relative gap above 1e-8, used links not at equilibrium
 * cost, and tight links dropped to keep an origin's routes acyclic.
 * @param tightTolerance, usedTolerance see {@link DerivativeProblem}
 * @throws InputError when some bush of the result does not fit this network's demand
 */
export function prepareDerivativeProblem(
  net: Network,
  result: FollowerResult,
  classes: UserClass[],
  state: BushState,
  tightTolerance: number,
  usedTolerance: number,
  mod: string,
  warnings: string[],
): PreparedProblem {
  const model = new CostModel(net, classes, result.tolls, result.objective);
  const engine = new BushEngine(model);
  const { rejected, built } = engine.adopt(state.bushes, new AonLoader(model.compiled).sp);
  if (rejected > 0 || built > 0)
    throw new InputError(
      mod,
      `${rejected + built} bushes of the result do not fit this network's demand`,
      { field: "result" },
      "the result of a solve of this network with these classes",
    );
  if (result.relativeGap > 1e-8)
    warnings.push(
      `the equilibrium's relative gap is ${result.relativeGap.toExponential(2)}: derivatives need a precise equilibrium (solve to 1e-10)`,
    );
  const problem = new DerivativeProblem(engine, tightTolerance, usedTolerance);
  if (problem.looseUsed > 0 && problem.looseShare > 1e-6)
    warnings.push(
      `${problem.looseUsed} used links are not at equilibrium cost (up to ${(problem.looseShare * 100).toPrecision(2)}% of an origin's demand); they are held fixed`,
    );
  if (problem.droppedCyclic > 0)
    warnings.push(
      `${problem.droppedCyclic} unused links at equilibrium cost were left out of the routes at the margin of use, to keep each origin's routes acyclic (cycles of near-zero cost)`,
    );
  return { model, problem, warnings };
}
