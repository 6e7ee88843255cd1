/**
 * One run of a batch: the {@link RunTask} its child process executes (through the executor of
 * @tollkit/runs, which returns the files of the run's folder: the same as `tollkit design
 * --out` or `tollkit assign --out`), and the run.json that records what reproduces it. The
 * batch, the only writer of its folder, writes each run's folder in one rename when the run
 * is done, so a folder with summary.json is a complete run; a failed run's record (run.json
 * and error.json, no summary.json) is {@link failedRunFiles}.
 */
import { resolveNetworkRef } from "@tollkit/graph-core";
import type { OutputFile, RunTask } from "@tollkit/runs";
import { VERSION } from "../version.js";
import { under } from "./plan.js";
import { BatchInfo, RunSpec } from "./types.js";

/** The run.json of a run: what reproduces it. */
export function runRecord(spec: RunSpec, batch: BatchInfo, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    run: spec.id,
    kind: spec.kind,
    ...extra,
    tollkit: VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    command: batch.command,
    source: spec.source,
    parameters: spec.parameters,
    seed: spec.seed,
    seedUsedBy: spec.seedApplies ? ["grid-city demand"] : [],
    settings: spec.settings,
    inputs: spec.inputs,
  };
}

/** The files of a done run's folder: what the run produced, plus run.json. */
export function doneRunFiles(spec: RunSpec, batch: BatchInfo, files: OutputFile[], startedAt: string, seconds: number): OutputFile[] {
  const record = runRecord(spec, batch, { status: "done", startedAt, finishedAt: new Date().toISOString(), seconds });
  return [...files, { name: "run.json", content: `${JSON.stringify(record, null, 2)}\n` }];
}

/** The files of a failed run's record: run.json and error.json. */
export function failedRunFiles(spec: RunSpec, batch: BatchInfo, error: string, seconds: number, input: boolean): OutputFile[] {
  const at = new Date().toISOString();
  return [
    { name: "run.json", content: `${JSON.stringify(runRecord(spec, batch, { status: "failed", finishedAt: at, seconds }), null, 2)}\n` },
    { name: "error.json", content: `${JSON.stringify({ run: spec.id, error, inputError: input, seconds, at }, null, 2)}\n` },
  ];
}

/**
 * The task of a planned run (a run with `invalid` set never becomes one). Relative paths are
 * resolved against the file that named them; the seed applies only where the run's network is
 * the generated grid city.
 */
export function taskOf(spec: RunSpec): RunTask {
  const seed = spec.seedApplies ? spec.seed : undefined;
  if (spec.kind === "design")
    return { kind: "design", scenario: spec.design!.scenario, label: spec.design!.file, allowPaths: true, seed, form: "cli", files: true };
  const { settings: s, baseDir } = spec.assign!;
  return {
    kind: "assign",
    network: resolveNetworkRef(s.network, baseDir),
    allowPaths: true,
    seed,
    settings: {
      algorithm: s.algorithm,
      objective: s.objective,
      gap: s.gap,
      maxIterations: s.maxIterations,
      maxSeconds: s.maxSeconds,
      tolls: s.tolls !== undefined ? { file: under(baseDir, s.tolls) } : undefined,
      classes: s.classes !== undefined ? { file: under(baseDir, s.classes) } : undefined,
      demandScale: s.demandScale,
      valueOfTime: s.valueOfTime,
    },
    record: { tolls: s.tolls ?? null, classes: s.classes ?? null },
    files: true,
  };
}
