/**
 * `results.csv` of a batch: one row per planned run, in plan order, with its settings
 * ({@link PARAMETER_COLUMNS}), its status (done, failed, pending) and its headline numbers
 * taken from the run's summary.json. Numbers are written as JavaScript prints them, so they
 * read back exactly; a design's equilibrium fields come from its tolled equilibrium.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatCsv, writeFileAtomic } from "@tollkit/graph-core";
import { summaryField } from "@tollkit/runs";
import { PARAMETER_COLUMNS, RunSpec } from "./types.js";

/** Headline columns (from summary.json; a design's equilibrium fields from `summary.equilibrium`). */
export const HEADLINE_COLUMNS = [
  "converged",
  "stopReason",
  "iterations",
  "relativeGap",
  "tstt",
  "totalCost",
  "sptt",
  "beckmann",
  "revenue",
  "welfare",
  "value",
  "baseline",
  "firstBest",
  "shareCaptured",
  "tolls",
  "equilibriumSolves",
  "seconds",
] as const;

/** Every column of results.csv, in order. */
export const RESULT_COLUMNS = ["run", "status", "kind", "source", ...PARAMETER_COLUMNS, ...HEADLINE_COLUMNS, "error", "folder"] as const;

export type RunStatus = "done" | "failed" | "pending";

/** What the batch knows about a run. */
export interface RunState {
  spec: RunSpec;
  status: RunStatus;
  /** The run's summary.json (done runs). */
  summary?: Record<string, unknown>;
  error?: string;
  /** Folder relative to the batch's OUT. */
  folder: string;
}

/** Most designed tolls listed in the `tolls` column; beyond that it says how many and where to look. */
const MAX_TOLLS_SHOWN = 20;

/** The headline numbers of a summary (assign or design). */
export function headline(summary: Record<string, unknown>): Record<(typeof HEADLINE_COLUMNS)[number], string | number | boolean | null> {
  const out = {} as Record<(typeof HEADLINE_COLUMNS)[number], string | number | boolean | null>;
  for (const c of HEADLINE_COLUMNS) {
    if (c === "tolls") continue;
    const v = summaryField(summary, c);
    out[c] = typeof v === "number" || typeof v === "boolean" || typeof v === "string" ? v : null;
  }
  const tolls = summary.tolls as { link: number; toll: number }[] | undefined;
  const variables = summary.variables as { label: string; links: number[]; toll: number }[] | undefined;
  if (!Array.isArray(tolls)) out.tolls = null;
  else if (tolls.length <= MAX_TOLLS_SHOWN) out.tolls = tolls.map((t) => `${t.link}:${t.toll}`).join(" ");
  else if (Array.isArray(variables) && variables.length <= MAX_TOLLS_SHOWN)
    out.tolls = variables.map((v) => `${v.links.length === 1 ? v.links[0] : v.label}:${v.toll}`).join(" ");
  else out.tolls = `${tolls.length} tolls (see design.json)`;
  return out;
}

/** One row of results.csv. */
export function resultRow(r: RunState): (string | number | boolean | null)[] {
  const h = r.summary ? headline(r.summary) : undefined;
  return [
    r.spec.id,
    r.status,
    r.spec.kind,
    r.spec.source.entry !== undefined ? `${r.spec.source.file}#runs[${r.spec.source.entry}]` : r.spec.source.file,
    ...PARAMETER_COLUMNS.map((c) => r.spec.columns[c]),
    ...HEADLINE_COLUMNS.map((c) => (h ? h[c] : null)),
    r.error ?? null,
    r.status === "pending" ? null : r.folder,
  ];
}

/** The text of results.csv. */
export function resultsCsv(runs: readonly RunState[]): string {
  return formatCsv(
    RESULT_COLUMNS,
    runs.map((r) => resultRow(r)),
  );
}

/** Rewrites results.csv atomically (temporary file + rename). */
export function writeResults(out: string, runs: readonly RunState[]): void {
  writeFileAtomic(join(out, "results.csv"), resultsCsv(runs));
}

/** A run folder's summary.json when the run is complete (the folder exists with it), else undefined. */
export function completedSummary(runDir: string): Record<string, unknown> | undefined {
  const p = join(runDir, "summary.json");
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A failed run record's error message (error.json), if there is one. */
export function recordedError(runDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(runDir, "error.json"), "utf8")) as { error?: string }).error;
  } catch {
    return undefined;
  }
}
