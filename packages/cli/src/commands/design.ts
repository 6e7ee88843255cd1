/**
 * `tollkit design <scenario.json> [--out DIR] [--json]`: runs a toll-design study.
 *
 * `--json` prints one JSON object (the same summary as the API's design runs): objective,
 * method, tolls [{link, toll}], value, baseline, firstBest, shareCaptured, equilibriumSolves,
 * seconds, ties, diagnostics, the tolled equilibrium's summary, … `--out DIR` writes the
 * tolled equilibrium like `assign --out` (summary.json, flows.csv, convergence.csv,
 * flows.geojson) plus design.json (the whole result but the per-link arrays) and history.csv
 * (every equilibrium the search evaluated), atomically.
 *
 * A run that stops early on an error after its first equilibrium still reports the best design
 * found so far (`partial: true`, `error`), prints and writes it, says so on stderr and exits 1.
 * The test hook TOLLKIT_TEST_FAIL_AFTER_SOLVES=N (tests only) makes the solve after N solves fail.
 */
import { Command } from "commander";
import { designSummary } from "@tollkit/api";
import { design, DesignResult, loadScenario, Scenario, scenarioClasses, scenarioNetwork } from "@tollkit/leader";
import { csvLine, equilibriumFiles, OutputFile, writeOutputDir } from "../output.js";

/** The `--json` object and `summary.json` of a design. */
export function designJson(r: DesignResult): Record<string, unknown> {
  const { surface: _surface, ...summary } = designSummary(r) as Record<string, unknown>;
  return {
    ...summary,
    partial: r.partial,
    error: r.error,
    firstBestDetail: r.firstBestDetail
      ? {
          soTstt: r.firstBestDetail.soTstt,
          tolledTstt: r.firstBestDetail.tolledTstt,
          relativeDifference: r.firstBestDetail.relativeDifference,
        }
      : null,
  };
}

/** Column name of a decision variable in history.csv. */
function tollColumn(v: DesignResult["variables"][number], k: number): string {
  return v.links.length === 1 ? `toll_link_${v.links[0]}` : v.label.startsWith("cordon") ? `toll_cordon` : `toll_group_${k + 1}`;
}

/** `history.csv`: one row per evaluated design. */
export function historyCsv(r: DesignResult): string {
  const lines = [csvLine(["step", "solves", "phase", "accepted", "value", "merit", "tstt", "revenue", ...r.variables.map(tollColumn)])];
  for (const h of r.history) lines.push(csvLine([h.step, h.solves, h.phase, h.accepted, h.value, h.merit, h.tstt, h.revenue, ...h.tolls]));
  return `${lines.join("\n")}\n`;
}

/** `design.json`: the summary plus first-best tolls, the search history and the response surface. */
export function designFile(r: DesignResult): Record<string, unknown> {
  return { ...designJson(r), firstBestDetail: r.firstBestDetail ?? null, history: r.history, surface: r.surface ?? null };
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e7 || a < 1e-3) ? v.toExponential(4) : Number(v.toPrecision(8)).toString();
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
  for (const v of shown) out.push(`  ${v.label.padEnd(28)} toll ${fmt(v.toll)}  [${fmt(v.min)}, ${fmt(v.max)}]`);
  if (r.variables.length > shown.length) out.push(`  … and ${r.variables.length - shown.length} more (see --json or --out)`);
  out.push(`${r.objective}: ${fmt(r.value)} (no toll ${fmt(r.baseline)}, first-best ${fmt(r.firstBest)})`);
  if (r.shareCaptured !== null) out.push(`share of the first-best improvement captured: ${(100 * r.shareCaptured).toFixed(1)}%`);
  out.push(`TSTT ${fmt(r.tstt)}, revenue ${fmt(r.revenue)}, welfare ${fmt(r.welfare)}`);
  if (r.firstBestDetail)
    out.push(
      `first-best check: SO TSTT ${fmt(r.firstBestDetail.soTstt)}, tolled UE TSTT ${fmt(r.firstBestDetail.tolledTstt)} (${(100 * r.firstBestDetail.relativeDifference).toExponential(2)}%)`,
    );
  if (r.constraint)
    out.push(
      `revenue floor ${fmt(r.constraint.minRevenue)}: ${r.constraint.satisfied ? "met" : "NOT met"} (revenue ${fmt(r.constraint.revenue)})`,
    );
  out.push(
    `equilibrium solves: ${r.equilibriumSolves} by the search, ${r.solves.total} in all; ${r.seconds.toFixed(2)} s; ${r.diagnostics.stopReason}`,
  );
  const t = r.ties;
  if (t.applies && t.atDesign && t.justBelow) {
    out.push(
      `ties (${t.rule} follower assumed): at the design optimistic ${fmt(t.atDesign.optimistic.value)}, pessimistic ${fmt(t.atDesign.pessimistic.value)}`,
    );
    out.push(
      `  ${fmt(t.justBelow.margin)} below: optimistic ${fmt(t.justBelow.optimistic.value)}, pessimistic ${fmt(t.justBelow.pessimistic.value)}`,
    );
  }
  if (r.diagnostics.polish) {
    const p = r.diagnostics.polish;
    out.push(`derivative-free polish (${p.reason}): ${p.solves} solves, ${fmt(p.valueBefore)} → ${fmt(p.valueAfter)}`);
  }
  const gc = r.diagnostics.gradientCheck;
  if (gc)
    out.push(
      `gradient check (${gc.kind}, ${gc.source}): largest absolute error ${Math.max(0, ...gc.rows.map((row) => row.absoluteError)).toExponential(2)}, largest relative error ${gc.maxRelativeError.toExponential(2)} (tolerance ${gc.tolerance}, absolute where the gradient is about 0): ${gc.agrees ? "agrees" : "DISAGREES"} with finite differences`,
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
  const tolled = scenarioClasses(scenario, net).map((c) => c.tolled);
  return [
    ...equilibriumFiles(net, r.equilibrium, designJson(r), tolled),
    { name: "design.json", content: `${JSON.stringify(designFile(r), null, 2)}\n` },
    { name: "history.csv", content: historyCsv(r) },
  ];
}

export function registerDesign(program: Command): void {
  program
    .command("design")
    .description("Design tolls for a scenario (network, classes, instrument, objective, method)")
    .argument("<scenario>", "scenario file (JSON; see scenarios/scenario.schema.json)")
    .option("--out <dir>", "write the tolled equilibrium, design.json and history.csv into this folder")
    .option("--json", "print one JSON object")
    .addHelpText(
      "after",
      "\nExamples:\n  tollkit design scenarios/two-route-linear.json\n  tollkit design scenarios/braess.json --json --out out/braess",
    )
    .action(async (file: string, opts: { out?: string; json?: boolean }) => {
      const scenario = loadScenario(file);
      const r = await design(scenario, { failAfterSolves: testFailAfterSolves() });
      if (opts.out) writeOutputDir(opts.out, await designOutputFiles(scenario, r));
      process.stdout.write(opts.json ? `${JSON.stringify(designJson(r))}\n` : `${designText(r)}\n`);
      if (r.partial) {
        process.stderr.write(
          `tollkit: design stopped early (${r.error?.message ?? "unknown error"}); the best design found so far was reported${opts.out ? ` and written to ${opts.out}` : ""} (partial)\n`,
        );
        process.exitCode = 1;
      }
    });
}

/** The test hook TOLLKIT_TEST_FAIL_AFTER_SOLVES (a non-negative integer), for tests of partial results only. */
function testFailAfterSolves(): number | undefined {
  const v = process.env.TOLLKIT_TEST_FAIL_AFTER_SOLVES;
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`tollkit: TOLLKIT_TEST_FAIL_AFTER_SOLVES="${v}" (expected an integer ≥ 0)`);
  return n;
}
