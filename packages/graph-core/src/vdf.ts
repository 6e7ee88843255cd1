/**
 * Volume-delay functions (VDFs): the registry of link cost functions and the compiled kernels
 * that evaluate them over all links at once.
 *
 * Kinds (the `vdf` code stored per link):
 * - `bpr` (0): t(x) = fft · (1 + b · (x / cap)^power). The TNTP convention.
 * - `conical` (1): Spiess (1990), t(x) = fft · (2 + √(α²(1 − x/cap)² + β²) − α(1 − x/cap) − β),
 *   with α = `power` (> 1) and β = (2α − 1)/(2α − 2); `b` is unused.
 * - `polynomial` (2): t(x) = fft + b · (x / cap)^power — an additive form for textbook
 *   examples whose cost has no constant factor (Pigou's t = x).
 * - `excess-demand` (3): the cost of trips not made on Gartner's excess-demand link (elastic
 *   demand, `@tollkit/follower`'s `elastic/`): with u = x / cap (cap = the most trips the OD pair
 *   can make, in PCE), t(x) = fft · (1 − u)^(−power) for power > 0 (constant-elasticity demand),
 *   t(x) = fft − b · ln(1 − u) for power = 0 (exponential demand) and t(x) = fft + b · x for
 *   power = −1 (linear demand). The first two are continued by their tangent beyond
 *   1 − u = max(1e-10, 1e-6^(1/power)) (where the power form reaches 1e6 · fft), so that a trial
 *   flow at the bound never yields an infinite or overflowing cost.
 *
 * A link with b = 0 or power = 0 (BPR, polynomial) has a constant cost. Every kind provides a
 * value (minutes), a derivative (minutes per vehicle) and an integral (vehicle-minutes; it
 * feeds the Beckmann objective).
 */

export const VDF_BPR = 0;
export const VDF_CONICAL = 1;
export const VDF_POLYNOMIAL = 2;
export const VDF_EXCESS_DEMAND = 3;

/**
 * Names of the VDF kinds a network file or spec may use, indexed by code. `excess-demand` (3) is
 * not among them: only the elastic-demand transformation builds such links.
 */
export const VDF_NAMES = ["bpr", "conical", "polynomial"] as const;
export type VdfName = (typeof VDF_NAMES)[number];

/** Parameters of one link's VDF. */
export interface VdfParams {
  freeFlowTime: number;
  capacity: number;
  b: number;
  power: number;
}

/** One volume-delay function: value, derivative and integral of travel time in flow. */
export interface VolumeDelayFunction {
  name: VdfName | "excess-demand";
  value(x: number, p: VdfParams): number;
  derivative(x: number, p: VdfParams): number;
  integral(x: number, p: VdfParams): number;
  /** True when the cost does not depend on flow for these parameters. */
  isConstant(p: VdfParams): boolean;
}

function powerAlpha(kind: number, p: VdfParams): number {
  if (p.b === 0 || p.power === 0) return kind === VDF_BPR ? p.freeFlowTime * p.b : p.b;
  const scale = Math.pow(p.capacity, p.power);
  return kind === VDF_BPR ? (p.freeFlowTime * p.b) / scale : p.b / scale;
}

function powerForm(kind: number, name: VdfName): VolumeDelayFunction {
  return {
    name,
    isConstant: (p) => p.b === 0 || p.power === 0,
    value(x, p) {
      return p.freeFlowTime + powerAlpha(kind, p) * Math.pow(x, p.power);
    },
    derivative(x, p) {
      if (p.b === 0 || p.power === 0) return 0;
      return powerAlpha(kind, p) * p.power * Math.pow(x, p.power - 1);
    },
    integral(x, p) {
      return p.freeFlowTime * x + (powerAlpha(kind, p) * Math.pow(x, p.power + 1)) / (p.power + 1);
    },
  };
}

function conicalBeta(alpha: number): number {
  return (2 * alpha - 1) / (2 * alpha - 2);
}

/** ∫ √(a²u² + β²) du, an antiderivative. */
function conicalG(u: number, a: number, beta: number): number {
  const r = Math.sqrt(a * a * u * u + beta * beta);
  return 0.5 * u * r + ((beta * beta) / (2 * a)) * Math.log(a * u + r);
}

const conical: VolumeDelayFunction = {
  name: "conical",
  isConstant: () => false,
  value(x, p) {
    const a = p.power;
    const beta = conicalBeta(a);
    const u = 1 - x / p.capacity;
    return p.freeFlowTime * (2 + Math.sqrt(a * a * u * u + beta * beta) - a * u - beta);
  },
  derivative(x, p) {
    const a = p.power;
    const beta = conicalBeta(a);
    const u = 1 - x / p.capacity;
    const r = Math.sqrt(a * a * u * u + beta * beta);
    return (p.freeFlowTime / p.capacity) * (a - (a * a * u) / r);
  },
  integral(x, p) {
    const a = p.power;
    const beta = conicalBeta(a);
    const c = p.capacity;
    const u = 1 - x / c;
    return p.freeFlowTime * ((2 - beta) * x + c * (conicalG(1, a, beta) - conicalG(u, a, beta)) - a * (x - (x * x) / (2 * c)));
  },
};

/** Where the excess-demand cost is continued by its tangent: 1 − u below this (see the module comment). */
export function excessDemandEdge(power: number): number {
  return power > 0 ? Math.max(1e-10, Math.pow(1e-6, 1 / power)) : 1e-10;
}

/** Value of the excess-demand cost at 1 − u = r (r > 0; power ≥ 0): scalars, so that hot loops allocate nothing. */
function excessAt(r: number, fft: number, b: number, power: number): number {
  return power > 0 ? fft * Math.pow(r, -power) : fft - b * Math.log(r);
}
/** d/dx of the excess-demand cost at 1 − u = r (power ≥ 0). */
function excessSlope(r: number, fft: number, cap: number, b: number, power: number): number {
  return power > 0 ? (fft * power * Math.pow(r, -power - 1)) / cap : b / (cap * r);
}
/**
 * Excess-demand cost at flow x (tangent continuation beyond the edge), from the link's parameters:
 * scalars, for hot loops that hold them already (`CompiledVdf.time` on such a link is this).
 */
export function excessDemandValue(x: number, fft: number, cap: number, b: number, power: number): number {
  if (power < 0) return fft + b * x;
  const r = 1 - x / cap;
  const edge = excessDemandEdge(power);
  if (r >= edge) return excessAt(r, fft, b, power);
  return excessAt(edge, fft, b, power) + excessSlope(edge, fft, cap, b, power) * (x - cap * (1 - edge));
}
/** d/dx of {@link excessDemandValue} (`CompiledVdf.derivative` on such a link). */
export function excessDemandDerivative(x: number, fft: number, cap: number, b: number, power: number): number {
  if (power < 0) return b;
  return excessSlope(Math.max(1 - x / cap, excessDemandEdge(power)), fft, cap, b, power);
}
/**
 * The inverse of {@link excessDemandValue}: the flow (trips not made, PCE) at which the cost is
 * `cost`, between 0 (at or below the free-flow time) and the capacity (`CompiledVdf.excessFlowAt`).
 */
export function excessDemandFlow(cost: number, fft: number, cap: number, b: number, power: number): number {
  if (!(cost > fft)) return 0;
  let x: number;
  if (power < 0) x = (cost - fft) / b;
  else {
    const edge = excessDemandEdge(power);
    const r = power > 0 ? Math.pow(cost / fft, -1 / power) : Math.exp(-(cost - fft) / b);
    x = r >= edge ? cap * (1 - r) : cap * (1 - edge) + (cost - excessAt(edge, fft, b, power)) / excessSlope(edge, fft, cap, b, power);
  }
  return x < cap ? x : cap;
}
/** ∫₀ˣ of {@link excessDemandValue}. */
function excessIntegralOf(x: number, fft: number, cap: number, b: number, power: number): number {
  if (power < 0) return fft * x + 0.5 * b * x * x;
  const edge = excessDemandEdge(power);
  const xe = cap * (1 - edge);
  const y = x < xe ? x : xe;
  const u = y / cap;
  const l = Math.log1p(-u);
  let s: number;
  if (power > 0) s = power === 1 ? -fft * cap * l : (fft * cap * (1 - Math.exp((1 - power) * l))) / (1 - power);
  else s = fft * y + b * cap * ((1 - u) * l + u);
  if (x <= xe) return s;
  const d = x - xe;
  return s + excessAt(edge, fft, b, power) * d + 0.5 * excessSlope(edge, fft, cap, b, power) * d * d;
}

const excessDemand: VolumeDelayFunction = {
  name: "excess-demand",
  isConstant: () => false,
  value: (x, p) => excessDemandValue(x, p.freeFlowTime, p.capacity, p.b, p.power),
  derivative: (x, p) => excessDemandDerivative(x, p.freeFlowTime, p.capacity, p.b, p.power),
  integral: (x, p) => excessIntegralOf(x, p.freeFlowTime, p.capacity, p.b, p.power),
};

/** The VDF registry, indexed by code. */
export const VDFS: readonly VolumeDelayFunction[] = [
  powerForm(VDF_BPR, "bpr"),
  conical,
  powerForm(VDF_POLYNOMIAL, "polynomial"),
  excessDemand,
];

/** Looks a VDF up by name; an unknown name is an error. */
export function vdfByName(name: string): VolumeDelayFunction {
  const f = VDFS.find((v) => v.name === name);
  if (!f) throw new Error(`graph-core/vdf: unknown volume-delay function "${name}" (expected one of ${VDF_NAMES.join(", ")})`);
  return f;
}

/** Per-link VDF columns, as held by a network's link table. */
export interface VdfColumns {
  vdf: Uint8Array;
  freeFlowTime: Float64Array;
  capacity: Float64Array;
  b: Float64Array;
  power: Float64Array;
}

/**
 * VDFs of all links compiled for hot loops. BPR and polynomial links reduce to
 * t = fft + alpha · x^power (alpha precomputed); conical links go through their own branch.
 * Evaluation allocates nothing.
 */
export class CompiledVdf {
  readonly linkCount: number;
  readonly kind: Uint8Array;
  readonly fft: Float64Array;
  readonly alpha: Float64Array;
  readonly power: Float64Array;
  readonly capacity: Float64Array;
  /** 1 where the link's time does not depend on its flow. */
  readonly constant: Uint8Array;
  /** True when some link is conical or excess-demand (slower generic path). */
  readonly hasConical: boolean;
  /** The `b` column (used by excess-demand links only). */
  private readonly bCol: Float64Array;

  constructor(cols: VdfColumns) {
    const m = cols.vdf.length;
    this.linkCount = m;
    this.kind = Uint8Array.from(cols.vdf);
    this.fft = Float64Array.from(cols.freeFlowTime);
    this.alpha = new Float64Array(m);
    this.power = Float64Array.from(cols.power);
    this.capacity = Float64Array.from(cols.capacity);
    this.constant = new Uint8Array(m);
    this.bCol = Float64Array.from(cols.b);
    let conicalSeen = false;
    for (let i = 0; i < m; i++) {
      const p = { freeFlowTime: cols.freeFlowTime[i], capacity: cols.capacity[i], b: cols.b[i], power: cols.power[i] };
      const k = cols.vdf[i];
      if (k === VDF_CONICAL || k === VDF_EXCESS_DEMAND) {
        conicalSeen = true;
        continue;
      }
      if (p.b === 0 || p.power === 0) {
        // constant cost: fold the constant into fft, leave alpha at 0
        this.fft[i] = VDFS[k].value(0, p);
        this.constant[i] = 1;
        this.power[i] = 1;
      } else {
        this.alpha[i] = powerAlpha(k, p);
      }
    }
    this.hasConical = conicalSeen;
  }

  /** Travel time of link `i` at flow `x` (minutes). */
  time(i: number, x: number): number {
    const kind = this.kind[i];
    if (kind === VDF_CONICAL) return conical.value(x, this.paramsOf(i));
    if (kind === VDF_EXCESS_DEMAND) return excessDemandValue(x, this.fft[i], this.capacity[i], this.bCol[i], this.power[i]);
    const p = this.power[i];
    return this.fft[i] + this.alpha[i] * (p === 4 ? x * x * x * x : p === 1 ? x : Math.pow(x, p));
  }

  /** dt/dx of link `i` at flow `x`. */
  derivative(i: number, x: number): number {
    const kind = this.kind[i];
    if (kind === VDF_CONICAL) return conical.derivative(x, this.paramsOf(i));
    if (kind === VDF_EXCESS_DEMAND) return excessDemandDerivative(x, this.fft[i], this.capacity[i], this.bCol[i], this.power[i]);
    const a = this.alpha[i];
    if (a === 0) return 0;
    const p = this.power[i];
    return a * p * (p === 4 ? x * x * x : p === 1 ? 1 : Math.pow(x, p - 1));
  }

  /** ∫₀ˣ t(s) ds of link `i`. */
  integral(i: number, x: number): number {
    const kind = this.kind[i];
    if (kind === VDF_CONICAL) return conical.integral(x, this.paramsOf(i));
    if (kind === VDF_EXCESS_DEMAND) return excessIntegralOf(x, this.fft[i], this.capacity[i], this.bCol[i], this.power[i]);
    const p = this.power[i];
    return this.fft[i] * x + (this.alpha[i] * Math.pow(x, p + 1)) / (p + 1);
  }

  /**
   * The inverse of an excess-demand link's cost: the flow at which link `i` (kind
   * `excess-demand`) costs `cost` — the trips not made at which the pair's inverse demand equals
   * `cost` (PCE), between 0 (a cost at or below the free-flow time) and the capacity (no trips).
   * NaN for a link of another kind.
   */
  excessFlowAt(i: number, cost: number): number {
    if (this.kind[i] !== VDF_EXCESS_DEMAND) return NaN;
    return excessDemandFlow(cost, this.fft[i], this.capacity[i], this.bCol[i], this.power[i]);
  }

  /**
   * Travel time of link `i` at flow `x`, its derivative written to `der[i]`: {@link time} and
   * {@link derivative} in one call (the same expressions, so the same numbers), the power
   * computed once on the common link of power 4.
   */
  timeAndDerivative(i: number, x: number, der: Float64Array): number {
    const kind = this.kind[i];
    if (this.power[i] === 4 && kind !== VDF_CONICAL && kind !== VDF_EXCESS_DEMAND) {
      const a = this.alpha[i];
      const x3 = x * x * x;
      der[i] = a === 0 ? 0 : a * 4 * x3;
      return this.fft[i] + a * (x3 * x);
    }
    der[i] = this.derivative(i, x);
    return this.time(i, x);
  }

  /** Fills `out[i]` with the travel time of every link at `flows`. */
  times(flows: Float64Array, out: Float64Array): void {
    const { fft, alpha, power, linkCount } = this;
    if (this.hasConical) {
      for (let i = 0; i < linkCount; i++) out[i] = this.time(i, flows[i]);
      return;
    }
    for (let i = 0; i < linkCount; i++) {
      const x = flows[i];
      const p = power[i];
      out[i] = fft[i] + alpha[i] * (p === 4 ? x * x * x * x : p === 1 ? x : Math.pow(x, p));
    }
  }

  /** Fills `out[i]` with dt/dx of every link at `flows`. */
  derivatives(flows: Float64Array, out: Float64Array): void {
    for (let i = 0; i < this.linkCount; i++) out[i] = this.derivative(i, flows[i]);
  }

  /** Beckmann objective Σ ∫₀^{x_i} t_i(s) ds (vehicle-minutes). */
  beckmann(flows: Float64Array): number {
    let s = 0;
    for (let i = 0; i < this.linkCount; i++) s += this.integral(i, flows[i]);
    return s;
  }

  private paramsOf(i: number): VdfParams {
    return { freeFlowTime: this.fft[i], capacity: this.capacity[i], b: 0, power: this.power[i] };
  }
}
