/**
 * Numbers as the CLI prints them for people (reports, tables, the progress bar), in one place
 * so that the same quantity reads the same in every command; modelled on the web app's
 * `web/src/format.ts`. A missing or non-finite value prints as "—". JSON output (`--json`,
 * summary.json, the CSV files) never goes through here: it keeps every digit.
 *
 * Unlike the web app, a quantity keeps up to 9 significant digits (a researcher compares
 * runs by their digits) and the minus sign is ASCII "-" (a table pastes into a spreadsheet).
 */

const MISSING = "—";

/**
 * `v` (1e-3 ≤ |v| < 1e9) to 9 significant digits with thousands separators, as
 * `Intl.NumberFormat("en-US", {maximumSignificantDigits: 9})` writes it (tested against it) but
 * without Intl, whose first use costs a command ~25 ms of start-up (ICU's data).
 */
function grouped(v: number): string {
  const [int, frac] = String(Number(v.toPrecision(9))).split(".");
  const g = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac === undefined ? g : `${g}.${frac}`;
}

function missing(v: number | null | undefined): v is null | undefined {
  return v === null || v === undefined || !Number.isFinite(v);
}

/**
 * A quantity (TSTT, flows, revenue, tolls, objectives, demand, counts): up to 9 significant
 * digits with thousands separators (`18,123,456.8`, `-54`, `0.125`), so that the integer part
 * is exact; below 1e-3 or from 1e9 in magnitude, scientific with 5 significant digits
 * (`1.2346e-7`, `4.2313e+9`); 0 (and -0) as `0`.
 */
export function formatNumber(v: number | null | undefined): string {
  if (missing(v)) return MISSING;
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e9 ? v.toExponential(4) : grouped(v);
}

/** A relative gap (dimensionless, usually 1e-2 … 1e-10) in scientific notation, e.g. `3.21e-5`; 0 as `0`. */
export function formatGap(v: number | null | undefined): string {
  if (missing(v)) return MISSING;
  if (v === 0) return "0";
  return v.toExponential(2);
}

/**
 * A ratio as a percentage, e.g. `-9.78%` (`decimals` 2) or `83.4%` (the default, 1).
 * @param v the ratio (0.5 is 50%)
 */
export function formatPercent(v: number | null | undefined, decimals = 1): string {
  if (missing(v)) return MISSING;
  return `${(100 * v).toFixed(decimals)}%`;
}

/** A duration in seconds with two decimals (`0.37 s`), or minutes and seconds from a minute on (`2 min 5 s`). */
export function formatSeconds(s: number | null | undefined): string {
  if (missing(s)) return MISSING;
  if (s < 60) return `${s.toFixed(2)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** A duration in seconds as a clock, `m:ss` or `h:mm:ss` (elapsed time and ETAs). */
export function formatClock(seconds: number | null | undefined): string {
  if (missing(seconds)) return MISSING;
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * Lines of a text table: each column as wide as its widest cell, cells separated by two
 * spaces, each column aligned as `align` says (default right, a table of numbers).
 * @param align per column, `left` or `right`
 */
export function formatTable(rows: readonly (readonly string[])[], align: readonly ("left" | "right")[] = []): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => (r[j] ?? "").length)));
  return rows.map((r) => r.map((cell, j) => (align[j] === "left" ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join("  "));
}
