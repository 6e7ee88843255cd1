/**
 * Executes one run of a batch and writes its folder: the same files as `tollkit design --out`
 * or `tollkit assign --out` (summary.json, flows.csv, convergence.csv, flows.geojson; a design
 * also design.json and history.csv) plus run.json (tollkit's version, the full settings, the
 * seed and the sha256 of every input). The folder appears in one rename when all of it is
 * written ({@link replaceOutputDir}), so a folder with summary.json is a complete run.
 *
 * Runs in the run's child process (./child.ts); a failed run's record (run.json and
 * error.json, no summary.json) is written by the batch ({@link failedRunFiles}).
 */
import { readClassesFile, readTollsFile, solve, UserClass } from "@tollkit/follower";
import { BUILTIN_NETWORKS, gridCity, InputError, loadNetwork, Network } from "@tollkit/graph-core";
import { design, parseScenario } from "@tollkit/leader";
import { assignJson } from "../commands/assign.js";
import { designJson, designOutputFiles } from "../commands/design.js";
import { equilibriumFiles, OutputFile, replaceOutputDir } from "../output.js";
import { VERSION } from "../version.js";
import { isNetworkId, under } from "./plan.js";
import { AssignSettings, BatchInfo, RunProgress, RunSpec } from "./types.js";

const MOD = "cli/batch";

/** Hooks of {@link executeRun}. */
export interface ExecuteHooks {
  onProgress?: (p: RunProgress) => void;
  signal?: AbortSignal;
}

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

/** The files of a failed run's record: run.json and error.json. */
export function failedRunFiles(spec: RunSpec, batch: BatchInfo, error: string, seconds: number, input: boolean): OutputFile[] {
  const at = new Date().toISOString();
  return [
    { name: "run.json", content: `${JSON.stringify(runRecord(spec, batch, { status: "failed", finishedAt: at, seconds }), null, 2)}\n` },
    { name: "error.json", content: `${JSON.stringify({ run: spec.id, error, inputError: input, seconds, at }, null, 2)}\n` },
  ];
}

/**
 * Makes the built-in `grid-city` network generate its demand with `seed` in this process.
 * The registry is per process and a batch runs every run in a fresh child process, so this
 * changes nothing outside the run (the leader loads networks by id through the registry).
 */
function seedGridCity(seed: number): void {
  BUILTIN_NETWORKS["grid-city"] = { ...BUILTIN_NETWORKS["grid-city"], make: () => gridCity({ seed }) };
}

/**
 * Builds the user classes of an assignment run: the classes file (or one class from the
 * network's demand and cost weights), with the demand scaled and the values of time set.
 * @returns undefined when the follower's default class applies unchanged
 * @throws InputError when valueOfTime names a class that does not exist
 */
function assignClasses(net: Network, s: AssignSettings, baseDir: string): UserClass[] | undefined {
  const fromFile = s.classes !== undefined ? readClassesFile(under(baseDir, s.classes), net) : undefined;
  if (!fromFile && s.demandScale === 1 && s.valueOfTime === undefined) return undefined;
  const classes: UserClass[] = fromFile ?? [
    {
      name: "all",
      demand: Float64Array.from(net.demand),
      tollFactor: net.costWeights.tollFactor,
      distanceFactor: net.costWeights.distanceFactor,
      pce: 1,
      tolled: true,
    },
  ];
  const vot = s.valueOfTime;
  if (vot !== undefined && typeof vot !== "number")
    for (const n of Object.keys(vot))
      if (!classes.some((c) => c.name === n))
        throw new InputError(
          MOD,
          `valueOfTime names the class "${n}"`,
          { field: "valueOfTime" },
          `one of the classes: ${classes.map((c) => c.name).join(", ")}`,
        );
  return classes.map((c) => {
    const v = vot === undefined ? undefined : typeof vot === "number" ? vot : vot[c.name];
    return {
      ...c,
      demand: s.demandScale === 1 ? c.demand : Float64Array.from(c.demand, (d) => d * s.demandScale),
      tollFactor: v === undefined ? c.tollFactor : 1 / v,
    };
  });
}

/**
 * Executes a run and writes its folder `runDir` atomically.
 * @returns the run's summary (the content of summary.json)
 * @throws InputError for bad input found while running (a link id not in the network, a file
 *   that cannot be read, ...); any other Error for a failure of the run
 */
export async function executeRun(spec: RunSpec, runDir: string, batch: BatchInfo, hooks: ExecuteHooks = {}): Promise<unknown> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  if (spec.invalid !== undefined) throw new InputError(MOD, spec.invalid);
  if (spec.seedApplies) seedGridCity(spec.seed);
  let files: OutputFile[];
  let summary: unknown;
  if (spec.kind === "design") {
    const scenario = parseScenario(spec.design!.scenario, spec.design!.file);
    const r = await design(scenario, {
      signal: hooks.signal,
      onProgress: (p) => hooks.onProgress?.({ phase: p.phase, solves: p.solves, value: p.value }),
    });
    summary = designJson(r);
    files = await designOutputFiles(scenario, r);
  } else {
    const { settings: s, baseDir } = spec.assign!;
    const path = (p: string) => under(baseDir, p);
    const net = spec.seedApplies ? gridCity({ seed: spec.seed }) : await loadNetwork(isNetworkId(s.network) ? s.network : path(s.network));
    const classes = assignClasses(net, s, baseDir);
    const tolls = s.tolls !== undefined ? readTollsFile(path(s.tolls), net) : undefined;
    const r = await solve(net, {
      algorithm: s.algorithm,
      objective: s.objective,
      gap: s.gap,
      maxIterations: s.maxIterations,
      maxSeconds: s.maxSeconds,
      tolls,
      classes,
      signal: hooks.signal,
      onProgress: (p) => hooks.onProgress?.({ iteration: p.iteration, relativeGap: p.relativeGap, fraction: p.fraction }),
    });
    summary = assignJson(r, {
      algorithm: s.algorithm,
      objective: s.objective,
      gap: s.gap,
      maxIterations: s.maxIterations,
      maxSeconds: s.maxSeconds,
      tolls: s.tolls,
      classes: s.classes,
    });
    files = equilibriumFiles(
      net,
      r,
      summary,
      (classes ?? [{ tolled: true }]).map((c) => c.tolled),
    );
  }
  if (hooks.signal?.aborted) throw Object.assign(new Error("cancelled"), { name: "AbortError" });
  const seconds = (performance.now() - t0) / 1000;
  const record = runRecord(spec, batch, { status: "done", startedAt, finishedAt: new Date().toISOString(), seconds });
  files.push({ name: "run.json", content: `${JSON.stringify(record, null, 2)}\n` });
  replaceOutputDir(runDir, files);
  return summary;
}
