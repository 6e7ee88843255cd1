/**
 * `tollkit design <scenario.json> [--out DIR] [--json]`: runs a toll-design study.
 *
 * `--json` prints one JSON object (the same summary as the API's design runs): objective,
 * method, tolls [{link, toll}], value, baseline, firstBest, shareCaptured, equilibriumSolves,
 * seconds, ties, diagnostics, the tolled equilibrium's summary, … `--out DIR` writes the
 * tolled equilibrium like `assign --out` (summary.json, flows.csv, convergence.csv,
 * flows.geojson) plus design.json (the whole result but the per-link arrays) and history.csv
 * (every equilibrium the search evaluated), atomically; `--skims` and `--select-link` add the
 * OD files of ./od-files.ts for the tolled equilibrium.
 *
 * A run that stops early on an error after its first equilibrium still reports the best design
 * found so far (`partial: true`, `error`), prints and writes it, says so on stderr and exits 1.
 * The test hook TOLLKIT_TEST_FAIL_AFTER_SOLVES=N (tests only) makes the solve after N solves fail.
 */
import { Command } from "commander";
import { writeFilesAtomic } from "@tollkit/graph-core";
import { design, DesignResult, loadScenario, Scenario, scenarioClasses, scenarioNetwork, testFailAfterSolves } from "@tollkit/leader";
import { analyseRun, DesignSummary, designFiles, designSummary, linkColumns, OutputFile } from "@tollkit/runs";
import { formatGap, formatNumber, formatPercent, formatSeconds } from "../format.js";
import { addOdOptions, odAnalysis, selectLinkText, writeOdFiles } from "./od-files.js";

const MOD = "cli/design";

/** The `--json` object and `summary.json` of a design. */
export function designJson(r: DesignResult): DesignSummary {
  return designSummary(r, "cli");
}

/** The human-readable report. */
export function designText(r: DesignResult): string {
  const out: string[] = [];
  out.push(`${r.scenario} on ${r.network}: ${r.sense} ${r.objective} by ${r.method} search`);
  if (r.partial && r.error)
    out.push(
      `PARTIAL RESULT: the run stopped early in the ${r.error.phase} phase after ${r.error.afterSolves} solves (${r.error.message}); the best design found so far:`,
    );
  const shown = r.variables.slice(0, 20);
  for (const v of shown) out.push(`  ${v.label.padEnd(28)} toll ${formatNumber(v.toll)}  [${formatNumber(v.min)}, ${formatNumber(v.max)}]`);
  if (r.variables.length > shown.length) out.push(`  … and ${r.variables.length - shown.length} more (see --json or --out)`);
  out.push(`${r.objective}: ${formatNumber(r.value)} (no toll ${formatNumber(r.baseline)}, first-best ${formatNumber(r.firstBest)})`);
  if (r.shareCaptured !== null) out.push(`share of the first-best improvement captured: ${formatPercent(r.shareCaptured)}`);
  out.push(`TSTT ${formatNumber(r.tstt)}, revenue ${formatNumber(r.revenue)}, welfare ${formatNumber(r.welfare)}`);
  if (r.firstBestDetail)
    out.push(
      `first-best check: SO TSTT ${formatNumber(r.firstBestDetail.soTstt)}, tolled UE TSTT ${formatNumber(r.firstBestDetail.tolledTstt)} (relative difference ${formatGap(r.firstBestDetail.relativeDifference)})`,
    );
  if (r.constraint)
    out.push(
      `revenue floor ${formatNumber(r.constraint.minRevenue)}: ${r.constraint.satisfied ? "met" : "NOT met"} (revenue ${formatNumber(r.constraint.revenue)})`,
    );
  out.push(
    `equilibrium solves: ${r.equilibriumSolves} by the search, ${r.solves.total} in all; ${formatSeconds(r.seconds)}; ${r.diagnostics.stopReason}`,
  );
  const t = r.ties;
  if (t.applies && t.atDesign && t.justBelow) {
    out.push(
      `ties (${t.rule} follower assumed): at the design optimistic ${formatNumber(t.atDesign.optimistic.value)}, pessimistic ${formatNumber(t.atDesign.pessimistic.value)}`,
    );
    out.push(
      `  ${formatNumber(t.justBelow.margin)} below: optimistic ${formatNumber(t.justBelow.optimistic.value)}, pessimistic ${formatNumber(t.justBelow.pessimistic.value)}`,
    );
  }
  if (r.diagnostics.polish) {
    const p = r.diagnostics.polish;
    out.push(`derivative-free polish (${p.reason}): ${p.solves} solves, ${formatNumber(p.valueBefore)} → ${formatNumber(p.valueAfter)}`);
  }
  const gr = r.diagnostics.gradients;
  if (gr)
    out.push(
      `gradients: ${gr.adjoint} adjoint, ${gr.directional} directional` +
        (gr.regapped > 0
          ? `; ${gr.regapped} degenerate at a loose gap, re-solved to 1e-12 first (${gr.stillDegenerate} still degenerate)`
          : ""),
    );
  const gc = r.diagnostics.gradientCheck;
  if (gc)
    out.push(
      `gradient check (${gc.kind}, ${gc.source}): largest absolute error ${formatGap(Math.max(0, ...gc.rows.map((row) => row.absoluteError)))}, largest relative error ${formatGap(gc.maxRelativeError)} (tolerance ${formatNumber(gc.tolerance)}, absolute where the gradient is about 0): ${gc.agrees ? "agrees" : "DISAGREES"} with finite differences`,
    );
  for (const w of r.diagnostics.warnings) out.push(`warning: ${w}`);
  return out.join("\n");
}

/** Adds `tollkit design` to the program. Input errors (bad scenario, flags) propagate as InputError: exit 2. */
/**
 * The files of a design's output folder: the tolled equilibrium as `assign --out` writes it
 * (summary.json is the design summary), design.json and history.csv. Used by `design --out`
 * and by each design run of `tollkit batch`.
 */
export async function designOutputFiles(scenario: Scenario, r: DesignResult): Promise<OutputFile[]> {
  const net = await scenarioNetwork(scenario);
  return designFiles(
    net,
    r,
    designJson(r),
    scenarioClasses(scenario, net).map((c) => c.tolled),
  );
}

export function registerDesign(program: Command): void {
  const cmd = program
    .command("design")
    .description("Design tolls for a scenario (network, classes, instrument, objective, method)")
    .argument("<scenario>", "scenario file (JSON; see scenarios/scenario.schema.json)")
    .option("--out <dir>", "write the tolled equilibrium, design.json and history.csv into this folder")
    .option("--json", "print one JSON object");
  addOdOptions(cmd, MOD)
    .addHelpText(
      "after",
      "\nExamples:\n  tollkit design scenarios/two-route-linear.json\n  tollkit design scenarios/braess.json --json --out out/braess\n  tollkit design scenarios/sioux-falls-first-best.json --skims --out out/first-best   # then: tollkit incidence <no-toll run> out/first-best",
    )
    .action(async (file: string, opts: { out?: string; json?: boolean; skims?: boolean; selectLink?: number[] | true }) => {
      const analysis = odAnalysis(opts, MOD);
      const scenario = loadScenario(file);
      const r = await design(scenario, { failAfterSolves: testFailAfterSolves() });
      if (opts.out) writeFilesAtomic(opts.out, await designOutputFiles(scenario, r));
      if (opts.out && analysis) {
        const net = await scenarioNetwork(scenario);
        const output = {
          summary: designJson(r),
          convergence: {},
          links: linkColumns(net, r.equilibrium),
          ...analyseRun(net, r.equilibrium, scenarioClasses(scenario, net), analysis),
        };
        writeOdFiles(opts.out, output);
        for (const line of selectLinkText(output)) process.stderr.write(`${line.trim()}\n`);
      }
      process.stdout.write(opts.json ? `${JSON.stringify(designJson(r))}\n` : `${designText(r)}\n`);
      if (r.partial) {
        process.stderr.write(
          `tollkit: design stopped early (${r.error?.message ?? "unknown error"}); the best design found so far was reported${opts.out ? ` and written to ${opts.out}` : ""} (partial)\n`,
        );
        process.exitCode = 1;
      }
    });
}
