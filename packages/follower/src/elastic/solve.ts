/**
 * User equilibrium (and the net-benefit optimum) with elastic demand, solved exactly through
 * Gartner's excess-demand transformation (`./transform.ts`) by any follower algorithm — `bush`
 * to relative gaps of 1e-10 as with fixed demand.
 *
 * Relative gap with elastic demand: the fixed-demand gap of the augmented network,
 * (totalCost − sptt) / totalCost, where totalCost = Σ route flows × their costs + Σ trips not
 * made × the inverse demand of those trips, and sptt = Σ_od q̄ · min(shortest route cost, W(e)).
 * It is 0 exactly when every used route of a pair costs u_od and the pair makes q = D(u_od) trips.
 *
 * `objective: "so"` gives the net-benefit optimum: maximum of Σ_od ∫₀^q D⁻¹ − Σ_a x_a·t_a(x_a)
 * minus the fixed generalised costs (the marginal-cost rule on road links, the inverse demand on
 * excess links), which the first-best tolls x·t′ reproduce as a user equilibrium.
 */

import { CompiledVdf, compileNetwork, excessDemandEdge, InputError, Network, ShortestPathWorkspace } from "@tollkit/graph-core";
import { defaultClasses } from "../cost-model.js";
import { solve, solveSync } from "../solve.js";
import { FollowerOptions, FollowerResult, UserClass } from "../types.js";
import { checkDemandFunctionSpec, consumerSurplus, DemandFunctionSpec, inverseDemand, OdDemand } from "./demand.js";
import { ReducedElastic, ReducedResult, solveReducedBush, solveReducedBushAsync } from "./bush.js";
import { augment, AugmentedProblem, freeFlowCosts } from "./transform.js";

const MOD = "follower/elastic";

/** Trips and consumer surplus of one origin zone (or one class, or everything). */
export interface ElasticTotals {
  /** Σ of the trip table (vehicles). */
  tripsReference: number;
  /** Σ trips made (vehicles). */
  tripsMade: number;
  /** tripsReference − tripsMade (vehicles; negative where a toll design makes some pairs cheaper than with no toll). */
  tripsNotMade: number;
  /** Consumer surplus in money (time-unit surplus / tollFactor, per class); NaN for a class with tollFactor 0. */
  consumerSurplus: number;
}

/** What an elastic solve adds to a follower result. */
export interface ElasticSummary extends ElasticTotals {
  form: string;
  /** Consumer surplus in time units × vehicles (Σ over classes). */
  consumerSurplusTime: number;
  /** consumerSurplus + revenue (money). */
  welfare: number;
  /** By origin zone (zone = the zone id). */
  zones: (ElasticTotals & { zone: number })[];
  /** By class. */
  classes: (ElasticTotals & { name: string; consumerSurplusTime: number })[];
  /** Per class, Z×Z: trips made (vehicles). */
  demand: Float64Array[];
  /** Per class, Z×Z: the pair's equilibrium cost u (time units; NaN where q0 = 0). */
  odCost: Float64Array[];
}

/** A follower result on the original network, with the elastic-demand summary. */
export interface ElasticResult extends FollowerResult {
  elastic: ElasticSummary;
  /**
   * The result on the augmented network (excess-link flows, for sensitivities), without its warm
   * start: the bushes live in this result's `warmStart` only, so that releasing them releases them.
   */
  augmented: Omit<FollowerResult, "warmStart">;
}

/** Options of {@link ElasticDemandProblem}. */
export interface ElasticProblemOptions {
  /** Default: the network's single class. */
  classes?: UserClass[];
  /** Per class, Z×Z pivot costs c0 (time units). Default: the no-toll equilibrium's OD costs. */
  pivot?: Float64Array[];
  /** How the default pivot is solved (algorithm and stopping rules; tolls are set to 0). */
  pivotSolver?: FollowerOptions;
}

/**
 * Per class, the shortest generalised cost of every pair (Z×Z, time units; Infinity where
 * unreachable) at a follower result's link costs.
 */
export function odCosts(net: Network, r: Pick<FollowerResult, "classes">): Float64Array[] {
  const sp = new ShortestPathWorkspace(compileNetwork(net));
  const Z = net.zoneCount;
  return r.classes.map(({ costs }) => {
    sp.gatherCosts(costs);
    const out = new Float64Array(Z * Z);
    for (let o = 0; o < Z; o++) {
      sp.tree(net.zoneNodes[o]);
      for (let d = 0; d < Z; d++) out[o * Z + d] = sp.dist[net.zoneNodes[d]];
    }
    return out;
  });
}

/**
 * An elastic-demand follower problem: a network, its classes and their demand functions,
 * pivoted once; {@link solve} / {@link solveSync} then answer any tolls. Build it with
 * {@link ElasticDemandProblem.create} (which solves the no-toll pivot when none is given).
 */
export class ElasticDemandProblem {
  private constructor(
    readonly net: Network,
    readonly spec: DemandFunctionSpec,
    readonly classes: UserClass[],
    /** Per class, Z×Z pivot costs c0 (time units). */
    readonly pivot: Float64Array[],
    readonly augmented: AugmentedProblem,
  ) {}

  /**
   * Checks the spec, finds the pivot (the no-toll equilibrium's OD costs unless given) and builds
   * the augmented network.
   * @throws InputError for a bad spec (naming the field), a pivot of the wrong shape, or a pivot
   *   solve that fails
   */
  static create(net: Network, spec: DemandFunctionSpec, options: ElasticProblemOptions = {}): ElasticDemandProblem {
    const classes = options.classes ?? defaultClasses(net);
    checkDemandFunctionSpec(
      spec,
      classes.map((c) => c.name),
      net.zoneIds,
    );
    const Z = net.zoneCount;
    let pivot = options.pivot;
    if (pivot) {
      if (pivot.length !== classes.length || pivot.some((p) => !(p instanceof Float64Array) || p.length !== Z * Z))
        throw new InputError(MOD, "pivot costs of the wrong shape", { field: "pivot" }, `${classes.length} arrays of ${Z}² costs`);
    } else {
      const solver = options.pivotSolver ?? { algorithm: "bush", gap: 1e-10 };
      const r = solveSync(net, { ...solver, classes, tolls: new Float64Array(net.linkCount), warmStart: undefined });
      pivot = odCosts(net, r);
    }
    const lb = freeFlowCosts(net, classes, new Float64Array(net.linkCount));
    return new ElasticDemandProblem(net, spec, classes, pivot, augment(net, classes, spec, pivot, lb));
  }

  /** Follower options on the augmented network from options on the original one. */
  private options(options: FollowerOptions): FollowerOptions {
    const net = this.net;
    const aug = this.augmented.network;
    const tolls = new Float64Array(aug.linkCount);
    const given = options.tolls ?? net.links.toll;
    if (given.length !== net.linkCount)
      throw new InputError(MOD, `tolls have ${given.length} entries`, { field: "tolls" }, `${net.linkCount}, one per link`);
    for (let i = 0; i < net.linkCount; i++)
      if (given[i] < 0)
        throw new InputError(MOD, `toll ${given[i]} on link ${i + 1}`, { field: `tolls[${i}]` }, "tolls ≥ 0 with elastic demand");
    tolls.set(given);
    let warmStart = options.warmStart;
    if (warmStart && warmStart.classFlows.some((f) => f.length !== aug.linkCount)) warmStart = undefined;
    const start = options.algorithm === "bush" ? this.pivotTripsNotMade() : undefined;
    return { ...options, classes: this.augmented.classes, tolls, warmStart, initialTripsNotMade: start };
  }

  /** Per augmented link: q̄ − q0 on excess-demand links (the trips not made at the pivot), 0 elsewhere. */
  private pivotTripsNotMade(): Float64Array {
    const { network, excess } = this.augmented;
    const out = new Float64Array(network.linkCount);
    for (let j = 0; j < excess.link.length; j++) out[excess.link[j]] = Math.max(0, excess.maxTrips[j] - excess.demand[j].q0);
    return out;
  }

  /**
   * Solves the elastic-demand user equilibrium (or, with objective "so", the net-benefit
   * optimum) at the given tolls (money per link of the original network, ≥ 0).
   * A warm start must come from an earlier result of this problem (its `warmStart`).
   * @throws InputError for bad options, as the follower's {@link solve}, or a negative toll
   */
  solveSync(options: FollowerOptions): ElasticResult {
    const o = this.options(options);
    if (o.algorithm === "bush") return this.reducedView(solveReducedBush(this.reducedForm(), o));
    return this.view(solveSync(this.augmented.network, o));
  }

  /** {@link solveSync} yielding to the event loop between iterations (cancellable by signal). */
  async solve(options: FollowerOptions): Promise<ElasticResult> {
    const o = this.options(options);
    if (o.algorithm === "bush") return this.reducedView(await solveReducedBushAsync(this.reducedForm(), o));
    return this.view(await solve(this.augmented.network, o));
  }

  private reduced: ReducedElastic | null = null;

  /**
   * The bush algorithm runs in the reduced form (`../bush/demand-step.ts`: bushes on the road
   * network carrying their trips not made), its result and bushes mapped to the augmented network.
   */
  private reducedForm(): ReducedElastic {
    return (this.reduced ??= new ReducedElastic(this.augmented));
  }

  /**
   * The view of a reduced solve's result: its per-link arrays are the road network's where its
   * augmented measures are left to be asked for, and `augmented` then makes them when first read.
   */
  private reducedView({ result, augmented }: ReducedResult): ElasticResult {
    if (augmented === null) return this.view(result);
    const v = this.view(result, result.warmStart!.classFlows);
    let made: Omit<FollowerResult, "warmStart"> | null = null;
    Object.defineProperty(v, "augmented", {
      enumerable: true,
      configurable: true,
      get: () => (made ??= { ...withoutWarmStart(result), ...augmented() }),
      set: (x: Omit<FollowerResult, "warmStart">) => {
        made = x;
      },
    });
    return v;
  }

  /**
   * The original network's view of a result, with the elastic summary: `r` is an augmented
   * result, or a result with the road network's per-link arrays and the augmented network's
   * class flows `augmentedFlows`.
   */
  view(r: FollowerResult, augmentedFlows: Float64Array[] = r.classes.map((c) => c.flows)): ElasticResult {
    const net = this.net;
    const m = net.linkCount;
    const Z = net.zoneCount;
    const { excess, odDemand } = this.augmented;
    const flows = r.flows.slice(0, m);
    const times = r.times.slice(0, m);
    const vdf = new CompiledVdf(net.links);
    let tstt = 0;
    for (let i = 0; i < m; i++) tstt += flows[i] * times[i];
    const K = this.classes.length;
    // trips made and OD costs
    const demand = this.classes.map((c) => Float64Array.from(c.demand));
    const odCost = this.classes.map(() => new Float64Array(Z * Z).fill(NaN));
    const beyond = tripsAndCosts(excess, this.augmented.network.links.power, augmentedFlows, Z, demand, odCost);
    // the other pairs with demand (none that make trips, or fixed demand) cost their shortest road
    // path: one shortest-path pass, only when there are such pairs
    let byRoad = false;
    for (let k = 0; k < K && !byRoad; k++) byRoad = someWithoutCost(odDemand[k], odCost[k]);
    if (byRoad) {
      const roadCost = odCosts(net, { classes: r.classes.map((c) => ({ costs: c.costs.subarray(0, m) })) as FollowerResult["classes"] });
      for (let k = 0; k < K; k++)
        for (let p = 0; p < Z * Z; p++) if (odDemand[k][p] && Number.isNaN(odCost[k][p])) odCost[k][p] = roadCost[k][p];
    }
    // consumer surplus by class and zone
    const zoneTotals = Array.from({ length: Z }, (_, z) => ({
      zone: net.zoneIds[z],
      tripsReference: 0,
      tripsMade: 0,
      tripsNotMade: 0,
      consumerSurplus: 0,
    }));
    const classTotals = this.classes.map((c) => ({
      name: c.name,
      tripsReference: 0,
      tripsMade: 0,
      tripsNotMade: 0,
      consumerSurplus: 0,
      consumerSurplusTime: 0,
    }));
    const warnings = [...r.warnings];
    if (beyond > 0)
      warnings.push(
        `${MOD}: ${beyond} OD pairs make so few trips that their demand function was continued by its tangent (costs beyond 1e6 × free-flow): check the elasticity`,
      );
    let fixedPairs = 0;
    for (let k = 0; k < K; k++) {
      const c = this.classes[k];
      const toMoney = c.tollFactor > 0 ? 1 / c.tollFactor : NaN;
      if (!(c.tollFactor > 0)) warnings.push(`${MOD}: class "${c.name}" has toll factor 0: its consumer surplus has no money value (NaN)`);
      const t = originTotals(odDemand[k], demand[k], odCost[k], Z);
      fixedPairs += t.fixedPairs;
      const ct = classTotals[k];
      for (let o = 0; o < Z; o++) {
        const zt = zoneTotals[o];
        zt.tripsReference += t.reference[o];
        zt.tripsMade += t.made[o];
        zt.consumerSurplus += t.surplus[o] * toMoney;
        ct.tripsReference += t.reference[o];
        ct.tripsMade += t.made[o];
        ct.consumerSurplusTime += t.surplus[o];
      }
      ct.consumerSurplus = ct.consumerSurplusTime * toMoney;
    }
    if (fixedPairs > 0)
      warnings.push(
        `${MOD}: ${fixedPairs} OD pairs have demand that does not respond (elasticity or rate 0); their consumer surplus is left out`,
      );
    for (const t of [...zoneTotals, ...classTotals]) t.tripsNotMade = t.tripsReference - t.tripsMade;
    const sum = (f: (t: (typeof classTotals)[number]) => number) => classTotals.reduce((s, t) => s + f(t), 0);
    const cs = sum((t) => t.consumerSurplus);
    const elastic: ElasticSummary = {
      form: this.spec.form,
      tripsReference: sum((t) => t.tripsReference),
      tripsMade: sum((t) => t.tripsMade),
      tripsNotMade: sum((t) => t.tripsNotMade),
      consumerSurplus: cs,
      consumerSurplusTime: sum((t) => t.consumerSurplusTime),
      welfare: cs + r.revenue,
      zones: zoneTotals,
      classes: classTotals,
      demand,
      odCost,
    };
    return {
      ...r,
      network: net.name,
      tstt,
      beckmannTime: vdf.beckmann(flows),
      flows,
      times,
      tolls: r.tolls.slice(0, m),
      classes: r.classes.map((c, k) => ({
        ...c,
        flows: c.flows.slice(0, m),
        costs: c.costs.slice(0, m),
        demand: classTotals[k].tripsMade,
      })),
      warnings,
      elastic,
      augmented: withoutWarmStart(r),
    };
  }
}

// The view's loops, each a small function of its own: V8 compiles a small function's loop after
// far fewer iterations than a large one's, and the view runs once per solve (as one function it
// took 120–340 ms per Chicago-Sketch solve for the first five solves of a process, 31 ms after).

/**
 * Trips made (q̄ − e) and the OD cost (the inverse demand of the trips made) of every pair with an
 * excess link, into `demand` and `odCost` (per class, Z×Z), from the augmented result's class
 * flows. Returns the number of pairs beyond the excess-demand cost's edge (continued by its tangent).
 */
function tripsAndCosts(
  excess: AugmentedProblem["excess"],
  power: Float64Array,
  classFlows: Float64Array[],
  Z: number,
  demand: Float64Array[],
  odCost: Float64Array[],
): number {
  let beyond = 0;
  const n = excess.link.length;
  for (let j = 0; j < n; j++) {
    const k = excess.cls[j];
    const p = excess.origin[j] * Z + excess.destination[j];
    const a = excess.link[j];
    const e = classFlows[k][a];
    const pw = power[a];
    if (pw >= 0 && 1 - e / excess.maxTrips[j] < excessDemandEdge(pw)) beyond++;
    const q = Math.max(0, excess.maxTrips[j] - e);
    demand[k][p] = q;
    // the pair's cost is the inverse demand of its trips (= its route costs to the gap)
    if (q > 0) odCost[k][p] = inverseDemand(excess.demand[j], q);
  }
  return beyond;
}

/** True when some pair with demand (a demand function) has no OD cost yet (NaN). */
function someWithoutCost(odDemand: (OdDemand | null)[], odCost: Float64Array): boolean {
  for (let p = 0; p < odDemand.length; p++) if (odDemand[p] && Number.isNaN(odCost[p])) return true;
  return false;
}

/**
 * One class's trips of the trip table, trips made and consumer surplus (time units × vehicles) per
 * origin zone, and the number of pairs with trips made whose demand does not respond (their
 * surplus is left out).
 */
function originTotals(
  odDemand: (OdDemand | null)[],
  demand: Float64Array,
  odCost: Float64Array,
  Z: number,
): { reference: Float64Array; made: Float64Array; surplus: Float64Array; fixedPairs: number } {
  const reference = new Float64Array(Z);
  const made = new Float64Array(Z);
  const surplus = new Float64Array(Z);
  let fixedPairs = 0;
  for (let o = 0; o < Z; o++) {
    let ref = 0;
    let q = 0;
    let cs = 0;
    for (let p = o * Z; p < o * Z + Z; p++) {
      const od = odDemand[p];
      if (!od) continue;
      const qp = demand[p];
      if (qp > 0) {
        const c = consumerSurplus(od, odCost[p]);
        if (c === Infinity) fixedPairs++;
        else cs += c;
      }
      ref += od.q0;
      q += qp;
    }
    reference[o] = ref;
    made[o] = q;
    surplus[o] = cs;
  }
  return { reference, made, surplus, fixedPairs };
}

/** A copy of a result without its warm start. */
function withoutWarmStart(r: FollowerResult): Omit<FollowerResult, "warmStart"> {
  const copy: Partial<FollowerResult> = { ...r };
  delete copy.warmStart;
  return copy as Omit<FollowerResult, "warmStart">;
}
