/**
 * What a run does, independent of where it runs (the runner child process calls
 * {@link executeJob}; a Redis-backed worker could call the same function).
 *
 * An `assign` run solves the follower problem with `solve()` from @tollkit/follower on a
 * catalogue or built-in network, with the run's tolls; a `design` run calls the leader's
 * `design()` on a scenario. The output is the run's summary (the same fields as
 * `tollkit assign --json` or `design --json`), a columnar convergence report (a design: its
 * search history) and per-link columns (a design: of the tolled equilibrium).
 */
import { BUILTIN_NETWORKS, buildNetwork, InputError, loadCatalogue, loadNetwork, Network, NetworkSpec } from "@tollkit/graph-core";
import { classesFromSpec, FollowerOptions, FollowerResult, IterationRecord, ProgressEvent, solve } from "@tollkit/follower";
import type { DesignProgress, DesignResult } from "@tollkit/leader";
import type { LinkColumns, RunKind, RunOutput } from "./store.js";

const MOD = "api/jobs";

/** A run as handed to a queue: everything a worker needs, as plain JSON. */
export interface RunJob {
  runId: number;
  kind: RunKind;
  network: string;
  /** Effective settings (validated by the server). */
  settings: Record<string, unknown>;
  /** The scenario's JSON for design runs (and assign runs started from a scenario). */
  scenario?: { id: number; body: unknown };
}

/**
 * Progress of a run as reported to clients. Assign runs: the follower's iteration and relative
 * gap. Design runs: `iteration` counts equilibrium solves, with the leader's `phase` and the
 * objective `value` of the last evaluation (`relativeGap` is null).
 */
export interface RunProgress {
  iteration: number;
  relativeGap: number | null;
  elapsedMs: number;
  /** Rough fraction done in [0, 1] (null where unknown). */
  fraction: number | null;
  phase?: string;
  value?: number | null;
}

/** Callbacks and cancellation of one job. */
export interface JobHooks {
  onProgress: (p: RunProgress) => void;
  signal: AbortSignal;
}

/** The result of a job: its output, or "cancelled" when the signal stopped it. */
export type JobOutcome = { status: "done"; output: RunOutput } | { status: "cancelled" };

/**
 * Loads a network named by id, refusing anything that is not a catalogue or built-in id (never
 * a path). `scenario:<id>` names the inline network of that scenario, passed as `scenario`.
 */
export async function loadNetworkById(id: string, scenario?: { id: number; body: unknown }): Promise<Network> {
  if (id.startsWith("scenario:")) {
    if (!scenario || id !== `scenario:${scenario.id}`) throw new InputError(MOD, `network ${id} needs its scenario`, { field: "network" });
    return buildNetwork((scenario.body as { network: NetworkSpec }).network);
  }
  const known = id in BUILTIN_NETWORKS || loadCatalogue().networks.some((n) => n.id === id && n.supported !== false);
  if (!known) throw new InputError(MOD, `unknown network "${id}"`, { field: "network" }, "a catalogue or built-in network id");
  return loadNetwork(id);
}

/** Columnar form of a convergence report. */
export function convergenceColumns(records: IterationRecord[]): Record<string, number[]> {
  return {
    iteration: records.map((r) => r.iteration),
    relativeGap: records.map((r) => r.relativeGap),
    step: records.map((r) => r.step),
    objective: records.map((r) => r.objective),
    elapsedMs: records.map((r) => r.elapsedMs),
  };
}

/**
 * Per-link columns of a follower result: from/to (file node ids), capacity, flow (PCE), time,
 * cost (generalised cost of the first class), toll and revenue (Σ over tolled classes of class
 * flow × toll; `tolled[k]` says whether class k pays, default every class).
 */
export function linkColumns(net: Network, r: FollowerResult, tolled?: readonly boolean[]): LinkColumns {
  const m = net.linkCount;
  const from = new Float64Array(m);
  const to = new Float64Array(m);
  const revenue = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    from[i] = net.nodeIds[net.links.from[i]];
    to[i] = net.nodeIds[net.links.to[i]];
  }
  r.classes.forEach((c, k) => {
    if (tolled && !tolled[k]) return;
    for (let i = 0; i < m; i++) revenue[i] += c.flows[i] * r.tolls[i];
  });
  return {
    linkCount: m,
    columns: {
      from,
      to,
      capacity: Float64Array.from(net.links.capacity),
      flow: Float64Array.from(r.flows),
      time: Float64Array.from(r.times),
      cost: Float64Array.from(r.classes[0]?.costs ?? r.times),
      toll: Float64Array.from(r.tolls),
      revenue,
    },
  };
}

/** The `assign --json` summary of a follower result. */
export function assignSummary(r: FollowerResult): Record<string, unknown> {
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
    classes: r.classes.map((c) => ({ name: c.name, demand: c.demand, revenue: c.revenue })),
    warnings: r.warnings,
  };
}

/** The tolls of a network with a run's `tolls` setting applied (links not listed keep theirs). */
export function tollVector(net: Network, tolls: { link: number; toll: number }[] | undefined): Float64Array {
  const t = Float64Array.from(net.links.toll);
  (tolls ?? []).forEach((e, k) => {
    if (!(Number.isInteger(e.link) && e.link >= 1 && e.link <= net.linkCount))
      throw new InputError(
        MOD,
        `link ${e.link} is not in ${net.name}`,
        { field: `settings.tolls[${k}].link` },
        `a link id in 1..${net.linkCount}`,
      );
    t[e.link - 1] = e.toll;
  });
  return t;
}

async function runAssign(job: RunJob, hooks: JobHooks): Promise<JobOutcome> {
  const net = await loadNetworkById(job.network, job.scenario);
  const s = job.settings as {
    algorithm: FollowerOptions["algorithm"];
    objective?: FollowerOptions["objective"];
    gap?: number;
    maxIterations?: number;
    maxSeconds?: number;
    tolls?: { link: number; toll: number }[];
    classes?: unknown[];
  };
  const classes = s.classes !== undefined ? classesFromSpec(s.classes, net, "request body", "settings.classes") : undefined;
  const r = await solve(net, {
    algorithm: s.algorithm,
    classes,
    objective: s.objective,
    gap: s.gap,
    maxIterations: s.maxIterations,
    maxSeconds: s.maxSeconds,
    tolls: tollVector(net, s.tolls),
    signal: hooks.signal,
    onProgress: (p: ProgressEvent) =>
      hooks.onProgress({ iteration: p.iteration, relativeGap: p.relativeGap, elapsedMs: p.elapsedMs, fraction: p.fraction }),
  });
  if (r.stopReason === "cancelled" || hooks.signal.aborted) return { status: "cancelled" };
  const tolled = classes?.map((c) => c.tolled);
  return {
    status: "done",
    output: {
      summary: assignSummary(r),
      convergence: convergenceColumns(r.convergence),
      links: linkColumns(net, r, tolled),
    },
  };
}

/** The `design --json` summary of a design result, with the tolled equilibrium's own summary. */
export function designSummary(r: DesignResult): Record<string, unknown> {
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
    ...(r.surface ? { surface: r.surface } : {}),
    ties: r.ties,
    diagnostics: r.diagnostics,
    equilibrium: assignSummary(r.equilibrium),
  };
}

/** Columnar form of a design's search history. */
export function historyColumns(rows: DesignResult["history"]): Record<string, unknown[]> {
  return {
    step: rows.map((h) => h.step),
    solves: rows.map((h) => h.solves),
    value: rows.map((h) => h.value),
    merit: rows.map((h) => h.merit),
    tstt: rows.map((h) => h.tstt),
    revenue: rows.map((h) => h.revenue),
    accepted: rows.map((h) => h.accepted),
    phase: rows.map((h) => h.phase),
  };
}

async function runDesign(job: RunJob, hooks: JobHooks): Promise<JobOutcome> {
  if (!job.scenario) throw new InputError(MOD, "a design run needs its scenario", { field: "scenario" });
  // loaded here, not at the top: assign runs start faster without the leader
  const { design, parseScenario, scenarioClasses, scenarioNetwork } = await import("@tollkit/leader");
  const scenario = parseScenario(job.scenario.body, `scenario ${job.scenario.id}`);
  if (typeof scenario.network === "string") await loadNetworkById(scenario.network); // refuses paths even if one was stored
  const t0 = performance.now();
  const maxSeconds = typeof job.settings.maxSeconds === "number" ? job.settings.maxSeconds : undefined;
  // design() has no time limit of its own: a timer aborts it, and the run fails saying so.
  const limit = new AbortController();
  const timer = maxSeconds !== undefined ? setTimeout(() => limit.abort(), maxSeconds * 1000) : undefined;
  const signal = AbortSignal.any([hooks.signal, limit.signal]);
  let r: DesignResult;
  try {
    r = await design(scenario, {
      signal,
      onProgress: (p: DesignProgress) =>
        hooks.onProgress({
          iteration: p.solves,
          relativeGap: null,
          elapsedMs: performance.now() - t0,
          fraction: null,
          phase: p.phase,
          value: p.value ?? null,
        }),
    });
  } catch (e) {
    if (hooks.signal.aborted) return { status: "cancelled" };
    if (limit.signal.aborted) throw new Error(`${MOD}: the design did not finish within settings.maxSeconds = ${maxSeconds} s`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const net = await scenarioNetwork(scenario);
  const tolled = scenarioClasses(scenario, net).map((c) => c.tolled);
  return {
    status: "done",
    output: { summary: designSummary(r), convergence: historyColumns(r.history), links: linkColumns(net, r.equilibrium, tolled) },
  };
}

/**
 * Executes one run to completion.
 * @returns the output, or `{status: "cancelled"}` when `hooks.signal` stopped it
 * @throws InputError for bad input (unknown network, a toll on a link that does not exist, …)
 *   and Error when the solver fails
 */
export async function executeJob(job: RunJob, hooks: JobHooks): Promise<JobOutcome> {
  if (hooks.signal.aborted) return { status: "cancelled" };
  return job.kind === "assign" ? runAssign(job, hooks) : runDesign(job, hooks);
}
