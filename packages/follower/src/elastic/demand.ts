/**
 * Demand functions for elastic demand: per OD pair and class, the trips q made at an OD cost c
 * (the class's generalised cost, time units), pivoted on a reference (q0, c0): q0 is the trip
 * table's entry, c0 by default the no-toll equilibrium cost of the pair, so that with no toll
 * demand equals the trip table.
 *
 * Forms (r ≥ 0 in 1/time unit, ε ≥ 0 dimensionless):
 * - exponential: q = q0 · exp(−r · (c − c0));
 * - linear:      q = max(0, q0 · (1 − r · (c − c0)));
 * - power:       q = q0 · (c / c0)^(−ε) (constant elasticity ε).
 * A spec gives either `elasticity` ε = −(dq/dc) · c0 / q0 at the pivot (all forms; then r = ε/c0
 * per pair) or `rate` r = −(dq/dc) / q0 at the pivot (exponential and linear). Overrides per origin
 * zone (`zones`, keyed by zone id) and per class (`classes`, keyed by class name) replace them.
 *
 * Consumer surplus of a pair (time units × vehicles) is the integral under the demand function
 * above the cost paid, ∫_u^∞ D(c) dc: exponential q/r, linear q²/(2·q0·r), power (ε > 1)
 * q·u/(ε − 1). For power with ε ≤ 1 that integral diverges; it is then measured from the pivot,
 * ∫_u^{c0} D(c) dc (a constant shift: changes of it are exact).
 *
 * Gartner's excess-demand transformation (`./transform.ts`) needs the most trips q̄ a pair can
 * make: q̄ = D(c_lb), c_lb a lower bound of its equilibrium cost (the free-flow shortest cost), and
 * the inverse demand of the trips not made e = q̄ − q, W(e) = D⁻¹(q̄ − e), as a link cost:
 * - exponential: W = c_lb − ln(1 − e/q̄) / r;
 * - linear:      W = c_lb + e / (q0 · r);
 * - power:       W = c_lb · (1 − e/q̄)^(−1/ε).
 */

import { InputError } from "@tollkit/graph-core";

const MOD = "follower/elastic";

/** The forms of demand function. */
export const DEMAND_FORMS = ["exponential", "linear", "power"] as const;
export type DemandForm = (typeof DEMAND_FORMS)[number];

/** The sensitivity of one OD pair's demand: an elasticity or a rate (see the module comment). */
export interface DemandSensitivity {
  /** −(dq/dc)·c0/q0 at the pivot, dimensionless, ≥ 0. */
  elasticity?: number;
  /** −(dq/dc)/q0 at the pivot, per time unit, ≥ 0 (exponential and linear only). */
  rate?: number;
}

/** Demand functions for every OD pair and class of a follower problem. */
export interface DemandFunctionSpec extends DemandSensitivity {
  type?: "elastic";
  form: DemandForm;
  /** Overrides by origin zone id. */
  zones?: Record<string, DemandSensitivity>;
  /** Overrides by class name (their `zones` override the class's own value). */
  classes?: Record<string, DemandSensitivity & { zones?: Record<string, DemandSensitivity> }>;
}

/** One OD pair's demand function, resolved: q = D(c). */
export interface OdDemand {
  form: DemandForm;
  /** Reference trips (vehicles). */
  q0: number;
  /** Pivot cost (time units). */
  c0: number;
  /** Rate r (1/time unit) for exponential and linear; NaN for power. */
  rate: number;
  /** Elasticity ε for power; NaN otherwise. */
  elasticity: number;
}

function checkSensitivity(s: DemandSensitivity, form: DemandForm, field: string, required: boolean): void {
  const has = (v: unknown) => v !== undefined;
  if (has(s.elasticity) && has(s.rate)) throw new InputError(MOD, "both elasticity and rate given", { field }, "one of elasticity, rate");
  if (required && !has(s.elasticity) && !has(s.rate))
    throw new InputError(MOD, "no elasticity or rate given", { field }, "elasticity (dimensionless) or rate (per time unit)");
  for (const key of ["elasticity", "rate"] as const) {
    const v = s[key];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 0))
      throw new InputError(MOD, `${key} ${String(v)}`, { field: `${field}.${key}` }, "a finite number ≥ 0");
  }
  if (form === "power" && has(s.rate))
    throw new InputError(MOD, "rate given for power demand", { field: `${field}.rate` }, "elasticity (power demand has no rate)");
}

/**
 * Checks a demand-function spec against the class names and zone ids it may name.
 * @throws InputError naming the field: an unknown form, elasticity and rate both or neither given,
 *   a negative or non-finite value, a rate for the power form, an unknown class or zone
 */
export function checkDemandFunctionSpec(
  spec: DemandFunctionSpec,
  classNames: readonly string[],
  zoneIds: ArrayLike<number>,
  where = "demand",
): void {
  if (!spec || typeof spec !== "object") throw new InputError(MOD, "no demand function given", { field: where }, "an object with form");
  if (!(DEMAND_FORMS as readonly string[]).includes(spec.form as string))
    throw new InputError(MOD, `unknown form "${String(spec.form)}"`, { field: `${where}.form` }, `one of ${DEMAND_FORMS.join(", ")}`);
  checkSensitivity(spec, spec.form, where, true);
  const zones = new Set(Array.from(zoneIds, (z) => String(z)));
  const checkZones = (z: Record<string, DemandSensitivity> | undefined, field: string) => {
    for (const [id, s] of Object.entries(z ?? {})) {
      if (!zones.has(id)) throw new InputError(MOD, `unknown zone "${id}"`, { field: `${field}.${id}` }, "a zone id of the network");
      checkSensitivity(s, spec.form, `${field}.${id}`, true);
    }
  };
  checkZones(spec.zones, `${where}.zones`);
  for (const [name, s] of Object.entries(spec.classes ?? {})) {
    if (!classNames.includes(name))
      throw new InputError(MOD, `unknown class "${name}"`, { field: `${where}.classes.${name}` }, `one of ${classNames.join(", ")}`);
    checkSensitivity(s, spec.form, `${where}.classes.${name}`, false);
    checkZones(s.zones, `${where}.classes.${name}.zones`);
  }
}

/** The sensitivity that applies to a class and origin zone (zone id `zoneId`). */
export function sensitivityFor(spec: DemandFunctionSpec, className: string, zoneId: number): DemandSensitivity {
  const key = String(zoneId);
  const pick = (s: DemandSensitivity | undefined): DemandSensitivity | undefined =>
    s && (s.elasticity !== undefined || s.rate !== undefined) ? s : undefined;
  const c = spec.classes?.[className];
  return pick(c?.zones?.[key]) ?? pick(c) ?? pick(spec.zones?.[key]) ?? spec;
}

/**
 * One OD pair's demand function from its sensitivity, reference trips q0 (vehicles) and pivot c0
 * (time units).
 * @throws InputError when an elasticity is given and the pivot cost is not > 0 (`field` names the pair)
 */
export function odDemand(form: DemandForm, s: DemandSensitivity, q0: number, c0: number, field: string): OdDemand {
  if (s.elasticity !== undefined && !(c0 > 0))
    throw new InputError(MOD, `pivot cost ${c0}`, { field }, "a pivot cost > 0 for a demand function given by its elasticity");
  if (form === "power") return { form, q0, c0, rate: NaN, elasticity: s.elasticity ?? 0 };
  const rate = s.rate ?? (s.elasticity ?? 0) / c0;
  return { form, q0, c0, rate, elasticity: NaN };
}

/** True when the pair's demand does not respond to cost (rate or elasticity 0): it stays fixed. */
export function isFixed(d: OdDemand): boolean {
  return d.form === "power" ? d.elasticity === 0 : d.rate === 0;
}

/** Trips made at OD cost c (vehicles). */
export function demandAt(d: OdDemand, c: number): number {
  if (isFixed(d)) return d.q0;
  switch (d.form) {
    case "exponential":
      return d.q0 * Math.exp(-d.rate * (c - d.c0));
    case "linear":
      return Math.max(0, d.q0 * (1 - d.rate * (c - d.c0)));
    case "power":
      return d.q0 * Math.pow(c / d.c0, -d.elasticity);
  }
}

/** dq/dc at OD cost c (vehicles per time unit). */
export function demandSlope(d: OdDemand, c: number): number {
  if (isFixed(d)) return 0;
  switch (d.form) {
    case "exponential":
      return -d.rate * demandAt(d, c);
    case "linear":
      return demandAt(d, c) > 0 ? -d.q0 * d.rate : 0;
    case "power":
      return (-d.elasticity * demandAt(d, c)) / c;
  }
}

/** Inverse demand: the OD cost at which q trips are made (time units; q > 0). */
export function inverseDemand(d: OdDemand, q: number): number {
  switch (d.form) {
    case "exponential":
      return d.c0 - Math.log(q / d.q0) / d.rate;
    case "linear":
      return d.c0 + (1 - q / d.q0) / d.rate;
    case "power":
      return d.c0 * Math.pow(q / d.q0, -1 / d.elasticity);
  }
}

/**
 * Consumer surplus of the pair at OD cost u with q = D(u) trips (time units × vehicles): the
 * integral of the demand function above u (see the module comment for power with ε ≤ 1).
 * Infinite for a fixed pair.
 */
export function consumerSurplus(d: OdDemand, u: number): number {
  if (isFixed(d)) return Infinity;
  const q = demandAt(d, u);
  switch (d.form) {
    case "exponential":
      return q / d.rate;
    case "linear":
      return (q * q) / (2 * d.q0 * d.rate);
    case "power": {
      const e = d.elasticity;
      if (e > 1) return (q * u) / (e - 1);
      if (e === 1) return d.q0 * d.c0 * Math.log(d.c0 / u);
      return ((d.q0 * d.c0) / (1 - e)) * (1 - Math.pow(u / d.c0, 1 - e));
    }
  }
}

/** Parameters of the excess-demand link of one pair (see `graph-core/vdf.ts`, kind 3). */
export interface ExcessLinkParams {
  /** VDF kind: 3 (excess-demand). */
  vdf: number;
  freeFlowTime: number;
  capacity: number;
  b: number;
  power: number;
  /** The most trips the pair can make, q̄ = D(c_lb) (vehicles). */
  maxTrips: number;
}

/**
 * The excess-demand link of a pair for a class of PCE `pce`: its cost at PCE flow x = pce·e is
 * W(e) = D⁻¹(q̄ − e), with q̄ = D(cLb) and cLb a lower bound of the pair's equilibrium cost.
 * Returns null when the pair can make no trips (linear demand choked at cLb).
 */
export function excessLink(d: OdDemand, cLb: number, pce: number): ExcessLinkParams | null {
  const maxTrips = demandAt(d, cLb);
  if (!(maxTrips > 0)) return null;
  switch (d.form) {
    case "exponential":
      return { vdf: 3, freeFlowTime: cLb, capacity: pce * maxTrips, b: 1 / d.rate, power: 0, maxTrips };
    case "linear":
      return { vdf: 3, freeFlowTime: cLb, capacity: pce * maxTrips, b: 1 / (pce * d.q0 * d.rate), power: -1, maxTrips };
    case "power":
      return { vdf: 3, freeFlowTime: cLb, capacity: pce * maxTrips, b: 0, power: 1 / d.elasticity, maxTrips };
  }
}
