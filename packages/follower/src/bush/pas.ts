/**
 * Cross-origin shifts on paired alternative segments (PAS), after Bar-Gera's TAPAS (2010).
 *
 * Why: Algorithm B shifts flow within one bush at a time. Where the bushes of several origins
 * (or classes) share a pair of segments, each bush's Newton step assumes the others stand still:
 * under the system optimum's marginal costs, or with classes whose fixed costs differ, two bushes
 * then undo part of each other's shift and converge by a few per cent per pass (Barcelona SO: the
 * bushes of zones 32 and 33; Chicago-Sketch with two classes: a car bush of zone 167 against a van
 * bush of zone 168). A PAS is two node-disjoint segments A and B from a diverge node to a merge
 * node. Its shift moves the flow of EVERY bush (origin × class) that holds both segments, together:
 * one Newton step on the common total flow, which the per-class quadratic model solves exactly.
 *
 * The step: class k prefers B by g_k = C_k(A) − C_k(B) (its generalised or SO marginal costs).
 * Bush b of class k may move δ_b from A to B with −lo_b ≤ δ_b ≤ hi_b, where hi_b is its least flow
 * on A and lo_b its least flow on B (a shift along both segments keeps every flow conserved and
 * every link of the bush in place, so the bush stays acyclic). Only the classes' totals
 * δ_k = Σ δ_b enter the model Σ_k −pce_k·g_k·δ_k + D·s²/2 (s = Σ pce_k·δ_k, D = Σ dc/dx over both
 * segments): its minimum puts class k at HI_k = Σ hi_b where g_k > D·s, at −LO_k where g_k < D·s,
 * and at most one class in between (the walk of `./joint.ts`). A class's δ_k is shared among its
 * bushes in proportion to what each can give (hi_b or lo_b), so each ends within its bounds.
 *
 * Life of a PAS: a bush's flow shift (`./labels.ts`) offers the segments of each shift whose label
 * difference is at least {@link PasSet.offerAbove} (set by `../bush.ts`: a fraction of the bush's
 * own largest difference; only in the first pass of an iteration); a new pair joins the set (a hash
 * on its links). After the first pass, when every bush has been updated, {@link PasSet.build} finds,
 * for every PAS, the bushes holding all its links with flow on one segment (their link positions,
 * valid until the next update) and drops the PASes that no bush can shift or that did no work for
 * {@link RETIRE_AFTER} iterations. {@link PasSet.sweep} then shifts every PAS once (after each
 * flow-shift pass).
 *
 * Arrays (allocated once, grown by doubling when the set outgrows them; nothing per shift):
 * - PAS p: links linkPool[start[p] .. start[p] + nA[p] − 1] (A, from the merge node back), then
 *   nB[p] links of B; A is the segment whose link into the merge node has the smaller id.
 *   lastWork[p]: the last iteration in which it moved flow. table: open-addressing hash of the
 *   PASes by their links (index + 1, 0 empty).
 * - participants: partStart[p] .. partStart[p + 1] − 1 index partBush (the bush's index in the
 *   engine's list) and partOff (offset in posPool of the bush's positions of the PAS's links, in
 *   the PAS's link order).
 * - slotStart[a] .. slotStart[a + 1] − 1: the PASes (slotPas) whose A enters the merge node by
 *   link a; linkPos / linkStamp: the position of each link in the bush being matched (valid where
 *   the stamp is the current tick), so that a bush is matched in one pass over its links.
 */

import type { BushEngine } from "./engine.js";
import { Bush } from "./store.js";

/** A PAS that moved no flow in this many iterations leaves the set. */
const RETIRE_AFTER = 2;
/** A class's preference |g_k| at most this fraction of the segment cost is no reason to shift. */
const COST_TOLERANCE = 1e-15;

/** The set of PASes of one engine and their shifts (see the module comment). */
export class PasSet {
  readonly K: number;
  readonly m: number;
  /** Number of PASes. */
  count = 0;
  /** The label difference from which a bush's shift offers its segments (Infinity: none). */
  offerAbove = Infinity;
  /** The iteration (of `../bush.ts`) the offers and shifts belong to. */
  iteration = 0;
  /** Number of PASes at the last {@link build} (the first ones: those offered later have no participants yet). */
  built = 0;
  /** Shifts that moved flow in the last {@link sweep}. */
  lastMoves = 0;

  private start = new Int32Array(256);
  private nA = new Int32Array(256);
  private nB = new Int32Array(256);
  private lastWork = new Int32Array(256);
  private linkPool = new Int32Array(2048);
  private poolLen = 0;
  private table = new Int32Array(1024);

  private readonly slotStart: Int32Array;
  private slotPas = new Int32Array(256);
  /** Per network link: its position in the bush being matched, valid where linkStamp = tick. */
  private readonly linkPos: Int32Array;
  private readonly linkStamp: Int32Array;
  private tick = 0;
  private partStart = new Int32Array(257);
  private partBush = new Int32Array(1024);
  private partOff = new Int32Array(1024);
  private posPool = new Int32Array(8192);
  // unsorted participants while building
  private tmpPas = new Int32Array(1024);
  private tmpBush = new Int32Array(1024);
  private tmpOff = new Int32Array(1024);
  /** Per participant of the PAS being shifted: its bound in the direction its class moves. */
  private share = new Float64Array(64);
  // per class scratch of one step
  private readonly g: Float64Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly delta: Float64Array;
  private readonly idx: Int32Array;
  private readonly pce: Float64Array;

  constructor(K: number, linkCount: number, pce: Float64Array) {
    this.K = K;
    this.m = linkCount;
    this.slotStart = new Int32Array(linkCount + 1);
    this.linkPos = new Int32Array(linkCount);
    this.linkStamp = new Int32Array(linkCount);
    this.g = new Float64Array(K);
    this.lo = new Float64Array(K);
    this.hi = new Float64Array(K);
    this.delta = new Float64Array(K);
    this.idx = new Int32Array(K);
    this.pce = pce;
  }

  /** Forgets every PAS (a new bush list). */
  clear(): void {
    this.count = 0;
    this.built = 0;
    this.poolLen = 0;
    this.table.fill(0);
    this.partStart[0] = 0;
  }

  /**
   * Offers the segments of a shift in bush `b`: positions `segMax[0..nMax−1]` and
   * `segMin[0..nMin−1]` of its links, each from the merge node back to the diverge node. Adds the
   * pair to the set unless it is there already.
   */
  offer(links: Int32Array, segMax: Int32Array, nMax: number, segMin: Int32Array, nMin: number): void {
    // canonical order: A is the segment whose link into the merge node has the smaller id
    const flip = links[segMax[0]] > links[segMin[0]];
    const nA = flip ? nMin : nMax;
    const nB = flip ? nMax : nMin;
    const sA = flip ? segMin : segMax;
    const sB = flip ? segMax : segMin;
    let h = (nA * 0x9e3779b1) | 0;
    for (let q = 0; q < nA; q++) h = Math.imul(h ^ links[sA[q]], 0x85ebca6b);
    h = Math.imul(h ^ 0x27d4eb2f, 0xc2b2ae35);
    for (let q = 0; q < nB; q++) h = Math.imul(h ^ links[sB[q]], 0x85ebca6b);
    h ^= h >>> 15;
    const table = this.table;
    const mask = table.length - 1;
    let slot = h & mask;
    for (;;) {
      const e = table[slot];
      if (e === 0) break;
      const p = e - 1;
      if (this.nA[p] === nA && this.nB[p] === nB && this.same(p, links, sA, nA, sB, nB)) {
        return;
      }
      slot = (slot + 1) & mask;
    }
    const p = this.count;
    this.reserve(p + 1, this.poolLen + nA + nB);
    const at = this.poolLen;
    const pool = this.linkPool;
    for (let q = 0; q < nA; q++) pool[at + q] = links[sA[q]];
    for (let q = 0; q < nB; q++) pool[at + nA + q] = links[sB[q]];
    this.start[p] = at;
    this.nA[p] = nA;
    this.nB[p] = nB;
    this.lastWork[p] = this.iteration;
    this.poolLen = at + nA + nB;
    this.count = p + 1;
    table[slot] = p + 1;
    if (2 * this.count > table.length) this.rehash(2 * table.length);
  }

  private same(p: number, links: Int32Array, sA: Int32Array, nA: number, sB: Int32Array, nB: number): boolean {
    const pool = this.linkPool;
    const at = this.start[p];
    for (let q = 0; q < nA; q++) if (pool[at + q] !== links[sA[q]]) return false;
    for (let q = 0; q < nB; q++) if (pool[at + nA + q] !== links[sB[q]]) return false;
    return true;
  }

  private hashOf(p: number): number {
    const pool = this.linkPool;
    const at = this.start[p];
    const nA = this.nA[p];
    const nB = this.nB[p];
    let h = (nA * 0x9e3779b1) | 0;
    for (let q = 0; q < nA; q++) h = Math.imul(h ^ pool[at + q], 0x85ebca6b);
    h = Math.imul(h ^ 0x27d4eb2f, 0xc2b2ae35);
    for (let q = 0; q < nB; q++) h = Math.imul(h ^ pool[at + nA + q], 0x85ebca6b);
    h ^= h >>> 15;
    return h;
  }

  private rehash(size: number): void {
    if (this.table.length !== size) this.table = new Int32Array(size);
    else this.table.fill(0);
    const table = this.table;
    const mask = size - 1;
    for (let p = 0; p < this.count; p++) {
      let slot = this.hashOf(p) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = p + 1;
    }
  }

  /** Grows the per-PAS arrays to `pases` and the link pool to `links` (by doubling). */
  private reserve(pases: number, links: number): void {
    if (pases > this.start.length) {
      const n = Math.max(pases, 2 * this.start.length);
      this.start = grown(this.start, n);
      this.nA = grown(this.nA, n);
      this.nB = grown(this.nB, n);
      this.lastWork = grown(this.lastWork, n);
      this.slotPas = new Int32Array(n);
      this.partStart = new Int32Array(n + 1);
    }
    if (links > this.linkPool.length) {
      const n = Math.max(links, 2 * this.linkPool.length);
      this.linkPool = grown(this.linkPool, n);
    }
  }

  /**
   * Drops the retired PASes, then finds every PAS's participants among `bushes` (whose structure
   * must not change until the next build): the bushes holding all its links with flow above dust on
   * the whole of one segment.
   */
  build(bushes: Bush[]): void {
    this.retire();
    const P = (this.built = this.count);
    if (P === 0) return;
    const { slotStart, linkPool, start, nA, nB, linkPos, linkStamp } = this;
    // PASes by the link of A into the merge node
    slotStart.fill(0);
    for (let p = 0; p < P; p++) slotStart[linkPool[start[p]] + 1]++;
    for (let a = 0; a < this.m; a++) slotStart[a + 1] += slotStart[a];
    for (let p = 0; p < P; p++) this.slotPas[slotStart[linkPool[start[p]]]++] = p;
    for (let a = this.m; a > 0; a--) slotStart[a] = slotStart[a - 1];
    slotStart[0] = 0;
    const slotPas = this.slotPas;
    let parts = 0;
    let posLen = 0;
    for (let bi = 0; bi < bushes.length; bi++) {
      const b = bushes[bi];
      const links = b.links;
      const flows = b.flows;
      const dust = b.dust;
      const len = b.len;
      const tick = ++this.tick;
      for (let q = 0; q < len; q++) {
        linkPos[links[q]] = q;
        linkStamp[links[q]] = tick;
      }
      for (let q = 0; q < len; q++) {
        const a = links[q];
        const end = slotStart[a + 1];
        for (let s = slotStart[a]; s < end; s++) {
          const p = slotPas[s];
          const at = start[p];
          const na = nA[p];
          const n = na + nB[p];
          // every link of p in b, and one segment with flow throughout
          let fa = Infinity;
          let r = 0;
          for (; r < n; r++) {
            const l = linkPool[at + r];
            if (linkStamp[l] !== tick) break;
            if (r < na) {
              const f = flows[linkPos[l]];
              if (f < fa) fa = f;
            }
          }
          if (r < n) continue;
          let fb = Infinity;
          for (r = na; r < n; r++) fb = Math.min(fb, flows[linkPos[linkPool[at + r]]]);
          if (!(fa > dust) && !(fb > dust)) continue;
          if (parts === this.tmpPas.length) {
            const c = 2 * parts;
            this.tmpPas = grown(this.tmpPas, c);
            this.tmpBush = grown(this.tmpBush, c);
            this.tmpOff = grown(this.tmpOff, c);
          }
          if (posLen + n > this.posPool.length) this.posPool = grown(this.posPool, Math.max(posLen + n, 2 * this.posPool.length));
          this.tmpPas[parts] = p;
          this.tmpBush[parts] = bi;
          this.tmpOff[parts] = posLen;
          parts++;
          for (r = 0; r < n; r++) this.posPool[posLen++] = linkPos[linkPool[at + r]];
        }
      }
    }
    // participants grouped by PAS (a counting sort; bushes stay in list order)
    if (this.partBush.length < parts) {
      this.partBush = new Int32Array(Math.max(parts, 2 * this.partBush.length));
      this.partOff = new Int32Array(this.partBush.length);
    }
    const ps = this.partStart;
    ps.fill(0, 0, P + 1);
    for (let i = 0; i < parts; i++) ps[this.tmpPas[i] + 1]++;
    let widest = 0;
    for (let p = 0; p < P; p++) {
      if (ps[p + 1] > widest) widest = ps[p + 1];
      ps[p + 1] += ps[p];
    }
    for (let i = 0; i < parts; i++) {
      const s = ps[this.tmpPas[i]]++;
      this.partBush[s] = this.tmpBush[i];
      this.partOff[s] = this.tmpOff[i];
    }
    for (let p = P; p > 0; p--) ps[p] = ps[p - 1];
    ps[0] = 0;
    if (this.share.length < widest) this.share = new Float64Array(Math.max(widest, 2 * this.share.length));
  }

  /** Drops the PASes that moved no flow for {@link RETIRE_AFTER} iterations (the set stays in creation order). */
  private retire(): void {
    const P = this.count;
    const { start, nA, nB, lastWork, linkPool } = this;
    let w = 0;
    let pool = 0;
    for (let p = 0; p < P; p++) {
      if (this.iteration - lastWork[p] > RETIRE_AFTER) continue;
      const at = start[p];
      const n = nA[p] + nB[p];
      for (let q = 0; q < n; q++) linkPool[pool + q] = linkPool[at + q];
      start[w] = pool;
      nA[w] = nA[p];
      nB[w] = nB[p];
      lastWork[w] = lastWork[p];
      pool += n;
      w++;
    }
    if (w === P) return;
    this.count = w;
    this.poolLen = pool;
    this.rehash(this.table.length);
  }

  /**
   * One shift of every PAS, in creation order, over the participants found by the last
   * {@link build}: moves the bushes' flows and the engine's link flows and costs. A PAS on which
   * no class that can move prefers a segment by more than `minGap` (cost units) is left alone.
   */
  sweep(bushes: Bush[], engine: BushEngine, minGap: number): void {
    const P = this.built;
    const { K, g, lo, hi, delta, idx, pce, linkPool, start, nA, nB, partStart, partBush, partOff, posPool, share } = this;
    const { cc, der } = engine;
    let moves = 0;
    for (let p = 0; p < P; p++) {
      const p0 = partStart[p];
      const p1 = partStart[p + 1];
      if (p1 === p0) continue;
      const at = start[p];
      const na = nA[p];
      const n = na + nB[p];
      // every class's preference first (shared link arrays): a PAS no class cares about is left alone
      let care = false;
      for (let k = 0; k < K; k++) {
        const c = cc[k];
        let ca = 0;
        for (let r = 0; r < na; r++) ca += c[linkPool[at + r]];
        let cb = 0;
        for (let r = na; r < n; r++) cb += c[linkPool[at + r]];
        const gk = ca - cb;
        g[k] = Math.abs(gk) <= COST_TOLERANCE * (ca > cb ? ca : cb) ? 0 : gk;
        if (gk > minGap || gk < -minGap) care = true;
        hi[k] = 0;
        lo[k] = 0;
        delta[k] = 0;
      }
      if (!care) continue;
      let d = 0;
      for (let q = 0; q < n; q++) d += der[linkPool[at + q]];
      // every class's bounds: sums over its bushes
      for (let i = p0; i < p1; i++) {
        const b = bushes[partBush[i]];
        const k = b.cls;
        const flows = b.flows;
        const off = partOff[i];
        let fa = Infinity;
        for (let r = 0; r < na; r++) {
          const f = flows[posPool[off + r]];
          if (f < fa) fa = f;
        }
        let fb = Infinity;
        for (let r = na; r < n; r++) {
          const f = flows[posPool[off + r]];
          if (f < fb) fb = f;
        }
        if (fa > b.dust) hi[k] += fa;
        if (fb > b.dust) lo[k] += fb;
      }
      // the classes that can move towards what they prefer
      let cnt = 0;
      let work = false;
      for (let k = 0; k < K; k++) {
        if ((g[k] > minGap && hi[k] > 0) || (g[k] < -minGap && lo[k] > 0)) work = true;
        if (hi[k] > 0 || lo[k] > 0) idx[cnt++] = k;
      }
      if (!work) continue;
      this.lastWork[p] = this.iteration;
      moves++;
      const s = classStep(cnt, idx, g, lo, hi, delta, pce, d);
      // share each class's move among its bushes, in proportion to what each can give
      for (let i = p0; i < p1; i++) {
        const b = bushes[partBush[i]];
        const k = b.cls;
        const dk = delta[k];
        share[i - p0] = 0;
        if (dk === 0) continue;
        const flows = b.flows;
        const off = partOff[i];
        let f = Infinity;
        const r0 = dk > 0 ? 0 : na;
        const r1 = dk > 0 ? na : n;
        for (let r = r0; r < r1; r++) {
          const v = flows[posPool[off + r]];
          if (v < f) f = v;
        }
        if (!(f > b.dust)) continue;
        const total = dk > 0 ? hi[k] : lo[k];
        const mine = Math.abs(dk) >= total ? f : f * (Math.abs(dk) / total);
        share[i - p0] = dk > 0 ? mine : -mine;
      }
      for (let i = p0; i < p1; i++) {
        const v = share[i - p0];
        if (v === 0) continue;
        const flows = bushes[partBush[i]].flows;
        const off = partOff[i];
        for (let r = 0; r < na; r++) {
          const at2 = posPool[off + r];
          flows[at2] = shifted(flows[at2], -v);
        }
        for (let r = na; r < n; r++) {
          const at2 = posPool[off + r];
          flows[at2] = shifted(flows[at2], v);
        }
      }
      if (s !== 0) {
        for (let r = 0; r < na; r++) engine.addFlow(linkPool[at + r], -s);
        for (let r = na; r < n; r++) engine.addFlow(linkPool[at + r], s);
      }
    }
    this.lastMoves = moves;
  }
}

/**
 * The classes' moves δ_k (A → B, written to `delta`) minimising Σ −pce_k·g_k·δ_k + D·s²/2 with
 * −lo_k ≤ δ_k ≤ hi_k, over the `cnt` classes idx[0..cnt−1] (reordered here by g, descending).
 * Returns s = Σ pce_k·δ_k.
 */
function classStep(
  cnt: number,
  idx: Int32Array,
  g: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  delta: Float64Array,
  pce: Float64Array,
  d: number,
): number {
  if (cnt === 1) {
    const k = idx[0];
    let v = d > 0 ? g[k] / (pce[k] * d) : g[k] > 0 ? hi[k] : g[k] < 0 ? -lo[k] : 0;
    if (v > hi[k]) v = hi[k];
    if (v < -lo[k]) v = -lo[k];
    delta[k] = v;
    return pce[k] * v;
  }
  for (let i = 1; i < cnt; i++) {
    const v = idx[i];
    let j = i - 1;
    while (j >= 0 && g[idx[j]] < g[v]) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = v;
  }
  let s = 0;
  if (!(d > 0)) {
    for (let i = 0; i < cnt; i++) {
      const l = idx[i];
      delta[l] = g[l] > 0 ? hi[l] : g[l] < 0 ? -lo[l] : 0;
      s += pce[l] * delta[l];
    }
    return s;
  }
  // S: classes before i at hi, from i on at −lo
  let S = 0;
  for (let i = 0; i < cnt; i++) S -= pce[idx[i]] * lo[idx[i]];
  let i = 0;
  for (; i < cnt; i++) {
    const l = idx[i];
    if (d * S >= g[l]) break; // classes i.. prefer A at this s: stay at −lo
    const T = S + pce[l] * (hi[l] + lo[l]);
    if (d * T >= g[l]) {
      // class l is indifferent at s = g_l / D, in between its bounds
      let v = -lo[l] + (g[l] / d - S) / pce[l];
      if (v > hi[l]) v = hi[l];
      if (v < -lo[l]) v = -lo[l];
      delta[l] = v;
      i++;
      break;
    }
    delta[l] = hi[l];
    S = T;
  }
  for (let r = i; r < cnt; r++) delta[idx[r]] = -lo[idx[r]];
  for (let r = 0; r < cnt; r++) s += pce[idx[r]] * delta[idx[r]];
  return s;
}

/** A copy of `a` with room for `n` elements. */
function grown(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const c = new Int32Array(n);
  c.set(a.subarray(0, Math.min(a.length, n)));
  return c;
}

/** A bush flow after a change: what cancellation leaves of a flow meant to be emptied is rounding dust. */
function shifted(before: number, change: number): number {
  const after = before + change;
  if (change >= 0) return after;
  return after > 1e-12 * before ? after : 0;
}
