/**
 * The bush algorithm on an elastic-demand problem in the reduced form (`../bush/demand-step.ts`):
 * the bushes live on the original road network and carry the trips not made of their pairs, and
 * this module maps them to and from the augmented network of `./transform.ts`, whose equilibrium,
 * relative gap, result and warm-start state they are (sensitivities and warm starts read the
 * augmented bushes, unchanged).
 *
 * Reduced → augmented, per (class k, origin o), a complete bush of the augmented network (augmented
 * zone k·Z + o; links grouped by head in a topological order, every node reachable from the root
 * present, the demand q̄ delivered): the road links keep their indices and flows (a road link into
 * a split zone ends at the zone's in-node there, one group as before); where class k's zone nodes
 * are new nodes, the root's out-connector (into the zone node) comes first, carrying the trips made
 * from o; after the road groups, a split origin zone's in-node with the road links into it (no
 * flow), then every class zone node the bush reaches with its in-connector (the trips made to it
 * by this class, 0 for other classes' nodes) and, for this class's destinations, the excess link
 * (the trips not made e, when > 0). Where the zone node is the original one (one class, FIRST THRU
 * NODE), the excess link joins the destination's road group. Augmented → reduced (warm starts):
 * connectors and road links into the root are dropped, excess-link flows become the trips not made.
 */

import { AonLoader, CompiledNetwork, compileNetwork, CompiledVdf, Network } from "@tollkit/graph-core";
import type { ElasticDemandData } from "../bush/demand-step.js";
import type { BushEngine } from "../bush/engine.js";
import { Bush, BushState, isBushState, StoredBush } from "../bush/store.js";
import { ElasticBushRun, solveBush, solveBushAsync } from "../bush.js";
import { CostModel, relativeGap, resultMeasures } from "../cost-model.js";
import { FollowerOptions, FollowerResult, UserClass } from "../types.js";
import { AugmentedProblem } from "./transform.js";

/** Index maps between the reduced and the augmented network of one problem (built once per problem). */
export class ReducedElastic {
  readonly K: number;
  readonly Z: number;
  readonly n0: number;
  readonly m0: number;
  /** The classes on the original network, each with demand q̄ (fixed pairs: q0). */
  readonly classes: UserClass[];
  /** Per class, Z×Z: the pair's excess link (augmented index) or −1. */
  readonly excessLink: Int32Array[];
  /** Per augmented link: the destination zone of an excess link, −1 for other links. */
  readonly excessDestination: Int32Array;
  /** Per class and zone (k·Z + z): the connector from the class zone node into the zone's node, or −1. */
  readonly outConnector: Int32Array;
  /** Per class and zone: the connector into the class zone node, or −1. */
  readonly inConnector: Int32Array;
  /** Per zone: the road links into the zone's in-node where its node is split, else null. */
  readonly splitInLinks: (Int32Array | null)[];
  /** Volume-delay kernels of the augmented links. */
  readonly vdf: CompiledVdf;
  private compiledAugmented: CompiledNetwork | null = null;

  /** The augmented network compiled once for every solve's result measures (its cost model). */
  compiled(): CompiledNetwork {
    return (this.compiledAugmented ??= compileNetwork(this.aug.network));
  }

  constructor(readonly aug: AugmentedProblem) {
    const base = aug.base;
    const K = (this.K = aug.baseClasses.length);
    const Z = (this.Z = base.zoneCount);
    const n0 = (this.n0 = base.nodeCount);
    const m0 = (this.m0 = base.linkCount);
    const KZ = K * Z;
    const net = aug.network;
    this.classes = aug.baseClasses.map((c, k) => {
      const demand = new Float64Array(Z * Z);
      const block = aug.classes[k].demand;
      for (let o = 0; o < Z; o++) for (let d = 0; d < Z; d++) demand[o * Z + d] = block[(k * Z + o) * KZ + k * Z + d];
      return { ...c, demand };
    });
    this.excessLink = aug.baseClasses.map(() => new Int32Array(Z * Z).fill(-1));
    this.excessDestination = new Int32Array(net.linkCount).fill(-1);
    const ex = aug.excess;
    for (let j = 0; j < ex.link.length; j++) {
      this.excessLink[ex.cls[j]][ex.origin[j] * Z + ex.destination[j]] = ex.link[j];
      this.excessDestination[ex.link[j]] = ex.destination[j];
    }
    // connectors follow the road links in the order of `augment`: per (class, zone) with a new node, out then in
    this.outConnector = new Int32Array(KZ).fill(-1);
    this.inConnector = new Int32Array(KZ).fill(-1);
    let a = m0;
    for (let kz = 0; kz < KZ; kz++) {
      if (net.zoneNodes[kz] < n0) continue;
      this.outConnector[kz] = a++;
      this.inConnector[kz] = a++;
    }
    this.vdf = new CompiledVdf(net.links);
    // per zone: the road links into its in-node where the zone node is split (several classes, FIRST THRU NODE)
    const into: number[][] = Array.from({ length: Z }, () => []);
    const inNodeZone = new Int32Array(net.nodeCount).fill(-1);
    for (let kz = 0; kz < KZ; kz++) {
      const c = this.inConnector[kz];
      const z = kz % Z;
      if (c >= 0 && net.links.from[c] !== base.zoneNodes[z]) inNodeZone[net.links.from[c]] = z;
    }
    for (let l = 0; l < m0; l++) {
      const z = inNodeZone[net.links.to[l]];
      if (z >= 0) into[z].push(l);
    }
    this.splitInLinks = into.map((list, z) => (inNodeZone.indexOf(z) >= 0 ? Int32Array.from(list) : null));
  }

  /** Engine data, with the trips not made of the first bushes from `initialTripsNotMade` (per augmented link) or none. */
  data(initialTripsNotMade: Float64Array | undefined): ElasticDemandData {
    let initial: Float64Array[] | null = null;
    if (initialTripsNotMade !== undefined) {
      initial = this.excessLink.map((row) => {
        const e = new Float64Array(row.length);
        for (let p = 0; p < row.length; p++) if (row[p] >= 0) e[p] = initialTripsNotMade[row[p]];
        return e;
      });
    }
    return { excessLink: this.excessLink, vdf: this.vdf, initial, b: this.aug.network.links.b };
  }

  /** A warm-start state of the augmented network as reduced bushes (null when it does not fit the augmented network). */
  reduceState(state: unknown): BushState | null {
    const net = this.aug.network;
    if (!isBushState(state) || state.nodeCount !== net.nodeCount || state.linkCount !== net.linkCount || state.classCount !== this.K)
      return null;
    const { m0, Z } = this;
    const exDest = this.excessDestination;
    const baseZoneNodes = this.aug.base.zoneNodes;
    const baseTo = this.aug.base.links.to;
    const bushes: StoredBush[] = state.bushes.map((s) => {
      if (!(s.links instanceof Int32Array) || !(s.flows instanceof Float64Array) || s.links.length !== s.flows.length) return s;
      let len = 0;
      // the augmented zone k·Z + o is class k's zone o; road links, less those into the root (a split
      // zone's road links into its in-node: no flow of this bush)
      const zone = s.zone - s.cls * Z;
      const root = Number.isInteger(zone) && zone >= 0 && zone < Z ? baseZoneNodes[zone] : -1;
      const road = (a: number): boolean => a >= 0 && a < m0 && baseTo[a] !== root;
      for (let p = 0; p < s.links.length; p++) if (road(s.links[p])) len++;
      const links = new Int32Array(len);
      const flows = new Float64Array(len);
      const notMade = new Float64Array(Z);
      for (let p = 0, w = 0; p < s.links.length; p++) {
        const a = s.links[p];
        if (road(a)) {
          links[w] = a;
          flows[w++] = s.flows[p];
        } else if (a >= 0 && a < exDest.length && exDest[a] >= 0) notMade[exDest[a]] += s.flows[p];
      }
      return { cls: s.cls, zone: root >= 0 ? zone : -1, links, flows, notMade };
    });
    const base = this.aug.base;
    return {
      kind: "tollkit-bush",
      version: 1,
      nodeCount: base.nodeCount,
      linkCount: base.linkCount,
      zoneCount: Z,
      classCount: this.K,
      bushes,
    };
  }

  /** Per class, the augmented link flows of the engine's bushes (vehicles). */
  classFlows(engine: BushEngine): Float64Array[] {
    const { Z, m0 } = this;
    const M = this.aug.network.linkCount;
    const out = this.aug.baseClasses.map(() => new Float64Array(M));
    for (let k = 0; k < this.K; k++) out[k].set(engine.classFlows[k].subarray(0, m0));
    for (const b of engine.bushes) {
      const f = out[b.cls];
      const el = b.elastic;
      const demand = this.classes[b.cls].demand;
      const row = b.zone * Z;
      let made = 0;
      for (let d = 0; d < Z; d++) {
        if (d === b.zone) continue;
        const e = el !== null && el.link[d] >= 0 ? el.notMade[d] : 0;
        const q = demand[row + d] - e;
        if (!(demand[row + d] > 0)) continue;
        made += q;
        const c = this.inConnector[b.cls * Z + d];
        if (c >= 0) f[c] += q;
        if (el !== null && el.link[d] >= 0) f[el.link[d]] += e;
      }
      const c = this.outConnector[b.cls * Z + b.zone];
      if (c >= 0) f[c] += made;
    }
    return out;
  }

  /**
   * The engine's bushes (with its links' heads and the zone of each node, −1 for other nodes) as a
   * warm-start state of the augmented network (see the module comment).
   */
  stateOf(engineBushes: readonly Bush[], to: Int32Array, zoneOf: Int32Array): BushState {
    const { Z, K, n0 } = this;
    const net = this.aug.network;
    const zoneNodes = net.zoneNodes;
    const augFrom = net.links.from;
    const inBush = new Int32Array(net.nodeCount); // stamp: the node is in the mapped bush
    let stamp = 0;
    const bushes: StoredBush[] = engineBushes.map((b) => {
      const k = b.cls;
      const o = b.zone;
      const el = b.elastic;
      const demand = this.classes[k].demand;
      const row = o * Z;
      const own = zoneNodes[k * Z + o] < n0; // the class's zone nodes are the original ones
      const st = ++stamp;
      // at most: the out-connector, the bush's links, an excess link per destination, the split
      // zone's in-links, and an in-connector and an excess link per class and destination
      const into = own ? null : this.splitInLinks[o];
      const cap = 1 + b.len + Z + (into?.length ?? 0) + (own ? 0 : 2 * K * Z);
      const links = new Int32Array(cap);
      const flows = new Float64Array(cap);
      let n = 0;
      const push = (a: number, f: number): void => {
        links[n] = a;
        flows[n] = f;
        n++;
        inBush[net.links.to[a]] = st;
      };
      inBush[zoneNodes[k * Z + o]] = st;
      let made = 0;
      for (let d = 0; d < Z; d++)
        if (d !== o && demand[row + d] > 0) made += demand[row + d] - (el !== null && el.link[d] >= 0 ? el.notMade[d] : 0);
      if (!own) push(this.outConnector[k * Z + o], made);
      for (let p = 0; p < b.len; p++) {
        const a = b.links[p];
        push(a, b.flows[p]);
        // the last link of a destination's group, on the original zone node: its excess link joins the group
        if (own && el !== null && (p + 1 === b.len || to[b.links[p + 1]] !== to[a])) {
          const d = zoneOf[to[a]];
          if (d >= 0 && d !== o && el.link[d] >= 0 && el.notMade[d] > 0 && demand[row + d] > 0) push(el.link[d], el.notMade[d]);
        }
      }
      if (!own) {
        // a split origin zone's in-node, reached by road links into the zone (no flow of this bush)
        if (into !== null) {
          const before = n;
          for (let q = 0; q < into.length; q++) {
            const a = into[q];
            const i = augFrom[a];
            if (inBush[i] === st && !(net.throughBlocked[i] === 1 && i !== zoneNodes[k * Z + o])) {
              links[n] = a;
              flows[n] = 0;
              n++;
            }
          }
          if (n > before) inBush[net.links.to[into[0]]] = st;
        }
        // every class zone node the bush reaches: its in-connector (the trips made of this class's
        // pairs) and, for this class's destinations, the excess link (the trips not made)
        for (let kk = 0; kk < K; kk++)
          for (let d = 0; d < Z; d++) {
            const c = this.inConnector[kk * Z + d];
            if (c < 0 || (kk === k && d === o) || inBush[augFrom[c]] !== st) continue;
            const mine = kk === k && d !== o && demand[row + d] > 0;
            const e = mine && el !== null && el.link[d] >= 0 ? el.notMade[d] : 0;
            push(c, mine ? demand[row + d] - e : 0);
            if (e > 0) push(el!.link[d], e);
          }
      }
      // the augmented network's zone of class k's origin o is k·Z + o
      return { cls: k, zone: k * Z + o, links: links.slice(0, n), flows: flows.slice(0, n) };
    });
    return {
      kind: "tollkit-bush",
      version: 1,
      nodeCount: net.nodeCount,
      linkCount: net.linkCount,
      zoneCount: net.zoneCount,
      classCount: this.K,
      bushes,
    };
  }

  /** Σ over the bushes' trips not made of ∫₀^e W (PCE), the excess links' part of the transformed potential. */
  excessIntegral(engine: BushEngine): number {
    let s = 0;
    for (const b of engine.bushes) {
      const el = b.elastic;
      if (el === null) continue;
      const pce = engine.pce[b.cls];
      for (let d = 0; d < this.Z; d++) if (el.link[d] >= 0 && el.notMade[d] > 0) s += this.vdf.integral(el.link[d], pce * el.notMade[d]);
    }
    return s;
  }

  /**
   * The run hooks of `../bush.ts` for augmented options `options` (`model`: the augmented cost
   * model, built when first needed). A user equilibrium whose flows are those of its last gap
   * measurement (every solve that stops at the end of an iteration) is measured on the road
   * network, with the SPTT of that measurement and the trips not made added in
   * closed form, and {@link ElasticRunHooks.augmented} gives the augmented network's measures when
   * asked for (Chicago-Sketch: 96,859 augmented links, ~50–100 ms of allocation and measures per
   * solve, against ~5 ms); otherwise the measures are the augmented network's.
   */
  run(options: FollowerOptions, model: () => CostModel): ElasticRunHooks {
    const hooks: ElasticRunHooks = {
      data: this.data(options.initialTripsNotMade),
      augmented: null,
      measures: (engine, roadModel, classSptt) => {
        const augmentedClassFlows = this.classFlows(engine);
        if (classSptt === undefined || roadModel.objective !== "ue") {
          const m = model();
          const loader = classSptt === undefined ? new AonLoader(m.compiled) : undefined;
          return { measures: resultMeasures(m, augmentedClassFlows, loader, classSptt), augmentedClassFlows };
        }
        const sptt = Float64Array.from(classSptt);
        hooks.augmented = () => resultMeasures(model(), augmentedClassFlows, undefined, sptt);
        return { measures: this.roadMeasures(engine, roadModel, sptt), augmentedClassFlows };
      },
      state: (engine) => {
        // what the mapping reads, not the engine (whose arrays can then go)
        const bushes = engine.bushes;
        const to = engine.net.linkTo;
        const zoneOf = engine.elastic!.zoneOf;
        return () => this.stateOf(bushes, to, zoneOf);
      },
      potential: (engine) => engine.model.potential(engine.x, engine.classFlows) + this.excessIntegral(engine),
    };
    return hooks;
  }

  /**
   * A user equilibrium's measures with the road network's per-link arrays and the augmented
   * network's totals: each class's total cost adds Σ e·W(e) of its trips not made (the excess
   * links' class cost is W, kept by each bush with its trips not made: no toll, no length; the
   * connectors cost 0), the Beckmann terms Σ∫W, the TSTT Σ pce·e·W; revenue and the road arrays
   * are the road network's.
   */
  private roadMeasures(engine: BushEngine, roadModel: CostModel, classSptt: Float64Array): ReturnType<typeof resultMeasures> {
    const road = resultMeasures(roadModel, engine.classFlows, undefined, classSptt);
    const K = this.K;
    const excessCost = new Float64Array(K);
    let excessTime = 0;
    for (const b of engine.bushes) {
      const el = b.elastic;
      if (el === null) continue;
      let s = 0;
      for (let d = 0; d < this.Z; d++) if (el.link[d] >= 0) s += el.notMade[d] * el.cost[d];
      excessCost[b.cls] += s;
      excessTime += engine.pce[b.cls] * s;
    }
    const integral = this.excessIntegral(engine);
    let totalCost = 0;
    let sptt = 0;
    let demand = 0;
    const classes = road.classes.map((c, k) => {
      let tc = excessCost[k];
      const f = c.flows;
      const cost = c.costs;
      for (let a = 0; a < f.length; a++) tc += f[a] * cost[a];
      totalCost += tc;
      sptt += classSptt[k];
      demand += roadModel.demandTotals[k];
      return { ...c, relativeGap: relativeGap(tc, classSptt[k]) };
    });
    return {
      ...road,
      tstt: road.tstt + excessTime,
      totalCost,
      sptt,
      relativeGap: relativeGap(totalCost, sptt),
      averageExcessCost: demand > 0 ? (totalCost - sptt) / demand : 0,
      beckmann: road.beckmann + integral,
      beckmannTime: road.beckmannTime + integral,
      classes,
    };
  }

  /** Options of the reduced solve from options on the augmented network. */
  reducedOptions(options: FollowerOptions): FollowerOptions {
    const m0 = this.m0;
    const tolls = options.tolls?.subarray(0, m0);
    let warmStart = options.warmStart;
    if (warmStart !== undefined) {
      const state = this.reduceState(warmStart.state);
      const flows = warmStart.classFlows;
      const fits =
        Array.isArray(flows) &&
        flows.length === this.K &&
        flows.every((f) => f instanceof Float64Array && f.length === this.aug.network.linkCount);
      warmStart = fits ? { classFlows: flows.map((f) => f.slice(0, m0)), state: state ?? undefined } : undefined;
    }
    return {
      ...options,
      classes: this.classes,
      tolls: tolls ? Float64Array.from(tolls) : undefined,
      warmStart,
      initialTripsNotMade: undefined,
    };
  }
}

/** The hooks of one reduced solve: {@link ElasticBushRun}, and the augmented measures of its result where they were left to be asked for. */
export interface ElasticRunHooks extends ElasticBushRun {
  /** After the solve: the result's augmented measures, made when called (null: the result's own arrays are the augmented ones). */
  augmented: (() => ReturnType<typeof resultMeasures>) | null;
}

/** A reduced solve's result (totals of the augmented network), and its augmented measures where they are left to be asked for (see {@link ElasticRunHooks}). */
export interface ReducedResult {
  result: FollowerResult;
  augmented: (() => ReturnType<typeof resultMeasures>) | null;
}

/** Solves an augmented problem's follower problem with the bush algorithm in the reduced form (options as on the augmented network). */
export function solveReducedBush(r: ReducedElastic, options: FollowerOptions): ReducedResult {
  const net: Network = r.aug.base;
  const hooks = r.run(options, lazyModel(r, options));
  const result = solveBush(net, r.reducedOptions(options), hooks);
  return { result, augmented: hooks.augmented };
}

/** {@link solveReducedBush} yielding to the event loop (cancellable by signal). */
export async function solveReducedBushAsync(r: ReducedElastic, options: FollowerOptions): Promise<ReducedResult> {
  const hooks = r.run(options, lazyModel(r, options));
  const result = await solveBushAsync(r.aug.base, r.reducedOptions(options), hooks);
  return { result, augmented: hooks.augmented };
}

function lazyModel(r: ReducedElastic, options: FollowerOptions): () => CostModel {
  let m: CostModel | null = null;
  return () =>
    (m ??= new CostModel(r.aug.network, r.aug.classes, options.tolls ?? r.aug.network.links.toll, options.objective ?? "ue", r.compiled()));
}
