/**
 * `tollkit incidence <run dir a> <run dir b> [--by origin|destination|od] [--json] [--csv FILE]
 * [--threshold T] [--top N]`: who pays and who gains when run a (e.g. no toll) becomes run b
 * (e.g. a toll design) — per origin zone, destination zone or OD pair, and per class: the change
 * of generalised cost per trip (time, toll and distance parts apart), the toll paid, the trips;
 * totals that reconcile with the runs' summaries; the zones that lose or gain more than the
 * threshold. Definitions: docs/incidence.md; the computation is @tollkit/runs' `incidence`, the
 * same as `GET /api/compare/incidence`.
 *
 * Both folders need `skims.csv` beside the files `tollkit compare` reads: `assign --out DIR`
 * and `design --out DIR` write it with `--skims`. A folder without it is an input error that
 * says how to write it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { InputError } from "@tollkit/graph-core";
import {
  Incidence,
  incidence,
  INCIDENCE_BY,
  IncidenceBy,
  incidenceCsvChunks,
  incidenceRows,
  IncidenceRow,
  parseSkimsCsv,
  SkimTable,
  writeChunksAtomic,
} from "@tollkit/runs";
import { formatNumber, formatTable } from "../format.js";
import { readRunFolder, RunFolder } from "./compare.js";

const MOD = "cli/incidence";

/** A run folder with its skims. */
export interface SkimmedFolder extends RunFolder {
  skims: SkimTable;
}

/**
 * Reads a run folder and its skims.csv.
 * @throws InputError when the folder, its summary, flows or skims.csv is missing or malformed
 */
export function readSkimmedFolder(dir: string): SkimmedFolder {
  const f = readRunFolder(dir);
  const path = join(dir, "skims.csv");
  if (!existsSync(path))
    throw new InputError(
      MOD,
      "no skims.csv in the run folder",
      { file: dir },
      `a run folder written with --skims: tollkit assign <network> --skims --out ${dir} (or tollkit design <scenario> --skims --out ${dir})`,
    );
  return { ...f, skims: parseSkimsCsv(readFileSync(path, "utf8"), path, f.network) };
}

/** The incidence of two skimmed folders (b − a). */
export function folderIncidence(a: SkimmedFolder, b: SkimmedFolder, by: IncidenceBy, threshold?: number, top = 20): Incidence {
  if (a.network !== b.network)
    throw new InputError(
      MOD,
      `the runs are on different networks: ${a.dir} on ${a.network}, ${b.dir} on ${b.network}`,
      { file: b.dir },
      "two runs of one network",
    );
  const r = incidence(
    { skims: a.skims, summary: a.summary, label: a.dir },
    { skims: b.skims, summary: b.summary, label: b.dir },
    by,
    threshold,
    top,
  );
  return { ...r, warnings: [...a.warnings, ...b.warnings, ...r.warnings] };
}

const sign = (v: number | null): string => (v === null ? "—" : `${v > 0 ? "+" : ""}${formatNumber(v)}`);

function where(r: IncidenceRow): string {
  if (r.origin !== undefined && r.destination !== undefined) return `${r.origin}→${r.destination}`;
  return String(r.origin ?? r.destination);
}

/** The human-readable report. */
export function incidenceText(c: Incidence, a: string, b: string, top: number): string {
  const t = c.totals;
  const unit = c.by === "od" ? "OD pair" : c.by === "origin" ? "origin zone" : "destination zone";
  const out = [
    `${a} → ${b} on ${c.network}: incidence by ${unit} (b − a; costs in time units, tolls in money)`,
    "",
    ...formatTable(
      [
        ["", "b − a"],
        ["users' change of generalised cost", sign(t.userCostChange)],
        ["  of which time", sign(t.timeChange)],
        ["  of which distance cost", sign(t.distanceCostChange)],
        ["  of which tolls (revenue in time units)", sign(t.tollCostChange)],
        ["change of total generalised cost (summaries)", sign(t.totalCostChange)],
        ["revenue (money)", `${formatNumber(t.revenueA)} → ${formatNumber(t.revenueB)}`],
        ["trips", `${formatNumber(t.tripsA)} → ${formatNumber(t.trips)}`],
        ["cost change per trip", sign(t.trips > 0 ? t.userCostChange / t.trips : null)],
      ],
      ["left"],
    ),
    "",
    `identities: time + distance + tolls = users' change (residual ${t.residuals.resourcePlusRevenue.toExponential(1)}); users' change = change of totalCost (residual ${t.residuals.totalCost === null ? "—" : t.residuals.totalCost.toExponential(1)}); revenue by zone = summary revenue (residual ${t.residuals.revenueB === null ? "—" : t.residuals.revenueB.toExponential(1)})`,
  ];
  if (c.classes.length > 1)
    for (const k of c.classes)
      out.push(
        `  class ${k.name}: trips ${formatNumber(k.trips)}, cost change ${sign(k.userCostChange)}, revenue ${formatNumber(k.revenueA)} → ${formatNumber(k.revenueB)}`,
      );
  const list = (title: string, rows: IncidenceRow[]) => {
    if (rows.length === 0) return;
    out.push("", title);
    const tab = [
      [
        c.by === "od" ? "OD pair" : "zone",
        ...(c.classes.length > 1 ? ["class"] : []),
        "trips",
        "Δ cost/trip",
        "Δ time/trip",
        "Δ toll cost/trip",
        "toll/trip",
        "toll paid",
      ],
    ];
    for (const r of rows.slice(0, top))
      tab.push([
        where(r),
        ...(c.classes.length > 1 ? [r.class] : []),
        formatNumber(r.trips),
        sign(r.costChangePerTrip),
        sign(r.timeChangePerTrip),
        sign(r.tollCostChangePerTrip),
        formatNumber(r.tollPerTrip),
        formatNumber(r.tollPaid),
      ]);
    out.push(...formatTable(tab, ["left"]));
  };
  list(`Losers (cost per trip up by more than ${formatNumber(c.threshold)}), largest loss first:`, c.losers);
  list(`Winners (cost per trip down by more than ${formatNumber(c.threshold)}), largest gain first:`, c.winners);
  if (c.losers.length === 0 && c.winners.length === 0)
    out.push("", `No ${unit} gains or loses more than ${formatNumber(c.threshold)} per trip.`);
  for (const w of c.warnings) out.push(`warning: ${w}`);
  return out.join("\n");
}

function count(flag: string) {
  return (v: string): number => {
    if (!/^[0-9]+$/.test(v.trim())) throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: flag }, "an integer ≥ 0");
    return Number(v);
  };
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: "--threshold" }, "a cost per trip ≥ 0 (time units)");
  return n;
}

/** Registers `tollkit incidence`. Exit codes: 0, 2 when a folder or its skims.csv is missing or malformed, or the runs differ in network or classes. */
export function registerIncidence(program: Command): void {
  program
    .command("incidence")
    .description(
      "Who pays and who gains from run a to run b: change of generalised cost per trip, tolls paid and trips, by zone or OD pair and class",
    )
    .argument("<a>", "run folder with skims.csv (e.g. the no-toll baseline: assign --skims --out)")
    .argument("<b>", "run folder with skims.csv (e.g. a design: design --skims --out)")
    .addOption(
      new Option("--by <grouping>", "origin, destination or od").default("origin").argParser((v: string) => {
        if (!(INCIDENCE_BY as readonly string[]).includes(v))
          throw new InputError(MOD, `unknown grouping "${v}"`, { field: "--by" }, INCIDENCE_BY.join(", "));
        return v;
      }),
    )
    .option("--json", "print one JSON object: {network, by, totals, classes, threshold, losers, winners, rows, warnings}")
    .option("--csv <file>", "write every row of the grouping to this CSV file")
    .addOption(
      new Option(
        "--threshold <cost>",
        "a zone loses (gains) when its cost per trip rises (falls) by more than this; default 0.1% of run a's average cost per trip",
      ).argParser(nonNegative),
    )
    .addOption(new Option("--top <n>", "winners and losers listed").default(20).argParser(count("--top")))
    .addHelpText(
      "after",
      `
Both folders need skims.csv: write it with --skims.

Examples:
  tollkit assign sioux-falls --algorithm bush --gap 1e-10 --skims --out out/no-toll
  tollkit design scenarios/sioux-falls-first-best.json --skims --out out/first-best
  tollkit incidence out/no-toll out/first-best
  tollkit incidence out/no-toll out/first-best --by od --csv od-incidence.csv --json`,
    )
    .action((a: string, b: string, opts: { by: IncidenceBy; json?: boolean; csv?: string; threshold?: number; top: number }) => {
      const fa = readSkimmedFolder(a);
      const fb = readSkimmedFolder(b);
      const c = folderIncidence(fa, fb, opts.by, opts.threshold, opts.top);
      if (opts.csv !== undefined) writeChunksAtomic(opts.csv, incidenceCsvChunks(fa.skims, fb.skims, opts.by));
      if (!opts.json) {
        process.stdout.write(`${incidenceText(c, a, b, opts.top)}\n`);
        return;
      }
      // one JSON object, its rows written in pieces
      const head = JSON.stringify({ a, b, ...c });
      process.stdout.write(`${head.slice(0, -1)},"rows":[`);
      let first = true;
      let buf: string[] = [];
      for (const r of incidenceRows(fa.skims, fb.skims, opts.by)) {
        buf.push(JSON.stringify(r));
        if (buf.length >= 5000) {
          process.stdout.write((first ? "" : ",") + buf.join(","));
          first = false;
          buf = [];
        }
      }
      if (buf.length) process.stdout.write((first ? "" : ",") + buf.join(","));
      process.stdout.write("]}\n");
    });
}
