/**
 * The joint flow shift of all user classes of one origin (issue 17: classes cost what they weigh).
 *
 * Why: the classes share link travel times but not their fixed costs (tolls, distance). Between
 * two segments M and m from a node a to a node j, class k prefers m by g_k = C_k(M) − C_k(m),
 * and g_k − g_l is the difference of the classes' fixed costs, which no flow changes. At
 * equilibrium at most one class uses both segments. A Newton shift of one class alone (the
 * others held fixed) moves class k from M to m until its costs meet; the next shift of class l
 * then moves the same amount of class l back, and the total flows return to where they were:
 * the two classes only trade places, by one Newton step per pass (on Chicago-Sketch with two
 * classes, 0.64 vehicles per pass where 165 had to trade: hundreds of passes).
 *
 * The joint step: with the segments of the bush being shifted (class k's longest used and
 * shortest paths into j), every class l of the same origin whose bush holds all their links
 * moves δ_l from M to m (δ_l < 0: from m to M), lo_l ≤ δ_l ≤ hi_l (hi_l: its least flow on M,
 * lo_l: minus its least flow on m). With s = Σ pce_l·δ_l the change of total flow and
 * D = Σ dt/dx over both segments, the quadratic model of the potential is
 * Σ_l −pce_l·g_l·δ_l + D·s²/2, whose minimum (KKT) puts class l at hi_l where g_l > D·s, at
 * lo_l where g_l < D·s and in between (g_l = D·s) for at most one class: found exactly by
 * sorting the classes by g (descending) and walking the breakpoints. With one class it is the
 * Newton step δ = g/(pce·D) capped at the least flow on M, as before; a pure trade (s = 0) goes
 * to the bound at once.
 *
 * The classes' bushes are found by origin (an index over the engine's bushes, rebuilt when the
 * bush list is replaced); a partner bush's link positions are kept in a per-class map (position
 * and stamp per network link), rebuilt when the partner changes or its structure or trips do (a
 * bush update or a demand step: {@link JointShift.invalidate}). The map is made at the first step
 * that needs it, not when the bush's visit starts (Chicago-Sketch with two classes: a fifth of
 * the visits make no step), and holds the partner's links only up to the end of its last group
 * with flow ({@link flowEnd}): a partner with flow on either segment holds both segments' links
 * before that end, and one with flow on neither does not take part, so the steps are the same.
 * Everything is allocated once per engine.
 */

import type { BushEngine } from "./engine.js";
import { Bush, flowEnd } from "./store.js";

export class JointShift {
  readonly K: number;
  /** The bush list the origin index was built from. */
  private indexed: Bush[] | null = null;
  private indexedLength = -1;
  /** byOrigin[zone·K + class]: that class's bush of that origin, or null. */
  private byOrigin: (Bush | null)[] = [];
  /** Per class: position of each network link in the mapped bush, valid where stamp = mark. */
  private readonly pos: Int32Array[];
  private readonly stamp: Int32Array[];
  private readonly mark: Int32Array;
  private readonly mapped: (Bush | null)[];
  /** The partners of the bush being shifted: per class, its bush of the same origin (null: none, or the bush itself). */
  readonly partners: (Bush | null)[];
  /** Number of partners of the bush being shifted. */
  count = 0;
  // per class scratch of one step (g: preference for the min segment; hi, lo ≥ 0: flow each can move there and back)
  private readonly g: Float64Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly delta: Float64Array;
  private readonly idx: Int32Array;

  constructor(K: number, linkCount: number) {
    this.K = K;
    this.pos = [];
    this.stamp = [];
    for (let k = 0; k < K; k++) {
      this.pos.push(new Int32Array(linkCount));
      this.stamp.push(new Int32Array(linkCount));
    }
    this.mark = new Int32Array(K);
    this.mapped = new Array<Bush | null>(K).fill(null);
    this.partners = new Array<Bush | null>(K).fill(null);
    this.g = new Float64Array(K);
    this.lo = new Float64Array(K);
    this.hi = new Float64Array(K);
    this.delta = new Float64Array(K);
    this.idx = new Int32Array(K);
  }

  /** Forgets the link positions of `b` (its structure or its trips changed). */
  invalidate(b: Bush): void {
    if (this.mapped[b.cls] === b) this.mapped[b.cls] = null;
  }

  /**
   * Finds the partners of `b` (the other classes' bushes of its origin) among `bushes` (their
   * link positions are mapped by {@link step} when first needed). Returns their number.
   */
  prepare(b: Bush, bushes: Bush[], zoneCount: number): number {
    const K = this.K;
    if (this.indexed !== bushes || this.indexedLength !== bushes.length) {
      this.byOrigin = new Array<Bush | null>(zoneCount * K).fill(null);
      for (const c of bushes) this.byOrigin[c.zone * K + c.cls] = c;
      this.indexed = bushes;
      this.indexedLength = bushes.length;
      this.mapped.fill(null);
    }
    let n = 0;
    for (let l = 0; l < K; l++) {
      const p = l === b.cls ? null : this.byOrigin[b.zone * K + l];
      this.partners[l] = p;
      if (p === null) continue;
      n++;
    }
    this.count = n;
    return n;
  }

  /** Maps the link positions of class l's partner `p` (up to its {@link flowEnd}) unless they are mapped. */
  private map(l: number, p: Bush, to: Int32Array): void {
    if (this.mapped[l] === p) return;
    const st = ++this.mark[l];
    const pos = this.pos[l];
    const stamp = this.stamp[l];
    const links = p.links;
    const end = flowEnd(p, to, 0);
    for (let q = 0; q < end; q++) {
      const a = links[q];
      pos[a] = q;
      stamp[a] = st;
    }
    this.mapped[l] = p;
  }

  /**
   * The joint step on the segments `segMax[0..nMax−1]` (M) and `segMin[0..nMin−1]` (m), positions
   * in the owner bush `b`, whose own preference is `gOwner` = C(M) − C(m) > 0 and least flow on M
   * is `bound`. Moves the flows of every class (bush flows and the engine's link flows).
   * @param d Σ dt/dx over both segments
   * @param engine the engine whose link flows and costs move ({@link BushEngine.addFlow})
   */
  step(
    b: Bush,
    segMax: Int32Array,
    nMax: number,
    segMin: Int32Array,
    nMin: number,
    gOwner: number,
    bound: number,
    d: number,
    engine: BushEngine,
  ): void {
    const K = this.K;
    const { cc, pce } = engine;
    const to = engine.net.linkTo;
    const { g, lo, hi, delta, idx } = this;
    const links = b.links;
    const flows = b.flows;
    const k = b.cls;
    // the owner: it may also move back (m → M) if the others push it
    let loK = Infinity;
    for (let q = 0; q < nMin; q++) {
      const f = flows[segMin[q]];
      if (f < loK) loK = f;
    }
    let n = 0;
    for (let l = 0; l < K; l++) {
      delta[l] = 0;
      if (l === k) {
        g[l] = gOwner;
        hi[l] = bound;
        lo[l] = loK > 0 ? loK : 0;
        idx[n++] = l;
        continue;
      }
      const p = this.partners[l];
      if (p === null) continue;
      this.map(l, p, to);
      const pos = this.pos[l];
      const stamp = this.stamp[l];
      const st = this.mark[l];
      const pf = p.flows;
      const c = cc[l];
      let gl = 0;
      let h = Infinity;
      let ok = true;
      for (let q = 0; q < nMax; q++) {
        const a = links[segMax[q]];
        if (stamp[a] !== st) {
          ok = false;
          break;
        }
        gl += c[a];
        const f = pf[pos[a]];
        if (f < h) h = f;
      }
      if (!ok) continue;
      let lw = Infinity;
      for (let q = 0; q < nMin; q++) {
        const a = links[segMin[q]];
        if (stamp[a] !== st) {
          ok = false;
          break;
        }
        gl -= c[a];
        const f = pf[pos[a]];
        if (f < lw) lw = f;
      }
      if (!ok || (h <= 0 && lw <= 0)) continue;
      g[l] = gl;
      hi[l] = h > 0 ? h : 0;
      lo[l] = lw > 0 ? lw : 0;
      idx[n++] = l;
    }
    let s = 0;
    if (n === 1) {
      // no partner can move: the one-class Newton step, capped at the least flow on M
      let v = d > 0 ? gOwner / (pce[k] * d) : bound;
      if (v > bound) v = bound;
      delta[k] = v;
      s = pce[k] * v;
    } else s = classesStep(n, idx, g, lo, hi, delta, pce, d);
    // move every class's bush flows, then the total flows once per link
    for (let r = 0; r < n; r++) {
      const l = idx[r];
      const dl = delta[l];
      if (dl === 0) continue;
      const p = l === k ? b : this.partners[l]!;
      const pf = p.flows;
      const pos = this.pos[l];
      for (let q = 0; q < nMax; q++) {
        const at = l === k ? segMax[q] : pos[links[segMax[q]]];
        pf[at] = shifted(pf[at], -dl);
      }
      for (let q = 0; q < nMin; q++) {
        const at = l === k ? segMin[q] : pos[links[segMin[q]]];
        pf[at] = shifted(pf[at], dl);
      }
    }
    if (s !== 0) {
      for (let q = 0; q < nMax; q++) engine.addFlow(links[segMax[q]], -s);
      for (let q = 0; q < nMin; q++) engine.addFlow(links[segMin[q]], s);
    }
  }
}

/**
 * The exact minimiser of Σ_k −pce_k·g_k·δ_k + D·s²/2 (s = Σ pce_k·δ_k) over −lo_k ≤ δ_k ≤ hi_k for
 * the `cnt` classes idx[0 ..] (g: each class's preference for the second segment; lo, hi ≥ 0; D
 * the segments' Σ dc/dx): sorted by preference (idx reordered), every class at hi_k where
 * g_k > D·s, at −lo_k where g_k < D·s, and at most one in between; with D ≤ 0 a linear model,
 * every class at the bound it prefers. Writes δ_k into `delta` and returns s.
 */
export function classesStep(
  cnt: number,
  idx: Int32Array,
  g: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  delta: Float64Array,
  pce: Float64Array,
  d: number,
): number {
  sortByPreference(idx, cnt, g);
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
    if (d * S >= g[l]) break; // classes i.. prefer the first segment at this s: stay at −lo
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

/** Sorts idx[0 .. n − 1] (classes) by preference g, descending (insertion sort: K is small). */
export function sortByPreference(idx: Int32Array, n: number, g: Float64Array): void {
  for (let i = 1; i < n; i++) {
    const v = idx[i];
    let j = i - 1;
    while (j >= 0 && g[idx[j]] < g[v]) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = v;
  }
}

/** A bush flow after a change: what cancellation leaves of a flow meant to be emptied is rounding dust. */
export function shifted(before: number, change: number): number {
  const after = before + change;
  if (change >= 0) return after;
  return after > 1e-12 * before ? after : 0;
}
