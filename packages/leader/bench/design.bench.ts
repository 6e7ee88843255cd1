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
 * Targets: Sioux Falls second-best on 10 links ≤ 40 equilibrium solves and ≤ 5 s (the search);
 * Chicago-Sketch first-best ≤ 5 s including its verification. The machine is shared (2 cores):
 * timings are noisy while other work runs.
 */
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

const targets: Record<string, Record<string, number>> = {
  "sioux-falls-second-best-10": { solves: 40, seconds: 5 },
};

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".json") && f !== "scenario.schema.json")
  .sort();

for (const f of files) {
  const name = f.replace(/\.json$/, "");
  const s = loadScenario(join(dir, f));
  try {
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
