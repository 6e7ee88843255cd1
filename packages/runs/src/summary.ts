/**
 * The run summary: one typed object for what `tollkit assign --json` / `design --json` print,
 * what `summary.json` holds, what the API stores for a run, and what `batch` and `compare`
 * read back. The CLI, the API and the batch build it here and nowhere else.
 *
 * Units (see docs/glossary.md): `tstt` is travel time Σ flow·time with flows in PCE;
 * `totalCost` and `sptt` are generalised cost per vehicle of each class (the gap's TSTT and
 * SPTT); `beckmann` is the Beckmann objective in generalised cost (what the user equilibrium
 * minimises, comparable with the catalogue's best-known values) and `beckmannTime` its
 * time-only integral; `revenue` is money.
 */
import type { ElasticResult, FollowerResult } from "@tollkit/follower";
import type { DesignResult, ElasticDesignReport } from "@tollkit/leader";

/** Per-class figures of an assignment. */
export interface ClassSummary {
  name: string;
  /** Trips of the class (vehicles). */
  demand: number;
  /** Toll revenue from the class (money). */
  revenue: number;
  /** The class's own relative gap (`converged` means every class reached the target). */
  relativeGap: number;
}

/** The settings an assignment ran with, as `summary.json` records them (null: not given). */
export interface AssignSettingsRecord {
  algorithm: string;
  objective: string;
  gap: number;
  maxIterations: number | null;
  maxSeconds: number | null;
  /** The tolls file as given (CLI), or null. */
  tolls: string | null;
  /** The classes file as given (CLI), or null. */
  classes: string | null;
}

/** The elastic-demand part of an assignment's summary (trips in vehicles, surplus and welfare in money). */
export interface ElasticDemandSummary {
  type: "elastic";
  form: string;
  tripsReference: number;
  tripsMade: number;
  tripsNotMade: number;
  consumerSurplus: number;
  welfare: number;
  zones: { zone: number; tripsReference: number; tripsMade: number; tripsNotMade: number; consumerSurplus: number }[];
}

/** The summary of an assignment (the `assign --json` object): the follower's scalar measures and more. */
export type AssignSummary = Pick<
  FollowerResult,
  | "network"
  | "converged"
  | "stopReason"
  | "iterations"
  | "relativeGap"
  | "averageExcessCost"
  | "tstt"
  | "totalCost"
  | "sptt"
  | "beckmann"
  | "beckmannTime"
  | "revenue"
  | "seconds"
  | "warnings"
> & {
  algorithm: string;
  objective: string;
  classes: ClassSummary[];
  /**
   * With elastic demand only (docs/elastic-demand.md): trips of the trip table, made and not made,
   * consumer surplus and welfare (consumer surplus + revenue, money), in total and per origin zone
   * (what a map of trips not made by zone needs).
   */
  demand?: ElasticDemandSummary;
  /** Present in CLI summaries. */
  settings?: AssignSettingsRecord;
};

/** The summary of a design (the `design --json` object): the design's result without its live parts, and more. */
export type DesignSummary = Pick<
  DesignResult,
  | "scenario"
  | "network"
  | "tolls"
  | "variables"
  | "value"
  | "baseline"
  | "firstBest"
  | "shareCaptured"
  | "revenue"
  | "tstt"
  | "welfare"
  | "constraint"
  | "equilibriumSolves"
  | "solves"
  | "seconds"
  | "ties"
  | "diagnostics"
  | "partial"
  | "error"
> & {
  objective: string;
  sense: string;
  method: string;
  /** Grid search's response surface (API summaries only; the CLI writes it to design.json). */
  surface?: DesignResult["surface"];
  /** The tolled equilibrium's own summary. */
  equilibrium: AssignSummary;
  /** With elastic demand: trips made and not made, welfare against the no-toll baseline, by zone (consumer-surplus change per zone). */
  demand?: ElasticDesignReport;
  /** The first-best check's figures (CLI summaries). */
  firstBestDetail?: { soTstt: number; tolledTstt: number; relativeDifference: number } | null;
};

/** Either summary. */
export type RunSummary = AssignSummary | DesignSummary;

/**
 * The summary of a follower result.
 * @param settings the settings to record (CLI summaries); omitted: no `settings` field
 */
export function assignSummary(r: FollowerResult, settings?: AssignSettingsRecord): AssignSummary {
  return {
    network: r.network,
    algorithm: r.algorithm,
    objective: r.objective,
    converged: r.converged,
    stopReason: r.stopReason,
    iterations: r.iterations,
    relativeGap: r.relativeGap,
    averageExcessCost: r.averageExcessCost,
    tstt: r.tstt,
    totalCost: r.totalCost,
    sptt: r.sptt,
    beckmann: r.beckmann,
    revenue: r.revenue,
    seconds: r.seconds,
    classes: r.classes.map((c) => ({ name: c.name, demand: c.demand, revenue: c.revenue, relativeGap: c.relativeGap })),
    warnings: r.warnings,
    beckmannTime: r.beckmannTime,
    ...(isElasticResult(r) ? { demand: elasticDemandSummary(r) } : {}),
    ...(settings ? { settings } : {}),
  };
}

function isElasticResult(r: FollowerResult): r is ElasticResult {
  return (r as Partial<ElasticResult>).elastic !== undefined;
}

/** The elastic-demand part of a summary. */
function elasticDemandSummary(r: ElasticResult): ElasticDemandSummary {
  const e = r.elastic;
  return {
    type: "elastic",
    form: e.form,
    tripsReference: e.tripsReference,
    tripsMade: e.tripsMade,
    tripsNotMade: e.tripsNotMade,
    consumerSurplus: e.consumerSurplus,
    welfare: e.welfare,
    zones: e.zones.map((z) => ({ ...z })),
  };
}

/**
 * The summary of a design result, with the tolled equilibrium's own summary.
 * @param form `api`: with the response surface; `cli`: without it (design.json has it), with
 *   the first-best check's figures
 */
export function designSummary(r: DesignResult, form: "api" | "cli"): DesignSummary {
  return {
    scenario: r.scenario,
    network: r.network,
    objective: r.objective,
    sense: r.sense,
    method: r.method,
    tolls: r.tolls,
    variables: r.variables,
    value: r.value,
    baseline: r.baseline,
    firstBest: r.firstBest,
    shareCaptured: r.shareCaptured,
    revenue: r.revenue,
    tstt: r.tstt,
    welfare: r.welfare,
    ...(r.constraint ? { constraint: r.constraint } : {}),
    equilibriumSolves: r.equilibriumSolves,
    solves: r.solves,
    seconds: r.seconds,
    ...(form === "api" && r.surface ? { surface: r.surface } : {}),
    ties: r.ties,
    diagnostics: r.diagnostics,
    equilibrium: assignSummary(r.equilibrium),
    ...(r.demand ? { demand: r.demand } : {}),
    partial: r.partial,
    error: r.error,
    ...(form === "cli"
      ? {
          firstBestDetail: r.firstBestDetail
            ? {
                soTstt: r.firstBestDetail.soTstt,
                tolledTstt: r.firstBestDetail.tolledTstt,
                relativeDifference: r.firstBestDetail.relativeDifference,
              }
            : null,
        }
      : {}),
  };
}

/** Whether a summary is a design's. */
export function isDesignSummary(s: RunSummary | Record<string, unknown>): s is DesignSummary {
  return typeof (s as DesignSummary).equilibrium === "object" && (s as DesignSummary).equilibrium !== null;
}

/**
 * A field of a summary: the summary's own, else (a design) its tolled equilibrium's. This is
 * how a design's `tstt`, `relativeGap`, … are read by compare, results.csv and the studio.
 */
export function summaryField(s: RunSummary | Record<string, unknown>, field: string): unknown {
  const r = s as Record<string, unknown>;
  return r[field] ?? (r.equilibrium as Record<string, unknown> | undefined)?.[field];
}

/** Summary fields compared in the headline of a comparison (API and `tollkit compare`). */
export const HEADLINE_FIELDS = [
  "tstt",
  "totalCost",
  "sptt",
  "beckmann",
  "revenue",
  "relativeGap",
  "averageExcessCost",
  "iterations",
  "seconds",
] as const;
