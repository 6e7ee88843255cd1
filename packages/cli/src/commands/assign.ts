/**
 * `tollkit assign <network> [--algorithm aon|msa|fw|cfw|bfw|bush] [--objective ue|so]
 *  [--gap 1e-4] [--max-iterations N] [--max-seconds S] [--tolls file.csv] [--classes file.json]
 *  [--out DIR] [--json]`: solves the follower problem (user equilibrium or system optimum) on a
 * network and reports TSTT, SPTT, relative gap, Beckmann objective and revenue.
 *
 * `--json` prints one JSON object: network, algorithm, objective, converged, stopReason,
 * iterations, relativeGap, averageExcessCost, tstt, totalCost, sptt, beckmann, potential (the
 * minimised objective: Beckmann plus fixed generalised costs, comparable with the catalogue's
 * best-known objectives), revenue, seconds, classes, warnings and the settings used. `--out DIR` writes summary.json (the same
 * object), flows.csv, convergence.csv and flows.geojson atomically (see ../output.ts).
 */
import { Command, Option } from "commander";
import { assignSummary } from "@tollkit/api";
import {
  ALGORITHMS,
  FOLLOWER_DEFAULTS,
  FollowerResult,
  OBJECTIVES,
  readClassesFile,
  readTollsFile,
  solve,
  UserClass,
} from "@tollkit/follower";
import { InputError, loadNetwork } from "@tollkit/graph-core";
import { equilibriumFiles, writeOutputDir } from "../output.js";

const MOD = "cli/assign";

/** Parses a number flag: finite and passing `ok`, else an InputError naming the flag. */
function numberFlag(flag: string, ok: (v: number) => boolean, expected: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || !ok(n)) throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: flag }, expected);
    return n;
  };
}

function oneOf(flag: string, names: readonly string[]) {
  return (v: string): string => {
    if (!names.includes(v))
      throw new InputError(MOD, `unknown ${flag.replace(/^--/, "")} "${v}"`, { field: flag }, `one of ${names.join(", ")}`);
    return v;
  };
}

interface AssignFlags {
  algorithm: (typeof ALGORITHMS)[number];
  objective: (typeof OBJECTIVES)[number];
  gap: number;
  maxIterations?: number;
  maxSeconds?: number;
  tolls?: string;
  classes?: string;
  out?: string;
  json?: boolean;
}

/** The `--json` object and `summary.json` of an assignment: the API's summary plus the settings used. */
export function assignJson(r: FollowerResult, flags: AssignFlags): Record<string, unknown> {
  return {
    ...assignSummary(r),
    potential: r.potential ?? null,
    settings: {
      algorithm: flags.algorithm,
      objective: flags.objective,
      gap: flags.gap,
      maxIterations: flags.maxIterations ?? null,
      maxSeconds: flags.maxSeconds ?? null,
      tolls: flags.tolls ?? null,
      classes: flags.classes ?? null,
    },
  };
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e7 || a < 1e-3) ? v.toExponential(4) : Number(v.toPrecision(8)).toString();
}

/** The human-readable report. */
export function assignText(r: FollowerResult, flags: AssignFlags): string {
  const kind = r.objective === "so" ? "system optimum" : "user equilibrium";
  const how =
    r.stopReason === "gap"
      ? `converged in ${r.iterations} iterations`
      : `stopped by ${r.stopReason === "cancelled" ? "cancellation" : r.stopReason === "stalled" ? "a stalled gap" : `the ${r.stopReason} limit`} after ${r.iterations} iterations`;
  const out = [
    `${r.network}: ${kind} by ${r.algorithm}, ${how}, ${r.seconds.toFixed(2)} s`,
    `  relative gap      ${fmt(r.relativeGap)} (target ${fmt(flags.gap)})`,
    `  TSTT              ${fmt(r.tstt)}`,
    `  total cost        ${fmt(r.totalCost)}${r.objective === "so" ? " (marginal cost, as the system optimum equilibrates it)" : ""}`,
    `  SPTT              ${fmt(r.sptt)}`,
    `  avg excess cost   ${fmt(r.averageExcessCost)}`,
    `  Beckmann          ${fmt(r.beckmann)}`,
    ...(r.potential !== undefined && r.potential !== r.beckmann
      ? [`  potential         ${fmt(r.potential)} (the minimised objective, with fixed generalised costs)`]
      : []),
    `  revenue           ${fmt(r.revenue)}`,
  ];
  if (r.classes.length > 1) for (const c of r.classes) out.push(`  class ${c.name}: demand ${fmt(c.demand)}, revenue ${fmt(c.revenue)}`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (flags.out) out.push(`wrote summary.json, flows.csv, convergence.csv, flows.geojson to ${flags.out}`);
  return out.join("\n");
}

export function registerAssign(program: Command): void {
  program
    .command("assign")
    .description("Solve the follower problem: Wardrop user equilibrium or system optimum, one or more user classes")
    .argument("<network>", "a catalogue id, a built-in id, a path to a *_net.tntp file (its *_trips.tntp beside it) or a GMNS folder")
    .addOption(
      new Option("--algorithm <name>", `one of ${ALGORITHMS.join(", ")}`)
        .default(FOLLOWER_DEFAULTS.algorithm)
        .argParser(oneOf("--algorithm", ALGORITHMS)),
    )
    .addOption(
      new Option("--objective <name>", "ue (user equilibrium) or so (system optimum)")
        .default(FOLLOWER_DEFAULTS.objective)
        .argParser(oneOf("--objective", OBJECTIVES)),
    )
    .addOption(
      new Option("--gap <gap>", "relative gap to reach")
        .default(FOLLOWER_DEFAULTS.gap)
        .argParser(numberFlag("--gap", (v) => v > 0, "a relative gap > 0, e.g. 1e-4")),
    )
    .addOption(
      new Option("--max-iterations <n>", "most iterations").argParser(
        numberFlag("--max-iterations", (v) => Number.isInteger(v) && v > 0, "a positive integer"),
      ),
    )
    .addOption(
      new Option("--max-seconds <s>", "most seconds of wall time").argParser(
        numberFlag("--max-seconds", (v) => v > 0, "a number of seconds > 0"),
      ),
    )
    .option("--tolls <file>", "tolls CSV with the header link,toll (1-based link ids, money); links not listed keep the network's toll")
    .option("--classes <file>", "user classes JSON: [{name, demandScale|demandShare, valueOfTime|tollFactor, pce, tolled}]")
    .option("--out <dir>", "write summary.json, flows.csv, convergence.csv and flows.geojson into this folder")
    .option("--json", "print one JSON object")
    .addHelpText(
      "after",
      [
        "",
        "The first stopping rule met stops the solver (the gap always applies; add --max-iterations or --max-seconds to cap the work).",
        "",
        "Examples:",
        "  tollkit assign sioux-falls",
        "  tollkit assign sioux-falls --algorithm fw --gap 1e-3 --json",
        "  tollkit assign sioux-falls --objective so --gap 1e-5",
        "  tollkit assign chicago-sketch --max-seconds 30 --out out/chicago",
        "  tollkit assign two-route --tolls tolls.csv --classes classes.json --json",
        "",
        "tolls.csv:               classes.json:",
        '  link,toll                [{"name": "car", "demandShare": 0.8, "valueOfTime": 0.5},',
        '  1,2.5                     {"name": "truck", "demandShare": 0.2, "tollFactor": 1, "pce": 2.5}]',
      ].join("\n"),
    )
    .action(async (spec: string, flags: AssignFlags) => {
      const net = await loadNetwork(spec);
      const tolls = flags.tolls !== undefined ? readTollsFile(flags.tolls, net) : undefined;
      const classes: UserClass[] | undefined = flags.classes !== undefined ? readClassesFile(flags.classes, net) : undefined;
      const r = await solve(net, {
        algorithm: flags.algorithm,
        objective: flags.objective,
        gap: flags.gap,
        maxIterations: flags.maxIterations,
        maxSeconds: flags.maxSeconds,
        tolls,
        classes,
      });
      const summary = assignJson(r, flags);
      if (flags.out !== undefined) {
        const tolled = (classes ?? [{ tolled: true }]).map((c) => c.tolled);
        writeOutputDir(flags.out, equilibriumFiles(net, r, summary, tolled));
      }
      process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : `${assignText(r, flags)}\n`);
    });
}
