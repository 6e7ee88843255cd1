/**
 * Number formatting shared by the panels, popups, tables and legend. One place, so that the
 * same quantity reads the same everywhere (the e2e tests parse these strings back).
 */

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const twoDecimals = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A large quantity (flows, TSTT, revenue): thousands separators, at most 4 significant decimals for small values. */
export function formatQuantity(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 1000) return grouped.format(v);
  if (a >= 1) return twoDecimals.format(v);
  if (a === 0) return "0";
  return v.toPrecision(3);
}

/** A signed difference, e.g. "+1,234" or "−56.00". */
export function formatSigned(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const s = formatQuantity(Math.abs(v));
  if (v > 0) return `+${s}`;
  if (v < 0) return `−${s}`;
  return s;
}

/** A relative gap (dimensionless, usually 1e-2 … 1e-10) in scientific notation, e.g. "3.21e-5". */
export function formatGap(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  return v.toExponential(2);
}

/** A ratio in [0, 1] (or beyond) as a percentage with one decimal, e.g. "83.4 %". */
export function formatPercent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return `${(v * 100).toFixed(1)} %`;
}

/** A toll (money per vehicle) with two decimals. */
export function formatToll(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return twoDecimals.format(v);
}

/** A volume/capacity ratio with two decimals. */
export function formatRatio(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return v.toFixed(2);
}

/** A signed relative change as a percentage, e.g. "−0.9 %" or "+3.5 %". */
export function formatSignedPercent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const p = Math.abs(v * 100).toFixed(1);
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${p} %`;
}

/** A signed change of a ratio with two decimals, e.g. "+0.12". */
export function formatSignedRatio(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(2)}`;
}

/** Seconds with one decimal, or minutes and seconds beyond a minute. */
export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
