/**
 * `pnpm bench design`: toll design on the example scenarios — equilibrium solves and seconds.
 *
 * One JSON line per scenario: the method's equilibrium solves, all solves of the run, wall time
 * of the run and of each phase, the objective (design, no-toll baseline, first-best) and the
 * share of the first-best improvement captured. Beside it, the baseline measured in the same
 * process: the seconds of one cold equilibrium solve of the same network with the same follower
 * settings (`secondsPerSolve` = seconds / that solve is the figure to compare across machines).
 *
 * Extra lines:
 * - `sioux-falls-second-best-10 (derivative-free, 10x solves)`: the pattern search given ten
 *   times the gradient search's budget, to compare objective values;
 * - `chicago-sketch first-best`: first-best tolls on every Chicago-Sketch link with the check by a
 *   tolled user equilibrium (the `first-best` phase: the system optimum and its verification).
 *
 * The leader at scale (issue 13): `chicago-sketch-second-best-50`, `chicago-sketch-second-best-20`,
 * `berlin-center-cordon` and `berlin-center first-best` (first-best tolls on every Berlin-Center
 * link with the cordon scenario's settings) each run in a child process of their own, beside a
 * child that solves one plain (no-toll, cold) equilibrium of the same network with the same
 * follower settings, so that both peak RSS figures are the process's own. Their lines add
 * `wallTimeInPlainSolves` (the design's seconds / the plain solve's) and `peakRssMB`,
 * `plainAssignPeakRssMB` and `rssRatio` (target ≤ 2), and the resident memory after every
 * equilibrium solve (`rssMBBySolve`, MiB) with `rssGrowthMB`: the largest of the last third of
 * those figures less the largest of the first third (no growth along the search: ≤ 0 or noise).
 *
 * `TOLLKIT_BENCH_SCENARIOS=chicago-sketch-second,berlin` runs only the scenarios whose file
 * names contain one of the given parts; `TOLLKIT_BENCH_CASES=berlin-center first-best` (exact
 * case names, comma-separated) only those cases of the heavy scenarios.
 *
 * Targets: Sioux Falls second-best on 10 links ≤ 40 equilibrium solves and ≤ 5 s (the search);
 * Chicago-Sketch first-best ≤ 5 s including its verification; a design's peak RSS ≤ 2× a plain
 * assign's. The machine is shared (2 cores): timings are noisy while other work runs.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { solve } from "@tollkit/follower";
import { design, DesignResult, loadScenario, Scenario, scenarioClasses, scenarioNetwork } from "@tollkit/leader";

const dir = join(import.meta.dirname, "..", "..", "..", "scenarios");

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/** Seconds of one cold equilibrium solve with the scenario's network, classes and follower settings. */
async function oneSolve(s: Scenario): Promise<number> {
  const net = await scenarioNetwork(s);
  const classes = scenarioClasses(s, net);
  const r = await solve(net, { ...s.follower, classes, tolls: new Float64Array(net.linkCount) });
  return r.seconds;
}

function line(name: string, s: Scenario, r: DesignResult, solveSeconds: number, target?: Record<string, number>): void {
  const searchSeconds = r.method === "first-best" ? (r.solves.secondsByPhase["first-best"] ?? 0) : (r.solves.secondsByPhase.search ?? 0);
  const meets: Record<string, boolean> = {};
  if (target?.solves !== undefined) meets.solves = r.equilibriumSolves <= target.solves;
  if (target?.seconds !== undefined) meets.seconds = searchSeconds <= target.seconds;
  emit({
    bench: "design",
    scenario: name,
    network: r.network,
    method: r.method,
    objective: r.objective,
    follower: s.follower,
    equilibriumSolves: r.equilibriumSolves,
    totalSolves: r.solves.total,
    solvesByPhase: r.solves.byPhase,
    seconds: r.seconds,
    searchSeconds,
    secondsByPhase: r.solves.secondsByPhase,
    value: r.value,
    baseline: r.baseline,
    firstBest: r.firstBest,
    shareCaptured: r.shareCaptured,
    baselineSolveSeconds: solveSeconds,
    secondsPerSolve: r.seconds / solveSeconds,
    ...(target ? { target, meetsTarget: meets } : {}),
    stopReason: r.diagnostics.stopReason,
    gradientCheckAgrees: r.diagnostics.gradientCheck?.agrees ?? null,
  });
}

/** The scenarios that run in child processes (peak RSS against a plain assign of the same network). */
const HEAVY = ["chicago-sketch-second-best-50", "chicago-sketch-second-best-20", "berlin-center-cordon"];

/** A child process's job: `assign` (one plain cold solve) or `design`, of a scenario given as JSON. */
async function child(kind: string, file: string, json: string): Promise<void> {
  const s = { ...(JSON.parse(json) as Scenario), file };
  if (kind === "assign") {
    const seconds = await oneSolve(s);
    emit({ seconds, peakRssMB: process.resourceUsage().maxRSS / 1024 });
    return;
  }
  // resident memory after every equilibrium solve: flat along the search, or growing
  const rssBySolve: number[] = [];
  const r = await design(s, { onProgress: () => rssBySolve.push(Math.round(process.memoryUsage().rss / 2 ** 20)) });
  const third = Math.max(1, Math.floor(rssBySolve.length / 3));
  emit({
    seconds: r.seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    rssMBBySolve: rssBySolve,
    rssGrowthMB: Math.max(...rssBySolve.slice(-third)) - Math.max(...rssBySolve.slice(0, third)),
    network: r.network,
    method: r.method,
    objective: r.objective,
    partial: r.partial,
    error: r.error?.message ?? null,
    equilibriumSolves: r.equilibriumSolves,
    totalSolves: r.solves.total,
    solvesByPhase: r.solves.byPhase,
    secondsByPhase: r.solves.secondsByPhase,
    value: r.value,
    baseline: r.baseline,
    firstBest: r.firstBest,
    shareCaptured: r.shareCaptured,
    stopReason: r.diagnostics.stopReason,
    polish: r.diagnostics.polish ?? null,
    gradientCheckAgrees: r.diagnostics.gradientCheck?.agrees ?? null,
    // the derivative, and the finite difference at each gap the check tried
    gradientCheckAnalytic: r.diagnostics.gradientCheck?.rows[0]?.analytic ?? null,
    gradientCheckTries: r.diagnostics.gradientCheck?.tries ?? null,
  });
}

/** Runs `kind` for scenario `s` in a child process and returns its JSON line. */
function inChild(kind: string, s: Scenario): Record<string, unknown> {
  const { file, ...json } = s;
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, "--child", kind, file ?? join(dir, "x.json"), JSON.stringify(json)],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 26,
    },
  );
  if (r.status !== 0) throw new Error(`${kind} child exited ${r.status}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** One heavy case: a plain assign and the design, each in its own process. */
function heavy(name: string, s: Scenario): void {
  const plain = inChild("assign", s);
  const d = inChild("design", s);
  const rssRatio = (d.peakRssMB as number) / (plain.peakRssMB as number);
  emit({
    bench: "design",
    scenario: name,
    follower: s.follower,
    ...d,
    plainSolveSeconds: plain.seconds,
    wallTimeInPlainSolves: (d.seconds as number) / (plain.seconds as number),
    plainAssignPeakRssMB: plain.peakRssMB,
    rssRatio,
    target: { rssRatio: 2 },
    meetsTarget: { rssRatio: rssRatio <= 2 },
  });
}

if (process.argv[2] === "--child") {
  await child(process.argv[3], process.argv[4], process.argv[5]);
  process.exit(0);
}

const targets: Record<string, Record<string, number>> = {
  "sioux-falls-second-best-10": { solves: 40, seconds: 5 },
};

// TOLLKIT_BENCH_SCENARIOS=a,b runs only the scenarios whose file names contain a or b
const only = process.env.TOLLKIT_BENCH_SCENARIOS?.split(",").filter((x) => x !== "");
// TOLLKIT_BENCH_CASES=berlin-center first-best runs only the named cases (lines) of those files
const cases = process.env.TOLLKIT_BENCH_CASES?.split(",").filter((x) => x !== "");
const wanted = (name: string) => !cases || cases.includes(name);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".json") && f !== "scenario.schema.json")
  .filter((f) => !only || only.some((o) => f.includes(o)))
  .sort();

for (const f of files) {
  const name = f.replace(/\.json$/, "");
  const s = loadScenario(join(dir, f));
  try {
    if (HEAVY.includes(name)) {
      if (wanted(name)) heavy(name, s);
      if (name === "berlin-center-cordon" && wanted("berlin-center first-best"))
        heavy("berlin-center first-best", {
          ...s,
          method: { type: "first-best" },
          instrument: { type: "links", links: "all", bounds: { min: 0 } },
        } as Scenario);
      continue;
    }
    const solveSeconds = await oneSolve(s);
    const r = await design(s);
    line(name, s, r, solveSeconds, targets[name]);
    if (name === "sioux-falls-second-best-10" && s.method.type === "gradient") {
      const d = await design({
        ...s,
        firstBest: false,
        method: { type: "derivative-free", maxSolves: 10 * s.method.maxSolves, start: s.method.start, gradientCheck: false },
      } as Scenario);
      line(`${name} (derivative-free, 10x solves)`, s, d, solveSeconds);
      emit({
        bench: "design",
        comparison: name,
        gradientValue: r.value,
        derivativeFreeValue: d.value,
        gradientAtLeastAsGood: r.value <= d.value,
      });
    }
    if (name === "chicago-sketch-cordon") {
      const fb = { ...s, method: { type: "first-best" }, instrument: { type: "links", links: "all", bounds: { min: 0 } } } as Scenario;
      for (const gap of [s.follower.gap, 1e-10]) {
        const g = { ...fb, follower: { ...s.follower, gap } };
        line(`chicago-sketch first-best (gap ${gap})`, g, await design(g), solveSeconds, { seconds: 5 });
      }
    }
  } catch (e) {
    emit({ bench: "design", scenario: name, error: (e as Error).message });
  }
}
