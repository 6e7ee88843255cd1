/**
 * `tollkit batch <scenario files | folder | sweep.json>... --out DIR [--concurrency N] [--json]
 *  [--seed N] [--timeout S] [--progress auto|bar|json|none] [--dry-run]`: runs many toll designs
 * and assignments, each in its own child process, into one resumable output folder.
 *
 * See ../batch/ for the parts: sweep.ts (the sweep file format), plan.ts (arguments → runs),
 * run-batch.ts (processes, resuming, results.csv), child.ts and execute.ts (one run),
 * progress.ts (the bar and the JSON lines).
 */
import { join } from "node:path";
import { Command, Option } from "commander";
import { InputError } from "@tollkit/graph-core";
import { planBatch } from "../batch/plan.js";
import { BarReporter, JsonReporter, QuietReporter, Reporter } from "../batch/progress.js";
import { completedSummary } from "../batch/results.js";
import { queueRunner } from "../batch/queue.js";
import { runBatch } from "../batch/run-batch.js";

const MOD = "cli/batch";

function integer(flag: string, min: number, max: number, expected: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^[0-9]+$/.test(v.trim()) || !(n >= min && n <= max))
      throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: flag }, expected);
    return n;
  };
}

function seconds(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: "--timeout" }, "seconds > 0");
  return n;
}

interface BatchFlags {
  out: string;
  concurrency: number;
  json?: boolean;
  seed?: number;
  timeout?: number;
  progress: "auto" | "bar" | "json" | "none";
  dryRun?: boolean;
  queue?: string;
  queueName: string;
}

/** The shell-quoted command line, for run.json. */
function commandLine(): string {
  const args = process.argv.slice(2).map((a) => (/^[A-Za-z0-9_./=:+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return ["tollkit", ...args].join(" ");
}

const HELP = `
Inputs: scenario files (as for tollkit design), folders of them (*.json, not recursive;
*.schema.json skipped) and sweep files ({"kind": "sweep", "runs": [...]}: a base scenario or
assignment settings varied over parameter grids; see scenarios/sweeps/ and the README).

Output folder:
  DIR/results.csv        one row per run: settings, status (done/failed/pending), headline numbers
  DIR/runs/<run>/        summary.json, flows.csv, convergence.csv, flows.geojson, run.json
                         (a design also design.json, history.csv); a failed run: run.json, error.json
run.json records tollkit's version, the run's full settings, its seed and the sha256 of its inputs.

Rerunning with the same --out skips complete runs (a folder with summary.json) and runs the rest,
failed runs included. Each run is its own process; killing the batch loses no finished run.
Progress: a live bar on a terminal; JSON lines (start/progress/finish per run, then a summary)
when stdout is not a terminal or with --json. Exit codes: 0 all runs done, 1 some failed,
2 usage or input error, 130/143 interrupted.

Examples:
  tollkit batch scenarios/sweeps/sioux-falls-anaheim-algorithms.json --out out/algorithms --concurrency 2
  tollkit batch scenarios --out out/scenarios
  tollkit batch scenarios/braess.json scenarios/two-route-linear.json --out out/small --json
  tollkit batch scenarios/sweeps/grid-city-seeds.json --out out/seeds --seed 7 --timeout 600
  tollkit batch scenarios/sweeps/sioux-falls-design.json --out out/design --dry-run
  tollkit batch scenarios/sweeps/sioux-falls-anaheim-algorithms.json --out out/algorithms --queue redis://127.0.0.1:6379

With --queue, runs are executed by \`tollkit worker --redis URL\` processes on any machine (see
the README's "Scaling out"); this command still writes every run folder and results.csv.`;

/**
 * Registers `tollkit batch`. Exit codes: 0 every run done, 1 some runs failed, 2 usage or
 * input error (nothing runs), 130/143 interrupted (finished runs are kept; rerun to resume).
 */
export function registerBatch(program: Command): void {
  program
    .command("batch")
    .description("Run many designs and assignments (scenario files, folders, sweep files) into one resumable output folder")
    .argument("<inputs...>", "scenario files, folders of them, or sweep files")
    .requiredOption("--out <dir>", "output folder (results.csv and runs/<run>/); rerun with the same folder to resume")
    .addOption(
      new Option("--concurrency <n>", "runs at once, each in its own process")
        .default(1)
        .argParser(integer("--concurrency", 1, 64, "an integer in 1..64")),
    )
    .option("--json", "progress as JSON lines even on a terminal")
    .addOption(
      new Option("--progress <mode>", "auto: a bar on a terminal, JSON lines otherwise")
        .choices(["auto", "bar", "json", "none"])
        .default("auto"),
    )
    .addOption(
      new Option(
        "--seed <n>",
        "seed of anything random (grid-city demand) where a sweep gives none (default: the sweep's seed, else 1)",
      ).argParser(integer("--seed", 0, 4294967295, "an integer in 0..4294967295")),
    )
    .addOption(
      new Option("--timeout <s>", "longest a run may take, seconds; a run over it is stopped and recorded as failed").argParser(seconds),
    )
    .option("--dry-run", "list the runs (and which are complete) without running them")
    .option("--queue <url>", "execute the runs on tollkit worker processes, through a BullMQ queue on this Redis (redis://host:port)")
    .option("--queue-name <name>", "queue name with --queue", "tollkit-runs")
    .addHelpText("after", HELP)
    .action(async (inputs: string[], flags: BatchFlags) => {
      const plan = planBatch(inputs, { seed: flags.seed });
      const mode = flags.json ? "json" : flags.progress === "auto" ? (process.stdout.isTTY ? "bar" : "json") : flags.progress;
      if (flags.dryRun) {
        const rows = plan.runs.map((r) => ({
          run: r.id,
          kind: r.kind,
          status: r.invalid !== undefined ? "invalid" : completedSummary(join(flags.out, "runs", r.id)) ? "complete" : "to run",
          source: r.source.entry !== undefined ? `${r.source.file}#runs[${r.source.entry}]` : r.source.file,
          parameters: r.parameters,
          ...(r.invalid !== undefined ? { error: r.invalid } : {}),
        }));
        if (mode === "json") {
          for (const w of plan.warnings) process.stdout.write(`${JSON.stringify({ event: "warning", message: w })}\n`);
          for (const row of rows) process.stdout.write(`${JSON.stringify({ event: "plan", ...row })}\n`);
        } else {
          for (const w of plan.warnings) process.stdout.write(`warning: ${w}\n`);
          for (const row of rows)
            process.stdout.write(`${row.status.padEnd(9)} ${row.run}${row.error ? `\n          ${row.error}` : ""}\n`);
          const n = (st: string) => rows.filter((r) => r.status === st).length;
          process.stdout.write(`${rows.length} runs: ${n("complete")} complete, ${n("to run")} to run, ${n("invalid")} invalid\n`);
        }
        return;
      }
      // a reader that goes away (`| head`) must not take the batch down with EPIPE
      process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EPIPE") throw e;
      });
      const reporter: Reporter = mode === "json" ? new JsonReporter() : mode === "bar" ? new BarReporter() : new QuietReporter();
      const remote = flags.queue ? await queueRunner(flags.queue, flags.queueName, flags.out) : undefined;
      try {
        const summary = await runBatch(plan, {
          out: flags.out,
          // with a queue every run is submitted at once; the workers decide how many run
          concurrency: remote ? Math.max(1, plan.runs.length) : flags.concurrency,
          timeout: flags.timeout,
          reporter,
          command: commandLine(),
          remote,
        });
        process.exitCode = summary.exitCode;
      } finally {
        await remote?.close();
      }
    });
}
