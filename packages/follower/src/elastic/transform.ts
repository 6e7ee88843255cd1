/**
 * Gartner's excess-demand transformation (Gartner 1980; Sheffi 1985, ch. 6): an elastic-demand
 * user equilibrium is the fixed-demand equilibrium of an augmented network in which every OD
 * pair (o, d) of every class gets one more route, an *excess-demand link* o → d carrying the trips
 * not made, e = q̄ − q, at the cost W(e) = D⁻¹(q̄ − e) (`./demand.ts`); every pair then has the
 * fixed demand q̄ (the most trips it can make). At equilibrium each used road route and, where
 * some trips are not made, the excess link cost the same: u = D⁻¹(q). So every fixed-demand
 * algorithm (the FW family, the bush algorithm with its warm starts) and the equilibrium
 * sensitivities carry over unchanged, and the relative gap is that of the augmented network.
 *
 * Augmented network (invariants):
 * - nodes 0..n−1 and links 0..m−1 are the original ones, in the same order (link ids unchanged);
 * - zone node of class k, zone z: the original zone node when there is one class and the zone
 *   may not be passed through (FIRST THRU NODE); otherwise a new node, through-blocked, joined
 *   to the zone node by two zero-cost connectors (links m.., both directions). Through-blocked
 *   end nodes make an excess link usable only by its own pair and class;
 * - several classes and a zone that may not be passed through: its node is split so that no
 *   path can pass through it without being blocked — the original node keeps the out-links (and
 *   is no longer blocked: its only in-links are the class connectors from the class zone nodes,
 *   which only their own bushes leave), a new node (nodes after the class zone nodes) takes the
 *   in-links (road links into the zone are redirected to it; its only out-links are the
 *   connectors into the class zone nodes, which are blocked). Through trips stay impossible, as
 *   FIRST THRU NODE demands, and each class's trips start and end at its own zone nodes;
 * - augmented zone k·Z + z is class k's zone z; class k's demand q̄ lies in its own block;
 * - excess links follow the connectors, one per (class, origin, destination) with reference
 *   demand > 0 and a responsive demand function, in that order ({@link ExcessLinks}).
 */

import {
  CompiledVdf,
  compileNetwork,
  emptyLinkTable,
  InputError,
  Network,
  ShortestPathWorkspace,
  VDF_POLYNOMIAL,
} from "@tollkit/graph-core";
import { UserClass } from "../types.js";
import { DemandFunctionSpec, excessLink, isFixed, OdDemand, odDemand, sensitivityFor } from "./demand.js";

const MOD = "follower/elastic";

/** The excess-demand links of an augmented network: one row per (class, OD pair). */
export interface ExcessLinks {
  /** Augmented link index of each excess link. */
  link: Int32Array;
  cls: Int32Array;
  origin: Int32Array;
  destination: Int32Array;
  /** q̄ of the pair (vehicles). */
  maxTrips: Float64Array;
  /** The pair's demand function. */
  demand: OdDemand[];
}

/** An elastic-demand problem transformed into a fixed-demand one. */
export interface AugmentedProblem {
  /** The original network. */
  base: Network;
  /** The augmented network (see the module comment). */
  network: Network;
  /** The classes of the augmented problem (demand q̄ in each class's block; fixed pairs keep q0). */
  classes: UserClass[];
  /** The original classes. */
  baseClasses: UserClass[];
  excess: ExcessLinks;
  /** Per class, Z×Z: the demand function of every pair (null where q0 = 0). */
  odDemand: (OdDemand | null)[][];
}

/**
 * Per class, the free-flow shortest generalised cost of every pair (Z×Z, time units), with only
 * the negative part of tolls (a lower bound of the pair's equilibrium cost at any tolls ≥ those
 * given ones' negative parts; with tolls ≥ 0 it does not depend on the tolls).
 */
export function freeFlowCosts(net: Network, classes: UserClass[], tolls: Float64Array): Float64Array[] {
  const compiled = compileNetwork(net);
  const sp = new ShortestPathWorkspace(compiled);
  const Z = net.zoneCount;
  const m = net.linkCount;
  const cost = new Float64Array(m);
  const l = net.links;
  const vdf = new CompiledVdf(l);
  return classes.map((c) => {
    for (let i = 0; i < m; i++)
      cost[i] = vdf.time(i, 0) + (c.tolled ? c.tollFactor * Math.min(0, tolls[i]) : 0) + c.distanceFactor * l.length[i];
    sp.gatherCosts(cost);
    const out = new Float64Array(Z * Z).fill(Infinity);
    for (let o = 0; o < Z; o++) {
      sp.tree(net.zoneNodes[o]);
      for (let d = 0; d < Z; d++) out[o * Z + d] = sp.dist[net.zoneNodes[d]];
    }
    return out;
  });
}

/**
 * Builds the augmented network of an elastic-demand problem.
 * @param pivot per class, Z×Z pivot costs c0 (time units)
 * @param lowerBound per class, Z×Z lower bounds of the pairs' equilibrium costs ({@link freeFlowCosts})
 * @throws InputError when a power demand function meets a pair whose free-flow cost is 0, or a
 *   pivot is not > 0 (elasticities)
 */
export function augment(
  net: Network,
  classes: UserClass[],
  spec: DemandFunctionSpec,
  pivot: Float64Array[],
  lowerBound: Float64Array[],
): AugmentedProblem {
  const Z = net.zoneCount;
  const K = classes.length;
  const n0 = net.nodeCount;
  const m0 = net.linkCount;
  // zone nodes of the augmented problem; with several classes, zones that may not be passed through are split
  const zoneNode = new Int32Array(K * Z);
  let extraNodes = 0;
  for (let k = 0; k < K; k++)
    for (let z = 0; z < Z; z++) {
      const blocked = net.throughBlocked[net.zoneNodes[z]] === 1;
      zoneNode[k * Z + z] = blocked && K === 1 ? net.zoneNodes[z] : n0 + extraNodes++;
    }
  const classZoneNodes = extraNodes;
  /** Per zone: the node that takes the road links into a split zone, or −1. */
  const inNode = new Int32Array(Z).fill(-1);
  if (K > 1) for (let z = 0; z < Z; z++) if (net.throughBlocked[net.zoneNodes[z]] === 1) inNode[z] = n0 + extraNodes++;
  // the demand function of every pair, and its excess link
  const ods: (OdDemand | null)[][] = [];
  const rows: { k: number; o: number; d: number; p: ReturnType<typeof excessLink> & object; od: OdDemand }[] = [];
  const fixedDemand: Float64Array[] = classes.map(() => new Float64Array(K * Z * K * Z));
  classes.forEach((c, k) => {
    const list: (OdDemand | null)[] = new Array<OdDemand | null>(Z * Z).fill(null);
    for (let o = 0; o < Z; o++) {
      const s = sensitivityFor(spec, c.name, net.zoneIds[o]);
      for (let d = 0; d < Z; d++) {
        const q0 = c.demand[o * Z + d];
        if (!(q0 > 0) || o === d) continue;
        const field = `pivot[${c.name}][${net.zoneIds[o]}→${net.zoneIds[d]}]`;
        const od = odDemand(spec.form, s, q0, pivot[k][o * Z + d], field);
        list[o * Z + d] = od;
        const cell = (k * Z + o) * K * Z + (k * Z + d);
        if (isFixed(od)) {
          fixedDemand[k][cell] = q0;
          continue;
        }
        const lb = lowerBound[k][o * Z + d];
        if (od.form === "power" && !(lb > 0))
          throw new InputError(
            MOD,
            `class "${c.name}", zones ${net.zoneIds[o]}→${net.zoneIds[d]}: free-flow cost ${lb}`,
            { file: net.name, field: "demand.form" },
            "power demand only where every OD pair's free-flow cost is > 0",
          );
        const p = excessLink(od, lb, c.pce);
        if (p) {
          rows.push({ k, o, d, p, od });
          fixedDemand[k][cell] = p.maxTrips;
        }
      }
    }
    ods.push(list);
  });
  const n = n0 + extraNodes;
  const m = m0 + 2 * classZoneNodes + rows.length;
  const l0 = net.links;
  const links = emptyLinkTable(m); // every added link sets its own cost function below
  const into = links as unknown as Record<string, Float64Array>;
  const from = l0 as unknown as Record<string, Float64Array>;
  for (const key of Object.keys(into)) into[key].set(from[key]);
  let a = m0;
  const nodeIds = new Float64Array(n);
  const nodeX = new Float64Array(n);
  const nodeY = new Float64Array(n);
  nodeIds.set(net.nodeIds);
  nodeX.set(net.nodeX);
  nodeY.set(net.nodeY);
  let maxId = 0;
  for (let i = 0; i < n0; i++) maxId = Math.max(maxId, net.nodeIds[i]);
  const throughBlocked = new Uint8Array(n);
  throughBlocked.set(net.throughBlocked);
  const splitInto = new Int32Array(n0).fill(-1); // per original node: the node that takes its in-links
  for (let z = 0; z < Z; z++) {
    const zin = inNode[z];
    if (zin < 0) continue;
    const zn = net.zoneNodes[z];
    nodeIds[zin] = maxId + 1 + (zin - n0);
    nodeX[zin] = net.nodeX[zn];
    nodeY[zin] = net.nodeY[zn];
    throughBlocked[zn] = 0;
    splitInto[zn] = zin;
  }
  if (inNode.some((v) => v >= 0)) for (let a = 0; a < m0; a++) if (splitInto[links.to[a]] >= 0) links.to[a] = splitInto[links.to[a]];
  for (let k = 0; k < K; k++)
    for (let z = 0; z < Z; z++) {
      const v = zoneNode[k * Z + z];
      if (v < n0) continue;
      const zn = net.zoneNodes[z];
      nodeIds[v] = maxId + 1 + (v - n0);
      nodeX[v] = net.nodeX[zn];
      nodeY[v] = net.nodeY[zn];
      throughBlocked[v] = 1;
      const zin = inNode[z] >= 0 ? inNode[z] : zn;
      for (const [f, t] of [
        [v, zn],
        [zin, v],
      ]) {
        links.from[a] = f;
        links.to[a] = t;
        links.capacity[a] = 1;
        links.vdf[a] = VDF_POLYNOMIAL;
        a++;
      }
    }
  const excess: ExcessLinks = {
    link: new Int32Array(rows.length),
    cls: new Int32Array(rows.length),
    origin: new Int32Array(rows.length),
    destination: new Int32Array(rows.length),
    maxTrips: new Float64Array(rows.length),
    demand: [],
  };
  rows.forEach((r, j) => {
    links.from[a] = zoneNode[r.k * Z + r.o];
    links.to[a] = zoneNode[r.k * Z + r.d];
    links.vdf[a] = r.p.vdf;
    links.freeFlowTime[a] = r.p.freeFlowTime;
    links.capacity[a] = r.p.capacity;
    links.b[a] = r.p.b;
    links.power[a] = r.p.power;
    excess.link[j] = a;
    excess.cls[j] = r.k;
    excess.origin[j] = r.o;
    excess.destination[j] = r.d;
    excess.maxTrips[j] = r.p.maxTrips;
    excess.demand.push(r.od);
    a++;
  });
  const zoneIds = new Float64Array(K * Z);
  for (let k = 0; k < K; k++) for (let z = 0; z < Z; z++) zoneIds[k * Z + z] = K === 1 ? net.zoneIds[z] : net.zoneIds[z] + k * 1e6;
  const network: Network = {
    ...net,
    name: net.name,
    nodeCount: n,
    nodeIds,
    nodeX,
    nodeY,
    zoneCount: K * Z,
    zoneIds,
    zoneNodes: zoneNode,
    throughBlocked,
    linkCount: m,
    links,
    demand: fixedDemand[0],
    warnings: [],
  };
  const augClasses = classes.map((c, k) => ({ ...c, demand: fixedDemand[k] }));
  return { base: net, network, classes: augClasses, baseClasses: classes, excess, odDemand: ods };
}
