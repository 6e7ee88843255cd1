/**
 * The data of a batch: one {@link RunSpec} per run (plain JSON, sent to the run's child process
 * over IPC), the messages between the batch and its children, and a run's progress.
 */
import type { Algorithm, Objective } from "@tollkit/follower";

/** A run designs tolls (a scenario) or solves an assignment (a network and follower settings). */
export type RunKind = "design" | "assign";

/** An input of a run and its sha256 ("built-in" for built-in networks, "inline" for networks written in a scenario). */
export interface InputRecord {
  role: "scenario" | "sweep" | "network" | "tolls" | "classes";
  /** A path (as resolved from the batch's working folder) or a network id. */
  name: string;
  /** sha256 of the file's bytes; null when the file cannot be read (the run then fails saying why). */
  sha256?: string | null;
  /** Networks made of several files: each file's name and sha256 (catalogue networks: the catalogue's checked sha256). */
  files?: { name: string; sha256: string | null }[];
}

/** Settings of an assignment run (the options of `tollkit assign`, plus demand scale and value of time). */
export interface AssignSettings {
  /** As written (an id, or a path relative to the file that named it). */
  network: string;
  algorithm: Algorithm;
  objective: Objective;
  gap: number;
  maxIterations?: number;
  maxSeconds?: number;
  /** Tolls CSV as written (relative to the file that named it). */
  tolls?: string;
  /** Classes JSON as written. */
  classes?: string;
  demandScale: number;
  /** One value of time for every class, or per class by name (money per time unit). */
  valueOfTime?: number | Record<string, number>;
}

/** Columns of results.csv that describe a run's settings. */
export const PARAMETER_COLUMNS = [
  "network",
  "scenario",
  "method",
  "objective",
  "algorithm",
  "gap",
  "demandScale",
  "valueOfTime",
  "tollable",
  "tollsFile",
  "seed",
] as const;
export type ParameterColumn = (typeof PARAMETER_COLUMNS)[number];

/** Everything a child process needs to execute one run, and what the batch records about it. */
export interface RunSpec {
  /** Folder name under OUT/runs: readable parameters and a hash of the settings and inputs. */
  id: string;
  kind: RunKind;
  /** The file the run comes from (a scenario or a sweep file), and the sweep entry. */
  source: { file: string; entry?: number };
  /** The sweep axis values that made this run (empty for a scenario file). */
  parameters: Record<string, unknown>;
  /** Seed of anything random (the grid-city demand generator). */
  seed: number;
  /** Whether the seed changes anything in this run (its network is the generated grid city). */
  seedApplies: boolean;
  /** A design: the scenario (JSON, sweep axes applied) and the file its relative paths are relative to. */
  design?: { scenario: unknown; file: string };
  /** An assignment: its settings and the folder its relative paths are relative to. */
  assign?: { settings: AssignSettings; baseDir: string };
  inputs: InputRecord[];
  /** Set when the run cannot start (a malformed scenario): the message, naming file and JSON path. */
  invalid?: string;
  /** The full effective settings (a design: the parsed scenario with every default filled in). */
  settings: unknown;
  /** The settings as results.csv shows them. */
  columns: Record<ParameterColumn, string | number | null>;
}

/** Progress of a run (the executor's). */
export type { RunProgress } from "@tollkit/runs";

/** About the batch a run belongs to (recorded in run.json). */
export interface BatchInfo {
  /** The command line, e.g. `tollkit batch scenarios/sweeps/x.json --out out/x`. */
  command: string;
  out: string;
  startedAt: string;
}
