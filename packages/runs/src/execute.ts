/**
 * What a run does, wherever it runs: {@link executeTask} solves an assignment with the
 * follower or designs tolls with the leader, and returns the run's output (summary,
 * convergence report, per-link columns) and, when asked, the files of its output folder. The
 * child process of {@link startChildRun} calls it for the API queue and for `tollkit batch`;
 * the leader is loaded only by design runs, so assignments start faster.
 */
import {
  classesFromSpec,
  defaultClasses,
  ElasticDemandProblem,
  FOLLOWER_DEFAULTS,
  FollowerOptions,
  FollowerResult,
  parseDemandFunction,
  readClassesFile,
  readTollsFile,
  solve,
  UserClass,
} from "@tollkit/follower";
import {
  BUILTIN_NETWORKS,
  buildNetwork,
  gridCity,
  InputError,
  isInputError,
  isNetworkId,
  loadNetwork,
  Network,
  NetworkSpec,
  readJsonFile,
} from "@tollkit/graph-core";
import { convergenceColumns, designFiles, equilibriumFiles, historyColumns, linkColumns, OutputFile, RunOutput } from "./results.js";
import { analyseRun } from "./od-analysis.js";
import { assignSummary, AssignSettingsRecord, designSummary } from "./summary.js";
import type { AssignTask, AssignTaskSettings, DesignTask, RunProgress, RunTask, TollEntry } from "./task.js";

const MOD = "runs/execute";

/** Callbacks and cancellation of one run. */
export interface ExecuteHooks {
  onProgress?: (p: RunProgress) => void;
  signal?: AbortSignal;
}

/** The result of a run: its output and, when the task asked for them, its files. */
export interface RunResult {
  output: RunOutput;
  files?: OutputFile[];
}

/** A run's outcome: its result, or "cancelled" when the signal stopped it. */
export type ExecuteOutcome = { status: "done"; result: RunResult } | { status: "cancelled" };

/**
 * Loads the network of a run.
 * @param ref a catalogue or built-in id; `scenario:<id>` for the inline network of `scenario`;
 *   a path to a `*_net.tntp` file or GMNS folder only when `allowPaths`
 * @param seed the grid-city demand seed (only for `grid-city`)
 * @throws InputError naming `network` for an unknown id or a refused path
 */
export async function loadRunNetwork(
  ref: string,
  opts: { allowPaths?: boolean; scenario?: { id: number; body: unknown }; seed?: number } = {},
): Promise<Network> {
  if (ref.startsWith("scenario:")) {
    const s = opts.scenario;
    if (!s || ref !== `scenario:${s.id}`) throw new InputError(MOD, `network ${ref} needs its scenario`, { field: "network" });
    return buildNetwork((s.body as { network: NetworkSpec }).network);
  }
  if (ref === "grid-city" && opts.seed !== undefined) return gridCity({ seed: opts.seed });
  if (!opts.allowPaths && !isNetworkId(ref, { supportedOnly: true }))
    throw new InputError(MOD, `unknown network "${ref}"`, { field: "network" }, "a catalogue or built-in network id");
  return loadNetwork(ref);
}

/**
 * The tolls of a network with a run's `tolls` applied (links not listed keep theirs).
 * @throws InputError naming `settings.tolls[k].link` (entries) or the file's line (a file)
 */
export function tollVector(net: Network, tolls: AssignTaskSettings["tolls"], allowSubsidies = false): Float64Array | undefined {
  if (tolls === undefined) return undefined;
  if (!Array.isArray(tolls)) return readTollsFile((tolls as { file: string }).file, net, { allowSubsidies });
  const t = Float64Array.from(net.links.toll);
  (tolls as readonly TollEntry[]).forEach((e, k) => {
    if (!(Number.isInteger(e.link) && e.link >= 1 && e.link <= net.linkCount))
      throw new InputError(
        MOD,
        `link ${e.link} is not in ${net.name}`,
        { field: `settings.tolls[${k}].link` },
        `a link id in 1..${net.linkCount}`,
      );
    if (e.toll < 0 && !allowSubsidies)
      throw new InputError(
        MOD,
        `toll ${e.toll} is negative`,
        { field: `settings.tolls[${k}].toll` },
        "a toll ≥ 0 (subsidies need settings.allowSubsidies)",
      );
    t[e.link - 1] = e.toll;
  });
  return t;
}

/**
 * The user classes of an assignment: from the classes (JSON or a file) or one class from the
 * network's demand and cost weights, with the demand scaled and values of time set.
 * @returns undefined when the follower's default class applies unchanged
 * @throws InputError for bad classes, or when valueOfTime names a class that does not exist
 */
export function assignClasses(net: Network, s: AssignTaskSettings): UserClass[] | undefined {
  const c = s.classes;
  const given =
    c === undefined
      ? undefined
      : Array.isArray(c)
        ? classesFromSpec(c, net, "request body", "settings.classes")
        : readClassesFile((c as { file: string }).file, net);
  const scale = s.demandScale ?? 1;
  const vot = s.valueOfTime;
  if (!given && scale === 1 && vot === undefined) return undefined;
  const classes: UserClass[] = given ?? [
    {
      name: "all",
      demand: Float64Array.from(net.demand),
      tollFactor: net.costWeights.tollFactor,
      distanceFactor: net.costWeights.distanceFactor,
      pce: 1,
      tolled: true,
    },
  ];
  if (vot !== undefined && typeof vot !== "number")
    for (const n of Object.keys(vot))
      if (!classes.some((k) => k.name === n))
        throw new InputError(
          MOD,
          `valueOfTime names the class "${n}"`,
          { field: "valueOfTime" },
          `one of the classes: ${classes.map((k) => k.name).join(", ")}`,
        );
  return classes.map((k) => {
    const v = vot === undefined ? undefined : typeof vot === "number" ? vot : vot[k.name];
    return {
      ...k,
      demand: scale === 1 ? k.demand : Float64Array.from(k.demand, (d) => d * scale),
      tollFactor: v === undefined ? k.tollFactor : 1 / v,
    };
  });
}

/**
 * Refuses tolls that cannot change any route: some toll is not 0 but no tolled class has a
 * toll factor (time per unit of money), as on a TNTP file whose <TOLL FACTOR> is 0 run
 * without a value of time. Revenue would be reported for flows the tolls never touched.
 * @throws InputError naming the tolls and saying how to give a value of time
 */
export function refuseInertTolls(net: Network, tolls: Float64Array, classes: UserClass[] | undefined, s: AssignTaskSettings): void {
  if (!tolls.some((t) => t !== 0)) return;
  const payers = classes ?? [{ tolled: true, tollFactor: net.costWeights.tollFactor }];
  if (payers.some((c) => c.tolled && c.tollFactor > 0)) return;
  const file = !Array.isArray(s.tolls) && s.tolls ? (s.tolls as { file: string }).file : undefined;
  throw new InputError(
    MOD,
    `the tolls cannot change any route: no class that pays tolls has a value of time (${net.name}'s toll factor is ${net.costWeights.tollFactor})`,
    file ? { file, field: "toll" } : { field: "settings.tolls" },
    "a value of time: tollkit assign --value-of-time V (money per time unit), or a classes file with valueOfTime (API: settings.valueOfTime or settings.classes)",
  );
}

/** The settings record of an assignment's summary. */
function settingsRecord(
  s: AssignTaskSettings,
  r: { tolls: string | null; classes: string | null },
  res: FollowerResult,
): AssignSettingsRecord {
  return {
    algorithm: s.algorithm,
    objective: s.objective ?? res.objective,
    gap: s.gap ?? FOLLOWER_DEFAULTS.gap,
    maxIterations: s.maxIterations ?? null,
    maxSeconds: s.maxSeconds ?? null,
    tolls: r.tolls,
    classes: r.classes,
  };
}

async function runAssign(task: AssignTask, hooks: ExecuteHooks): Promise<ExecuteOutcome> {
  const net = await loadRunNetwork(task.network, task);
  const s = task.settings;
  const classes = assignClasses(net, s);
  const tolls = tollVector(net, s.tolls, s.allowSubsidies);
  if (tolls) refuseInertTolls(net, tolls, classes, s);
  const options: FollowerOptions = {
    algorithm: s.algorithm,
    objective: s.objective,
    gap: s.gap,
    maxIterations: s.maxIterations,
    maxSeconds: s.maxSeconds,
    tolls,
    classes,
    signal: hooks.signal,
    onProgress: (p) =>
      hooks.onProgress?.({ iteration: p.iteration, relativeGap: p.relativeGap, elapsedMs: p.elapsedMs, fraction: p.fraction }),
  };
  const elastic = elasticProblem(net, s, classes);
  const r = elastic ? await elastic.solve(options) : await solve(net, options);
  if (r.stopReason === "cancelled" || hooks.signal?.aborted) return { status: "cancelled" };
  const summary = assignSummary(r, task.record ? settingsRecord(s, task.record, r) : undefined);
  summary.warnings = [...net.warnings.map((w) => `network ${net.name}: ${w}`), ...summary.warnings];
  const tolled = (classes ?? [{ tolled: true }]).map((c) => c.tolled);
  const output: RunOutput = {
    summary,
    convergence: convergenceColumns(r.convergence),
    links: linkColumns(net, r, tolled),
    ...analyseRun(net, r, classes ?? defaultClasses(net), task.analysis),
  };
  return { status: "done", result: { output, ...(task.files ? { files: equilibriumFiles(net, r, summary, tolled) } : {}) } };
}

/**
 * The elastic-demand problem of an assignment's `demand` setting (undefined: fixed demand),
 * pivoted on the no-toll equilibrium solved with the run's algorithm and gap.
 * @throws InputError naming the file or `settings.demand` and the field
 */
function elasticProblem(net: Network, s: AssignTaskSettings, classes: UserClass[] | undefined): ElasticDemandProblem | undefined {
  const d = s.demand;
  if (d === undefined) return undefined;
  const file = typeof d === "object" && "file" in d && typeof d.file === "string" && !("form" in d) ? d.file : undefined;
  const source = file
    ? { file, at: "" }
    : typeof d === "string"
      ? { file: "--demand-function", at: "" }
      : { file: "request body", at: "settings.demand" };
  const spec = file
    ? parseDemandFunction(readJsonFile(file, MOD, "a JSON demand function"), file)
    : parseDemandFunction(d, source.file, source.at || undefined);
  try {
    return ElasticDemandProblem.create(net, spec, {
      classes,
      pivotSolver: {
        algorithm: s.algorithm,
        gap: s.gap ?? FOLLOWER_DEFAULTS.gap,
        maxIterations: s.maxIterations,
        maxSeconds: s.maxSeconds,
      },
    });
  } catch (e) {
    // the network-dependent checks (zones, classes) name the field under `demand`: say where it came from
    const ie = e as InputError;
    if (!isInputError(e) || ie.file !== undefined || !ie.field?.startsWith("demand")) throw e;
    const rest = ie.field.slice("demand".length).replace(/^\./, "");
    const field = [source.at, rest].filter(Boolean).join(".") || "(root)";
    throw new InputError(ie.message.slice(0, ie.message.indexOf(":")), ie.reason, { file: source.file, field }, ie.expected);
  }
}

async function runDesign(task: DesignTask, hooks: ExecuteHooks): Promise<ExecuteOutcome> {
  const { design, parseScenario, scenarioClasses, scenarioNetwork, testFailAfterSolves } = await import("@tollkit/leader");
  const scenario = parseScenario(task.scenario, task.label);
  if (typeof scenario.network === "string" && !task.allowPaths) await loadRunNetwork(scenario.network); // refuses paths
  const restore = seedGridCity(task.seed);
  const t0 = performance.now();
  // design() has no time limit of its own: a timer aborts it, and the run fails saying so.
  const limit = new AbortController();
  const timer = task.maxSeconds !== undefined ? setTimeout(() => limit.abort(), task.maxSeconds * 1000) : undefined;
  const signal = hooks.signal ? AbortSignal.any([hooks.signal, limit.signal]) : limit.signal;
  try {
    let r;
    try {
      r = await design(scenario, {
        signal,
        failAfterSolves: testFailAfterSolves(),
        onProgress: (p) =>
          hooks.onProgress?.({
            iteration: p.solves,
            solves: p.solves,
            relativeGap: null,
            elapsedMs: performance.now() - t0,
            fraction: null,
            phase: p.phase,
            value: p.value ?? null,
          }),
      });
    } catch (e) {
      if (hooks.signal?.aborted) return { status: "cancelled" };
      if (limit.signal.aborted) throw new Error(`${MOD}: the design did not finish within settings.maxSeconds = ${task.maxSeconds} s`);
      throw e;
    }
    if (hooks.signal?.aborted) return { status: "cancelled" };
    const net = await scenarioNetwork(scenario);
    const classes = scenarioClasses(scenario, net);
    const tolled = classes.map((c) => c.tolled);
    const summary = designSummary(r, task.form ?? "api");
    const output: RunOutput = {
      summary,
      convergence: historyColumns(r.history),
      links: linkColumns(net, r.equilibrium, tolled),
      ...analyseRun(net, r.equilibrium, classes, task.analysis),
    };
    return { status: "done", result: { output, ...(task.files ? { files: designFiles(net, r, summary, tolled) } : {}) } };
  } finally {
    clearTimeout(timer);
    restore();
  }
}

/**
 * Makes the built-in `grid-city` network generate its demand with `seed` while a design runs
 * (the leader loads networks by id through the registry); returns the function that restores it.
 */
function seedGridCity(seed: number | undefined): () => void {
  if (seed === undefined) return () => {};
  const before = BUILTIN_NETWORKS["grid-city"];
  BUILTIN_NETWORKS["grid-city"] = { ...before, make: () => gridCity({ seed }) };
  return () => {
    BUILTIN_NETWORKS["grid-city"] = before;
  };
}

/**
 * Executes one run to completion.
 * @returns the result, or `{status: "cancelled"}` when `hooks.signal` stopped it
 * @throws InputError for bad input (unknown network, a toll on a link that does not exist, …)
 *   and Error when the solver fails
 */
export async function executeTask(task: RunTask, hooks: ExecuteHooks = {}): Promise<ExecuteOutcome> {
  if (hooks.signal?.aborted) return { status: "cancelled" };
  return task.kind === "assign" ? runAssign(task, hooks) : runDesign(task, hooks);
}
