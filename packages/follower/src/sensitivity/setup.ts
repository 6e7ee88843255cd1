/**
 * What every use of the derivative problem starts with (directional derivatives in
 * `../sensitivity.ts`, adjoint gradients in `../adjoint.ts`): checking that a follower result
 * carries bushes of this network and these classes, re-adopting them, and building the tight
 * subnetworks, with the warnings a loose equilibrium deserves. Error messages start with the
 * caller's module name.
 */

import { InputError, Network } from "@tollkit/graph-core";
import { BushEngine, hasDemand, rowDemand } from "../bush/engine.js";
import { Bush, BushState, DUST, isBushState, StoredBush } from "../bush/store.js";
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
 * Builds the derivative problem on the bushes of `state` (from {@link bushStateOf}), without
 * copying them: an engine gets read-only views of the stored arrays (checked against the
 * invariants of `../bush/store.ts` and the demand, see {@link bushViews}) just long enough to
 * compute the link flows and costs and the tight subnetworks, which are all the derivative
 * problem keeps (Berlin-Center: some 25 MB, against 150 MB for a copy of the bushes).
 * Warns (in `warnings`, appended) about a relative gap above 1e-8, used links not at equilibrium
 * cost, and tight links dropped to keep an origin's routes acyclic.
 * @param tolerances `tightTolerance` (default 1e-7) and `usedTolerance` (default 1e-9), see {@link DerivativeProblem}
 * @throws InputError when some bush of the result does not fit this network's demand
 */
export function prepareDerivativeProblem(
  net: Network,
  result: FollowerResult,
  classes: UserClass[],
  state: BushState,
  tolerances: { tightTolerance?: number; usedTolerance?: number },
  mod: string,
  warnings: string[],
): PreparedProblem {
  const tightTolerance = tolerances.tightTolerance ?? 1e-7;
  const usedTolerance = tolerances.usedTolerance ?? 1e-9;
  const model = new CostModel(net, classes, result.tolls, result.objective);
  const engine = new BushEngine(model);
  const { views, misfits } = bushViews(engine, state.bushes);
  if (misfits > 0)
    throw new InputError(
      mod,
      `${misfits} bushes of the result do not fit this network's demand`,
      { field: "result" },
      "the result of a solve of this network with these classes",
    );
  engine.bushes = views;
  engine.recompute();
  if (result.relativeGap > 1e-8)
    warnings.push(
      `the equilibrium's relative gap is ${result.relativeGap.toExponential(2)}: derivatives need a precise equilibrium (solve to 1e-10)`,
    );
  const problem = new DerivativeProblem(engine, tightTolerance, usedTolerance);
  // the tight subnetworks hold what the problem needs: let go of the result's arrays
  engine.bushes = [];
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

/**
 * Read-only bush views of stored bushes (their arrays shared, not copied) for an engine that
 * only measures them: link flows, costs and true shortest distances, never a flow shift or an
 * update. Each stored bush must satisfy the storage invariants of `../bush/store.ts` as a solve
 * leaves them — a known class and origin zone with demand, once each; link indices in range,
 * none twice; flows finite and ≥ 0; links grouped by head, every link's tail the root or the
 * head of an earlier group; no link out of a zone that may not be passed through; flows that
 * deliver the origin's demand (relative 1e-9) — and every (class, origin) with demand needs one.
 * `misfits` counts the stored bushes that fail and the (class, origin) pairs without any.
 */
export function bushViews(engine: BushEngine, stored: StoredBush[]): { views: Bush[]; misfits: number } {
  const net = engine.net;
  const { zoneCount: Z, zoneNodes, linkFrom: from, linkTo: to, blocked, nodeCount: N } = net;
  const classes = engine.model.classes;
  const K = classes.length;
  const m = engine.m;
  const have = new Uint8Array(K * Z);
  // per node: the stamp of the bush whose group or root it is (order check), its flow balance
  const nodeStamp = new Int32Array(N);
  const linkStamp = new Int32Array(m);
  const balance = new Float64Array(N);
  // true distances write a bush's shortcut list: one scratch list serves every view
  const shortcuts = new Int32Array(m);
  const views: Bush[] = [];
  let misfits = 0;
  let stamp = 0;
  for (const s of stored) {
    const k = s.cls;
    const o = s.zone;
    stamp++;
    const ok =
      Number.isInteger(k) &&
      k >= 0 &&
      k < K &&
      Number.isInteger(o) &&
      o >= 0 &&
      o < Z &&
      have[k * Z + o] !== 1 &&
      hasDemand(classes[k].demand, o, Z) &&
      s.links instanceof Int32Array &&
      s.flows instanceof Float64Array &&
      s.links.length === s.flows.length;
    if (!ok) {
      misfits++;
      continue;
    }
    const root = zoneNodes[o];
    const { links, flows } = s;
    const len = links.length;
    let valid = true;
    nodeStamp[root] = stamp;
    let group = -1;
    for (let p = 0; p < len && valid; p++) {
      const a = links[p];
      const f = flows[p];
      if (!(a >= 0 && a < m) || !(f >= 0 && f < Infinity) || linkStamp[a] === stamp) {
        valid = false;
        break;
      }
      linkStamp[a] = stamp;
      const i = from[a];
      const j = to[a];
      if (j !== group) {
        // a new group: its head must not have had one (nor be the root)
        if (nodeStamp[j] === stamp) valid = false;
        group = j;
      }
      // the tail: the root or the head of an earlier group (not this one), and passable
      if (nodeStamp[i] !== stamp || i === j || (blocked[i] === 1 && i !== root)) valid = false;
      balance[j] += f;
      balance[i] -= f;
      if (p + 1 === len || to[links[p + 1]] !== j) nodeStamp[j] = stamp;
    }
    // flows deliver the demand: +demand at destinations, −total at the root, 0 elsewhere
    const demand = classes[k].demand;
    const total = rowDemand(demand, o, Z);
    const tol = 1e-9 * Math.max(total, 1e-300);
    if (valid) {
      for (let d = 0; d < Z; d++) {
        if (d === o) continue;
        const zn = zoneNodes[d];
        if (Math.abs(balance[zn] - demand[o * Z + d]) > tol) valid = false;
        balance[zn] = 0;
      }
      if (Math.abs(balance[root] + total) > tol) valid = false;
      balance[root] = 0;
    }
    for (let p = 0; p < len; p++) {
      const a = links[p];
      if (!(a >= 0 && a < m)) continue;
      if (valid && (Math.abs(balance[to[a]]) > tol || Math.abs(balance[from[a]]) > tol)) valid = false;
      balance[to[a]] = 0;
      balance[from[a]] = 0;
    }
    if (!valid) {
      misfits++;
      have[k * Z + o] = 2; // counted: not again as a missing bush
      continue;
    }
    have[k * Z + o] = 1;
    views.push({
      cls: k,
      zone: o,
      root,
      len,
      links,
      flows,
      needsUpdate: false,
      shortcuts,
      shortcutCount: -1,
      dust: DUST * total,
      elastic: null,
    });
  }
  for (let k = 0; k < K; k++) for (let o = 0; o < Z; o++) if (have[k * Z + o] === 0 && hasDemand(classes[k].demand, o, Z)) misfits++;
  return { views, misfits };
}
