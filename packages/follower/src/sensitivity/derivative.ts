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
 * from the common ancestor to i, back along the tree path from it to j). The cycles are stored
 * explicitly (links and signs, compressed rows), so the reduced system A y = −b,
 * A = Zᵀ Pᵀ H P Z symmetric positive semidefinite, costs one scatter and one gather over the
 * cycles' links per product; it is solved by Jacobi-preconditioned conjugate gradients.
 * Degeneracy: after a solve, derivative labels over all of E_o show whether some unused tight
 * route became cheaper than the used ones (it would attract flow: release its links and
 * re-solve) and whether a released link went negative (withdraw it and re-solve) — a primal
 * active-set method, which ends at the directional derivative for the direction solved.
 *
 * Linear range. A directional derivative describes one linear piece of the response: it holds
 * until a used route runs out of flow or an unused route becomes as cheap as the used ones. A
 * first-order ratio test (as in the simplex method) estimates how far the piece reaches on each
 * side. Routes running out: per link, the origins that lose flow there are pooled (their flow
 * over their rate of loss), because origin-based flows are not unique — origins with the same
 * alternatives can trade flow, and the solution found may take flow off an origin that has next
 * to none (Sioux Falls has such origins with 1e-5 vehicles on a link). When a pool runs out
 * within the caller's step, its flow is held fixed and the derivative re-solved: an unchanged
 * link-flow derivative means another decomposition keeps those routes in use (the test goes on
 * with it), a changed one that the kink is real. Routes entering: over the *candidate* links
 * (links between nodes of an origin's tight subnetwork that are neither at equilibrium cost nor
 * used), reduced cost / |d reduced cost|, the reduced cost's derivative from derivative labels
 * over the tight subnetwork (unique, as they depend on link flows only). Routes that leave the
 * tight subnetwork over several links are not examined, and link-flow rates below 1e-3 of the
 * largest are ignored. Where link costs hardly depend on flow (light traffic) the derivative can
 * be very large and its range tiny: the equilibrium is then nearly degenerate, and finite
 * differences over a longer step see a kink.
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
  /** Used links whose flow is held fixed (another origin takes its share of the change; see the linear range). */
  frozen: Uint8Array;
  /** Per local node: position of its tree in-link; −1 for the root and for nodes outside the active subgraph. */
  treeIn: Int32Array;
  /** Flow derivative per position (vehicles of the class per unit of the direction). */
  df: Float64Array;
  /** The bush's flow per position at the equilibrium (vehicles of the class). */
  flow: Float64Array;
  /**
   * Candidate links: links between local nodes that are neither positions nor used (their
   * reduced cost is above the tight tolerance); network index, local tail and head, reduced cost.
   */
  candLink: Int32Array;
  candTail: Int32Array;
  candHead: Int32Array;
  candRc: Float64Array;
}

/** How far a linear piece of the response reaches along one side of a direction (first order). */
export interface LinearRange {
  /** Largest step ε (units of the direction) before the used routes change; Infinity when nothing limits it. */
  step: number;
  /** What ends the piece there, in words (absent when `step` is Infinity). */
  cause?: string;
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
  /** The cycle solution of the first round (no route released): linear in the direction. */
  firstRound?: Float64Array;
  /** How far this derivative holds for ε > 0 (first-order ratio test); step NaN after a failure. */
  range: LinearRange;
  /**
   * How far the same linear piece holds for ε < 0 (|ε|). Meaningful only when no route is at the
   * margin of use: otherwise the other side is a different piece and has its own solve.
   */
  rangeBack: LinearRange;
}

const CG_TOLERANCE = 1e-13;
const ACTIVE_SET_ROUNDS = 12;
/** Used links whose reduced cost is at most this fraction of the distance to their head count as at equilibrium cost. */
const USED_TIGHT = 1e-4;
/**
 * A link whose flow derivative is below this fraction of the largest link-flow derivative does
 * not end a linear piece when its flow runs out (the derivative barely changes there).
 */
const MATERIAL = 1e-3;
/** Re-solves per side allowed to look for an origin decomposition that keeps routes in use longer. */
const REFINE_SOLVES = 6;

export class DerivativeProblem {
  readonly bushes: DerivativeBush[] = [];
  readonly m: number;
  /** d(link cost)/d(link flow), per link. */
  readonly h: Float64Array;
  /** Used links that are not at equilibrium cost (excluded); a symptom of a loose equilibrium. */
  looseUsed = 0;
  /** Largest flow share (of its origin's demand) on such a link. */
  looseShare = 0;
  /**
   * Unused tight links dropped to keep a bush's tight subnetwork acyclic (cycles of links at
   * equilibrium cost), not counting links of zero, constant cost (connectors), which cannot
   * change a derivative.
   */
  droppedCyclic = 0;
  /** 1 for links in some bush's tight subnetwork (a toll elsewhere changes nothing). */
  readonly inTight: Uint8Array;
  /**
   * Per link, the smallest reduced cost per unit of toll (reduced cost / tollFactor, money) over
   * the bushes of tolled classes where it is a candidate link: the toll decrease that makes an
   * unused route over it as cheap as the used ones when nothing else moves. Infinity elsewhere.
   */
  readonly tollSlack: Float64Array;
  /** The bush (index into `bushes`) attaining {@link tollSlack}, or −1. */
  readonly tollSlackBush: Int32Array;
  // the cycles of the current active set (compressed rows: variable v owns cycLink/cycCoef[cycStart[v] .. cycStart[v+1]−1])
  private nVars = 0;
  private varBush = new Int32Array(0);
  private varPos = new Int32Array(0);
  private cycStart = new Int32Array(1);
  private cycLink = new Int32Array(0);
  /** sign · pce of the cycle's bush. */
  private cycCoef = new Float64Array(0);
  /** Whether the cycles describe the current active set. */
  private cyclesValid = false;
  private readonly dx: Float64Array;
  private readonly q: Float64Array;
  /** Total flow derivative of the last {@link flows}. */
  private readonly dxFull: Float64Array;
  private S: Float64Array = new Float64Array(0);
  /** Per link: flow and rate of loss of the origins losing flow there (ratio test scratch). */
  private readonly poolFlow: Float64Array;
  private readonly poolRate: Float64Array;
  private Q: Float64Array = new Float64Array(0);

  /**
   * Builds the tight subnetworks of every bush of `engine` (whose flows and costs must be
   * current, e.g. right after adopting an equilibrium's bushes).
   * @param tightTolerance an unused link is tight when its reduced cost is at most this fraction
   *   of the shortest distance to its head (used links: {@link USED_TIGHT})
   * @param usedTolerance a link is used when its origin flow exceeds this fraction of the origin's demand
   */
  constructor(
    readonly engine: BushEngine,
    tightTolerance: number,
    usedTolerance: number,
  ) {
    const { net } = engine;
    const N = net.nodeCount;
    this.m = engine.m;
    this.h = Float64Array.from(engine.der);
    this.dx = new Float64Array(this.m);
    this.q = new Float64Array(this.m);
    this.dxFull = new Float64Array(this.m);
    this.inTight = new Uint8Array(this.m);
    this.poolFlow = new Float64Array(this.m);
    this.poolRate = new Float64Array(this.m);
    this.tollSlack = new Float64Array(this.m).fill(Infinity);
    this.tollSlackBush = new Int32Array(this.m).fill(-1);
    const L = new Float64Array(N);
    const flowOf = new Float64Array(this.m);
    const keepOf = new Uint8Array(this.m);
    const tightOf = new Uint8Array(this.m);
    const local = new Int32Array(N).fill(-1);
    const indeg = new Int32Array(N);
    const queue = new Int32Array(N);
    const { fsStart, fsLink, fsHead, bsStart, bsLink, blocked, linkFrom, linkTo } = net;
    const useful = new Uint8Array(N);
    let maxN = 1;
    for (const b of engine.bushes) {
      engine.distances(b, L);
      const cc = engine.cc[b.cls];
      const demand = rowDemand(engine.model.classes[b.cls].demand, b.zone, net.zoneCount);
      const usedMin = usedTolerance * demand;
      for (let p = 0; p < b.len; p++) flowOf[b.links[p]] = b.flows[p];
      // tight links (keepOf = 1) out of nodes that may be left; reduced cost against the head's distance
      let reach = 0;
      for (let i = 0; i < N; i++) {
        if (L[i] === Infinity) continue;
        reach++;
        if (blocked[i] === 1 && i !== b.root) continue;
        for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
          const a = fsLink[q];
          const j = fsHead[q];
          if (j === b.root) continue;
          const rc = L[i] + cc[a] - L[j];
          const tol = (flowOf[a] > usedMin ? USED_TIGHT : tightTolerance) * Math.max(L[j], 1e-300);
          if (rc <= tol) keepOf[a] = tightOf[a] = 1;
          else if (flowOf[a] > usedMin) {
            this.looseUsed++;
            this.looseShare = Math.max(this.looseShare, flowOf[a] / demand);
          }
        }
      }
      // Kahn over the tight links; zero-cost cycles (ties) are broken by keeping, in turn, only
      // links that increase the distance, then only the bush's own links
      let n = this.kahn(b.root, N, keepOf, L, queue, indeg, blocked, fsStart, fsLink, fsHead);
      if (n < reach) {
        for (let a = 0; a < this.m; a++) {
          if (keepOf[a] === 1 && !(L[linkFrom[a]] < L[linkTo[a]]) && flowOf[a] <= usedMin) {
            keepOf[a] = 0;
            if (cc[a] !== 0 || this.h[a] !== 0) this.droppedCyclic++;
          }
        }
        n = this.kahn(b.root, N, keepOf, L, queue, indeg, blocked, fsStart, fsLink, fsHead);
      }
      if (n < reach) {
        for (let a = 0; a < this.m; a++) {
          if (keepOf[a] === 1 && !(L[linkFrom[a]] < L[linkTo[a]])) {
            keepOf[a] = 0;
            if (cc[a] !== 0 || this.h[a] !== 0) this.droppedCyclic++;
          }
        }
        for (let p = 0; p < b.len; p++) keepOf[b.links[p]] = tightOf[b.links[p]];
        n = this.kahn(b.root, N, keepOf, L, queue, indeg, blocked, fsStart, fsLink, fsHead);
      }
      for (let t = 0; t < n; t++) local[queue[t]] = t;
      // keep the nodes from which a tight route leads to flow (the root, nodes with flow and the
      // alternatives between them): a circulation cannot enter a dead end of the tight subnetwork
      for (let t = n - 1; t >= 0; t--) {
        const i = queue[t];
        let ok = t === 0;
        if (!ok && !(blocked[i] === 1 && i !== b.root)) {
          for (let q = fsStart[i]; q < fsStart[i + 1] && !ok; q++) {
            const j = fsHead[q];
            if (keepOf[fsLink[q]] === 1 && local[j] > t && useful[local[j]] === 1) ok = true;
          }
        }
        if (!ok) {
          for (let q = bsStart[i]; q < bsStart[i + 1] && !ok; q++) if (keepOf[bsLink[q]] === 1 && flowOf[bsLink[q]] > usedMin) ok = true;
        }
        useful[t] = ok ? 1 : 0;
      }
      let kept = 0;
      for (let t = 0; t < n; t++) {
        const i = queue[t];
        if (useful[t] === 1) {
          queue[kept] = i;
          local[i] = kept++;
        } else local[i] = -1;
      }
      for (let t = 0; t < n; t++) useful[t] = 0;
      for (let t = kept; t < n; t++) queue[t] = -1;
      n = kept;
      const start = new Int32Array(n + 1);
      let len = 0;
      for (let t = 0; t < n; t++) {
        const i = queue[t];
        if (blocked[i] === 1 && i !== b.root) continue;
        for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
          if (keepOf[fsLink[q]] === 1 && local[fsHead[q]] >= 0) {
            start[local[fsHead[q]] + 1]++;
            len++;
          }
        }
      }
      for (let t = 0; t < n; t++) start[t + 1] += start[t];
      const cursor = start.slice(0, n);
      const links = new Int32Array(len);
      const tail = new Int32Array(len);
      const head = new Int32Array(len);
      const used = new Uint8Array(len);
      const flow = new Float64Array(len);
      const cand: number[] = [];
      const cls = engine.model.classes[b.cls];
      const tollScale = cls.tolled && cls.tollFactor > 0 ? 1 / cls.tollFactor : 0;
      for (let t = 0; t < n; t++) {
        const i = queue[t];
        if (blocked[i] === 1 && i !== b.root) continue;
        for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
          const a = fsLink[q];
          const j = fsHead[q];
          if (local[j] < 0 || j === b.root) continue;
          if (keepOf[a] !== 1) {
            // a candidate: neither at equilibrium cost nor used (loose used links are held fixed)
            const rc = L[i] + cc[a] - L[j];
            if (flowOf[a] <= usedMin && rc > tightTolerance * Math.max(L[j], 1e-300)) {
              cand.push(a, t, local[j], rc);
              if (tollScale > 0 && rc * tollScale < this.tollSlack[a]) {
                this.tollSlack[a] = rc * tollScale;
                this.tollSlackBush[a] = this.bushes.length;
              }
            }
            continue;
          }
          const p = cursor[local[j]]++;
          links[p] = a;
          tail[p] = t;
          head[p] = local[j];
          used[p] = flowOf[a] > usedMin ? 1 : 0;
          flow[p] = flowOf[a];
          this.inTight[a] = 1;
        }
      }
      const nc = cand.length / 4;
      const candLink = new Int32Array(nc);
      const candTail = new Int32Array(nc);
      const candHead = new Int32Array(nc);
      const candRc = new Float64Array(nc);
      for (let c = 0; c < nc; c++) {
        candLink[c] = cand[4 * c];
        candTail[c] = cand[4 * c + 1];
        candHead[c] = cand[4 * c + 2];
        candRc[c] = cand[4 * c + 3];
      }
      // reset the per-bush marks
      for (let i = 0; i < N; i++) {
        if (L[i] === Infinity) continue;
        for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
          const a = fsLink[q];
          keepOf[a] = tightOf[a] = 0;
        }
      }
      for (let p = 0; p < b.len; p++) flowOf[b.links[p]] = 0;
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
        frozen: new Uint8Array(len),
        treeIn: new Int32Array(n),
        df: new Float64Array(len),
        flow,
        candLink,
        candTail,
        candHead,
        candRc,
      });
    }
    this.S = new Float64Array(maxN);
    this.Q = new Float64Array(maxN);
  }

  /** Kahn's algorithm from `root` over links with keepOf = 1; the order is left in `queue`; returns its length. */
  private kahn(
    root: number,
    N: number,
    keepOf: Uint8Array,
    L: Float64Array,
    queue: Int32Array,
    indeg: Int32Array,
    blocked: Uint8Array,
    fsStart: Int32Array,
    fsLink: Int32Array,
    fsHead: Int32Array,
  ): number {
    indeg.fill(0);
    for (let i = 0; i < N; i++) {
      if (L[i] === Infinity || (blocked[i] === 1 && i !== root)) continue;
      for (let q = fsStart[i]; q < fsStart[i + 1]; q++) if (keepOf[fsLink[q]] === 1) indeg[fsHead[q]]++;
    }
    let qh = 0;
    let qt = 0;
    queue[qt++] = root;
    while (qh < qt) {
      const i = queue[qh++];
      if (blocked[i] === 1 && i !== root) continue;
      for (let q = fsStart[i]; q < fsStart[i + 1]; q++) {
        if (keepOf[fsLink[q]] !== 1) continue;
        if (--indeg[fsHead[q]] === 0) queue[qt++] = fsHead[q];
      }
    }
    return qt;
  }

  /** True when some bush has an unused tight link (a route at the margin of use). */
  hasMarginalRoutes(): boolean {
    for (const d of this.bushes) for (let p = 0; p < d.used.length; p++) if (d.used[p] === 0) return true;
    return false;
  }

  /** Rebuilds the trees, variables and cycles of the active subgraphs (used + released links). */
  private buildCycles(): void {
    const inSet = this.S;
    // pass 1: trees and the number of variables and cycle links
    let V = 0;
    for (const d of this.bushes) {
      const { n, start, tail, used, released, frozen, treeIn } = d;
      inSet[0] = 1;
      treeIn[0] = -1;
      for (let u = 1; u < n; u++) {
        let best = -1;
        for (let p = start[u]; p < start[u + 1]; p++) {
          if (((used[p] === 1 && frozen[p] === 0) || released[p] === 1) && inSet[tail[p]] === 1) {
            if (best < 0 || (used[p] === 1 && used[best] === 0)) best = p;
          }
        }
        treeIn[u] = best;
        inSet[u] = best >= 0 ? 1 : 0;
      }
      for (let u = 1; u < n; u++) {
        if (inSet[u] === 0) continue;
        for (let p = start[u]; p < start[u + 1]; p++)
          if (p !== treeIn[u] && ((used[p] === 1 && frozen[p] === 0) || released[p] === 1) && inSet[tail[p]] === 1) V++;
      }
    }
    const varBush = new Int32Array(V);
    const varPos = new Int32Array(V);
    const cycStart = new Int32Array(V + 1);
    const links: number[] = [];
    const coefs: number[] = [];
    let v = 0;
    this.bushes.forEach((d, bi) => {
      const { n, start, tail, head, used, released, frozen, treeIn, pce } = d;
      // membership again (trees are fixed now)
      for (let u = 1; u < n; u++) inSet[u] = treeIn[u] >= 0 ? 1 : 0;
      inSet[0] = 1;
      for (let u = 1; u < n; u++) {
        if (inSet[u] === 0) continue;
        for (let p = start[u]; p < start[u + 1]; p++) {
          if (p === treeIn[u] || !((used[p] === 1 && frozen[p] === 0) || released[p] === 1) || inSet[tail[p]] === 0) continue;
          varBush[v] = bi;
          varPos[v] = p;
          cycStart[v] = links.length;
          links.push(d.links[p]);
          coefs.push(pce);
          // tree paths up to the common ancestor: + towards the tail, − towards the head
          let a = tail[p];
          let c = head[p];
          while (a !== c) {
            if (a > c) {
              const q = treeIn[a];
              links.push(d.links[q]);
              coefs.push(pce);
              a = tail[q];
            } else {
              const q = treeIn[c];
              links.push(d.links[q]);
              coefs.push(-pce);
              c = tail[q];
            }
          }
          v++;
        }
      }
    });
    cycStart[V] = links.length;
    this.nVars = V;
    this.varBush = varBush;
    this.varPos = varPos;
    this.cycStart = cycStart;
    this.cycLink = Int32Array.from(links);
    this.cycCoef = Float64Array.from(coefs);
    this.cyclesValid = true;
  }

  /** out = A·y: flows of the cycles, their cost changes h·dx, gathered back onto the cycles. */
  private apply(y: Float64Array, out: Float64Array): void {
    const { dx, q, h, cycStart, cycLink, cycCoef, nVars } = this;
    for (let v = 0; v < nVars; v++) {
      const yv = y[v];
      for (let k = cycStart[v]; k < cycStart[v + 1]; k++) dx[cycLink[k]] += cycCoef[k] * yv;
    }
    for (let k = 0; k < cycLink.length; k++) {
      const a = cycLink[k];
      q[a] = h[a] * dx[a];
    }
    for (let v = 0; v < nVars; v++) {
      let s = 0;
      for (let k = cycStart[v]; k < cycStart[v + 1]; k++) s += cycCoef[k] * q[cycLink[k]];
      out[v] = s;
    }
    for (let k = 0; k < cycLink.length; k++) dx[cycLink[k]] = 0;
  }

  /**
   * Solves the reduced system for the current active set: A y = −b, b the cycle gradients of
   * `dg` (per class fixed-cost changes). Returns the solution or a failure message.
   */
  private solveActive(dg: (Float64Array | null)[]): { y: Float64Array; failure?: string } {
    if (!this.cyclesValid) this.buildCycles();
    const { nVars: V, cycStart, cycLink, cycCoef, h, varBush } = this;
    const y = new Float64Array(V);
    if (V === 0) return { y };
    const b = new Float64Array(V);
    const diag = new Float64Array(V);
    for (let v = 0; v < V; v++) {
      const g = dg[this.bushes[varBush[v]].cls];
      let sb = 0;
      let sd = 0;
      for (let k = cycStart[v]; k < cycStart[v + 1]; k++) {
        const a = cycLink[k];
        if (g) sb += cycCoef[k] * g[a];
        sd += cycCoef[k] * cycCoef[k] * h[a];
      }
      b[v] = sb;
      diag[v] = sd;
    }
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

  /** Flow derivatives of the cycle combination `y`: every bush's `df` per position, and the total in `dxFull`. */
  private flows(y: Float64Array): void {
    const dx = this.dxFull;
    dx.fill(0);
    const S = this.S;
    const { varBush, varPos, nVars } = this;
    let v = 0;
    this.bushes.forEach((d, bi) => {
      const { n, tail, head, treeIn, links, df, pce } = d;
      df.fill(0);
      S.fill(0, 0, n);
      for (; v < nVars && varBush[v] === bi; v++) {
        const p = varPos[v];
        const ye = y[v];
        df[p] = ye;
        S[tail[p]] += ye;
        S[head[p]] -= ye;
      }
      for (let u = n - 1; u >= 1; u--) {
        const p = treeIn[u];
        if (p < 0) continue;
        const s = S[u];
        df[p] = s;
        S[tail[p]] += s;
      }
      for (let p = 0; p < df.length; p++) if (df[p] !== 0) dx[links[p]] += pce * df[p];
    });
  }

  /**
   * The directional derivative of the equilibrium flows for fixed-cost changes `dg` (per class,
   * per link; null for a class unaffected). `firstRound`, when given, is the first round's
   * solution (known from the opposite direction: it is linear), which saves one solve. `step`
   * (units of the direction) is the smallest change of interest: linear ranges shorter than it
   * are checked against other origin decompositions (see {@link refineRange}).
   */
  solve(dg: (Float64Array | null)[], firstRound?: Float64Array, step = 0): DirectionalDerivative {
    for (const d of this.bushes) {
      for (let p = 0; p < d.released.length; p++) {
        if (d.released[p] === 1 || d.frozen[p] === 1) {
          d.released[p] = 0;
          d.frozen[p] = 0;
          this.cyclesValid = false;
        }
      }
    }
    const K = this.engine.K;
    const { failure, changedRoutes, first } = this.run(dg, firstRound);
    const dx = Float64Array.from(this.dxFull);
    const dClass: Float64Array[] = [];
    for (let k = 0; k < K; k++) dClass.push(new Float64Array(this.m));
    for (const d of this.bushes) {
      const f = dClass[d.cls];
      for (let p = 0; p < d.links.length; p++) f[d.links[p]] += d.df[p];
    }
    let range: LinearRange = { step: NaN };
    let rangeBack: LinearRange = { step: NaN };
    if (failure) {
      dx.fill(NaN);
      for (const f of dClass) f.fill(NaN);
    } else {
      range = this.refineRange(dg, 0, step);
      rangeBack = this.refineRange(dg, 1, step);
    }
    return { dx, dClass, changedRoutes, failure, firstRound: first, range, rangeBack };
  }

  /** The active-set loop from the current released and frozen links; leaves the solution in `df` and `dxFull`. */
  private run(dg: (Float64Array | null)[], firstRound?: Float64Array): { failure?: string; changedRoutes: boolean; first?: Float64Array } {
    let changedRoutes = false;
    let failure: string | undefined;
    let first: Float64Array | undefined;
    for (let round = 0; ; round++) {
      if (!this.cyclesValid) this.buildCycles();
      const s = round === 0 && firstRound && firstRound.length === this.nVars ? { y: firstRound } : this.solveActive(dg);
      if (round === 0 && !s.failure) first = s.y;
      if (s.failure) {
        failure = s.failure;
        break;
      }
      this.flows(s.y);
      const changed = this.checkActiveSet(dg);
      if (!changed) break;
      this.cyclesValid = false;
      changedRoutes = true;
      if (round + 1 >= ACTIVE_SET_ROUNDS) {
        failure = `the routes at the margin of use did not settle in ${ACTIVE_SET_ROUNDS} rounds`;
        break;
      }
    }
    return { failure, changedRoutes, first };
  }

  /**
   * The linear range on one side (0: ε > 0, 1: ε < 0) of the current solution. Origin-based
   * flows are not unique: the same link-flow derivative can often be shared out differently
   * among origins that have the same alternatives, and the solution found need not be the one
   * the equilibrium follows (it may take flow off an origin that has almost none there). So when
   * origins would run out of flow on a link within `step`, their flow there is held fixed and
   * the derivative re-solved: if the link-flow derivative stays the same, another decomposition
   * keeps them in use and the test goes on with it; if it changes, the kink is real. At most
   * {@link REFINE_SOLVES} re-solves per side; after that the estimate errs on the short side.
   */
  private refineRange(dg: (Float64Array | null)[], side: number, step: number): LinearRange {
    for (let solves = 0; ; solves++) {
      const lim = this.limit(dg, side);
      if (!(lim.range.step < step) || lim.link < 0 || solves >= REFINE_SOLVES) return lim.range;
      // the piece ends early because origins run out on link lim.link: hold them and re-solve
      const a = lim.link;
      const saved = this.bushes.map((d) => ({ df: d.df.slice(), released: d.released.slice() }));
      const dx = Float64Array.from(this.dxFull);
      let xMax = 0;
      for (let b = 0; b < this.m; b++) xMax = Math.max(xMax, Math.abs(dx[b]));
      const held: [number, number][] = [];
      this.bushes.forEach((d, bi) => {
        for (let p = 0; p < d.links.length; p++)
          if (d.links[p] === a && d.used[p] === 1 && d.frozen[p] === 0 && (side === 0 ? d.df[p] < 0 : d.df[p] > 0)) {
            d.frozen[p] = 1;
            held.push([bi, p]);
          }
      });
      this.cyclesValid = false;
      const r = this.run(dg);
      let same = !r.failure;
      for (let b = 0; b < this.m && same; b++) if (!(Math.abs(this.dxFull[b] - dx[b]) <= 1e-7 * xMax)) same = false;
      if (same) continue;
      // a real kink: back to the solution before
      for (const [bi, p] of held) this.bushes[bi].frozen[p] = 0;
      this.bushes.forEach((d, bi) => {
        d.df.set(saved[bi].df);
        d.released.set(saved[bi].released);
      });
      this.dxFull.set(dx);
      this.cyclesValid = false;
      return lim.range;
    }
  }

  /**
   * The first-order ratio test of the current solution (`df` per bush, `dxFull`) for fixed-cost
   * changes `dg` on one side (0: ε > 0, 1: ε < 0): how far |ε| may go before the origins that
   * lose flow on some link as ε moves that way run out of it — pooled per link, as they can trade
   * flow among themselves — or a candidate link becomes as cheap as the tight routes of its
   * origin. Pooled rates below {@link MATERIAL} of the largest link-flow derivative, and
   * reduced-cost derivatives below 1e-9 of the largest label, count as zero.
   * @returns the range, and the link whose origins run out there (−1 when a route enters)
   */
  private limit(dg: (Float64Array | null)[], side: number): { range: LinearRange; link: number } {
    const { h, dxFull: dx, m } = this;
    const sgn = side === 0 ? 1 : -1;
    const D = this.Q;
    let xMax = 0;
    for (let a = 0; a < m; a++) xMax = Math.max(xMax, Math.abs(dx[a]));
    const fTol = MATERIAL * xMax;
    const { poolFlow, poolRate } = this;
    poolFlow.fill(0);
    poolRate.fill(0);
    for (const d of this.bushes) {
      const { links, df, flow, pce } = d;
      for (let p = 0; p < df.length; p++) {
        const v = sgn * df[p];
        if (v < 0) {
          poolFlow[links[p]] += pce * flow[p];
          poolRate[links[p]] -= pce * v;
        }
      }
    }
    let best = Infinity;
    let link = -1;
    let bush = -1;
    let cand = 0;
    for (let a = 0; a < m; a++) {
      if (poolRate[a] > fTol && poolFlow[a] / poolRate[a] < best) {
        best = poolFlow[a] / poolRate[a];
        link = a;
      }
    }
    this.bushes.forEach((d, bi) => {
      const { n, start, tail, links, candLink, candTail, candHead, candRc } = d;
      if (candLink.length === 0) return;
      const g = dg[d.cls];
      // derivative labels: d(shortest distance)/dε over the tight subnetwork
      let scale = 0;
      D[0] = 0;
      for (let u = 1; u < n; u++) {
        let lab = Infinity;
        for (let p = start[u]; p < start[u + 1]; p++) {
          const a = links[p];
          const v = D[tail[p]] + h[a] * dx[a] + (g ? g[a] : 0);
          if (v < lab) lab = v;
        }
        D[u] = lab;
        if (lab !== Infinity) scale = Math.max(scale, Math.abs(lab));
      }
      if (g) for (let c = 0; c < candLink.length; c++) scale = Math.max(scale, Math.abs(g[candLink[c]]));
      const tol = 1e-9 * scale;
      for (let c = 0; c < candLink.length; c++) {
        const a = candLink[c];
        const drc = sgn * (D[candTail[c]] + h[a] * dx[a] + (g ? g[a] : 0) - D[candHead[c]]);
        if (drc < -tol && candRc[c] / -drc < best) {
          best = candRc[c] / -drc;
          link = -1;
          bush = bi;
          cand = c;
        }
      }
    });
    if (best === Infinity) return { range: { step: Infinity }, link: -1 };
    if (link >= 0) {
      const x = this.engine.x[link];
      const f = poolFlow[link];
      const part = f < x * (1 - 1e-9) ? `${f.toPrecision(3)} of its ${x.toPrecision(3)} PCE` : `${x.toPrecision(3)} PCE`;
      const rate = ((100 * poolRate[link]) / xMax).toPrecision(2);
      return {
        range: {
          step: best,
          cause: `the flow on link ${link + 1} of the origins that leave it (${part}, at ${rate}% of the largest rate of change of a link flow) runs out`,
        },
        link,
      };
    }
    return { range: { step: best, cause: this.describe(bush, cand) }, link: -1 };
  }

  /** Words for an unused route of bush `bi` entering over its candidate link `c`. */
  private describe(bi: number, c: number): string {
    const d = this.bushes[bi];
    const who = `origin zone ${d.zone + 1}${this.engine.K > 1 ? ` (class ${this.engine.model.classes[d.cls].name})` : ""}`;
    return `an unused route of ${who} over link ${d.candLink[c] + 1} (reduced cost ${d.candRc[c].toPrecision(3)}) becomes as cheap as the used ones`;
  }

  /**
   * The linear range of a direction to which nobody responds at first order (its links are in no
   * tight subnetwork): only the tolls move, so an unused route over a tolled candidate link
   * enters once the toll has fallen by its {@link tollSlack}. Returns [for ε > 0, for ε < 0].
   * @param links network link indices; `weights` their rates of toll change
   */
  zeroResponseRange(links: number[], weights: number[]): [LinearRange, LinearRange] {
    const out: [LinearRange, LinearRange] = [{ step: Infinity }, { step: Infinity }];
    links.forEach((a, j) => {
      const w = weights[j];
      const s = this.tollSlack[a];
      if (w === 0 || s === Infinity) return;
      const side = w < 0 ? 0 : 1; // a falling toll attracts traffic
      const r = s / Math.abs(w);
      if (r < out[side].step) {
        const bi = this.tollSlackBush[a];
        const d = this.bushes[bi];
        let c = 0;
        while (d.candLink[c] !== a) c++;
        out[side] = { step: r, cause: this.describe(bi, c) };
      }
    });
    return out;
  }

  /**
   * Active-set update after a solve (flows in `df`, `dx`): withdraws released links whose flow
   * derivative is negative, else releases the links of unused tight routes that became cheaper
   * than the used ones. Returns true when the active set changed.
   */
  private checkActiveSet(dg: (Float64Array | null)[]): boolean {
    const { h, dxFull: dx } = this;
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
