/**
 * The linear range of a directional derivative (see `./derivative.ts`): how far, on each side,
 * the linear piece of the response that a derivative describes reaches before a used route
 * runs out of flow or an unused route becomes as cheap as the used ones — a first-order ratio
 * test, as in the simplex method.
 *
 * Invariants and rules:
 * - The test reads the current solution: every bush's `df` per position and the total link-flow
 *   derivative `dxFull` (PCE per link), and the fixed-cost change `dg` it was solved for; side 0
 *   is ε > 0, side 1 is ε < 0, and ranges are |ε| in units of the direction.
 * - Routes running out: per link, the origins losing flow there are pooled (their flow over
 *   their rate of loss), as origins with the same alternatives can trade flow. Pooled rates
 *   below {@link MATERIAL} of the largest link-flow derivative are ignored.
 * - Routes entering: over each bush's candidate links, reduced cost / |d reduced cost|, the
 *   derivative from derivative labels over the tight subnetwork (unique: they depend on link
 *   flows only); reduced-cost derivatives below 1e-9 of the largest label count as zero. Routes
 *   that leave the tight subnetwork over several links are not examined.
 * - {@link LinearRangeTest.refine} may freeze used links and re-solve (through the caller's
 *   {@link ActiveSetSolver}); it leaves the frozen links that kept the link-flow derivative
 *   unchanged, and restores `df`, `released` and `dxFull` after a real kink.
 * - Scratch: poolFlow and poolRate (per network link) and labelDeriv (per local node) are
 *   overwritten by each test.
 */

import type { BushEngine } from "../bush/engine.js";
import { poolRunsOut, routeEnters } from "./messages.js";
import type { DerivativeBush } from "./tight.js";

/** How far a linear piece of the response reaches along one side of a direction (first order). */
export interface LinearRange {
  /** Largest step ε (units of the direction) before the used routes change; Infinity when nothing limits it. */
  step: number;
  /** What ends the piece there, in words (absent when `step` is Infinity). */
  cause?: string;
}

/**
 * A link whose flow derivative is below this fraction of the largest link-flow derivative does
 * not end a linear piece when its flow runs out (the derivative barely changes there).
 */
const MATERIAL = 1e-3;
/** Re-solves per side allowed to look for an origin decomposition that keeps routes in use longer. */
const REFINE_SOLVES = 6;

/** What {@link LinearRangeTest.refine} needs from the active-set loop. */
export interface ActiveSetSolver {
  /** Marks the cycle basis stale (frozen or released links changed). */
  invalidate(): void;
  /** Re-runs the active-set loop for `dg` from the current released and frozen links (solution into `df` and `dxFull`); its failure, if any. */
  rerun(dg: (Float64Array | null)[]): string | undefined;
}

/** The ratio test of the derivative problem's current solution, with its scratch. */
export class LinearRangeTest {
  private readonly m: number;
  /** Per link: flow (PCE) and rate of loss of the origins losing flow there. */
  private readonly poolFlow: Float64Array;
  private readonly poolRate: Float64Array;
  /** Per local node: the derivative label (d shortest distance / dε over the tight subnetwork). */
  private readonly labelDeriv: Float64Array;

  /**
   * @param dxFull the derivative problem's total link-flow derivative (read, and restored by `refine`)
   * @param tollSlack per link, the toll decrease that lets an unused route enter (see `./tight.ts`)
   * @param tollSlackBush the bush attaining it
   */
  constructor(
    readonly engine: BushEngine,
    readonly bushes: DerivativeBush[],
    readonly h: Float64Array,
    readonly dxFull: Float64Array,
    readonly tollSlack: Float64Array,
    readonly tollSlackBush: Int32Array,
    maxNodes: number,
  ) {
    this.m = engine.m;
    this.poolFlow = new Float64Array(this.m);
    this.poolRate = new Float64Array(this.m);
    this.labelDeriv = new Float64Array(maxNodes);
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
  refine(dg: (Float64Array | null)[], side: number, step: number, solver: ActiveSetSolver): LinearRange {
    for (let solves = 0; ; solves++) {
      const lim = this.ratioTest(dg, side);
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
      solver.invalidate();
      const failure = solver.rerun(dg);
      let same = !failure;
      for (let b = 0; b < this.m && same; b++) if (!(Math.abs(this.dxFull[b] - dx[b]) <= 1e-7 * xMax)) same = false;
      if (same) continue;
      // a real kink: back to the solution before
      for (const [bi, p] of held) this.bushes[bi].frozen[p] = 0;
      this.bushes.forEach((d, bi) => {
        d.df.set(saved[bi].df);
        d.released.set(saved[bi].released);
      });
      this.dxFull.set(dx);
      solver.invalidate();
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
  ratioTest(dg: (Float64Array | null)[], side: number): { range: LinearRange; link: number } {
    const { h, dxFull: dx, m } = this;
    const sgn = side === 0 ? 1 : -1;
    const D = this.labelDeriv;
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
      return { range: { step: best, cause: poolRunsOut(link, f, x, (100 * poolRate[link]) / xMax) }, link };
    }
    return { range: { step: best, cause: this.describe(bush, cand) }, link: -1 };
  }

  /** Words for an unused route of bush `bi` entering over its candidate link `c`. */
  private describe(bi: number, c: number): string {
    const { engine } = this;
    return routeEnters(this.bushes[bi], c, engine.K > 1 ? engine.model.classes[this.bushes[bi].cls].name : undefined);
  }

  /**
   * The linear range of a direction to which nobody responds at first order (its links are in no
   * tight subnetwork): only the tolls move, so an unused route over a tolled candidate link
   * enters once the toll has fallen by its {@link tollSlack}. Returns [for ε > 0, for ε < 0].
   * @param links network link indices; `weights` their rates of toll change
   */
  zeroResponse(links: number[], weights: number[]): [LinearRange, LinearRange] {
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
}
