/**
 * The cost model every follower algorithm shares: user classes, generalised costs with tolls
 * kept apart from time, the objective's link cost (UE: t; SO: marginal cost t + x·t′), and
 * the measures of a result (TSTT, SPTT, relative gap, Beckmann, revenue). The gap formula lives
 * here and nowhere else.
 *
 * Multi-class potential: with x_a = Σ_k pce_k f_ka and class costs c_ka = t_a(x_a) + g_ka,
 * F(f) = Σ_a ∫₀^{x_a} t_a + Σ_k pce_k Σ_a g_ka f_ka has ∂F/∂f_ka = pce_k · c_ka, so its
 * minimisers are the multi-class Wardrop equilibria (each class on its own cheapest routes).
 * For SO, ∫t is replaced by x·t(x), except on excess-demand links (elastic demand, Gartner's
 * transformation: `./elastic/`), whose cost is the inverse demand of the trips not made: its
 * integral is the benefit given up, which the net-benefit optimum keeps as it is.
 */

import {
  AonLoader,
  CompiledNetwork,
  CompiledVdf,
  compileNetwork,
  InputError,
  linkLabel,
  VDF_CONICAL,
  VDF_EXCESS_DEMAND,
  Network,
  UnroutableDemand,
} from "@tollkit/graph-core";
import { FollowerResult, Objective, UserClass } from "./types.js";

/** The single class a network implies: its demand and cost weights, PCE 1, tolled. */
export function defaultClasses(net: Network): UserClass[] {
  return [
    {
      name: "all",
      demand: net.demand,
      tollFactor: net.costWeights.tollFactor,
      distanceFactor: net.costWeights.distanceFactor,
      pce: 1,
      tolled: true,
    },
  ];
}

/** Relative gap = (total cost − SPTT) / total cost (0 when there is no cost at all). */
export function relativeGap(totalCost: number, sptt: number): number {
  return totalCost > 0 ? (totalCost - sptt) / totalCost : 0;
}

/** Compiled costs of one follower problem. Allocated once per solve; evaluation allocates nothing. */
export class CostModel {
  readonly compiled: CompiledNetwork;
  readonly vdf: CompiledVdf;
  readonly classes: UserClass[];
  /** Per class: the flow-independent part of its link cost, g_ka = tollFactor·toll + distanceFactor·length. */
  readonly fixed: Float64Array[];
  readonly tolls: Float64Array;
  readonly linkCount: number;
  readonly demandTotals: number[];

  constructor(
    readonly net: Network,
    classes: UserClass[],
    tolls: Float64Array,
    readonly objective: Objective,
    compiled?: CompiledNetwork,
  ) {
    const m = net.linkCount;
    if (tolls.length !== m)
      throw new InputError("follower", `tolls have ${tolls.length} entries`, { field: "tolls" }, `${m}, one per link`);
    for (let i = 0; i < m; i++) {
      if (!Number.isFinite(tolls[i]))
        throw new InputError("follower", `toll ${tolls[i]} on link ${i + 1}`, { field: `tolls[${i}]` }, "a finite number");
    }
    classes.forEach((c, k) => {
      if (c.demand.length !== net.zoneCount * net.zoneCount)
        throw new InputError(
          "follower",
          `demand of class "${c.name}" has ${c.demand.length} cells`,
          { field: `classes[${k}].demand` },
          `${net.zoneCount}²`,
        );
      if (!(c.pce > 0)) throw new InputError("follower", `PCE ${c.pce}`, { field: `classes[${k}].pce` }, "a positive number");
      if (!Number.isFinite(c.tollFactor) || c.tollFactor < 0)
        throw new InputError("follower", `toll factor ${c.tollFactor}`, { field: `classes[${k}].tollFactor` }, "a number ≥ 0");
    });
    this.compiled = compiled ?? compileNetwork(net);
    this.vdf = new CompiledVdf(net.links);
    this.classes = classes;
    this.tolls = tolls;
    this.linkCount = m;
    this.fixed = classes.map((c) => {
      const g = new Float64Array(m);
      for (let i = 0; i < m; i++) g[i] = (c.tolled ? c.tollFactor * tolls[i] : 0) + c.distanceFactor * net.links.length[i];
      return g;
    });
    this.demandTotals = classes.map((c) => c.demand.reduce((s, v) => s + v, 0));
  }

  /** Total PCE flow from class flows: x = Σ_k pce_k f_k. */
  totalFlow(classFlows: Float64Array[], out: Float64Array): void {
    out.fill(0);
    for (let k = 0; k < classFlows.length; k++) {
      const f = classFlows[k];
      const p = this.classes[k].pce;
      for (let i = 0; i < this.linkCount; i++) out[i] += p * f[i];
    }
  }

  /**
   * The objective's flow-dependent link cost at total flow x: t(x) for UE, t(x) + x·t′(x) for SO.
   * `times` receives t(x) in both cases.
   */
  flowCost(x: Float64Array, times: Float64Array, out: Float64Array): void {
    this.vdf.times(x, times);
    if (this.objective === "ue") {
      out.set(times);
      return;
    }
    const kind = this.vdf.kind;
    for (let i = 0; i < this.linkCount; i++)
      out[i] = kind[i] === VDF_EXCESS_DEMAND ? times[i] : times[i] + x[i] * this.vdf.derivative(i, x[i]);
  }

  /**
   * The objective's flow-dependent cost of link `i` at total flow `x` (minutes): t(x) for UE,
   * the marginal cost t(x) + x·t′(x) for SO. Scalar form of {@link flowCost} for line searches.
   */
  linkFlowCost(i: number, x: number): number {
    const t = this.vdf.time(i, x);
    return this.objective === "ue" || this.vdf.kind[i] === VDF_EXCESS_DEMAND ? t : t + x * this.vdf.derivative(i, x);
  }

  /**
   * d/dx of {@link linkFlowCost} (minutes per PCE): t′(x) for UE, 2t′(x) + x·t″(x) for SO. On
   * BPR and polynomial links (t = fft + α·x^p) that is exactly (p + 1)·t′(x), since
   * x·t″ = (p − 1)·t′; conical links, which provide no second derivative, take x·t″ as a central
   * difference of t′ in relative steps of 1e-4 (exact to ~1e-8 relative; 0 at x = 0).
   */
  linkFlowCostDerivative(i: number, x: number): number {
    const d = this.vdf.derivative(i, x);
    const kind = this.vdf.kind[i];
    if (this.objective === "ue" || d === 0 || kind === VDF_EXCESS_DEMAND) return d;
    if (kind !== VDF_CONICAL) return (this.vdf.power[i] + 1) * d;
    if (x <= 0) return 2 * d;
    const e = 1e-4;
    return 2 * d + (this.vdf.derivative(i, x * (1 + e)) - this.vdf.derivative(i, x * (1 - e))) / (2 * e);
  }

  /** Fills `out[i]` with {@link linkFlowCostDerivative} of every link at total flows `x` (the Hessian diagonal). */
  flowCostDerivatives(x: Float64Array, out: Float64Array): void {
    if (this.objective === "ue") {
      this.vdf.derivatives(x, out);
      return;
    }
    for (let i = 0; i < this.linkCount; i++) out[i] = this.linkFlowCostDerivative(i, x[i]);
  }

  /**
   * Checks that every class's link cost is finite and ≥ 0 at zero flow (and so at every flow:
   * VDFs increase). Shortest paths need non-negative costs; a negative toll large enough to make
   * a cost negative is an input error.
   * @throws InputError naming the link and the class
   */
  checkCosts(): void {
    for (let i = 0; i < this.linkCount; i++) {
      const t = this.vdf.time(i, 0);
      if (!Number.isFinite(t) || t < 0)
        throw new InputError(
          "follower",
          `${linkLabel(this.net, i)} has free-flow time ${t}`,
          { file: this.net.name, field: "free_flow_time" },
          "a finite number ≥ 0",
        );
      for (let k = 0; k < this.classes.length; k++) {
        const c = t + this.fixed[k][i];
        if (!(c >= 0))
          throw new InputError(
            "follower",
            `${linkLabel(this.net, i)} has generalised cost ${c} at zero flow for class "${this.classes[k].name}" (toll ${this.tolls[i]})`,
            { field: `tolls[${i}]` },
            "tolls that keep every generalised cost ≥ 0",
          );
      }
    }
  }

  /** Class k's link cost: flow cost + fixed part. */
  classCost(k: number, flowCost: Float64Array, out: Float64Array): void {
    const g = this.fixed[k];
    for (let i = 0; i < this.linkCount; i++) out[i] = flowCost[i] + g[i];
  }

  /** The potential F minimised by the solver (see the module comment). */
  potential(x: Float64Array, classFlows: Float64Array[]): number {
    let s = 0;
    if (this.objective === "ue") s = this.vdf.beckmann(x);
    else
      for (let i = 0; i < this.linkCount; i++)
        s += this.vdf.kind[i] === VDF_EXCESS_DEMAND ? this.vdf.integral(i, x[i]) : x[i] * this.vdf.time(i, x[i]);
    return s + this.fixedCostTotal(classFlows);
  }

  /** Σ_k pce_k Σ_a f_ka·g_ka: the fixed generalised costs (toll and distance terms) of class flows. */
  fixedCostTotal(classFlows: Float64Array[]): number {
    let s = 0;
    for (let k = 0; k < classFlows.length; k++) {
      const g = this.fixed[k];
      const f = classFlows[k];
      const p = this.classes[k].pce;
      let t = 0;
      for (let i = 0; i < this.linkCount; i++) t += g[i] * f[i];
      s += p * t;
    }
    return s;
  }
}

/** Error for demand that cannot be routed, naming the OD pairs (zone ids). */
export function unroutableError(net: Network, pairs: UnroutableDemand[]): InputError {
  const shown = pairs
    .slice(0, 10)
    .map((p) => `${net.zoneIds[p.origin]}→${net.zoneIds[p.destination]} (${p.trips} trips)`)
    .join(", ");
  const more = pairs.length > 10 ? ` and ${pairs.length - 10} more` : "";
  return new InputError(
    "follower",
    `demand cannot be routed: no path for ${shown}${more}`,
    { file: net.name, field: "demand" },
    "every OD pair with demand connected",
  );
}

/** Measures of a flow pattern, computed independently of the algorithm that produced it (but for an SPTT the caller measured exactly: {@link measure}). */
export interface Measures {
  tstt: number;
  totalCost: number;
  sptt: number;
  relativeGap: number;
  averageExcessCost: number;
  beckmann: number;
  revenue: number;
  times: Float64Array;
  classCosts: Float64Array[];
  classRevenue: number[];
  /** Each class's relative gap. */
  classGaps: number[];
}

/**
 * Evaluates class flows: link times, class costs (in the objective's cost), TSTT, total cost,
 * SPTT (a fresh shortest-path pass), relative gap, Beckmann objective and revenue.
 * @param classSptt per class, the SPTT at exactly these flows from true shortest distances
 *   measured by the caller (the bush solver's last gap measurement, label-correcting over the
 *   whole network): the shortest-path pass is then skipped
 * @throws InputError when some demand cannot be routed
 */
export function measure(model: CostModel, classFlows: Float64Array[], loader?: AonLoader, classSptt?: ArrayLike<number>): Measures {
  const m = model.linkCount;
  const x = new Float64Array(m);
  model.totalFlow(classFlows, x);
  const times = new Float64Array(m);
  const fc = new Float64Array(m);
  model.flowCost(x, times, fc);
  const aon = classSptt === undefined ? (loader ?? new AonLoader(model.compiled)) : null;
  const scratch = aon === null ? null : new Float64Array(m);
  let totalCost = 0;
  let sptt = 0;
  let demand = 0;
  const classCosts: Float64Array[] = [];
  const classRevenue: number[] = [];
  const classGaps: number[] = [];
  let tstt = 0;
  for (let i = 0; i < m; i++) tstt += x[i] * times[i];
  model.classes.forEach((c, k) => {
    const cost = new Float64Array(m);
    model.classCost(k, fc, cost);
    classCosts.push(cost);
    const f = classFlows[k];
    let tc = 0;
    let rev = 0;
    for (let i = 0; i < m; i++) {
      tc += f[i] * cost[i];
      if (c.tolled) rev += f[i] * model.tolls[i];
    }
    let s: number;
    if (aon === null) s = classSptt![k];
    else {
      const r = aon.load(cost, c.demand, scratch!);
      if (r.unroutable.length) throw unroutableError(model.net, r.unroutable);
      s = r.sptt;
    }
    totalCost += tc;
    sptt += s;
    demand += model.demandTotals[k];
    classRevenue.push(rev);
    classGaps.push(relativeGap(tc, s));
  });
  const gap = relativeGap(totalCost, sptt);
  return {
    tstt,
    totalCost,
    sptt,
    relativeGap: gap,
    averageExcessCost: demand > 0 ? (totalCost - sptt) / demand : 0,
    beckmann: model.vdf.beckmann(x),
    revenue: classRevenue.reduce((a, b) => a + b, 0),
    times,
    classCosts,
    classRevenue,
    classGaps,
  };
}

/**
 * Builds the parts of a {@link FollowerResult} that follow from the final class flows
 * (`classSptt`: as in {@link measure}).
 */
export function resultMeasures(
  model: CostModel,
  classFlows: Float64Array[],
  loader?: AonLoader,
  classSptt?: ArrayLike<number>,
): Pick<
  FollowerResult,
  | "tstt"
  | "totalCost"
  | "sptt"
  | "relativeGap"
  | "averageExcessCost"
  | "beckmann"
  | "beckmannTime"
  | "revenue"
  | "flows"
  | "times"
  | "tolls"
  | "classes"
> {
  const ms = measure(model, classFlows, loader, classSptt);
  const flows = new Float64Array(model.linkCount);
  model.totalFlow(classFlows, flows);
  return {
    tstt: ms.tstt,
    totalCost: ms.totalCost,
    sptt: ms.sptt,
    relativeGap: ms.relativeGap,
    averageExcessCost: ms.averageExcessCost,
    beckmann: ms.beckmann + model.fixedCostTotal(classFlows),
    beckmannTime: ms.beckmann,
    revenue: ms.revenue,
    flows,
    times: ms.times,
    tolls: model.tolls,
    // travellers' generalised cost (time + toll·tollFactor + length·distanceFactor), also for SO,
    // where ms.classCosts hold the marginal cost the solver equilibrates
    classes: model.classes.map((c, k) => {
      const costs = new Float64Array(model.linkCount);
      model.classCost(k, ms.times, costs);
      return {
        name: c.name,
        flows: classFlows[k],
        costs,
        revenue: ms.classRevenue[k],
        demand: model.demandTotals[k],
        relativeGap: ms.classGaps[k],
      };
    }),
  };
}

/** Names the classes whose own relative gap is above the target (`" (class truck 1.5e-10)"`), when there are several; "" otherwise. */
export function classGapNote(classes: readonly { name: string; relativeGap: number }[], gap: number): string {
  if (classes.length < 2) return "";
  const over = classes.filter((c) => c.relativeGap > gap);
  return over.length ? ` (${over.map((c) => `class ${c.name} ${c.relativeGap.toExponential(3)}`).join(", ")})` : "";
}
