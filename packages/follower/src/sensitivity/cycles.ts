/**
 * The cycle-basis solver of the derivative problem (see `./derivative.ts`): circulations on the
 * active subgraphs of the tight subnetworks (`./tight.ts`), written on a fundamental cycle
 * basis, and the reduced system solved by Jacobi-preconditioned conjugate gradients.
 *
 * Invariants (valid after {@link CycleBasis.build}, until the active set changes; `valid` says so):
 * - The active subgraph of a bush: positions with (used and not frozen) or released, whose tail
 *   is in it; the root is in it. Each bush node u ≥ 1 of the active subgraph has one tree in-link
 *   treeIn[u] (a used one where there is any); treeIn[u] = −1 for the root and for nodes outside.
 * - Variables v = 0..nVars−1, grouped by bush in bush order: one per non-tree active position
 *   varPos[v] of bush varBush[v]. Its cycle is that position, then the tree paths from its tail
 *   and its head up to their common ancestor: network links cycLink[k] with coefficients
 *   cycCoef[k] = ±pce of the bush (+ along the position and the tail's path, − along the head's),
 *   for k in cycStart[v] .. cycStart[v+1]−1.
 * - A = Zᵀ Pᵀ H P Z (Z the cycles, P the PCE weights, H = diag(h)) is symmetric positive
 *   semidefinite; A·y costs one scatter and one gather over the cycles' links.
 * - Scratch: cycleFlow and costChange (per network link) are zero between products; inSet and
 *   nodeExcess (per local node) are overwritten by each use.
 * The right-hand side of a solve is b_v = Σ_k cycCoef[k] · dg_{class(v)}[cycLink[k]], the cycle's
 * change of fixed cost; the solution of A y = −b is the first-order response of the cycle flows.
 */

import type { DerivativeBush } from "./tight.js";
import { cgStalled, UNBOUNDED_CONSTANT_COST, UNBOUNDED_JUMP } from "./messages.js";

/** Relative residual at which conjugate gradients stop. */
const CG_TOLERANCE = 1e-13;

/** A cycle solution, or NaN everywhere and the reason. */
export interface CycleSolution {
  y: Float64Array;
  failure?: string;
}

/** The cycles of the current active set of every bush, and the conjugate-gradient solver on them. */
export class CycleBasis {
  nVars = 0;
  /** Bush (index into `bushes`) of each variable. */
  varBush = new Int32Array(0);
  /** Position (in its bush) of each variable's non-tree link. */
  varPos = new Int32Array(0);
  /** Compressed rows: variable v owns cycLink/cycCoef[cycStart[v] .. cycStart[v+1]−1]. */
  cycStart = new Int32Array(1);
  cycLink = new Int32Array(0);
  /** sign · pce of the cycle's bush. */
  cycCoef = new Float64Array(0);
  /** Conjugate-gradient iterations of the last solve (diagnostics). */
  iterations = 0;
  /** Whether the cycles describe the current active set (cleared by whoever changes it). */
  valid = false;
  /** Per network link: flow of the cycles in a product (zero between products). */
  private readonly cycleFlow: Float64Array;
  /** Per network link: cost change h·dx in a product. */
  private readonly costChange: Float64Array;
  /** Per local node: 1 when in the active subgraph (built anew per bush). */
  private readonly inSet: Uint8Array;
  /** Per local node: net cycle flow into the node not yet passed to its tree in-link. */
  private readonly nodeExcess: Float64Array;

  /**
   * @param bushes the tight subnetworks (their treeIn and df are written here)
   * @param h d(link cost)/d(link flow) per link
   * @param maxNodes the largest number of local nodes of a bush
   */
  constructor(
    readonly bushes: DerivativeBush[],
    readonly h: Float64Array,
    maxNodes: number,
  ) {
    this.cycleFlow = new Float64Array(h.length);
    this.costChange = new Float64Array(h.length);
    this.inSet = new Uint8Array(maxNodes);
    this.nodeExcess = new Float64Array(maxNodes);
  }

  /** Rebuilds the trees, variables and cycles of the active subgraphs (used + released links). */
  build(): void {
    const inSet = this.inSet;
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
    this.valid = true;
  }

  /** out = A·y: flows of the cycles, their cost changes h·dx, gathered back onto the cycles. */
  apply(y: Float64Array, out: Float64Array): void {
    const { cycleFlow: dx, costChange: q, h, cycStart, cycLink, cycCoef, nVars } = this;
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
   * The cycle variables of the circulation held in the bushes' `df` (per position): y_v = df at
   * the non-tree position of variable v. For a circulation on the current active subgraphs this
   * is exact; for one of a nearby active set (a link frozen, released or withdrawn since) it is
   * a close starting point for {@link solve}.
   */
  variablesOfFlows(): Float64Array {
    const { nVars, varBush, varPos, bushes } = this;
    const y = new Float64Array(nVars);
    for (let v = 0; v < nVars; v++) y[v] = bushes[varBush[v]].df[varPos[v]];
    return y;
  }

  /**
   * Solves the reduced system for the current active set: A y = −b, b the cycle gradients of
   * `dg` (per class fixed-cost changes). Returns the solution or a failure message.
   * @param tolerance relative residual ‖r‖/‖b‖ at which conjugate gradients stop (default 1e-13)
   * @param start a starting point (one entry per variable, e.g. {@link variablesOfFlows} after a
   *   small change of the active set): the stopping rule stays ‖r‖ ≤ tolerance · ‖b‖, so the
   *   solution is as precise as from zero, in fewer iterations when the start is close
   */
  solve(dg: (Float64Array | null)[], tolerance = CG_TOLERANCE, start?: Float64Array): { y: Float64Array; failure?: string } {
    this.iterations = 0;
    if (!this.valid) this.build();
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
      else if (Math.abs(b[i]) > 1e-12 * bMax) return { y: y.fill(NaN), failure: UNBOUNDED_CONSTANT_COST };
    }
    const r = new Float64Array(V);
    const z = new Float64Array(V);
    const p = new Float64Array(V);
    const Ap = new Float64Array(V);
    if (start && start.length === V && start.every(Number.isFinite)) {
      // r = −b − A·y0 (variables without curvature stay 0, as from a zero start)
      for (let i = 0; i < V; i++) y[i] = inv[i] === 0 ? 0 : start[i];
      this.apply(y, Ap);
      for (let i = 0; i < V; i++) r[i] = inv[i] === 0 ? 0 : -b[i] - Ap[i];
    } else for (let i = 0; i < V; i++) r[i] = inv[i] === 0 ? 0 : -b[i];
    let rz = 0;
    let r0 = 0;
    for (let i = 0; i < V; i++) {
      z[i] = inv[i] * r[i];
      p[i] = z[i];
      rz += r[i] * z[i];
      r0 += r[i] * r[i];
    }
    if (Math.sqrt(r0) <= tolerance * bNorm) return { y };
    const maxIt = Math.max(200, 4 * V);
    const unbounded = (): { y: Float64Array; failure: string } => ({
      y: y.fill(NaN),
      failure: UNBOUNDED_JUMP,
    });
    for (let it = 0; it < maxIt; it++) {
      this.iterations = it + 1;
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
      if (Math.sqrt(rn) <= tolerance * bNorm) return { y };
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
    return { y, failure: cgStalled(Math.sqrt(res) / bNorm) };
  }

  /**
   * The transpose of the right-hand side's map, for adjoint solves: out[a] += Σ_v y_v Σ_k
   * cycCoef[k] · classFactor[class(v)] over the entries k of cycle v on link a. With classFactor
   * the classes' toll factors (0 for a class that pays no toll), out[l] is yᵀ b(e_l), the inner
   * product of y with the right-hand side of a unit toll on link l.
   * @param classFactor per class, the factor of a unit change of the link's fixed cost
   */
  gatherTollResponse(y: Float64Array, classFactor: Float64Array, out: Float64Array): void {
    const { nVars, varBush, cycStart, cycLink, cycCoef, bushes } = this;
    for (let v = 0; v < nVars; v++) {
      const s = y[v] * classFactor[bushes[varBush[v]].cls];
      if (s === 0) continue;
      for (let k = cycStart[v]; k < cycStart[v + 1]; k++) out[cycLink[k]] += cycCoef[k] * s;
    }
  }

  /** Flow derivatives of the cycle combination `y`: every bush's `df` per position, and the total (PCE per link) in `dx`. */
  flows(y: Float64Array, dx: Float64Array): void {
    dx.fill(0);
    const S = this.nodeExcess;
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
}
