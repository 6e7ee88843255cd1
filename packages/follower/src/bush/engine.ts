/**
 * The bush-based equilibrium engine: Algorithm B (Dial 2006) on origin-based bushes, in the
 * form described by Boyles, Lownes & Unnikrishnan (*Transportation Network Analysis*, ch. 6)
 * and studied by Nie (2010), with the bush storage of `./store.ts`.
 *
 * One iteration (driven by `../bush.ts`):
 * 1. for every bush (one per class and origin): if the last measurement found a shortcut
 *    outside it, update it — drop links without flow (keeping the bush's shortest-path tree),
 *    then add the shortcuts (i,j) with L_i + c_ij < L_j and U_i < U_j, where L are shortest and
 *    U longest bush-path labels (the second condition keeps the bush acyclic; with several
 *    classes near equilibrium, every measured candidate that keeps it acyclic:
 *    {@link BushEngine.keepMeasuredShortcuts}) — and shift flow;
 * 2. passes that only shift flow, on the bushes furthest from their own equilibrium;
 * 3. a measurement: exact class link flows and costs recomputed from the bushes, total cost, and
 *    the SPTT from true shortest paths (bush labels corrected by a label-correcting pass over the
 *    whole network, exact and much cheaper than Dijkstra from scratch), hence the relative gap;
 *    the links that shortened a bush path are kept as the next update's candidates.
 *
 * Rounding: a flow the shift was meant to empty is set to 0 when cancellation leaves less than
 * 1e-12 of it, and flows below 1e-13 of the origin's demand count as unused (dust), so that
 * rounding never keeps a link in a bush.
 *
 * A flow shift (per bush, nodes in descending topological order): for node j, the longest used
 * path and the shortest bush path into j meet at a divergence node a; the Newton step
 * Δ = (C_long − C_short) / (pce · Σ dc/dx) moves flow of the bush's class from the long to the
 * short segment, capped by the least flow on the long segment. Costs are the objective's
 * ({@link CostModel.flowCost}: t for UE, t + x·t′ for SO) plus the class's fixed part (tolls,
 * distance); derivatives are t′ (UE) or 2t′ + x·t″ (SO). Link costs are refreshed after every
 * shift, so every segment cost is exact when it is used.
 *
 * Hot paths run on typed arrays allocated once per engine; nothing is allocated per shift, per
 * node or per bush visit (a bush's arrays grow, by half, only when it gains more links than it
 * has room for).
 *
 * Modules: this one holds the link costs and flows, the initial and adopted bushes and the
 * measurement; `./labels.ts` the label passes (shortest and longest used bush paths, true
 * shortest distances) and the flow shifts; `./topology.ts` the bush structure (validation,
 * storage order, the update that drops and adds links); `./joint.ts`, with several classes, the
 * joint shift of all classes of an origin, which replaces the one-class Newton step (classes whose
 * fixed costs differ would otherwise trade places one Newton step per pass); `./pas.ts` the
 * cross-origin shifts on paired alternative segments (TAPAS-like: one Newton step on the common
 * total flow of every bush that holds both segments). Each states the invariants of its arrays.
 */

import { CompiledNetwork, CompiledVdf, ShortestPathWorkspace, UnroutableDemand, VDF_CONICAL, VDF_EXCESS_DEMAND } from "@tollkit/graph-core";
import { CostModel, relativeGap, unroutableError } from "../cost-model.js";
import { ElasticDemandData, ElasticDemandStep } from "./demand-step.js";
import { ExcessDemandStep } from "./excess-demand.js";
import { JointShift } from "./joint.js";
import { PasSet } from "./pas.js";
import { BushLabels } from "./labels.js";
import { Bush, newBush, StoredBush } from "./store.js";
import { BushTopology } from "./topology.js";

/** Outcome of one measurement of the current flows. */
export interface GapMeasurement {
  totalCost: number;
  sptt: number;
  relativeGap: number;
  /** The largest relative gap of one class (the gap a multi-class solve converges on; = relativeGap with one class). */
  maxClassGap: number;
  /** Bushes for which a shorter path exists outside the bush. */
  bushesToGrow: number;
}

/**
 * Cross-origin PAS shifts (`./pas.ts`) on or off: an internal switch of the algorithm (off, the
 * engine runs the Algorithm B shifts alone, as before the PAS set existed).
 */
const PAS_SHIFTS = true;

export class BushEngine {
  readonly model: CostModel;
  readonly net: CompiledNetwork;
  readonly vdf: CompiledVdf;
  readonly so: boolean;
  readonly m: number;
  readonly n: number;
  readonly K: number;
  readonly pce: Float64Array;
  /** Total link flow (PCE). */
  readonly x: Float64Array;
  /** The objective's flow cost per link (t or t + x·t′). */
  readonly fc: Float64Array;
  /** d fc / dx per link. */
  readonly der: Float64Array;
  /** Per class: fc + the class's fixed cost. */
  readonly cc: Float64Array[];
  /** Per class link flows (vehicles), exact after {@link recompute}. */
  readonly classFlows: Float64Array[];
  bushes: Bush[] = [];
  /** With several classes: the joint shift of all classes of an origin (`./joint.ts`), else null. */
  readonly joint: JointShift | null;
  /**
   * The cross-origin shifts on paired alternative segments (`./pas.ts`), driven by `../bush.ts`,
   * for the system optimum and for several classes; null for one class's user equilibrium and with
   * elastic demand (its excess links and trips not made are not part of a PAS).
   */
  readonly pas: PasSet | null;

  /** The demand step on excess-demand links (elastic demand on the augmented network), or null without them. */
  private readonly excess: ExcessDemandStep | null;
  /** Elastic demand in the reduced form (`./demand-step.ts`: trips not made kept per bush, no excess links), or null. */
  readonly elastic: ElasticDemandStep | null;
  /** Label arrays and passes (one set per engine). */
  private readonly labels: BushLabels;
  /** Bush structure scratch and passes (one set per engine). */
  private readonly topology: BushTopology;
  /** Per node: flow balance while loading a tree bush or checking a stored one; all 0 between uses. */
  private readonly nodeFlow: Float64Array;
  /** Per class: Σ_a f_ka·c_ka and Σ_od demand·shortest cost (true shortest distances), filled by {@link measure}. */
  private readonly classTotals: Float64Array;
  readonly classSptt: Float64Array;
  /** Per CSR position: the link costs of the class being measured ({@link BushLabels.gatherCosts}). */
  private readonly posCost: Float64Array;

  /**
   * With elastic demand: per link, the trips not made (vehicles of the link's class) that a
   * first bush puts on each excess-demand link out of its root (the rest of the pair's demand goes
   * by road); null or 0 routes every trip by road.
   */
  initialExcess: Float64Array | null = null;
  /** Per node: the excess-demand link from the root of the tree bush being built into it, or −1. */
  private readonly excessInto: Int32Array;

  /**
   * When set (by `../bush.ts`; fixed demand only), a bush update adds every shortcut candidate of
   * the last measurement that keeps the bush acyclic, also where it no longer shortens a bush path
   * at the update's costs (the flows have moved since: the other bushes' shifts, and with classes
   * the joint and PAS shifts that move this bush's own flows at other bushes' visits). Such a
   * candidate did shorten a path at the measured flows; without it, Chicago-Sketch with two classes
   * sat near a gap of 5e-7 for six iterations while the van bushes of neighbouring zones were
   * marked to grow at every measurement and their candidates failed the L test at every update.
   */
  keepMeasuredShortcuts = false;

  /** Shifts whose stale label difference U_j − L_j is at most this fraction of U_j are skipped. */
  labelTolerance = 1e-15;

  /**
   * @param elastic elastic demand in the reduced form (`./demand-step.ts`): the classes' demand
   *   is then q̄ (the most trips of each pair) and every bush carries its trips not made
   */
  constructor(model: CostModel, elastic: ElasticDemandData | null = null) {
    this.model = model;
    this.net = model.compiled;
    this.vdf = model.vdf;
    this.so = model.objective === "so";
    const m = (this.m = model.linkCount);
    const n = (this.n = this.net.nodeCount);
    const K = (this.K = model.classes.length);
    this.pce = Float64Array.from(model.classes.map((c) => c.pce));
    this.x = new Float64Array(m);
    this.classTotals = new Float64Array(this.K);
    this.classSptt = new Float64Array(this.K);
    this.fc = new Float64Array(m);
    this.der = new Float64Array(m);
    this.cc = [];
    this.classFlows = [];
    for (let k = 0; k < K; k++) {
      this.cc.push(new Float64Array(m));
      this.classFlows.push(new Float64Array(m));
    }
    this.excess = ExcessDemandStep.of(this.net, this.vdf.kind);
    this.elastic = elastic === null ? null : new ElasticDemandStep(this.net, elastic);
    this.labels = new BushLabels(this.net, this.excess?.mask ?? null);
    this.topology = new BushTopology(this.net, this.labels);
    this.nodeFlow = new Float64Array(n);
    this.posCost = new Float64Array(m);
    this.joint = K > 1 ? new JointShift(K, m) : null;
    // one-class user equilibrium: no PASes (fewer iterations, no less time, and proportional
    // shares leave more bushes on both segments of a pair, which shortens the sensitivities' ranges)
    this.pas =
      PAS_SHIFTS && this.excess === null && this.elastic === null && (this.so || K > 1)
        ? new PasSet(K, m, this.pce, this.net.linkTo)
        : null;
    this.excessInto = new Int32Array(n).fill(-1);
    let quartic = !this.so;
    for (let a = 0; a < m && quartic; a++) {
      const kind = this.vdf.kind[a];
      quartic = this.vdf.power[a] === 4 && kind !== VDF_CONICAL && kind !== VDF_EXCESS_DEMAND;
    }
    this.quartic = quartic;
    this.quarticFft = this.vdf.fft;
    this.quarticAlpha = this.vdf.alpha;
    this.cost0 = this.cc[0];
    this.fixed0 = this.model.fixed[0];
    for (let a = 0; a < m; a++) this.refresh(a);
  }

  /**
   * A user equilibrium on links whose travel time is fft + α·x⁴ (BPR or polynomial of power 4, the
   * TNTP networks'): {@link addFlow}'s refresh is then a few operations on the arrays below, written
   * out there (every flow shift and demand step goes through it).
   */
  readonly quartic: boolean;
  private readonly quarticFft: Float64Array;
  private readonly quarticAlpha: Float64Array;
  /** The first class's link costs and fixed costs (with one class, {@link addFlow} writes these alone). */
  private readonly cost0: Float64Array;
  private readonly fixed0: Float64Array;

  /** Recomputes the cost and derivative of link `a` from its flow x[a]. */
  private refresh(a: number): void {
    const xa = this.x[a];
    let c: number;
    const vdf = this.vdf;
    if (this.so) {
      c = this.model.linkFlowCost(a, xa);
      this.der[a] = this.model.linkFlowCostDerivative(a, xa);
    } else c = vdf.timeAndDerivative(a, xa, this.der);
    this.fc[a] = c;
    const K = this.K;
    for (let k = 0; k < K; k++) this.cc[k][a] = c + this.model.fixed[k][a];
  }

  /** Adds `dx` (PCE) to the flow of link `a` (clamped at 0) and refreshes its costs (the flow shifts of `./labels.ts`). */
  addFlow(a: number, dx: number): void {
    const v0 = this.x[a] + dx;
    const v = v0 > 0 ? v0 : 0;
    this.x[a] = v;
    if (this.quartic) {
      // refresh(a) for fft + α·x⁴: the same operations as CompiledVdf.timeAndDerivative's
      const al = this.quarticAlpha[a];
      const v3 = v * v * v;
      this.der[a] = al === 0 ? 0 : al * 4 * v3;
      const c = this.quarticFft[a] + al * (v3 * v);
      this.fc[a] = c;
      const K = this.K;
      if (K === 1) this.cost0[a] = c + this.fixed0[a];
      else for (let k = 0; k < K; k++) this.cc[k][a] = c + this.model.fixed[k][a];
    } else this.refresh(a);
  }

  // ---------------------------------------------------------------- initial bushes

  /**
   * Builds one bush per class and origin with demand: the shortest-path tree at the current
   * costs, loaded all-or-nothing. With `incremental`, costs are refreshed after each origin
   * (incremental loading); without, the caller recomputes flows afterwards.
   * @throws InputError when some demand cannot be routed
   */
  initialise(sp: ShortestPathWorkspace, incremental: boolean): void {
    const { zoneCount: Z } = this.net;
    const unroutable: UnroutableDemand[] = [];
    const bushes: Bush[] = [];
    for (let k = 0; k < this.K; k++) {
      const demand = this.model.classes[k].demand;
      for (let o = 0; o < Z; o++) {
        if (!hasDemand(demand, o, Z)) continue;
        const b = this.treeBush(sp, k, o, unroutable, incremental);
        if (b) bushes.push(b);
      }
    }
    if (unroutable.length) throw unroutableError(this.model.net, unroutable);
    this.bushes = bushes.sort((p, q) => p.cls - q.cls || p.zone - q.zone);
    this.pas?.clear();
  }

  /** The shortest-path-tree bush of one class and origin, loaded with its demand (null when unroutable). */
  private treeBush(sp: ShortestPathWorkspace, k: number, o: number, unroutable: UnroutableDemand[], incremental = true): Bush | null {
    const { zoneCount: Z, zoneNodes, linkFrom } = this.net;
    const demand = this.model.classes[k].demand;
    const root = zoneNodes[o];
    sp.gatherCosts(this.cc[k]);
    this.excess?.hideFromTree(root, sp.posCost);
    sp.tree(root);
    const { dist, predLink, order, settled } = sp;
    const nodeFlow = this.nodeFlow;
    const el =
      this.elastic === null
        ? null
        : this.elastic.attach(k, o, demand, this.pce[k], this.elastic.data.initial?.[k].subarray(o * Z, o * Z + Z) ?? null);
    let bad = false;
    for (let d = 0; d < Z; d++) {
      const t = demand[o * Z + d];
      if (t <= 0 || d === o) continue;
      if (dist[zoneNodes[d]] === Infinity) {
        unroutable.push({ origin: o, destination: d, trips: t });
        bad = true;
        continue;
      }
      nodeFlow[zoneNodes[d]] += el === null ? t : t - el.notMade[d];
    }
    if (bad) {
      for (let d = 0; d < Z; d++) nodeFlow[zoneNodes[d]] = 0;
      return null;
    }
    // excess-demand links out of the root that start with trips not made (their heads are sinks)
    const { fsStart, fsLink, fsHead } = this.net;
    const excessInto = this.excessInto;
    const e0 = this.initialExcess;
    let extra = 0;
    if (e0 !== null && this.excess !== null)
      for (let q = fsStart[root]; q < fsStart[root + 1]; q++) {
        const a = fsLink[q];
        if (this.excess.mask[a] === 1 && e0[a] > 0 && dist[fsHead[q]] < Infinity) {
          excessInto[fsHead[q]] = a;
          extra++;
        }
      }
    const len = settled - 1 + extra;
    const b = newBush(k, o, root, Math.max(4, Math.ceil(len * 1.25)), rowDemand(demand, o, Z));
    b.len = len;
    b.elastic = el;
    const links = b.links;
    const flows = b.flows;
    // each node's group: its tree in-link, then its excess link (if any)
    for (let s = 1, w = 0; s < settled; s++) {
      const v = order[s];
      links[w++] = predLink[v];
      if (extra > 0 && excessInto[v] >= 0) links[w++] = excessInto[v];
    }
    for (let s = settled - 1, w = len - 1; s >= 1; s--) {
      const v = order[s];
      let f = nodeFlow[v];
      nodeFlow[v] = 0;
      if (extra > 0 && excessInto[v] >= 0) {
        const a = excessInto[v];
        excessInto[v] = -1;
        const ex = Math.min(e0![a], f);
        flows[w--] = ex;
        f -= ex;
      }
      flows[w--] = f;
      if (f !== 0) nodeFlow[linkFrom[predLink[v]]] += f;
    }
    nodeFlow[root] = 0;
    if (incremental) {
      const pce = this.pce[k];
      for (let p = 0; p < len; p++) if (flows[p] > 0) this.addFlow(links[p], pce * flows[p]);
    }
    return b;
  }

  /**
   * Takes bushes from a warm-start state. A stored bush that fails a check (indices out of range,
   * a duplicate link, a negative or non-finite flow, a link leaving a zone that may not be passed
   * through, a cycle, a reachable node missing, demand not met) is replaced by a fresh
   * shortest-path-tree bush, as is every (class, origin) with demand that the state lacks.
   * Returns how many stored bushes were rejected and how many bushes were built fresh.
   * @param consume take the stored arrays over instead of copying them (the caller gives the
   *   state up: its arrays are the solve's from now on, so no second copy is alive)
   */
  adopt(stored: StoredBush[], sp: ShortestPathWorkspace, consume = false): { rejected: number; built: number } {
    const { zoneCount: Z } = this.net;
    const have = new Set<number>();
    const bushes: Bush[] = [];
    let rejected = 0;
    for (const s of stored) {
      const k = s.cls;
      const o = s.zone;
      const ok =
        Number.isInteger(k) &&
        k >= 0 &&
        k < this.K &&
        Number.isInteger(o) &&
        o >= 0 &&
        o < Z &&
        !have.has(k * Z + o) &&
        hasDemand(this.model.classes[k].demand, o, Z) &&
        s.links instanceof Int32Array &&
        s.flows instanceof Float64Array &&
        s.links.length === s.flows.length;
      if (!ok) {
        rejected++;
        continue;
      }
      const b = newBush(
        k,
        o,
        this.net.zoneNodes[o],
        consume ? 0 : Math.max(4, Math.ceil(s.links.length * 1.1)),
        rowDemand(this.model.classes[k].demand, o, Z),
      );
      b.len = s.links.length;
      if (consume) {
        // exact length: the first link added grows them (ensureCapacity)
        b.links = s.links;
        b.flows = s.flows;
      } else {
        b.links.set(s.links);
        b.flows.set(s.flows);
      }
      if (this.elastic !== null) b.elastic = this.elastic.attach(k, o, this.model.classes[k].demand, this.pce[k], s.notMade ?? null);
      if (!this.topology.normalise(b) || !this.meetsDemand(b)) {
        rejected++;
        continue;
      }
      have.add(k * Z + o);
      bushes.push(b);
    }
    // flows of the adopted bushes, then fresh trees (at those costs) for the rest
    this.bushes = bushes;
    this.recompute();
    const unroutable: UnroutableDemand[] = [];
    let built = 0;
    for (let k = 0; k < this.K; k++) {
      const demand = this.model.classes[k].demand;
      for (let o = 0; o < Z; o++) {
        if (!hasDemand(demand, o, Z) || have.has(k * Z + o)) continue;
        const b = this.treeBush(sp, k, o, unroutable, false);
        built++;
        if (b) bushes.push(b);
      }
    }
    if (unroutable.length) throw unroutableError(this.model.net, unroutable);
    this.bushes = bushes.sort((p, q) => p.cls - q.cls || p.zone - q.zone);
    this.pas?.clear();
    for (const b of this.bushes) b.needsUpdate = true;
    if (built > 0) this.recompute();
    return { rejected, built };
  }

  /** True when the bush's flows deliver exactly its origin's demand (relative 1e-9). */
  private meetsDemand(b: Bush): boolean {
    const { zoneCount: Z, zoneNodes, linkFrom: from, linkTo: to } = this.net;
    const demand = this.model.classes[b.cls].demand;
    const bal = this.nodeFlow;
    let total = 0;
    for (let p = 0; p < b.len; p++) {
      const a = b.links[p];
      bal[to[a]] += b.flows[p];
      bal[from[a]] -= b.flows[p];
    }
    const notMade = b.elastic?.notMade ?? null;
    for (let d = 0; d < Z; d++) if (d !== b.zone) total += demand[b.zone * Z + d] - (notMade === null ? 0 : notMade[d]);
    let ok = true;
    const tol = 1e-9 * Math.max(total, 1e-300);
    for (let d = 0; d < Z; d++) {
      if (d === b.zone) continue;
      if (Math.abs(bal[zoneNodes[d]] - demand[b.zone * Z + d] + (notMade === null ? 0 : notMade[d])) > tol) ok = false;
      bal[zoneNodes[d]] = 0;
    }
    if (Math.abs(bal[b.root] + total) > tol) ok = false;
    bal[b.root] = 0;
    for (let p = 0; p < b.len; p++) {
      const a = b.links[p];
      if (Math.abs(bal[to[a]]) > tol || Math.abs(bal[from[a]]) > tol) ok = false;
      bal[to[a]] = 0;
      bal[from[a]] = 0;
    }
    return ok;
  }

  // ---------------------------------------------------------------- iteration steps

  /**
   * One pass of Newton flow shifts on a bush, nodes in descending topological order (see
   * `./labels.ts`). Returns the largest label difference U_j − L_j seen (stale labels; a convergence hint).
   */
  shift(b: Bush): number {
    this.joint?.prepare(b, this.bushes, this.net.zoneCount);
    return this.labels.shift(b, this);
  }

  /** The demand residual of the bush last shifted (see {@link BushLabels.demandResidual}; 0 without excess-demand links). */
  get demandResidual(): number {
    return this.labels.demandResidual;
  }

  /**
   * With elastic demand on an augmented network's excess-demand links, the demand step on a bush:
   * every destination's trips by one Newton step in closed form (see `./excess-demand.ts`; the
   * reduced form's step is part of {@link shiftWithDemand}). Returns the largest difference
   * between a destination's mean road cost and its inverse demand (time units; 0 without
   * excess-demand links).
   */
  private shiftDemand(b: Bush): number {
    return this.excess === null ? 0 : this.excess.sweep(b, this);
  }

  /**
   * The demand step and then a pass of flow shifts on a bush ({@link shiftDemand}, {@link shift}).
   * In the reduced form (`./demand-step.ts`) the two share one label scan: the demand step's
   * forward pass scans the labels (at the flows before it) that the shifts then use, and the
   * demand residual is measured at those labels and the trips not made after the step. Returns
   * the shifts' largest label difference.
   */
  shiftWithDemand(b: Bush): number {
    // a demand step changes the bush's trips: the joint shift's map of its positions may end too early
    if (this.excess !== null || this.elastic !== null) this.joint?.invalidate(b);
    if (this.elastic === null) {
      this.shiftDemand(b);
      return this.shift(b);
    }
    this.joint?.prepare(b, this.bushes, this.net.zoneCount);
    const nn = this.elastic.scanAndStep(b, this, this.labels);
    this.labels.demandResidual = this.elastic.residual;
    return this.labels.descend(b, this, nn);
  }

  /**
   * The bush update: drops unused links (keeping the shortest-path tree), adds shortcuts while
   * keeping the bush acyclic, and restores the storage order (see `./topology.ts`).
   */
  update(b: Bush): void {
    this.topology.update(b, this.cc[b.cls], this.keepMeasuredShortcuts && b.elastic === null && this.excess === null);
    this.joint?.invalidate(b);
  }

  // ---------------------------------------------------------------- measurement

  /** Recomputes every link cost from the total flows `x` as they stand. */
  refreshAll(): void {
    for (let a = 0; a < this.m; a++) this.refresh(a);
  }

  /** Recomputes class link flows and total flows exactly from the bushes, then every link cost. */
  recompute(): void {
    const K = this.K;
    for (let k = 0; k < K; k++) this.classFlows[k].fill(0);
    for (const b of this.bushes) {
      const f = this.classFlows[b.cls];
      const links = b.links;
      const flows = b.flows;
      for (let p = 0; p < b.len; p++) f[links[p]] += flows[p];
    }
    this.model.totalFlow(this.classFlows, this.x);
    for (let a = 0; a < this.m; a++) this.refresh(a);
  }

  /**
   * Measures the current flows: exact flows and costs ({@link recompute}), total cost, SPTT from
   * true shortest paths (each bush's shortest labels corrected over the whole network) and the
   * relative gap. Marks the bushes that a shortcut outside them could improve.
   */
  measure(): GapMeasurement {
    this.recompute();
    const { zoneCount: Z, zoneNodes } = this.net;
    const K = this.K;
    const classCost = this.classTotals;
    const classSptt = this.classSptt;
    classSptt.fill(0);
    let totalCost = 0;
    for (let k = 0; k < K; k++) {
      const f = this.classFlows[k];
      const c = this.cc[k];
      let s = 0;
      for (let a = 0; a < this.m; a++) s += f[a] * c[a];
      classCost[k] = s;
      totalCost += s;
    }
    // elastic demand (reduced form): the trips not made cost their inverse demand
    if (this.elastic !== null)
      for (const b of this.bushes) {
        const el = b.elastic;
        if (el === null) continue;
        let s = 0;
        for (let d = 0; d < Z; d++) if (el.link[d] >= 0) s += el.notMade[d] * el.cost[d];
        classCost[b.cls] += s;
        totalCost += s;
      }
    let sptt = 0;
    let grow = 0;
    let gathered = -1;
    for (const b of this.bushes) {
      // the bushes are sorted by class: one gathering of the costs per class
      if (b.cls !== gathered) this.labels.gatherCosts(this.cc[(gathered = b.cls)], this.posCost);
      const improved = this.labels.trueDistances(b, this.cc[b.cls], this.posCost);
      if (improved) grow++;
      b.needsUpdate = improved;
      const demand = this.model.classes[b.cls].demand;
      const row = b.zone * Z;
      const L = this.labels.L;
      let s = 0;
      const el = b.elastic;
      if (el === null)
        for (let d = 0; d < Z; d++) {
          const t = demand[row + d];
          if (t > 0 && d !== b.zone) s += t * L[zoneNodes[d]];
        }
      else
        for (let d = 0; d < Z; d++) {
          const t = demand[row + d];
          if (!(t > 0) || d === b.zone) continue;
          // the shortest route of the augmented network: the road's or not travelling
          const l = L[zoneNodes[d]];
          s += t * (el.link[d] >= 0 && el.cost[d] < l ? el.cost[d] : l);
        }
      sptt += s;
      classSptt[b.cls] += s;
    }
    const gap = relativeGap(totalCost, sptt);
    let maxClassGap = gap;
    if (K > 1) {
      maxClassGap = 0;
      for (let k = 0; k < K; k++) maxClassGap = Math.max(maxClassGap, relativeGap(classCost[k], classSptt[k]));
    }
    return { totalCost, sptt, relativeGap: gap, maxClassGap, bushesToGrow: grow };
  }

  /**
   * Shortest generalised-cost distances from a bush's root (its class's costs, FIRST THRU NODE
   * respected) to every node, written to `out` (Infinity where unreachable). Exact: bush labels
   * corrected over the whole network.
   */
  distances(b: Bush, out: Float64Array): void {
    this.labels.gatherCosts(this.cc[b.cls], this.posCost);
    this.labels.trueDistances(b, this.cc[b.cls], this.posCost);
    out.fill(Infinity);
    const { order, L } = this.labels;
    const nn = this.labels.scanned; // the bush's nodes are every node reachable from its root
    for (let t = 0; t < nn; t++) out[order[t]] = L[order[t]];
  }
}

/** Trips from zone `o` to other zones. */
export function rowDemand(demand: Float64Array, o: number, Z: number): number {
  const row = o * Z;
  let s = 0;
  for (let d = 0; d < Z; d++) if (d !== o) s += demand[row + d];
  return s;
}

/** True when zone `o` sends some trips to another zone. */
export function hasDemand(demand: Float64Array, o: number, Z: number): boolean {
  const row = o * Z;
  for (let d = 0; d < Z; d++) if (d !== o && demand[row + d] > 0) return true;
  return false;
}
