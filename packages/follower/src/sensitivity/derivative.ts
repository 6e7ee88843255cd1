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
 *
 * Modules: `./tight.ts` builds the tight subnetworks; `./cycles.ts` holds the cycle basis and the
 * conjugate-gradient solver; `./linear-range.ts` the ratio test; `./messages.ts` the words. This
 * module holds the active-set loop that drives them.
 *
 * Invariants of a {@link DerivativeProblem} between calls of {@link DerivativeProblem.solve}:
 * every bush's `df` and `dxFull` hold the last solution (for the `dg` it was solved for); the
 * released and frozen links are those the last solve ended with (a new solve starts from none);
 * `cycles.valid` is cleared whenever released or frozen links change. Scratch: treeLabel,
 * labelMin and cheaperVia (per local node) are overwritten by each active-set check.
 */

import { BushEngine } from "../bush/engine.js";
import { CycleBasis } from "./cycles.js";
import { ActiveSetSolver, LinearRange, LinearRangeTest } from "./linear-range.js";
import { activeSetUnsettled } from "./messages.js";
import { buildTightSubnetworks, DerivativeBush } from "./tight.js";

export type { DerivativeBush } from "./tight.js";
export type { LinearRange } from "./linear-range.js";

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

const ACTIVE_SET_ROUNDS = 12;
/**
 * Conjugate-gradient tolerance of the linear range's re-solves (`./linear-range.ts`): they only
 * tell whether the link-flow derivative stays the same to 1e-7 of its largest entry and feed a
 * first-order estimate, so 1e-11 (instead of 1e-13) is ample; the derivatives reported come
 * from the solve before them.
 */
const RANGE_TOLERANCE = 1e-11;

export class DerivativeProblem {
  readonly bushes: DerivativeBush[];
  readonly m: number;
  /** d(link cost)/d(link flow), per link. */
  readonly h: Float64Array;
  /** Used links that are not at equilibrium cost (excluded); a symptom of a loose equilibrium. */
  readonly looseUsed: number;
  /** Largest flow share (of its origin's demand) on such a link. */
  readonly looseShare: number;
  /**
   * Unused tight links dropped to keep a bush's tight subnetwork acyclic (cycles of links at
   * equilibrium cost), not counting links of zero, constant cost (connectors), which cannot
   * change a derivative.
   */
  readonly droppedCyclic: number;
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
  /** Re-solves spent by linear-range refinements so far (diagnostics). */
  rangeSolves = 0;
  /** The cycles of the current active set and their solver. */
  private readonly cycles: CycleBasis;
  /** The ratio test of the current solution. */
  private readonly ranges: LinearRangeTest;
  /** The active-set loop as the ratio test's refinement sees it. */
  private readonly rangeSolver: ActiveSetSolver;
  /** Total flow derivative (PCE per link) of the last solution. */
  private readonly dxFull: Float64Array;
  /** Per local node: derivative labels along the tree of the active subgraph. */
  private readonly treeLabel: Float64Array;
  /** Per local node: shortest derivative labels over the whole tight subnetwork. */
  private readonly labelMin: Float64Array;
  /** Per local node: the in-link position of a strictly cheaper derivative route, or −1. */
  private readonly cheaperVia: Int32Array;

  /**
   * Builds the tight subnetworks of every bush of `engine` (whose flows and costs must be
   * current, e.g. right after adopting an equilibrium's bushes).
   * @param tightTolerance an unused link is tight when its reduced cost is at most this fraction
   *   of the shortest distance to its head (used links: 1e-4, see `./tight.ts`)
   * @param usedTolerance a link is used when its origin flow exceeds this fraction of the origin's demand
   */
  constructor(
    readonly engine: BushEngine,
    tightTolerance: number,
    usedTolerance: number,
  ) {
    this.m = engine.m;
    this.h = Float64Array.from(engine.der);
    this.dxFull = new Float64Array(this.m);
    const t = buildTightSubnetworks(engine, this.h, tightTolerance, usedTolerance);
    this.bushes = t.bushes;
    this.looseUsed = t.looseUsed;
    this.looseShare = t.looseShare;
    this.droppedCyclic = t.droppedCyclic;
    this.inTight = t.inTight;
    this.tollSlack = t.tollSlack;
    this.tollSlackBush = t.tollSlackBush;
    this.cycles = new CycleBasis(this.bushes, this.h, t.maxNodes);
    this.ranges = new LinearRangeTest(engine, this.bushes, this.h, this.dxFull, this.tollSlack, this.tollSlackBush, t.maxNodes);
    this.rangeSolver = {
      invalidate: () => {
        this.cycles.valid = false;
      },
      rerun: (dg) => {
        this.rangeSolves++;
        return this.run(dg, undefined, true, RANGE_TOLERANCE).failure;
      },
    };
    this.treeLabel = new Float64Array(t.maxNodes);
    this.labelMin = new Float64Array(t.maxNodes);
    this.cheaperVia = new Int32Array(t.maxNodes);
  }

  /** True when some bush has an unused tight link (a route at the margin of use). */
  hasMarginalRoutes(): boolean {
    for (const d of this.bushes) for (let p = 0; p < d.used.length; p++) if (d.used[p] === 0) return true;
    return false;
  }

  /**
   * The directional derivative of the equilibrium flows for fixed-cost changes `dg` (per class,
   * per link; null for a class unaffected). `firstRound`, when given, is the first round's
   * solution (known from the opposite direction: it is linear), which saves one solve. `step`
   * (units of the direction) is the smallest change of interest: linear ranges shorter than it
   * are checked against other origin decompositions (see {@link refineRange}).
   */
  solve(dg: (Float64Array | null)[], firstRound?: Float64Array, step = 0): DirectionalDerivative {
    this.resetActiveSet();
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
      range = this.ranges.refine(dg, 0, step, this.rangeSolver);
      rangeBack = this.ranges.refine(dg, 1, step, this.rangeSolver);
    }
    return { dx, dClass, changedRoutes, failure, firstRound: first, range, rangeBack };
  }

  /**
   * The active-set loop from the current released and frozen links; leaves the solution in `df`
   * and `dxFull`. Every round after the first starts conjugate gradients from the previous
   * round's solution (the active set changed by a few links, so it is close); `warm` does the
   * same for the first round, when `df` holds a solution for the same `dg` (a re-solve after
   * freezing links, see `./linear-range.ts`). `tolerance`: conjugate gradients' (default 1e-13).
   */
  private run(
    dg: (Float64Array | null)[],
    firstRound?: Float64Array,
    warm = false,
    tolerance?: number,
  ): { failure?: string; changedRoutes: boolean; first?: Float64Array } {
    let changedRoutes = false;
    let failure: string | undefined;
    let first: Float64Array | undefined;
    for (let round = 0; ; round++) {
      if (!this.cycles.valid) this.cycles.build();
      const s =
        round === 0 && firstRound && firstRound.length === this.cycles.nVars
          ? { y: firstRound }
          : this.cycles.solve(dg, tolerance, round > 0 || warm ? this.cycles.variablesOfFlows() : undefined);
      if (round === 0 && !s.failure) first = s.y;
      if (s.failure) {
        failure = s.failure;
        break;
      }
      this.cycles.flows(s.y, this.dxFull);
      const changed = this.checkActiveSet(dg);
      if (!changed) break;
      this.cycles.valid = false;
      changedRoutes = true;
      if (round + 1 >= ACTIVE_SET_ROUNDS) {
        failure = activeSetUnsettled(ACTIVE_SET_ROUNDS);
        break;
      }
    }
    return { failure, changedRoutes, first };
  }

  /** Back to the first round's active set: no route released, no used link frozen. */
  private resetActiveSet(): void {
    for (const d of this.bushes) {
      for (let p = 0; p < d.released.length; p++) {
        if (d.released[p] === 1 || d.frozen[p] === 1) {
          d.released[p] = 0;
          d.frozen[p] = 0;
          this.cycles.valid = false;
        }
      }
    }
  }

  /**
   * For adjoint use: solves the first round (the used routes only; nothing released or frozen)
   * for fixed-cost changes `dg` and tells whether that solution is final on both sides — whether
   * neither for ε > 0 nor for ε < 0 an unused route at the margin of use becomes cheaper than the
   * used ones (the test of the active-set loop, run for both signs without changing the active
   * set). Where it is final, the first round's linear map is the derivative in that direction.
   * Leaves the solution in `df` and `dxFull` and the first round's cycles built.
   * @param tolerance the conjugate-gradient tolerance (default that of every solve, 1e-13)
   */
  firstRoundFinal(dg: (Float64Array | null)[], tolerance?: number): { final: boolean; failure?: string } {
    this.resetActiveSet();
    if (!this.cycles.valid) this.cycles.build();
    const s = this.cycles.solve(dg, tolerance);
    if (s.failure) return { final: false, failure: s.failure };
    this.cycles.flows(s.y, this.dxFull);
    return { final: !this.wouldRelease(dg, 1) && !this.wouldRelease(dg, -1) };
  }

  /**
   * For adjoint use, after {@link firstRoundFinal} found the first round final for `dg`: the
   * linear range of that solution on both sides, as {@link solve} reports them (with the same
   * search for other origin decompositions, up to 6 solves per side, when a side is shorter than
   * `step`). Returns [for ε > 0, for ε < 0].
   */
  firstRoundRanges(dg: (Float64Array | null)[], step: number): [LinearRange, LinearRange] {
    return [this.ranges.refine(dg, 0, step, this.rangeSolver), this.ranges.refine(dg, 1, step, this.rangeSolver)];
  }

  /**
   * For adjoint use: solves A y = −b on the first round's active set, b the cycle sums of
   * `weights` (per class and link, in place of fixed-cost changes; null for a class without).
   * With `weights` the derivative of a scalar objective with respect to class link flows (per
   * vehicle) divided by the class's PCE, yᵀ b(dg) is that objective's derivative along any
   * direction dg whose first round is final (A is symmetric). Leaves `df` and `dxFull` untouched.
   */
  adjointSolve(weights: (Float64Array | null)[]): { y: Float64Array; failure?: string } {
    this.resetActiveSet();
    if (!this.cycles.valid) this.cycles.build();
    return this.cycles.solve(weights);
  }

  /**
   * out[l] += yᵀ b(e_l) for every link l: the inner product of an adjoint solution with the
   * right-hand side of a unit toll on l (classFactor: per class, its toll factor, 0 where the
   * class pays no toll). Reads the cycles of the last {@link adjointSolve}.
   */
  tollResponse(y: Float64Array, classFactor: Float64Array, out: Float64Array): void {
    this.cycles.gatherTollResponse(y, classFactor, out);
  }

  /**
   * The linear range of a direction to which nobody responds at first order (its links are in no
   * tight subnetwork): only the tolls move, so an unused route over a tolled candidate link
   * enters once the toll has fallen by its {@link tollSlack}. Returns [for ε > 0, for ε < 0].
   * @param links network link indices; `weights` their rates of toll change
   */
  zeroResponseRange(links: number[], weights: number[]): [LinearRange, LinearRange] {
    return this.ranges.zeroResponse(links, weights);
  }

  /**
   * The derivative labels of one tight subnetwork for fixed-cost changes `sign`·dg with flows
   * `sign`·dxFull (sign ±1; multiplying by ±1 is exact, so sign 1 is the plain labels): the tree
   * labels D (`treeLabel`), the shortest labels over the whole subnetwork (`labelMin`) and the
   * in-link that makes a node cheaper than its tree path (`cheaperVia`, −1 where none is cheaper
   * by more than 1e-9 of the labels' scale).
   */
  private cheaperRoutes(d: (typeof this.bushes)[number], dg: (Float64Array | null)[], sign: number): void {
    const { h, dxFull: dx } = this;
    const D = this.treeLabel;
    const Dmin = this.labelMin;
    const via = this.cheaperVia;
    const { n, start, tail, links, treeIn } = d;
    const g = dg[d.cls];
    const cost = (a: number): number => sign * (h[a] * dx[a] + (g ? g[a] : 0));
    D[0] = 0;
    let scale = 0;
    for (let u = 1; u < n; u++) {
      const p = treeIn[u];
      D[u] = p >= 0 ? D[tail[p]] + cost(links[p]) : NaN;
      if (p >= 0) scale = Math.max(scale, Math.abs(D[u]));
    }
    if (g) for (let a = 0; a < g.length; a++) scale = Math.max(scale, Math.abs(g[a]));
    const tol = 1e-9 * scale;
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
  }

  /**
   * Whether the active-set test after the current solution (`dxFull`) would release some unused
   * route for fixed-cost changes `sign`·dg with flows `sign`·dxFull (sign ±1): the second half of
   * {@link checkActiveSet}, with the same labels and tolerances, changing nothing.
   */
  private wouldRelease(dg: (Float64Array | null)[], sign: number): boolean {
    const via = this.cheaperVia;
    for (const d of this.bushes) {
      const { n, tail, treeIn, used } = d;
      this.cheaperRoutes(d, dg, sign);
      for (let u = 1; u < n; u++) {
        if (treeIn[u] < 0 || via[u] < 0) continue;
        for (let v = u; v > 0 && via[v] >= 0; v = tail[via[v]]) if (used[via[v]] === 0) return true;
      }
    }
    return false;
  }

  /**
   * Active-set update after a solve (flows in `df`, `dx`): withdraws released links whose flow
   * derivative is negative, else releases the links of unused tight routes that became cheaper
   * than the used ones. Returns true when the active set changed.
   */
  private checkActiveSet(dg: (Float64Array | null)[]): boolean {
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
    const via = this.cheaperVia;
    for (const d of this.bushes) {
      const { n, tail, treeIn, used, released } = d;
      this.cheaperRoutes(d, dg, 1);
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
