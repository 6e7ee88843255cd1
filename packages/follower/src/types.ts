/**
 * Types shared by every follower algorithm (the Frank-Wolfe family and the bush-based
 * algorithm) and by the packages that call them (leader, cli, api).
 *
 * Units: times and generalised costs in the network's time unit (minutes for most TNTP
 * networks); tolls in money; a class's tollFactor converts money to time (= 1 / value of time).
 * Flows: per-class flows in vehicles of that class; total link flow in PCE
 * (x_a = Σ_k pce_k · f_ka), which is what volume-delay functions see.
 */

/** Follower algorithms. `bush` is the high-precision origin-based algorithm. */
export const ALGORITHMS = ["aon", "msa", "fw", "cfw", "bfw", "bush"] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** User equilibrium (Wardrop's first principle) or system optimum (second principle). */
export const OBJECTIVES = ["ue", "so"] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** One class of followers (a user class): its own demand, value of time and PCE. */
export interface UserClass {
  /** Name used in reports (e.g. "car", "truck"). */
  name: string;
  /** Trips of this class, zone × zone (row = origin), in vehicles. */
  demand: Float64Array;
  /** Minutes per unit of toll (1 / value of time). */
  tollFactor: number;
  /** Minutes per unit of link length. */
  distanceFactor: number;
  /** Passenger-car equivalents of one vehicle of this class. */
  pce: number;
  /** Whether tolls apply to this class. */
  tolled: boolean;
}

/** Stopping rules: at least one is required; the first one met stops the solver. */
export interface StoppingRules {
  /** Relative gap to reach. */
  gap?: number;
  /** Most iterations. */
  maxIterations?: number;
  /** Most seconds of wall time. */
  maxSeconds?: number;
}

/** A progress report, sent once per iteration. */
export interface ProgressEvent {
  iteration: number;
  relativeGap: number;
  elapsedMs: number;
  /** Rough fraction done in [0, 1] from the gap and the stopping rules. */
  fraction: number;
}

/**
 * A warm start: per-class link flows from an earlier solve (and, for `bush`, its bushes). The
 * flows must route the same classes' demand (e.g. an earlier solve with other tolls): they are
 * the starting point, not checked for conservation.
 */
export interface WarmStart {
  classFlows: Float64Array[];
  /** Algorithm-specific state (the bush algorithm keeps its bushes here). */
  state?: unknown;
}

export interface FollowerOptions extends StoppingRules {
  algorithm: Algorithm;
  /** Default "ue". */
  objective?: Objective;
  /** Default: one class from the network's demand and cost weights, PCE 1, tolled. */
  classes?: UserClass[];
  /** Toll per link (money), indexed by link; default the network's link tolls. */
  tolls?: Float64Array;
  warmStart?: WarmStart;
  /**
   * `bush` only: the solve takes the warm start's bushes over instead of copying them, and clears
   * `warmStart.state` of the object given (its `classFlows` stay). For a warm start the caller
   * needs no more as one: its bushes and the solve's are then never alive at once. Default false.
   * With elastic demand the state is reduced to a copy first, so the caller's is not cleared.
   */
  consumeWarmStart?: boolean;
  /**
   * `bush` only, with elastic demand (excess-demand links, `elastic/`): per link, the trips not
   * made (vehicles of the link's class) that a bush built from shortest paths starts with on each
   * excess-demand link, the rest of the pair's demand by road (default: every trip by road).
   * `ElasticDemandProblem` sets it to q̄ − q0, the trips not made at the pivot.
   */
  initialTripsNotMade?: Float64Array;
  onProgress?: (p: ProgressEvent) => void;
  signal?: AbortSignal;
}

/** One row of the convergence report. */
export interface IterationRecord {
  iteration: number;
  relativeGap: number;
  /** Step size λ of this iteration (NaN where an algorithm has none). */
  step: number;
  /** Conjugate weights (CFW: [α]; BFW: [β0, β1, β2]); empty otherwise. */
  conjugateWeights: number[];
  /** The objective being minimised (Beckmann potential for UE, TSTT-based for SO). */
  objective: number;
  elapsedMs: number;
}

/**
 * Why a solver stopped: a stopping rule was met, it was cancelled, or it `stalled`: its gap
 * stopped improving at rounding level, below which it cannot go (a warning says so).
 */
export type StopReason = "gap" | "iterations" | "seconds" | "cancelled" | "stalled";

/** Per-class results. */
export interface ClassResult {
  name: string;
  /** Link flows in vehicles of this class. */
  flows: Float64Array;
  /** Generalised cost per link for this class (time + toll·tollFactor + length·distanceFactor). */
  costs: Float64Array;
  /** Toll revenue collected from this class (money). */
  revenue: number;
  /** Σ demand of the class. */
  demand: number;
  /** The class's own relative gap (its Σ f·c against its Σ demand·shortest cost). */
  relativeGap: number;
}

export interface FollowerResult {
  network: string;
  algorithm: Algorithm;
  objective: Objective;
  converged: boolean;
  stopReason: StopReason;
  iterations: number;
  relativeGap: number;
  /** (TSTT − SPTT) / Σ demand in generalised cost. */
  averageExcessCost: number;
  /** Total system travel time Σ_a x_a · t_a(x_a) (time only, PCE-weighted flows). */
  tstt: number;
  /** Total generalised cost Σ_k Σ_a f_ka · c_ka. */
  totalCost: number;
  /** Σ_k Σ_od demand · shortest generalised cost. */
  sptt: number;
  /**
   * The Beckmann objective in generalised cost: Σ_a ∫₀^{x_a} t_a(s) ds plus Σ_k pce_k Σ_a
   * f_ka·(tollFactor_k·toll_a + distanceFactor_k·length_a). For UE it is what the solver
   * minimises, and what the catalogue's best-known objectives measure (Chicago-Sketch's includes
   * its toll and distance terms). For SO it is evaluated at the system optimum's flows.
   */
  beckmann: number;
  /** The time-only Beckmann integral Σ_a ∫₀^{x_a} t_a(s) ds. */
  beckmannTime: number;
  /** Total toll revenue (money). */
  revenue: number;
  /** Total link flows (PCE). */
  flows: Float64Array;
  /** Link travel times at the final flows. */
  times: Float64Array;
  /** Tolls used (money per vehicle of a tolled class). */
  tolls: Float64Array;
  classes: ClassResult[];
  convergence: IterationRecord[];
  /** Things the user must hear: a gap not reached, fallbacks taken, … */
  warnings: string[];
  seconds: number;
  /** State to warm-start a later solve from this one. */
  warmStart: WarmStart;
}
