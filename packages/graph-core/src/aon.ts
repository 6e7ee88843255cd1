/**
 * All-or-nothing (AON) loading: every origin's demand is sent along its shortest-path tree.
 * The loader owns its shortest-path workspace and a node-flow buffer; a call allocates nothing
 * unless some demand cannot be routed (then the pairs are listed).
 */

import { CompiledNetwork, compileNetwork } from "./compiled.js";
import { Network } from "./network.js";
import { ShortestPathWorkspace } from "./shortest-path.js";

/** An origin–destination pair with demand but no path. Zone indices are 0-based. */
export interface UnroutableDemand {
  origin: number;
  destination: number;
  trips: number;
}

/** Result of one AON loading. */
export interface AonResult {
  /** SPTT: Σ demand · shortest-path cost over routable pairs. */
  sptt: number;
  /** Demand whose destination cannot be reached from its origin (never dropped silently). */
  unroutable: UnroutableDemand[];
}

export class AonLoader {
  readonly sp: ShortestPathWorkspace;
  private readonly nodeFlow: Float64Array;
  /** Destination nodes of the current origin (the tree stops once they are all settled). */
  private readonly targets: Int32Array;
  /** Zones with any demand leaving them (computed once per demand matrix). */
  private originsOf: WeakMap<Float64Array, Int32Array> = new WeakMap();

  constructor(readonly net: CompiledNetwork) {
    this.sp = new ShortestPathWorkspace(net);
    this.nodeFlow = new Float64Array(net.nodeCount);
    this.targets = new Int32Array(net.zoneCount);
  }

  private activeOrigins(demand: Float64Array): Int32Array {
    let o = this.originsOf.get(demand);
    if (!o) {
      const Z = this.net.zoneCount;
      const list: number[] = [];
      for (let z = 0; z < Z; z++) {
        for (let d = 0; d < Z; d++) {
          if (demand[z * Z + d] > 0 && d !== z) {
            list.push(z);
            break;
          }
        }
      }
      o = Int32Array.from(list);
      this.originsOf.set(demand, o);
    }
    return o;
  }

  /**
   * Loads `demand` (zone × zone, row = origin) all-or-nothing on `linkCost`, adding link flows
   * into `out` (which the caller zeroes when it wants a fresh loading).
   * @param linkCost cost per link (≥ 0)
   * @param scale multiplies every trip (e.g. a class's PCE); default 1
   */
  load(linkCost: Float64Array, demand: Float64Array, out: Float64Array, scale = 1): AonResult {
    const { zoneCount: Z, zoneNodes, linkFrom } = this.net;
    const sp = this.sp;
    sp.gatherCosts(linkCost);
    const nodeFlow = this.nodeFlow;
    const dist = sp.dist;
    const pred = sp.predLink;
    const order = sp.order;
    let sptt = 0;
    let unroutable: UnroutableDemand[] | undefined;
    const targets = this.targets;
    for (const o of this.activeOrigins(demand)) {
      const on = zoneNodes[o];
      const row = o * Z;
      let nt = 0;
      for (let d = 0; d < Z; d++) if (demand[row + d] > 0 && d !== o) targets[nt++] = zoneNodes[d];
      sp.tree(on, targets, nt);
      for (let d = 0; d < Z; d++) {
        const t = demand[row + d];
        if (t <= 0 || d === o) continue;
        const dn = zoneNodes[d];
        const c = dist[dn];
        if (c === Infinity) {
          (unroutable ??= []).push({ origin: o, destination: d, trips: t });
          continue;
        }
        nodeFlow[dn] += t * scale;
        sptt += t * c;
      }
      for (let k = sp.settled - 1; k > 0; k--) {
        const v = order[k];
        const f = nodeFlow[v];
        if (f === 0) continue;
        nodeFlow[v] = 0;
        const l = pred[v];
        out[l] += f;
        nodeFlow[linkFrom[l]] += f;
      }
      nodeFlow[on] = 0;
    }
    return { sptt, unroutable: unroutable ?? [] };
  }
}

/** Demand that cannot reach its destination, by zone ids (as in the files). */
export interface UnreachableDemand {
  /** Origin zone id. */
  origin: number;
  /** Destination zone id. */
  destination: number;
  trips: number;
}

/**
 * Lists the demand whose destination cannot be reached from its origin (honouring FIRST THRU
 * NODE), found by an all-or-nothing loading at free-flow times. Reachability does not depend
 * on link costs, so this list holds at any flows. Pairs with an origin equal to the
 * destination are not trips and are never listed.
 * @param compiled the network's compiled arrays, if the caller already has them
 * @returns pairs in origin-then-destination order; empty when all demand can be routed
 */
export function unreachableDemand(net: Network, compiled?: CompiledNetwork): UnreachableDemand[] {
  const c = compiled ?? compileNetwork(net);
  const loader = new AonLoader(c);
  const flows = new Float64Array(net.linkCount);
  const { unroutable } = loader.load(net.links.freeFlowTime, net.demand, flows);
  return unroutable.map((u) => ({ origin: net.zoneIds[u.origin], destination: net.zoneIds[u.destination], trips: u.trips }));
}
