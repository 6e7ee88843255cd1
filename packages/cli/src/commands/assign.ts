/**
 * `tollkit assign <network> [--algorithm aon|msa|fw|cfw|bfw|bush] [--objective ue|so]
 *  [--gap 1e-4] [--max-iterations N] [--max-seconds S] [--tolls file.csv] [--classes file.json]
 *  [--out DIR] [--json]`: solves the follower problem (user equilibrium or system optimum) on a
 * network and reports TSTT, SPTT, relative gap, Beckmann objective and revenue.
 *
 * `--json` prints one JSON object: network, algorithm, objective, converged, stopReason,
 * iterations, relativeGap, averageExcessCost, tstt, totalCost, sptt, beckmann (the Beckmann
 * objective in generalised cost, comparable with the catalogue's best-known objectives),
 * revenue, seconds, classes, warnings, beckmannTime (its time-only integral) and the settings used. `--out DIR` writes summary.json (the same
 * object), flows.csv, convergence.csv and flows.geojson atomically (see ../output.ts).
 */
import { Command, Option } from "commander";
import { ALGORITHMS, FOLLOWER_DEFAULTS, OBJECTIVES } from "@tollkit/follower";
import { InputError, writeFilesAtomic } from "@tollkit/graph-core";
import { AssignSummary, executeTask } from "@tollkit/runs";
import { formatGap, formatNumber, formatSeconds } from "../format.js";
import { addOdOptions, odAnalysis, selectLinkText, writeOdFiles } from "./od-files.js";

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
  demandFunction?: string;
  valueOfTime?: number;
  allowSubsidies?: boolean;
  out?: string;
  json?: boolean;
  skims?: boolean;
  selectLink?: number[] | true;
}

/** The human-readable report. */
export function assignText(r: AssignSummary, flags: AssignFlags, extra: { odFiles?: string[]; selectLink?: string[] } = {}): string {
  const kind = r.objective === "so" ? "system optimum" : "user equilibrium";
  const how =
    r.stopReason === "gap"
      ? `converged in ${r.iterations} iterations`
      : `stopped by ${r.stopReason === "cancelled" ? "cancellation" : r.stopReason === "stalled" ? "a stalled gap" : `the ${r.stopReason} limit`} after ${r.iterations} iterations`;
  const out = [
    `${r.network}: ${kind} by ${r.algorithm}, ${how}, ${formatSeconds(r.seconds)}`,
    `  relative gap      ${formatGap(r.relativeGap)} (target ${formatGap(flags.gap)})`,
    `  TSTT              ${formatNumber(r.tstt)}`,
    `  total cost        ${formatNumber(r.totalCost)}${r.objective === "so" ? " (marginal cost, as the system optimum equilibrates it)" : ""}`,
    `  SPTT              ${formatNumber(r.sptt)}`,
    `  avg excess cost   ${formatNumber(r.averageExcessCost)}`,
    `  Beckmann          ${formatNumber(r.beckmann)}${r.objective === "so" ? " (at the system optimum's flows)" : ""}`,
    ...(r.beckmannTime !== r.beckmann ? [`  Beckmann (time)   ${formatNumber(r.beckmannTime)} (without the toll and distance terms)`] : []),
    `  revenue           ${formatNumber(r.revenue)}`,
  ];
  if (r.classes.length > 1)
    for (const c of r.classes) out.push(`  class ${c.name}: demand ${formatNumber(c.demand)}, revenue ${formatNumber(c.revenue)}`);
  if (r.demand)
    out.push(
      `  elastic demand    ${r.demand.form}: trips made ${formatNumber(r.demand.tripsMade)} of ${formatNumber(r.demand.tripsReference)} (not made ${formatNumber(r.demand.tripsNotMade)})`,
      `  welfare           ${formatNumber(r.demand.welfare)} (consumer surplus ${formatNumber(r.demand.consumerSurplus)} + revenue)`,
    );
  out.push(...(extra.selectLink ?? []));
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (flags.out)
    out.push(
      `wrote summary.json, flows.csv, convergence.csv, flows.geojson${(extra.odFiles ?? []).map((f) => `, ${f}`).join("")} to ${flags.out}`,
    );
  return out.join("\n");
}

export function registerAssign(program: Command): void {
  const cmd = program
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
    .addOption(
      new Option("--value-of-time <v>", "value of time of every class, money per time unit (tollFactor = 1/v)").argParser(
        numberFlag("--value-of-time", (v) => v > 0, "money per time unit > 0"),
      ),
    )
    .option(
      "--demand-function <spec>",
      "elastic demand pivoted on the no-toll equilibrium: FORM:ELASTICITY or FORM:rate=R (FORM exponential, linear or power), or a JSON file {type: elastic, form, elasticity|rate, zones, classes}",
    )
    .option("--allow-subsidies", "accept negative tolls in the tolls file (subsidies)")
    .option("--out <dir>", "write summary.json, flows.csv, convergence.csv and flows.geojson into this folder")
    .option("--json", "print one JSON object");
  addOdOptions(cmd, MOD)
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
        "  tollkit assign sioux-falls --algorithm bush --gap 1e-10 --value-of-time 1 --tolls tolls.csv --demand-function exponential:0.3",
        "  tollkit assign sioux-falls --algorithm bush --gap 1e-10 --skims --select-link 39,74 --out out/sf",
        "",
        "tolls.csv:               classes.json:",
        '  link,toll                [{"name": "car", "demandShare": 0.8, "valueOfTime": 0.5},',
        '  1,2.5                     {"name": "truck", "demandShare": 0.2, "tollFactor": 1, "pce": 2.5}]',
      ].join("\n"),
    )
    .action(async (spec: string, flags: AssignFlags) => {
      const analysis = odAnalysis(flags, MOD);
      const outcome = await executeTask({
        kind: "assign",
        network: spec,
        allowPaths: true,
        settings: {
          algorithm: flags.algorithm,
          objective: flags.objective,
          gap: flags.gap,
          maxIterations: flags.maxIterations,
          maxSeconds: flags.maxSeconds,
          tolls: flags.tolls !== undefined ? { file: flags.tolls } : undefined,
          classes: flags.classes !== undefined ? { file: flags.classes } : undefined,
          valueOfTime: flags.valueOfTime,
          allowSubsidies: flags.allowSubsidies,
          demand:
            flags.demandFunction === undefined
              ? undefined
              : flags.demandFunction.endsWith(".json")
                ? { file: flags.demandFunction }
                : flags.demandFunction,
        },
        record: { tolls: flags.tolls ?? null, classes: flags.classes ?? null },
        files: flags.out !== undefined,
        analysis,
      });
      if (outcome.status !== "done") throw new Error("cli/assign: the solve was cancelled");
      const { output, files } = outcome.result;
      if (flags.out !== undefined) writeFilesAtomic(flags.out, files ?? []);
      const odFiles = flags.out !== undefined ? writeOdFiles(flags.out, output) : [];
      const summary = output.summary as AssignSummary;
      process.stdout.write(
        flags.json ? `${JSON.stringify(summary)}\n` : `${assignText(summary, flags, { odFiles, selectLink: selectLinkText(output) })}\n`,
      );
    });
}
