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
 * Coupled pairs (one class): two bushes whose segments diverge at different nodes (e.g. each at
 * its own root, as zone roots may not be passed through) share no PAS, yet may share most links
 * of their segments, often in opposite directions: Barcelona SO, zones 34 and 35 (0-based) move
 * flow between the same two branches into node 1008, each the other way. Each one's Newton step
 * (its D counts the shared links) then moves a small part of what the two would move together,
 * and their label differences fall only about 3.3× per iteration, the outer rate. After a
 * build, {@link PasSet.pairUp} lists the PAS pairs whose shared links carry H_pq² ≥
 * {@link COUPLING}·D_p·D_q (H_pq: Σ dc/dx over the shared links times the product of the two
 * moves' signs), and {@link PasSet.sweepPairs} takes one joint 2×2 Newton step per pair after
 * every sweep (Barcelona SO: 10 iterations instead of 20).
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
 * - pairs i: PASes pairP[i] < pairQ[i]; their shared links pairLinks[pairStart[i] ..
 *   pairStart[i + 1] − 1] with the product of the two moves' signs on each (pairSign: −1 where one
 *   PAS's move takes flow off the link and the other's puts flow on it). allStart / allPas /
 *   allSign: every PAS link by network link (the pairing's index); pasDer, pairMark, pairAcc,
 *   touched: the pairing's scratch per PAS.
 */

import type { BushEngine } from "./engine.js";
import { classesStep, shifted } from "./joint.js";
import { Bush, flowEnd } from "./store.js";

/** A PAS that moved no flow in this many iterations leaves the set. */
const RETIRE_AFTER = 2;
/** Pairs of PASes coupled at least this much (H_pq² / (D_p·D_q)) are stepped jointly. */
const COUPLING = 0.25;
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
  // pairs of PASes whose links overlap (one class): see pairUp
  private pairCount = 0;
  private pairP = new Int32Array(64);
  private pairQ = new Int32Array(64);
  private pairStart = new Int32Array(65);
  private pairLinks = new Int32Array(256);
  private pairSign = new Int8Array(256);
  /** Per PAS while pairing: Σ der over its links, a stamp and the signed shared derivative. */
  private pasDer = new Float64Array(256);
  private pairMark = new Int32Array(256);
  private pairAcc = new Float64Array(256);
  private touched = new Int32Array(256);
  /** Every PAS link by network link (CSR over all slots): the PAS and the sign of its flow change (−1 on A, +1 on B). */
  private readonly allStart: Int32Array;
  private allPas = new Int32Array(2048);
  private allSign = new Int8Array(2048);
  /** Bounds of the last {@link bounds} call (PCE): most flow off A, most flow off B. */
  private bHi = 0;
  private bLo = 0;
  /** Per participant of the PAS being shifted: its bound in the direction its class moves. */
  private share = new Float64Array(64);
  // per class scratch of one step
  private readonly g: Float64Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly delta: Float64Array;
  private readonly idx: Int32Array;
  private readonly pce: Float64Array;
  /** The network's link heads. */
  private readonly to: Int32Array;

  /**
   * @param to the network's link heads (a bush's groups, {@link flowEnd})
   */
  constructor(K: number, linkCount: number, pce: Float64Array, to: Int32Array) {
    this.K = K;
    this.to = to;
    this.m = linkCount;
    this.slotStart = new Int32Array(linkCount + 1);
    this.allStart = new Int32Array(linkCount + 1);
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
  build(bushes: Bush[], der: Float64Array | null = null): void {
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
    const to = this.to;
    let parts = 0;
    let posLen = 0;
    for (let bi = 0; bi < bushes.length; bi++) {
      const b = bushes[bi];
      const links = b.links;
      const flows = b.flows;
      const dust = b.dust;
      // a participant has flow on a whole segment: its links lie before the bush's flow end (./store.ts)
      const len = flowEnd(b, to, dust);
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
    this.pairCount = 0;
    if (der !== null && this.K === 1) this.pairUp(der);
  }

  /**
   * Finds the pairs of PASes (with participants) whose shared links carry at least
   * {@link COUPLING} of the geometric mean of their derivatives: two bushes whose segments
   * overlap (in particular in opposite directions, a trade between origins) move each other's
   * costs, and one step of each converges slowly; {@link sweepPairs} steps such a pair jointly.
   */
  private pairUp(der: Float64Array): void {
    const P = this.built;
    const { linkPool, start, nA, nB, partStart, allStart } = this;
    if (this.pasDer.length < P) {
      const n = Math.max(P, 2 * this.pasDer.length);
      this.pasDer = new Float64Array(n);
      this.pairMark = new Int32Array(n);
      this.pairAcc = new Float64Array(n);
      this.touched = new Int32Array(n);
    }
    if (this.allPas.length < this.poolLen) {
      this.allPas = new Int32Array(Math.max(this.poolLen, 2 * this.allPas.length));
      this.allSign = new Int8Array(this.allPas.length);
    }
    const { pasDer, pairMark, pairAcc, touched, allPas, allSign } = this;
    allStart.fill(0);
    for (let p = 0; p < P; p++) {
      if (partStart[p + 1] === partStart[p]) continue;
      const at = start[p];
      const n = nA[p] + nB[p];
      let d = 0;
      for (let r = 0; r < n; r++) {
        allStart[linkPool[at + r] + 1]++;
        d += der[linkPool[at + r]];
      }
      pasDer[p] = d;
      pairMark[p] = 0;
    }
    for (let a = 0; a < this.m; a++) allStart[a + 1] += allStart[a];
    for (let p = 0; p < P; p++) {
      if (partStart[p + 1] === partStart[p]) continue;
      const at = start[p];
      const na = nA[p];
      const n = na + nB[p];
      for (let r = 0; r < n; r++) {
        const w = allStart[linkPool[at + r]]++;
        allPas[w] = p;
        allSign[w] = r < na ? -1 : 1;
      }
    }
    for (let a = this.m; a > 0; a--) allStart[a] = allStart[a - 1];
    allStart[0] = 0;
    let pairs = 0;
    let shared = 0;
    for (let p = 0; p < P; p++) {
      if (partStart[p + 1] === partStart[p]) continue;
      const at = start[p];
      const na = nA[p];
      const n = na + nB[p];
      let nt = 0;
      for (let r = 0; r < n; r++) {
        const a = linkPool[at + r];
        const sp = r < na ? -1 : 1;
        for (let w = allStart[a]; w < allStart[a + 1]; w++) {
          const q = allPas[w];
          if (q <= p) continue;
          if (pairMark[q] !== p + 1) {
            pairMark[q] = p + 1;
            pairAcc[q] = 0;
            touched[nt++] = q;
          }
          pairAcc[q] += sp * allSign[w] * der[a];
        }
      }
      for (let t = 0; t < nt; t++) {
        const q = touched[t];
        const h = pairAcc[q];
        if (!(h * h >= COUPLING * pasDer[p] * pasDer[q])) continue;
        // a pair: its shared links and the products of the signs
        if (pairs + 1 >= this.pairP.length) {
          const c = 2 * this.pairP.length;
          this.pairP = grown(this.pairP, c);
          this.pairQ = grown(this.pairQ, c);
          this.pairStart = grown(this.pairStart, c + 1);
        }
        this.pairP[pairs] = p;
        this.pairQ[pairs] = q;
        this.pairStart[pairs] = shared;
        for (let r = 0; r < n; r++) {
          const a = linkPool[at + r];
          const sp = r < na ? -1 : 1;
          for (let w = allStart[a]; w < allStart[a + 1]; w++) {
            if (allPas[w] !== q) continue;
            if (shared === this.pairLinks.length) {
              this.pairLinks = grown(this.pairLinks, 2 * shared);
              const sg = new Int8Array(2 * shared);
              sg.set(this.pairSign);
              this.pairSign = sg;
            }
            this.pairLinks[shared] = a;
            this.pairSign[shared] = sp * allSign[w];
            shared++;
          }
        }
        pairs++;
      }
    }
    this.pairStart[pairs] = shared;
    this.pairCount = pairs;
  }

  /**
   * The flow one class (K = 1) could move on PAS p, summed over its participants, into
   * {@link bHi} (off A) and {@link bLo} (off B), PCE.
   */
  private bounds(p: number, bushes: Bush[]): void {
    const { nA, nB, partStart, partBush, partOff, posPool } = this;
    const na = nA[p];
    const n = na + nB[p];
    let hi = 0;
    let lo = 0;
    for (let i = partStart[p]; i < partStart[p + 1]; i++) {
      const b = bushes[partBush[i]];
      const fa = leastFlow(b.flows, posPool, partOff[i], 0, na);
      const fb = leastFlow(b.flows, posPool, partOff[i], na, n);
      if (fa > b.dust) hi += fa;
      if (fb > b.dust) lo += fb;
    }
    const pce = this.pce[0];
    this.bHi = pce * hi;
    this.bLo = pce * lo;
  }

  /** Moves y (PCE, A → B; negative: B → A) of the one class on PAS p, shared among its participants in proportion to what each can give. */
  private move(p: number, y: number, bushes: Bush[], engine: BushEngine): void {
    if (y === 0) return;
    const { linkPool, start, nA, nB, partStart, partBush, partOff, posPool } = this;
    const at = start[p];
    const na = nA[p];
    const n = na + nB[p];
    const total = (y > 0 ? this.bHi : this.bLo) / this.pce[0];
    const v = Math.abs(y) / this.pce[0];
    if (!(total > 0)) return;
    for (let i = partStart[p]; i < partStart[p + 1]; i++) {
      const b = bushes[partBush[i]];
      const f = y > 0 ? leastFlow(b.flows, posPool, partOff[i], 0, na) : leastFlow(b.flows, posPool, partOff[i], na, n);
      if (!(f > b.dust)) continue;
      const mine = v >= total ? f : f * (v / total);
      moveOnSegments(b.flows, posPool, partOff[i], na, n, y > 0 ? mine : -mine);
    }
    for (let r = 0; r < na; r++) engine.addFlow(linkPool[at + r], -y);
    for (let r = na; r < n; r++) engine.addFlow(linkPool[at + r], y);
  }

  /**
   * One joint Newton step on each pair of {@link pairUp} (one class): the two PASes' moves y_p,
   * y_q (PCE) minimise −g·y + ½ yᵀHy, H = [[D_p, H_pq], [H_pq, D_q]] (H_pq: Σ over the shared
   * links of the product of the moves' signs times dc/dx), within the bounds (a variable at a
   * violated bound, the other re-solved).
   */
  sweepPairs(bushes: Bush[], engine: BushEngine, minGap: number): void {
    const { linkPool, start, nA, nB, pairP, pairQ, pairStart, pairLinks, pairSign } = this;
    const c = engine.cc[0];
    const der = engine.der;
    for (let i = 0; i < this.pairCount; i++) {
      const p = pairP[i];
      const q = pairQ[i];
      let gp = 0;
      let dp = 0;
      let at = start[p];
      let na = nA[p];
      let n = na + nB[p];
      for (let r = 0; r < n; r++) {
        const a = linkPool[at + r];
        gp += r < na ? c[a] : -c[a];
        dp += der[a];
      }
      let gq = 0;
      let dq = 0;
      at = start[q];
      na = nA[q];
      n = na + nB[q];
      for (let r = 0; r < n; r++) {
        const a = linkPool[at + r];
        gq += r < na ? c[a] : -c[a];
        dq += der[a];
      }
      if (!(Math.abs(gp) > minGap || Math.abs(gq) > minGap)) continue;
      let h = 0;
      for (let w = pairStart[i]; w < pairStart[i + 1]; w++) h += pairSign[w] * der[pairLinks[w]];
      const det = dp * dq - h * h;
      if (!(det > 1e-12 * dp * dq)) continue;
      this.bounds(p, bushes);
      const hiP = this.bHi;
      const loP = this.bLo;
      this.bounds(q, bushes);
      const hiQ = this.bHi;
      const loQ = this.bLo;
      let yp = (dq * gp - h * gq) / det;
      let yq = (dp * gq - h * gp) / det;
      if (yp > hiP || yp < -loP || yq > hiQ || yq < -loQ) {
        // p at its bound, q re-solved; or q at its bound, p re-solved: the better of the two
        const ap = yp > hiP ? hiP : yp < -loP ? -loP : yp;
        const bq = clamp((gq - h * ap) / dq, -loQ, hiQ);
        const aq = yq > hiQ ? hiQ : yq < -loQ ? -loQ : yq;
        const bp = clamp((gp - h * aq) / dp, -loP, hiP);
        const m1 = -gp * ap - gq * bq + 0.5 * (dp * ap * ap + 2 * h * ap * bq + dq * bq * bq);
        const m2 = -gp * bp - gq * aq + 0.5 * (dp * bp * bp + 2 * h * bp * aq + dq * aq * aq);
        if (m1 <= m2) {
          yp = ap;
          yq = bq;
        } else {
          yp = bp;
          yq = aq;
        }
      }
      if (!(Math.abs(yp) > 0 || Math.abs(yq) > 0)) continue;
      this.lastWork[p] = this.iteration;
      this.lastWork[q] = this.iteration;
      // bounds of p again: q's move may share p's links
      this.bounds(p, bushes);
      this.move(p, clamp(yp, -this.bLo, this.bHi), bushes, engine);
      this.bounds(q, bushes);
      this.move(q, clamp(yq, -this.bLo, this.bHi), bushes, engine);
    }
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
        const fa = leastFlow(b.flows, posPool, partOff[i], 0, na);
        const fb = leastFlow(b.flows, posPool, partOff[i], na, n);
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
        const f = dk > 0 ? leastFlow(b.flows, posPool, partOff[i], 0, na) : leastFlow(b.flows, posPool, partOff[i], na, n);
        if (!(f > b.dust)) continue;
        const total = dk > 0 ? hi[k] : lo[k];
        const mine = Math.abs(dk) >= total ? f : f * (Math.abs(dk) / total);
        share[i - p0] = dk > 0 ? mine : -mine;
      }
      for (let i = p0; i < p1; i++) {
        const v = share[i - p0];
        if (v === 0) continue;
        moveOnSegments(bushes[partBush[i]].flows, posPool, partOff[i], na, n, v);
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
  return classesStep(cnt, idx, g, lo, hi, delta, pce, d);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** A copy of `a` with room for `n` elements. */
function grown(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const c = new Int32Array(n);
  c.set(a.subarray(0, Math.min(a.length, n)));
  return c;
}

/** The least flow of a participant on positions posPool[off + r0 .. off + r1 − 1] (what one of its segments can give). */
function leastFlow(flows: Float64Array, posPool: Int32Array, off: number, r0: number, r1: number): number {
  let f = Infinity;
  for (let r = r0; r < r1; r++) {
    const x = flows[posPool[off + r]];
    if (x < f) f = x;
  }
  return f;
}

/** Moves v of a participant's flow from its segment A (the first na positions at off) to B (the next n − na); negative: B → A. */
function moveOnSegments(flows: Float64Array, posPool: Int32Array, off: number, na: number, n: number, v: number): void {
  for (let r = 0; r < na; r++) {
    const q = posPool[off + r];
    flows[q] = shifted(flows[q], -v);
  }
  for (let r = na; r < n; r++) {
    const q = posPool[off + r];
    flows[q] = shifted(flows[q], v);
  }
}
