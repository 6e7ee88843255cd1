/**
 * Skims: per OD pair and user class, the equilibrium travel time, toll paid, distance and
 * generalised cost of a trip, flow-weighted over the routes the trips use.
 *
 * Rule (see docs/incidence.md). A bush run (`algorithm: "bush"`, whose result keeps one bush per
 * class and origin) is skimmed over its bushes: route flows inside a bush are taken in
 * proportion to the in-link flows at every node (the flow arriving at node j enters it on link a
 * with share f_a / F_j, whatever its destination), the standard route decomposition of an
 * origin-based solution. The flow-weighted value at node j is then
 *   V_j = Σ_{a into j} f_a · (V_{tail(a)} + v_a) / F_j,
 * one forward pass per bush in its topological storage order (`../bush/store.ts`), linear in the
 * bush's size. It is exact bookkeeping: Σ_d demand_od · cost_od = Σ_a f_a · c_a for every origin,
 * so the skims' total equals the run's `totalCost`. A node that no flow reaches (a zone pair
 * without demand) takes the values of the shortest route within the bush.
 *
 * Any other run (the Frank-Wolfe family holds no flows by origin) is skimmed along the shortest
 * route at the equilibrium's costs (Dijkstra per class and origin); at equilibrium every used
 * route costs the shortest-path cost up to the gap, so both rules agree on `cost` to the gap.
 * Origins without a bush (no demand) are skimmed the same way.
 *
 * Units: `time` and `cost` in the network's time unit, `toll` in money (0 for a class that pays
 * no tolls), `distance` in the network's length unit. Per class k: cost = time +
 * tollFactor_k·toll + distanceFactor_k·distance (linear, so it holds for the averages too).
 * Arrays are zone × zone, row = origin; NaN on the diagonal and where a destination cannot be
 * reached. Memory: 4 Float64 per OD pair and class (Berlin-Center: 24 MB per class) plus
 * node-sized scratch; nothing per bush.
 */

import { compileNetwork, InputError, Network, ShortestPathWorkspace } from "@tollkit/graph-core";
import { isBushState, StoredBush } from "../bush/store.js";
import { defaultClasses } from "../cost-model.js";
import { FollowerResult, UserClass } from "../types.js";

const MOD = "follower/skims";

/** Flows below this fraction of an origin's demand are rounding dust (as `../bush/store.ts`). */
const DUST = 1e-13;

/** How skims were computed: over the bushes' used routes, or along shortest routes. */
export type SkimRule = "bush-flow-weighted" | "shortest-path";

/** Skims of one class: zone × zone arrays (row = origin). */
export interface ClassSkims {
  name: string;
  /** The class's trips (the class's own demand array, not a copy). */
  demand: Float64Array;
  tollFactor: number;
  distanceFactor: number;
  tolled: boolean;
  /** Travel time per trip (time units). */
  time: Float64Array;
  /** Toll paid per trip (money). */
  toll: Float64Array;
  /** Distance per trip (length units). */
  distance: Float64Array;
  /** Generalised cost per trip (time units). */
  cost: Float64Array;
}

export interface Skims {
  network: string;
  zoneCount: number;
  rule: SkimRule;
  classes: ClassSkims[];
}

/** Per-link values of one class: time, toll paid, length and generalised cost. */
interface LinkValues {
  time: Float64Array;
  toll: Float64Array;
  length: Float64Array;
  cost: Float64Array;
}

function linkValues(net: Network, r: FollowerResult, c: UserClass, k: number): LinkValues {
  const cost = r.classes[k]?.costs;
  if (!cost || cost.length !== net.linkCount)
    throw new InputError(MOD, `the result has no costs for class ${k} (${c.name})`, { field: `classes[${k}]` }, "a result of this network");
  return { time: r.times, toll: c.tolled ? r.tolls : new Float64Array(net.linkCount), length: net.links.length, cost };
}

/**
 * Skims of a follower result (see the module comment for the rule).
 * @param classes the classes the result was solved with (default: the network's single class)
 * @throws InputError when the result does not fit the network or the classes
 */
export function computeSkims(net: Network, r: FollowerResult, classes: UserClass[] = defaultClasses(net)): Skims {
  const Z = net.zoneCount;
  if (r.flows.length !== net.linkCount || r.classes.length !== classes.length)
    throw new InputError(
      MOD,
      `the result has ${r.classes.length} classes and ${r.flows.length} links`,
      { field: "classes" },
      `${classes.length} classes and ${net.linkCount} links`,
    );
  const state = isBushState(r.warmStart?.state) ? r.warmStart.state : undefined;
  const usable = state && state.linkCount === net.linkCount && state.zoneCount === Z && state.classCount === classes.length;
  const byKey = new Map<number, StoredBush>();
  if (usable) for (const b of state.bushes) byKey.set(b.cls * Z + b.zone, b);
  const pass = new SkimPass(net);
  const out: ClassSkims[] = classes.map((c, k) => {
    const v = linkValues(net, r, c, k);
    const s: ClassSkims = {
      name: c.name,
      demand: c.demand,
      tollFactor: c.tollFactor,
      distanceFactor: c.distanceFactor,
      tolled: c.tolled,
      time: new Float64Array(Z * Z),
      toll: new Float64Array(Z * Z),
      distance: new Float64Array(Z * Z),
      cost: new Float64Array(Z * Z),
    };
    pass.gather(v.cost);
    for (let o = 0; o < Z; o++) {
      const b = byKey.get(k * Z + o);
      if (b) pass.bush(b, v, c.demand);
      else pass.tree(o, v);
      pass.write(o, s);
    }
    return s;
  });
  return { network: net.name, zoneCount: Z, rule: usable ? "bush-flow-weighted" : "shortest-path", classes: out };
}

/**
 * Node-sized scratch of the skim passes. After {@link bush} or {@link tree} for origin o, the
 * arrays T (time), P (toll), D (distance), C (cost) hold each node's values and `reached[v]` is 1
 * for the nodes with values (others are unreachable).
 */
class SkimPass {
  readonly T: Float64Array;
  readonly P: Float64Array;
  readonly D: Float64Array;
  readonly C: Float64Array;
  /** Shortest-route-in-bush values (the fallback of nodes without flow). */
  private readonly sT: Float64Array;
  private readonly sP: Float64Array;
  private readonly sD: Float64Array;
  private readonly sC: Float64Array;
  readonly reached: Uint8Array;
  private readonly touched: Int32Array;
  private touchedCount = 0;
  private readonly sp: ShortestPathWorkspace;

  constructor(readonly net: Network) {
    const n = net.nodeCount;
    this.T = new Float64Array(n);
    this.P = new Float64Array(n);
    this.D = new Float64Array(n);
    this.C = new Float64Array(n);
    this.sT = new Float64Array(n);
    this.sP = new Float64Array(n);
    this.sD = new Float64Array(n);
    this.sC = new Float64Array(n);
    this.reached = new Uint8Array(n);
    this.touched = new Int32Array(n);
    this.sp = new ShortestPathWorkspace(compileNetwork(net));
  }

  /** Sets the class's link costs for {@link tree}. */
  gather(cost: Float64Array): void {
    this.sp.gatherCosts(cost);
  }

  private reset(): void {
    for (let i = 0; i < this.touchedCount; i++) this.reached[this.touched[i]] = 0;
    this.touchedCount = 0;
  }

  private mark(v: number): void {
    this.reached[v] = 1;
    this.touched[this.touchedCount++] = v;
  }

  /** Flow-weighted values over a bush (storage order: links grouped by head, heads in topological order). */
  bush(b: StoredBush, v: LinkValues, demand: Float64Array): void {
    this.reset();
    const { T, P, D, C, sT, sP, sD, sC } = this;
    const { from, to } = this.net.links;
    const Z = this.net.zoneCount;
    let row = 0;
    for (let d = 0; d < Z; d++) if (d !== b.zone) row += demand[b.zone * Z + d];
    const dust = DUST * row;
    const root = this.net.zoneNodes[b.zone];
    T[root] = P[root] = D[root] = C[root] = 0;
    sT[root] = sP[root] = sD[root] = sC[root] = 0;
    this.mark(root);
    const { links, flows } = b;
    const len = links.length;
    let p = 0;
    while (p < len) {
      const j = to[links[p]];
      let F = 0;
      let aT = 0;
      let aP = 0;
      let aD = 0;
      let aC = 0;
      let best = Infinity;
      let bq = -1;
      for (; p < len && to[links[p]] === j; p++) {
        const a = links[p];
        const i = from[a];
        const f = flows[p];
        if (f > 0) {
          F += f;
          aT += f * (T[i] + v.time[a]);
          aP += f * (P[i] + v.toll[a]);
          aD += f * (D[i] + v.length[a]);
          aC += f * (C[i] + v.cost[a]);
        }
        const l = sC[i] + v.cost[a];
        if (l < best) {
          best = l;
          bq = a;
        }
      }
      const i = from[bq];
      sT[j] = sT[i] + v.time[bq];
      sP[j] = sP[i] + v.toll[bq];
      sD[j] = sD[i] + v.length[bq];
      sC[j] = best;
      if (F > dust) {
        T[j] = aT / F;
        P[j] = aP / F;
        D[j] = aD / F;
        C[j] = aC / F;
      } else {
        T[j] = sT[j];
        P[j] = sP[j];
        D[j] = sD[j];
        C[j] = sC[j];
      }
      this.mark(j);
    }
  }

  /** Values along the shortest-path tree from zone o at the costs last {@link gather}ed. */
  tree(o: number, v: LinkValues): void {
    this.reset();
    const { T, P, D, C } = this;
    const sp = this.sp;
    const root = this.net.zoneNodes[o];
    sp.tree(root);
    const { order, predLink, dist, settled } = sp;
    const from = this.net.links.from;
    T[root] = P[root] = D[root] = C[root] = 0;
    this.mark(root);
    for (let s = 1; s < settled; s++) {
      const u = order[s];
      const a = predLink[u];
      if (a < 0) continue;
      const i = from[a];
      T[u] = T[i] + v.time[a];
      P[u] = P[i] + v.toll[a];
      D[u] = D[i] + v.length[a];
      C[u] = dist[u];
      this.mark(u);
    }
  }

  /** Writes the row of origin o. */
  write(o: number, s: ClassSkims): void {
    const Z = this.net.zoneCount;
    const zn = this.net.zoneNodes;
    const row = o * Z;
    for (let d = 0; d < Z; d++) {
      const u = zn[d];
      const ok = d !== o && this.reached[u] === 1;
      s.time[row + d] = ok ? this.T[u] : NaN;
      s.toll[row + d] = ok ? this.P[u] : NaN;
      s.distance[row + d] = ok ? this.D[u] : NaN;
      s.cost[row + d] = ok ? this.C[u] : NaN;
    }
  }
}
