/**
 * A run as plain JSON: what the API queue, `tollkit batch` (and a queue worker on another
 * machine) hand to {@link executeTask}. Everything a run needs travels in the task, except
 * standard network files, which every process resolves itself (cache, mirror, download).
 */
import type { Algorithm, Objective } from "@tollkit/follower";

/** A run designs tolls (a scenario) or solves an assignment (a network and follower settings). */
export type RunKind = "design" | "assign";

/** A toll of a run's settings: 1-based link id and money per vehicle. */
export interface TollEntry {
  link: number;
  toll: number;
}

/** The follower settings and inputs of an assignment run. */
export interface AssignTaskSettings {
  algorithm: Algorithm;
  objective?: Objective;
  gap?: number;
  maxIterations?: number;
  maxSeconds?: number;
  /** Tolls as entries (API; JSON path `settings.tolls`) or a tolls CSV file (CLI). Links not listed keep the network's toll. */
  tolls?: readonly TollEntry[] | { file: string };
  /** User classes as the JSON of a classes file (API; `settings.classes`) or the file itself. */
  classes?: readonly unknown[] | { file: string };
  /** Accept negative tolls (subsidies); default false. */
  allowSubsidies?: boolean;
  /** Multiplies the demand of every class (default 1). */
  demandScale?: number;
  /** One value of time for every class, or per class by name (money per time unit). */
  valueOfTime?: number | Record<string, number>;
  /**
   * Elastic demand (docs/elastic-demand.md): the JSON object `{type: "elastic", form, elasticity | rate,
   * zones, classes}` (API; `settings.demand`), the CLI's short form `FORM:ELASTICITY`, or a JSON file
   * (`{file}`). Default: fixed demand.
   */
  demand?: Record<string, unknown> | string | { file: string };
}

/** How a summary records the settings of an assignment (`summary.json`'s `settings`), or none. */
export interface SettingsRecordRequest {
  tolls: string | null;
  classes: string | null;
}

/**
 * The OD analyses a run adds to its output (docs/incidence.md): `skims` (per OD pair and class),
 * `selectLink` (the demand using these 1-based links; a bush run only), `keepBushes` (the bush
 * state, for select-link later, when it holds at most `keepBushes` MB).
 */
export interface OdAnalysis {
  skims?: boolean;
  /** Links to select (1-based ids), or `tolled`: the links with a toll in the run (a design's tolled links). */
  selectLink?: number[] | "tolled";
  /** The flag or field named when a select-link id is not a link (default `selectLink`). */
  selectLinkField?: string;
  keepBushes?: number;
}

/** An assignment run. */
export interface AssignTask {
  kind: "assign";
  /** A catalogue or built-in id, `scenario:<id>` (with `scenario`), or a path when `allowPaths`. */
  network: string;
  settings: AssignTaskSettings;
  /** The scenario whose inline network `scenario:<id>` names. */
  scenario?: { id: number; body: unknown };
  /** Whether `network` may be a path (CLI and batch: yes; the API: never). */
  allowPaths?: boolean;
  /** Seed of the generated grid-city demand, where the network is `grid-city`. */
  seed?: number;
  /** Record these settings in the summary (the CLI's summary.json form). */
  record?: SettingsRecordRequest;
  /** Also produce the files of an output folder (summary.json, flows.csv, …). */
  files?: boolean;
  analysis?: OdAnalysis;
}

/** A design run. */
export interface DesignTask {
  kind: "design";
  /** The scenario's JSON (validated again by the leader). */
  scenario: unknown;
  /** Its file name (relative paths in it are relative to it) or a label such as `scenario 3`. */
  label: string;
  /** Whether the scenario's network may be a path (CLI and batch: yes; the API: never). */
  allowPaths?: boolean;
  /** Wall-time limit of the whole design, seconds (the run fails saying so). */
  maxSeconds?: number;
  /** Seed of the generated grid-city demand. */
  seed?: number;
  /** The summary's form: `api` keeps the response surface in it, `cli` writes it to design.json. */
  form?: "api" | "cli";
  files?: boolean;
  /** OD analyses of the tolled equilibrium. */
  analysis?: OdAnalysis;
}

/** Any run. */
export type RunTask = AssignTask | DesignTask;

/**
 * Progress of a run, as the API streams it and the batch's bar shows it. Assignments: the
 * follower's iteration and relative gap. Designs: `iteration` (= `solves`) counts equilibrium
 * solves, with the leader's `phase` and the objective `value` of the last evaluation.
 */
export interface RunProgress {
  iteration: number;
  relativeGap: number | null;
  elapsedMs: number;
  /** Rough fraction done in [0, 1] (null where unknown). */
  fraction: number | null;
  phase?: string;
  value?: number | null;
  solves?: number;
}

/** Least time between two progress reports of one run, ms. */
export const PROGRESS_INTERVAL_MS = 100;
