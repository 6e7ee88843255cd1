/**
 * Units of a network, from its catalogue metadata (`GET /api/networks/:id` → `units`, free text
 * such as `minutes`, `0.01 h (read as minutes)`, `cents`), and the formatters that print values
 * with them. Tolls and revenue are money: Chicago-Sketch's are cents, shown as dollars ($0.75);
 * a network whose source states no money unit shows "¤" (the unit the value of time is given in).
 * Times are in the network's time unit; TSTT is vehicle × time.
 */
import { formatQuantity } from "./format.js";
import type { NetworkUnits } from "./api.js";

/** How to print a network's quantities. */
export interface Units {
  /** Short time unit: `min`, `h`, or `time units`. */
  time: string;
  /** Money: how the source states it (`cents`), or null when it does not. */
  moneySource: string | null;
  /** A toll or revenue in money, e.g. `$0.75`, `¤6.65`. */
  money: (v: number | null | undefined) => string;
  /** The unit of money as a planner reads it in labels: `$`, `¤`. */
  moneyLabel: string;
  /** A value of time: money per time unit, e.g. `50¢/min ($30.00/h)`. */
  valueOfTime: (v: number) => string;
  /** A duration in the time unit, e.g. `15.28 min`. */
  duration: (v: number | null | undefined) => string;
  /** TSTT (vehicle × time), e.g. `7,480,225 veh·min`. */
  vehicleTime: (v: number | null | undefined) => string;
}

const money2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function shortTime(t: string | undefined): string {
  if (!t) return "time units";
  if (/read as minutes|^min/i.test(t)) return "min";
  if (/^hour/i.test(t)) return "h";
  if (/^sec/i.test(t)) return "s";
  return t;
}

function moneyText(v: number, prefix: string): string {
  const a = Math.abs(v);
  const s = a >= 1000 ? money0.format(a) : money2.format(a);
  return `${v < 0 ? "−" : ""}${prefix}${s}`;
}

/** The formatters of a network's units (undefined units: time units and an unstated money unit). */
export function unitsOf(units: NetworkUnits | undefined): Units {
  const time = shortTime(units?.time);
  const toll = units?.toll ?? null;
  const cents = toll !== null && /^cents?$/i.test(toll);
  const dollars = toll !== null && /^(dollars?|usd|\$)$/i.test(toll);
  const prefix = cents || dollars ? "$" : "¤";
  const toMain = (v: number) => (cents ? v / 100 : v);
  const fin = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);
  const perHour = time === "min" ? 60 : time === "h" ? 1 : null;
  return {
    time,
    moneySource: toll,
    moneyLabel: prefix,
    money: (v) => (fin(v) ? moneyText(toMain(v), prefix) : "—"),
    valueOfTime: (v) => {
      const base = cents ? `${formatQuantity(v)}¢/${time}` : `${prefix}${formatQuantity(v)}/${time}`;
      return perHour && perHour !== 1 ? `${base} (${moneyText(toMain(v) * perHour, prefix)}/h)` : base;
    },
    duration: (v) => (fin(v) ? `${formatQuantity(v)} ${time}` : "—"),
    vehicleTime: (v) => (fin(v) ? `${formatQuantity(v)} veh·${time}` : "—"),
  };
}
