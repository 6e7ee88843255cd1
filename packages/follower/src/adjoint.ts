/**
 * Adjoint (reverse-mode) toll gradients: the derivative of a scalar objective of the equilibrium
 * (TSTT, revenue, welfare, a merit function) with respect to the toll on every one of a set of
 * links, at a cost that does not depend on how many links there are.
 *
 * The directional derivatives of `./sensitivity.ts` solve one derivative problem per toll: the
 * cycle flows y(l) = −A⁻¹ b(l) of a unit toll on link l (see `./sensitivity/derivative.ts`). A
 * scalar objective whose first-order change is cᵀy (c: the cycle sums of its derivative with
 * respect to class link flows) then changes by −cᵀA⁻¹b(l) = λᵀb(l) with λ = −A⁻¹c, because A is
 * symmetric: one solve with the objective's link gradient as right-hand side gives d/dτ_l for
 * every l at once (one gather over the cycles), plus the objective's direct dependence on the
 * toll at fixed flows.
 *
 * Degenerate points. This is exact where the derivative of every toll is the first round of the
 * active-set method — where, for a toll raised or lowered, no route at the margin of use (an
 * unused route at equilibrium cost) starts to be used: then the response is linear in the tolls
 * and both one-sided derivatives agree. Where some toll makes a marginal route enter, the
 * active set depends on the toll and on its sign: the point is degenerate for that toll, and only
 * directional derivatives (`equilibriumSensitivity`, one-sided) are right. Which routes respond
 * is tested on random combinations of the given tolls (`probes`, default 1, each one derivative
 * solve): the first round of a combination is solved and the active-set test run for both signs.
 * If no marginal route responds to any probe, none responds to any single toll, except by an
 * exact cancellation of its responses within the combination, which random weights make
 * vanishingly unlikely (the probability is of the order of the test's tolerance, 1e-9, relative).
 * If some route responds, the point is reported `degenerate` with the reason, and every gradient
 * is NaN: the caller falls back to directional derivatives (per link, or along multi-link
 * directions). A derivative problem that has no bounded solution (flows that jump between routes
 * of constant cost) is reported the same way.
 *
 * Nearly degenerate points. The first probe also gets the linear range of
 * `equilibriumSensitivity` (how far the response stays linear along it, with that function's
 * search for other decompositions of the origins' flows when a side is short: up to 6 re-solves
 * per side, each started from the solution before); one shorter than `step` on either side marks
 * the point `nearDegenerate`. The gradients are exact at the point, but some toll's derivative
 * may hold only within a tiny change; only directional derivatives say which toll and how far.
 * The probes are convex combinations of the tolls (random weights summing to 1): along one, a
 * change of ε moves the tolls by ε in all, and the response is the weighted mean of the single
 * tolls' responses, so its linear range does not shrink as tolls are added (with weights of
 * order 1 on each toll, N tolls moving together reach a kink about N times sooner, and the probe
 * would call nearly every point with many tolls nearly degenerate). By the ratio test's
 * linearity, a probe range shorter than `step` means some single toll's is too (where origins
 * that run out are pooled, approximately).
 *
 * Cost: building the tight subnetworks (as for directional derivatives), `probes` solves (up to
 * 12 warm-started re-solves more where the first probe's range is short), then one
 * conjugate-gradient solve per objective, however many links there are. Linear ranges per link are not computed; use
 * directional derivatives where they are needed.
 */

import { InputError, Network, seededRandom } from "@tollkit/graph-core";
import { defaultClasses } from "./cost-model.js";
import { defaultNearStep } from "./sensitivity.js";
import { bushStateOf, prepareDerivativeProblem } from "./sensitivity/setup.js";
import { FollowerResult, UserClass } from "./types.js";

const MOD = "follower/adjoint";
/**
 * Conjugate-gradient tolerance of the probes: they only decide signs of reduced-cost changes
 * against a tolerance of 1e-9 of their scale, so 1e-11 (instead of 1e-13) is ample.
 */
const PROBE_TOLERANCE = 1e-11;

/**
 * A scalar objective of the equilibrium, by its first-order dependence on flows and tolls:
 * d objective = Σ_a linkWeights_a dx_a + Σ_k Σ_a classWeights_k,a df_ka + Σ_l direct_l dτ_l.
 * `"tstt"` and `"revenue"` are TSTT (Σ x·t(x), time units) and revenue (Σ_k tolled Σ_a τ_a f_ka,
 * money), as `equilibriumSensitivity` reports them.
 */
export type AdjointObjective =
  | "tstt"
  | "revenue"
  | {
      /** d objective / d link flow (per PCE), per link of the network. */
      linkWeights?: Float64Array;
      /** Per class: d objective / d class link flow (per vehicle), per link; null or absent for a class without. */
      classWeights?: (Float64Array | null)[];
      /** ∂ objective / ∂ toll at fixed flows, per link of the network (added to each link's gradient). */
      direct?: Float64Array;
    };

/** Options of {@link adjointTollGradient}. */
export interface AdjointOptions {
  /** Links whose toll the objectives are differentiated against (0-based link indices). */
  links: number[];
  /** The scalar objectives; one derivative solve each. */
  objectives: AdjointObjective[];
  /** The user classes of the solve that produced the result; default the network's single class. */
  classes?: UserClass[];
  /** As for `equilibriumSensitivity` (default 1e-7). */
  tightTolerance?: number;
  /** As for `equilibriumSensitivity` (default 1e-9). */
  usedTolerance?: number;
  /**
   * Random combinations of the tolls tested for routes at the margin of use (default 1, at least
   * 1): a second one only guards against an exact cancellation within the first, whose
   * probability is of the order of the test's tolerance.
   */
  probes?: number;
  /** Seed of the probes' random weights (default 1): the same seed gives the same answer. */
  seed?: number;
  /**
   * The smallest toll change that matters to the caller (money): a probe whose linear range on
   * either side is shorter marks the point nearly degenerate. Default `defaultNearStep` (1e-4 of
   * the average generalised cost of a trip, in money), as for `equilibriumSensitivity`.
   */
  step?: number;
}

/** Outcome of {@link adjointTollGradient}. */
export interface AdjointTollGradient {
  links: number[];
  /**
   * Per objective, d objective / d τ for each of `links` (objective units per unit of toll, money);
   * NaN everywhere when `degenerate`.
   */
  gradients: Float64Array[];
  /**
   * True when the gradients cannot be trusted for every link: some route at the margin of use
   * responds to the tolls (a degenerate point for some toll), or the derivative problem has no
   * bounded solution. Then use directional derivatives.
   */
  degenerate: boolean;
  /** Why `degenerate`, in words. */
  reason?: string;
  /**
   * True when the gradients are exact at the point but the response bends within a toll change
   * of `step`: along the first probe (a random combination of the tolls) a route starts or stops
   * being used sooner. Which toll is responsible, and how far each derivative holds, only
   * directional derivatives tell.
   */
  nearDegenerate: boolean;
  /**
   * The shorter linear range of the first probe and its cause: money of total toll change along
   * the probe, a convex combination of the tolls (weights summing to 1), so comparable with one
   * toll's range however many tolls there are.
   */
  probeRange?: { step: number; cause?: string };
  /** Derivative-problem solves spent: the probes, then one per objective (when not degenerate). */
  solves: number;
  /**
   * Re-solves spent on the first probe's linear range (looking for origin decompositions that
   * keep routes in use longer where a side is shorter than `step`; at most 12).
   */
  rangeSolves: number;
  /** Warnings of the build (loose equilibrium, links left out), as `equilibriumSensitivity` gives them. */
  warnings: string[];
}

/**
 * Gradients of scalar objectives of the equilibrium `result` (a bush result, ideally at a
 * relative gap of 1e-10 or below) with respect to the toll on each of `options.links`, by one
 * adjoint solve per objective, independent of the number of links (see the module comment for
 * the method and the degenerate-point rule). Works for UE and SO results and several classes.
 * Agrees with `equilibriumSensitivity`'s derivatives (both sides) wherever it is not degenerate.
 * @throws InputError when the result does not come from the bush algorithm on this network and
 *   these classes, a link index is out of range, an objective's weights do not have one entry per
 *   link (or per class), or `probes` is not a positive integer
 */
export function adjointTollGradient(net: Network, result: FollowerResult, options: AdjointOptions): AdjointTollGradient {
  const classes = options.classes ?? defaultClasses(net);
  const state = bushStateOf(net, result, classes, MOD);
  const links = options.links;
  if (!Array.isArray(links) || links.length === 0)
    throw new InputError(MOD, "no links given", { field: "links" }, "at least one 0-based link index");
  links.forEach((l, i) => {
    if (!(Number.isInteger(l) && l >= 0 && l < net.linkCount))
      throw new InputError(MOD, `link index ${l}`, { field: `links[${i}]` }, `an integer in 0..${net.linkCount - 1}`);
  });
  const m = net.linkCount;
  const K = classes.length;
  const objectives = options.objectives;
  if (!Array.isArray(objectives) || objectives.length === 0)
    throw new InputError(MOD, "no objectives given", { field: "objectives" }, '"tstt", "revenue" or weights');
  objectives.forEach((o, i) => {
    if (o === "tstt" || o === "revenue") return;
    const linkArray = (v: unknown, field: string): void => {
      if (v !== undefined && v !== null && !(v instanceof Float64Array && v.length === m))
        throw new InputError(MOD, "not one number per link", { field }, `a Float64Array of ${m} numbers`);
    };
    if (typeof o !== "object" || o === null)
      throw new InputError(MOD, `objective ${String(o)}`, { field: `objectives[${i}]` }, '"tstt", "revenue" or weights');
    linkArray(o.linkWeights, `objectives[${i}].linkWeights`);
    linkArray(o.direct, `objectives[${i}].direct`);
    if (o.classWeights !== undefined) {
      if (!Array.isArray(o.classWeights) || o.classWeights.length !== K)
        throw new InputError(MOD, "not one entry per class", { field: `objectives[${i}].classWeights` }, `${K} entries`);
      o.classWeights.forEach((w, k) => linkArray(w, `objectives[${i}].classWeights[${k}]`));
    }
  });
  const probes = options.probes ?? 1;
  if (!(Number.isInteger(probes) && probes >= 1)) throw new InputError(MOD, `probes ${probes}`, { field: "probes" }, "a positive integer");
  if (options.step !== undefined && !(options.step >= 0 && options.step <= Number.MAX_VALUE))
    throw new InputError(MOD, `step ${options.step}`, { field: "step" }, "a finite toll change ≥ 0 (money)");

  const warnings: string[] = [];
  const { model, problem } = prepareDerivativeProblem(net, result, classes, state, options, MOD, warnings);
  const out: AdjointTollGradient = {
    links: [...links],
    gradients: [],
    degenerate: false,
    nearDegenerate: false,
    solves: 0,
    rangeSolves: 0,
    warnings,
  };
  const step = options.step ?? defaultNearStep(result, classes);
  const nanAll = (reason: string): AdjointTollGradient => {
    out.degenerate = true;
    out.reason = reason;
    out.gradients = objectives.map(() => new Float64Array(links.length).fill(NaN));
    return out;
  };
  // a unit toll on link l changes class k's fixed cost by tollFactor_k where the class pays tolls
  const classFactor = Float64Array.from(classes, (c) => (c.tolled && c.tollFactor > 0 ? c.tollFactor : 0));
  const anyResponse = links.some((l) => problem.inTight[l] === 1) && classFactor.some((f) => f > 0);

  if (anyResponse) {
    // routes at the margin of use: do they respond to random combinations of the tolls?
    const random = seededRandom(options.seed ?? 1);
    for (let t = 0; t < probes; t++) {
      // a random convex combination: weights in [0.5, 1.5] scaled to sum to 1
      const w = new Float64Array(m);
      let sum = 0;
      for (const l of links) {
        const v = 0.5 + random();
        w[l] += v;
        sum += v;
      }
      for (const l of links) w[l] /= sum;
      const dg = classes.map((_, k) => (classFactor[k] > 0 ? w.map((v) => v * classFactor[k]) : null));
      const probe = problem.firstRoundFinal(dg, PROBE_TOLERANCE);
      out.solves++;
      if (probe.failure) return nanAll(`the derivative problem has no bounded solution: ${probe.failure}`);
      if (!probe.final)
        return nanAll(
          "a route at the margin of use starts or stops being used when these tolls change (a degenerate point for some toll): use directional derivatives",
        );
      if (t > 0) continue;
      const before = problem.rangeSolves;
      const ranges = problem.firstRoundRanges(dg, step);
      out.rangeSolves += problem.rangeSolves - before;
      for (const r of ranges) {
        if (out.probeRange === undefined || r.step < out.probeRange.step) out.probeRange = { step: r.step, cause: r.cause };
        if (r.step < step) out.nearDegenerate = true;
      }
    }
  }

  const x = result.flows;
  const times = result.times;
  const pce = Float64Array.from(classes, (c) => c.pce);
  for (const o of objectives) {
    const grad = new Float64Array(links.length);
    // per class: d objective / d class link flow, per vehicle, divided by the class's PCE
    let weights: (Float64Array | null)[];
    let direct: Float64Array | undefined;
    if (o === "tstt") {
      const w = Float64Array.from(x, (v, a) => times[a] + v * model.vdf.derivative(a, v));
      weights = classes.map(() => w);
    } else if (o === "revenue") {
      weights = classes.map((c, k) => (c.tolled ? Float64Array.from(result.tolls, (t) => t / pce[k]) : null));
      direct = new Float64Array(m);
      for (let k = 0; k < K; k++) {
        if (!classes[k].tolled) continue;
        const f = result.classes[k].flows;
        for (let a = 0; a < m; a++) direct[a] += f[a];
      }
    } else {
      weights = classes.map((_, k) => {
        const cw = o.classWeights?.[k];
        if (!o.linkWeights && !cw) return null;
        const w = new Float64Array(m);
        if (o.linkWeights) w.set(o.linkWeights);
        if (cw) for (let a = 0; a < m; a++) w[a] += cw[a] / pce[k];
        return w;
      });
      direct = o.direct;
    }
    if (anyResponse && weights.some((w) => w !== null)) {
      const s = problem.adjointSolve(weights);
      out.solves++;
      if (s.failure) return nanAll(`the derivative problem has no bounded solution: ${s.failure}`);
      const response = new Float64Array(m);
      problem.tollResponse(s.y, classFactor, response);
      links.forEach((l, i) => (grad[i] = response[l]));
    }
    if (direct) links.forEach((l, i) => (grad[i] += direct[l]));
    out.gradients.push(grad);
  }
  return out;
}
