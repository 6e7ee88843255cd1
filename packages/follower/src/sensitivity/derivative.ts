/**
 * The derivative problem of an equilibrium: how origin-based flows respond to a change of the
 * flow-independent link costs (tolls), by implicit differentiation of the bush equilibrium
 * (Tobin & Friesz 1988; in the directional, possibly degenerate form of Patriksson 2004 and
 * Josefsson & Patriksson 2007).
 *
 * For each bush (class k, origin o) the *tight* subnetwork E_o holds the links at equilibrium
 * cost (reduced cost L_i + c_a − L_j ≈ 0, L the true shortest distances); the links of E_o that
 * carry flow are *used* (their flow derivative has either sign), the others may only gain flow
 * (a route at the margin of use). With link-cost derivatives h_a (t′ for UE, 2t′ + x·t″ for SO)
 * and a change dg_ka of class k's fixed cost (tollFactor_k · dτ_a), the derivatives df_o of the
 * origin-based flows minimise the quadratic
 *   ½ Σ_a h_a dx_a² + Σ_o pce_o Σ_a dg_{k(o)a} df_oa,   dx = Σ_o pce_o df_o,
 * over circulations df_o on E_o (demand is fixed) with df_oa ≥ 0 on unused links: an
 * equilibrium problem with linear costs h·dx + dg, whose first-order conditions say that every
 * route used after the change sees the same change of cost.
 *
 * Solution method. Circulations are written on a fundamental cycle basis: for each bush a
 * spanning tree of the active links (used links, plus unused links released by the active-set
 * loop below), one variable y_e per non-tree active link e = (i,j) (the cycle: e, the tree path
 * to i, back along the tree path to j). The reduced system A y = −b, A = Zᵀ Pᵀ H P Z symmetric
 * positive semidefinite, is solved by Jacobi-preconditioned conjugate gradients; A·v costs two
 * sweeps over the active bushes (subtree sums backwards, tree-path sums forwards).
 * Degeneracy: after a solve, derivative labels over all of E_o show whether some unused tight
 * route became cheaper than the used ones (it would attract flow: release its links and
 * re-solve) and whether a released link went negative (withdraw it and re-solve) — a primal
 * active-set method, which ends at the directional derivative for the direction solved.
 */

import { BushEngine, rowDemand } from "../bush/engine.js";

/** Per-bush data of the derivative problem. Local node 0 is the root; local order is topological. */
export interface DerivativeBush {
  cls: number;
  zone: number;
  pce: number;
  /** Local nodes (every node reachable from the root). */
  n: number;
  /** Tight links (network indices), grouped by head local index in increasing order. */
  links: Int32Array;
  /** Local tail and head of each position. */
  tail: Int32Array;
  head: Int32Array;
  /** Start of each local node's group of in-links (length n + 1). */
  start: Int32Array;
  /** 1 where the link carries flow of this bush (free in sign), 0 where it is an unused tight link (≥ 0). */
  used: Uint8Array;
  /** Unused tight links currently released by the active-set loop. */
  released: Uint8Array;
  /** Per local node: position of its tree in-link; −1 for the root and for nodes outside the active subgraph. */
  treeIn: Int32Array;
  /** Positions of the non-tree active links (the variables), and their offset in the global vector. */
  vars: Int32Array;
  nVars: number;
  offset: number;
  /** Flow derivative per position (vehicles of the class per unit of the direction). */
  df: Float64Array;
}

/** Outcome of one directional derivative. */
export interface DirectionalDerivative {
  /** d x / dε (PCE) per link; NaN everywhere when the derivative is unbounded or the solve failed. */
  dx: Float64Array;
  /** Per class d f_k / dε (vehicles). */
  dClass: Float64Array[];
  /** True when unused routes had to be released (the used routes change in this direction). */
  changedRoutes: boolean;
  /** Problems: an unbounded derivative (constant-cost routes), an active set that did not settle, CG not converged. */
  failure?: string;
}

const CG_TOLERANCE = 1e-13;
const ACTIVE_SET_ROUNDS = 12;

export class DerivativeProblem {
  readonly bushes: DerivativeBush[] = [];
  readonly m: number;
  /** d(link cost)/d(link flow), per link. */
  readonly h: Float64Array;
  /** Used links that are not at equilibrium cost (excluded); a symptom of a loose equilibrium. */
  looseUsed = 0;
  /** Largest flow share (of its origin's demand) on such a link. */
  looseShare = 0;
  /** Tight links dropped to keep a bush's tight subnetwork acyclic (zero-cost cycles). */
  droppedCyclic = 0;
  private nVars = 0;
  private readonly dx: Float64Array;
  private readonly q: Float64Array;
  private S: Float64Array = new Float64Array(0);
  private Q: Float64Array = new Float64Array(0);

  /**
   * Builds the tight subnetworks of every bush of `engine` (whose flows and costs must be
   * current, e.g. right after adopting an equilibrium's bushes).
   * @param tightTolerance a link is tight when its reduced cost is at most this fraction of the
   *   shortest distance to its head
   * @param usedTolerance a link is used when its origin flow exceeds this fraction of the origin's demand
   */
  constructor(
    readonly engine: BushEngine,
    tightTolerance: number,
    usedTolerance: number,
  ) {
    const { net } = engine;
    this.m = engine.m;
    this.h = Float64Array.from(engine.der);
    this.dx = new Float64Array(this.m);
    this.q = new Float64Array(this.m);
    const L = new Float64Array(net.nodeCount);
    const flowOf = new Float64Array(this.m);
    const local = new Int32Array(net.nodeCount).fill(-1);
    const indeg = new Int32Array(net.nodeCount);
    const queue = new Int32Array(net.nodeCount);
    const { fsStart, fsLink, fsHead, blocked, linkFrom, linkTo } = net;
    let maxN = 1;
    for (const b of engine.bushes) {
      engine.distances(b, L);
      const cc = engine.cc[b.cls];
      for (let p = 0; p < b.len; p++) flowOf[b.links[p]] = b.flows[p];
      const demand = rowDemand(engine.model.classes[b.cls].demand, b.zone, net.zoneCount);
      const usedMin = usedTolerance * demand;
      const isTight = (a: number): boolean => {
        const i = linkFrom[a];
        const j = linkTo[a];
        return L[i] + cc[a] - L[j] <= tightTolerance * Math.max(L[j], 1e-300) && j !== b.root;
      };
      // Kahn over the tight links (all reachable nodes have one: their shortest-path in-link)
      let reach = 0;
      for (let v = 0; v < net.nodeCount; v++) {
        indeg[v] = 0;
        if (L[v] < Infinity) reach++;
      }
      const allowed = (i: number): boolean => L[i] < Infinity && (blocked[i] === 0 || i === b.root);
      const orderOf = (strict: number): number => {
        for (let v = 0; v < net.nodeCount; v++) indeg[v] = 0;
        for (let i = 0; i < net.nodeCount; i++) {
          if (!allowed(i)) continue;
          for (let q = fsStart[i]; q < fsStart[i + 1]; q++) if (keep(fsLink[q], strict)) indeg[fsHead[q]]++;
        }
        let qh = 0;
        let qt = 0;
        queue[qt++] = b.root;
        while (qh < qt) {
          const i = queue[qh++];
          if (!allowed(i)) continue;
          for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
            if (!keep(fsLink[q], strict)) continue;
            const j = fsHead[q];
            if (--indeg[j] === 0) queue[qt++] = j;
          }
        }
        return qt;
      };
      // strict 0: every tight link; 1: bush links and tight links strictly increasing L; 2: tight bush links
      const inBush = new Uint8Array(this.m);
      for (let p = 0; p < b.len; p++) inBush[b.links[p]] = 1;
      const keep = (a: number, strict: number): boolean => {
        if (!isTight(a)) return false;
        if (strict === 0) return true;
        if (inBush[a] === 1) return true;
        return strict === 1 && L[linkFrom[a]] < L[linkTo[a]];
      };
      let strict = 0;
      let count = orderOf(0);
      if (count < reach) {
        strict = 1;
        count = orderOf(1);
      }
      if (count < reach) {
        strict = 2;
        count = orderOf(2);
      }
      const n = count;
      for (let t = 0; t < n; t++) local[queue[t]] = t;
      // positions grouped by head
      const start = new Int32Array(n + 1);
      let len = 0;
      let total = 0;
      for (let i = 0; i < net.nodeCount; i++) {
        if (local[i] < 0 || !allowed(i)) continue;
        for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
          const a = fsLink[q];
          total += isTight(a) ? 1 : 0;
          if (!keep(a, strict) || local[fsHead[q]] < 0) continue;
          start[local[fsHead[q]] + 1]++;
          len++;
        }
      }
      this.droppedCyclic += total - len;
      for (let t = 0; t < n; t++) start[t + 1] += start[t];
      const cursor = start.slice(0, n);
      const links = new Int32Array(len);
      const tail = new Int32Array(len);
      const head = new Int32Array(len);
      const used = new Uint8Array(len);
      for (let i = 0; i < net.nodeCount; i++) {
        if (local[i] < 0 || !allowed(i)) continue;
        for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
          const a = fsLink[q];
          if (!keep(a, strict) || local[fsHead[q]] < 0) continue;
          const p = cursor[local[fsHead[q]]]++;
          links[p] = a;
          tail[p] = local[i];
          head[p] = local[fsHead[q]];
          used[p] = flowOf[a] > usedMin ? 1 : 0;
        }
      }
      // used links left out (not tight): the equilibrium is not exact there
      for (let p = 0; p < b.len; p++) {
        const a = b.links[p];
        if (b.flows[p] > usedMin && !isTight(a)) {
          this.looseUsed++;
          this.looseShare = Math.max(this.looseShare, b.flows[p] / demand);
        }
        flowOf[a] = 0;
      }
      for (let t = 0; t < n; t++) local[queue[t]] = -1;
      maxN = Math.max(maxN, n);
      this.bushes.push({
        cls: b.cls,
        zone: b.zone,
        pce: engine.pce[b.cls],
        n,
        links,
        tail,
        head,
        start,
        used,
        released: new Uint8Array(len),
        treeIn: new Int32Array(n),
        vars: new Int32Array(len),
        nVars: 0,
        offset: 0,
        df: new Float64Array(len),
      });
    }
    this.S = new Float64Array(maxN);
    this.Q = new Float64Array(maxN);
  }

  /** True when some bush has an unused tight link (a route at the margin of use). */
  hasMarginalRoutes(): boolean {
    for (const d of this.bushes) for (let p = 0; p < d.used.length; p++) if (d.used[p] === 0) return true;
    return false;
  }

  /** Rebuilds the trees and variables of the active subgraphs (used + released links). */
  private buildCycles(): void {
    let off = 0;
    for (const d of this.bushes) {
      const { n, start, tail, used, released, treeIn, vars } = d;
      const inSet = this.S; // scratch flags, 1 = node in the active subgraph
      inSet[0] = 1;
      treeIn[0] = -1;
      for (let u = 1; u < n; u++) {
        let best = -1;
        for (let p = start[u]; p < start[u + 1]; p++) {
          if ((used[p] === 1 || released[p] === 1) && inSet[tail[p]] === 1) {
            if (best < 0 || (used[p] === 1 && used[best] === 0)) best = p;
          }
        }
        treeIn[u] = best;
        inSet[u] = best >= 0 ? 1 : 0;
      }
      let k = 0;
      for (let u = 1; u < n; u++) {
        if (inSet[u] === 0) continue;
        for (let p = start[u]; p < start[u + 1]; p++) {
          if (p !== treeIn[u] && (used[p] === 1 || released[p] === 1) && inSet[tail[p]] === 1) vars[k++] = p;
        }
      }
      d.nVars = k;
      d.offset = off;
      off += k;
    }
    this.nVars = off;
  }

  /** Flows of the cycle combination `y` into every bush's `df` and the total `dx`. */
  private flows(y: Float64Array): void {
    const dx = this.dx;
    dx.fill(0);
    const S = this.S;
    for (const d of this.bushes) {
      const { n, tail, head, treeIn, vars, nVars, offset, links, df, pce } = d;
      df.fill(0);
      S.fill(0, 0, n);
      for (let k = 0; k < nVars; k++) {
        const p = vars[k];
        const ye = y[offset + k];
        df[p] = ye;
        S[tail[p]] += ye;
        S[head[p]] -= ye;
        dx[links[p]] += pce * ye;
      }
      for (let u = n - 1; u >= 1; u--) {
        const p = treeIn[u];
        if (p < 0) continue;
        const s = S[u];
        df[p] = s;
        dx[links[p]] += pce * s;
        S[tail[p]] += s;
      }
    }
  }

  /** Gradient of each cycle variable for link costs `cost` (per class: h·dx + extra[k]). */
  private cycleCosts(linkCost: Float64Array, extra: (Float64Array | null)[], out: Float64Array): void {
    const Q = this.Q;
    for (const d of this.bushes) {
      const { n, tail, treeIn, vars, nVars, offset, links, head, pce } = d;
      const g = extra[d.cls];
      Q[0] = 0;
      for (let u = 1; u < n; u++) {
        const p = treeIn[u];
        if (p < 0) continue;
        const a = links[p];
        Q[u] = Q[tail[p]] + linkCost[a] + (g ? g[a] : 0);
      }
      for (let k = 0; k < nVars; k++) {
        const p = vars[k];
        const a = links[p];
        out[offset + k] = pce * (linkCost[a] + (g ? g[a] : 0) + Q[tail[p]] - Q[head[p]]);
      }
    }
  }

  /** out = A·y. */
  private apply(y: Float64Array, out: Float64Array): void {
    this.flows(y);
    const { dx, q, h } = this;
    for (let a = 0; a < this.m; a++) q[a] = h[a] * dx[a];
    this.cycleCosts(q, [], out);
  }

  /** Jacobi preconditioner: the diagonal of A (0 for cycles without any flow-dependent cost). */
  private diagonal(out: Float64Array): void {
    const H = this.Q;
    const h = this.h;
    for (const d of this.bushes) {
      const { n, tail, head, treeIn, vars, nVars, offset, links, pce } = d;
      H[0] = 0;
      for (let u = 1; u < n; u++) {
        const p = treeIn[u];
        if (p >= 0) H[u] = H[tail[p]] + h[links[p]];
      }
      for (let k = 0; k < nVars; k++) {
        const p = vars[k];
        let u = tail[p];
        let v = head[p];
        while (u !== v) {
          if (u > v) u = tail[treeIn[u]];
          else v = tail[treeIn[v]];
        }
        out[offset + k] = pce * pce * (h[links[p]] + H[tail[p]] + H[head[p]] - 2 * H[u]);
      }
    }
  }

  /**
   * Solves the reduced system for the current active set: A y = −b, b the cycle gradients of
   * `dg` (per class fixed-cost changes). Returns the solution or a failure message.
   */
  private solveActive(dg: (Float64Array | null)[]): { y: Float64Array; failure?: string } {
    this.buildCycles();
    const V = this.nVars;
    const y = new Float64Array(V);
    if (V === 0) return { y };
    const zeroCost = new Float64Array(this.m);
    const b = new Float64Array(V);
    this.cycleCosts(zeroCost, dg, b);
    const diag = new Float64Array(V);
    this.diagonal(diag);
    let bNorm = 0;
    let bMax = 0;
    for (let i = 0; i < V; i++) {
      bNorm += b[i] * b[i];
      bMax = Math.max(bMax, Math.abs(b[i]));
    }
    bNorm = Math.sqrt(bNorm);
    if (bNorm === 0) return { y };
    let dMax = 0;
    for (let i = 0; i < V; i++) dMax = Math.max(dMax, diag[i]);
    const inv = new Float64Array(V);
    for (let i = 0; i < V; i++) {
      if (diag[i] > 1e-14 * dMax) inv[i] = 1 / diag[i];
      else if (Math.abs(b[i]) > 1e-12 * bMax)
        return { y: y.fill(NaN), failure: "unbounded: flows jump between routes whose costs do not depend on flow" };
    }
    const r = new Float64Array(V);
    for (let i = 0; i < V; i++) r[i] = inv[i] === 0 ? 0 : -b[i];
    const z = new Float64Array(V);
    const p = new Float64Array(V);
    const Ap = new Float64Array(V);
    let rz = 0;
    for (let i = 0; i < V; i++) {
      z[i] = inv[i] * r[i];
      p[i] = z[i];
      rz += r[i] * z[i];
    }
    const maxIt = Math.max(200, 4 * V);
    const unbounded = (): { y: Float64Array; failure: string } => ({
      y: y.fill(NaN),
      failure:
        "unbounded: flows jump (routes shared by classes that weigh tolls differently, or routes whose cost does not depend on flow)",
    });
    for (let it = 0; it < maxIt; it++) {
      this.apply(p, Ap);
      let pAp = 0;
      let pp = 0;
      let rp = 0;
      for (let i = 0; i < V; i++) {
        if (inv[i] === 0) Ap[i] = 0;
        pAp += p[i] * Ap[i];
        pp += p[i] * p[i];
        rp += r[i] * p[i];
      }
      // a direction without curvature: harmless if the gradient has no component along it
      if (!(pAp > 1e-13 * dMax * pp)) {
        if (Math.abs(rp) > 1e-10 * bNorm * Math.sqrt(pp)) return unbounded();
        break;
      }
      const alpha = rz / pAp;
      let rn = 0;
      for (let i = 0; i < V; i++) {
        y[i] += alpha * p[i];
        r[i] -= alpha * Ap[i];
        rn += r[i] * r[i];
      }
      if (Math.sqrt(rn) <= CG_TOLERANCE * bNorm) return { y };
      if (!(Math.sqrt(rn) < 1e6 * bNorm)) return unbounded();
      let rz2 = 0;
      for (let i = 0; i < V; i++) {
        z[i] = inv[i] * r[i];
        rz2 += r[i] * z[i];
      }
      const beta = rz2 / rz;
      rz = rz2;
      for (let i = 0; i < V; i++) p[i] = z[i] + beta * p[i];
    }
    // accept a solution whose true residual is small, else report
    this.apply(y, Ap);
    let res = 0;
    for (let i = 0; i < V; i++) if (inv[i] !== 0) res += (Ap[i] + b[i]) ** 2;
    if (Math.sqrt(res) <= 1e-8 * bNorm) return { y };
    if (!(Math.sqrt(res) < bNorm)) return unbounded();
    return { y, failure: `conjugate gradients stopped at a relative residual of ${(Math.sqrt(res) / bNorm).toExponential(2)}` };
  }

  /**
   * The directional derivative of the equilibrium flows for fixed-cost changes `dg` (per class,
   * per link; null for a class unaffected).
   */
  solve(dg: (Float64Array | null)[]): DirectionalDerivative {
    for (const d of this.bushes) d.released.fill(0);
    const K = this.engine.K;
    let changedRoutes = false;
    let failure: string | undefined;
    for (let round = 0; ; round++) {
      const s = this.solveActive(dg);
      if (s.failure) {
        failure = s.failure;
        break;
      }
      this.flows(s.y);
      const changed = this.checkActiveSet(dg);
      if (!changed) break;
      changedRoutes = true;
      if (round + 1 >= ACTIVE_SET_ROUNDS) {
        failure = `the routes at the margin of use did not settle in ${ACTIVE_SET_ROUNDS} rounds`;
        break;
      }
    }
    const dx = Float64Array.from(this.dx);
    const dClass: Float64Array[] = [];
    for (let k = 0; k < K; k++) dClass.push(new Float64Array(this.m));
    for (const d of this.bushes) {
      const f = dClass[d.cls];
      for (let p = 0; p < d.links.length; p++) f[d.links[p]] += d.df[p];
    }
    if (failure) {
      dx.fill(NaN);
      for (const f of dClass) f.fill(NaN);
    }
    return { dx, dClass, changedRoutes, failure };
  }

  /**
   * Active-set update after a solve (flows in `df`, `dx`): withdraws released links whose flow
   * derivative is negative, else releases the links of unused tight routes that became cheaper
   * than the used ones. Returns true when the active set changed.
   */
  private checkActiveSet(dg: (Float64Array | null)[]): boolean {
    const { h, dx } = this;
    let changed = false;
    // scale of flows and costs for the tolerances
    let fMax = 0;
    for (const d of this.bushes) for (let p = 0; p < d.df.length; p++) fMax = Math.max(fMax, Math.abs(d.df[p]));
    for (const d of this.bushes) {
      for (let p = 0; p < d.df.length; p++) {
        if (d.released[p] === 1 && d.df[p] < -1e-9 * Math.max(fMax, 1e-300)) {
          d.released[p] = 0;
          changed = true;
        }
      }
    }
    if (changed) return true;
    const D = this.Q;
    const Dmin = this.S;
    for (const d of this.bushes) {
      const { n, start, tail, links, treeIn, used, released } = d;
      const g = dg[d.cls];
      const cost = (a: number): number => h[a] * dx[a] + (g ? g[a] : 0);
      D[0] = 0;
      let scale = 0;
      for (let u = 1; u < n; u++) {
        const p = treeIn[u];
        D[u] = p >= 0 ? D[tail[p]] + cost(links[p]) : NaN;
        if (p >= 0) scale = Math.max(scale, Math.abs(D[u]));
      }
      if (g) for (let a = 0; a < g.length; a++) scale = Math.max(scale, Math.abs(g[a]));
      const tol = 1e-9 * scale;
      // shortest derivative labels over the whole tight subnetwork, with the in-link used
      const via = new Int32Array(n).fill(-1);
      Dmin[0] = 0;
      for (let u = 1; u < n; u++) {
        let best = treeIn[u] >= 0 ? D[u] : Infinity;
        let bp = -1;
        for (let p = start[u]; p < start[u + 1]; p++) {
          const v = Dmin[tail[p]] + cost(links[p]);
          if (v < best - tol) {
            best = v;
            bp = p;
          }
        }
        Dmin[u] = best;
        via[u] = bp;
      }
      for (let u = 1; u < n; u++) {
        if (treeIn[u] < 0 || via[u] < 0) continue;
        // a cheaper route into an active node: release its links back to the active subgraph
        let v = u;
        while (v > 0 && via[v] >= 0) {
          const p = via[v];
          if (used[p] === 0 && released[p] === 0) {
            released[p] = 1;
            changed = true;
          }
          v = tail[p];
        }
      }
    }
    return changed;
  }
}
