/**
 * `tollkit compare <run dir> <run dir> [--json] [--csv FILE] [--top N]`: headline and per-link
 * differences (b − a) between two runs on one network.
 *
 * A run folder is any folder tollkit wrote a result into: `assign --out`, `design --out`, or a
 * batch's `runs/<run>/`. It needs summary.json and flows.csv; flows.geojson (written with them)
 * gives each link's capacity and toll revenue. The comparison itself is the API's
 * (`GET /api/compare`, {@link compareRuns}), so both report the same fields.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { compareRuns, LinkColumns } from "@tollkit/runs";
import { formatCsv, InputError, parseCsv, parseJsonText, writeFileAtomic } from "@tollkit/graph-core";
import { formatNumber, formatPercent, formatTable } from "../format.js";

const MOD = "cli/compare";

/** A run folder read back: its summary and per-link columns. */
export interface RunFolder {
  dir: string;
  network: string;
  summary: Record<string, unknown>;
  links: LinkColumns;
  /** Problems that limit the comparison (e.g. no flows.geojson: no per-link revenue). */
  warnings: string[];
}

const FLOW_COLUMNS = ["link", "from", "to", "flow", "time", "cost", "toll", "voc"] as const;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(
      MOD,
      `cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file: path },
      "a run folder written by tollkit (assign --out, design --out, batch)",
    );
  }
}

function num(cell: string | undefined, file: string, line: number, field: string, allowEmpty = false): number {
  if (allowEmpty && (cell === undefined || cell === "")) return NaN;
  const v = Number(cell);
  if (cell === undefined || cell.trim() === "" || !Number.isFinite(v))
    throw new InputError(MOD, `got ${JSON.stringify(cell ?? null)}`, { file, line, field }, "a number");
  return v;
}

/**
 * Reads a run folder.
 * @throws InputError when the folder, summary.json or flows.csv is missing or malformed (naming file, line and field)
 */
export function readRunFolder(dir: string): RunFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new InputError(MOD, "not a folder", { file: dir }, "a run folder written by tollkit (assign --out, design --out, batch)");
  const summaryPath = join(dir, "summary.json");
  const summary = parseJsonText(readText(summaryPath, "the run's summary"), summaryPath, MOD, "a JSON object") as Record<string, unknown>;
  if (!summary || typeof summary !== "object" || typeof summary.network !== "string")
    throw new InputError(MOD, "no network named", { file: summaryPath, field: "network" }, "the summary of a tollkit run");

  const flowsPath = join(dir, "flows.csv");
  const t = parseCsv(readText(flowsPath, "the run's link flows"), flowsPath, { module: MOD });
  FLOW_COLUMNS.forEach((c, j) => {
    if (t.header[j] !== c)
      throw new InputError(
        MOD,
        `column ${j + 1} is ${JSON.stringify(t.header[j] ?? null)}`,
        { file: flowsPath, line: t.headerLine, field: c },
        `the header ${FLOW_COLUMNS.join(",")}`,
      );
  });
  const m = t.rows.length;
  const col = () => new Float64Array(m);
  const c = { from: col(), to: col(), capacity: col(), flow: col(), time: col(), cost: col(), toll: col(), revenue: col() };
  const voc = col();
  for (let i = 0; i < m; i++) {
    const row = t.rows[i];
    const line = t.lines[i];
    if (num(row.link, flowsPath, line, "link") !== i + 1)
      throw new InputError(MOD, `link ${row.link} out of order`, { file: flowsPath, line, field: "link" }, `link ${i + 1}`);
    c.from[i] = num(row.from, flowsPath, line, "from");
    c.to[i] = num(row.to, flowsPath, line, "to");
    c.flow[i] = num(row.flow, flowsPath, line, "flow");
    c.time[i] = num(row.time, flowsPath, line, "time");
    c.cost[i] = num(row.cost, flowsPath, line, "cost");
    c.toll[i] = num(row.toll, flowsPath, line, "toll");
    voc[i] = num(row.voc, flowsPath, line, "voc", true);
  }
  const warnings: string[] = [];
  const geoPath = join(dir, "flows.geojson");
  let fromGeojson = false;
  if (existsSync(geoPath)) {
    try {
      const fc = JSON.parse(readFileSync(geoPath, "utf8")) as { features?: { properties?: Record<string, unknown> }[] };
      const feats = fc.features ?? [];
      if (feats.length === m) {
        feats.forEach((f, i) => {
          const p = f.properties ?? {};
          c.capacity[i] = typeof p.capacity === "number" ? p.capacity : NaN;
          c.revenue[i] = typeof p.revenue === "number" ? p.revenue : NaN;
        });
        fromGeojson = true;
      }
    } catch {
      // fall through: reported below
    }
  }
  if (!fromGeojson) {
    warnings.push(`${dir}: no readable flows.geojson with ${m} links, so no per-link revenue (capacities from flow / voc)`);
    for (let i = 0; i < m; i++) {
      c.capacity[i] = voc[i] > 0 ? c.flow[i] / voc[i] : NaN;
      c.revenue[i] = NaN;
    }
  }
  return { dir, network: summary.network, summary, links: { linkCount: m, columns: c }, warnings };
}

/** The comparison of two run folders (b − a): the API's comparison with the folders in place of run ids. */
export function compareFolders(a: RunFolder, b: RunFolder) {
  if (a.network !== b.network || a.links.linkCount !== b.links.linkCount)
    throw new InputError(
      MOD,
      `the runs are on different networks: ${a.dir} on ${a.network} (${a.links.linkCount} links), ${b.dir} on ${b.network} (${b.links.linkCount} links)`,
      { file: b.dir },
      "two runs of one network",
    );
  const r = compareRuns(
    { id: 1, network: a.network, summary: a.summary, links: a.links },
    { id: 2, network: b.network, summary: b.summary, links: b.links },
  );
  return { ...r, a: a.dir, b: b.dir, warnings: [...a.warnings, ...b.warnings] };
}

type Comparison = ReturnType<typeof compareFolders>;

/** Per-link differences as CSV. */
export function comparisonCsv(c: Comparison): string {
  const cols = [
    "link",
    "from",
    "to",
    "flowA",
    "flowB",
    "flowDifference",
    "timeDifference",
    "vocDifference",
    "tollDifference",
    "revenueDifference",
  ] as const;
  return formatCsv(
    cols,
    (c.links as Record<string, number | null>[]).map((l) => cols.map((k) => l[k])),
  );
}

const LABELS: Record<string, string> = {
  tstt: "TSTT",
  totalCost: "total cost",
  sptt: "SPTT",
  beckmann: "Beckmann",
  revenue: "revenue",
  relativeGap: "relative gap",
  averageExcessCost: "avg excess cost",
  iterations: "iterations",
  seconds: "seconds",
};

/** The human-readable report: headline table, then the links whose flow changed most. */
export function comparisonText(c: Comparison, top: number): string {
  const out = [`${c.a} → ${c.b} on ${c.network} (differences are b − a)`, ""];
  const rows = [["", "a", "b", "b − a", "relative"]];
  for (const [k, h] of Object.entries(c.headline))
    rows.push([LABELS[k] ?? k, formatNumber(h.a), formatNumber(h.b), formatNumber(h.difference), formatPercent(h.relative, 2)]);
  out.push(...formatTable(rows, ["left"]));
  const links = c.links as {
    link: number;
    from: number;
    to: number;
    flowA: number;
    flowB: number;
    flowDifference: number;
    timeDifference: number;
    tollDifference: number;
    revenueDifference: number;
  }[];
  const scale = Math.max(1e-300, ...links.map((l) => Math.max(Math.abs(l.flowA), Math.abs(l.flowB))));
  const changed = links.filter((l) => Math.abs(l.flowDifference) > 1e-9 * scale || Math.abs(l.tollDifference) > 0);
  out.push("", `${changed.length} of ${links.length} links changed flow or toll.`);
  if (changed.length > 0 && top > 0) {
    const shown = [...changed].sort((x, y) => Math.abs(y.flowDifference) - Math.abs(x.flowDifference)).slice(0, top);
    const t = [["link", "from→to", "flow a", "flow b", "Δ flow", "Δ time", "Δ toll", "Δ revenue"]];
    for (const l of shown)
      t.push([
        String(l.link),
        `${l.from}→${l.to}`,
        formatNumber(l.flowA),
        formatNumber(l.flowB),
        formatNumber(l.flowDifference),
        formatNumber(l.timeDifference),
        formatNumber(l.tollDifference),
        formatNumber(l.revenueDifference),
      ]);
    out.push(`The ${shown.length} largest flow changes${changed.length > shown.length ? ` (--top N for more, --csv FILE for all)` : ""}:`);
    out.push(...formatTable(t));
  }
  for (const w of c.warnings) out.push(`warning: ${w}`);
  return out.join("\n");
}

function count(v: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v.trim())) throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: "--top" }, "an integer ≥ 0");
  return n;
}

/** Registers `tollkit compare`. Exit codes: 0 compared, 2 a folder is missing or malformed, or the runs are on different networks. */
export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("Compare two runs on one network: headline (TSTT, revenue, gap, total cost, …) and per-link differences (b − a)")
    .argument("<a>", "run folder (assign --out, design --out, or a batch's runs/<run>)")
    .argument("<b>", "run folder to compare with a")
    .option("--json", "print one JSON object: {a, b, network, headline, links, warnings}")
    .option("--csv <file>", "write the per-link differences to this CSV file")
    .addOption(new Option("--top <n>", "links listed in the report, largest flow change first").default(10).argParser(count))
    .addHelpText(
      "after",
      `
Headline fields: tstt, totalCost, sptt, beckmann, revenue, relativeGap, averageExcessCost,
iterations, seconds, each as {a, b, difference, relative}; a design's from its tolled equilibrium.
Per link: link, from, to, flowA, flowB, flowDifference, timeDifference, vocDifference,
tollDifference, revenueDifference.

Examples:
  tollkit assign braess-builtin --out out/no-toll
  tollkit design scenarios/braess.json --out out/tolled
  tollkit compare out/no-toll out/tolled
  tollkit compare out/batch/runs/<run a> out/batch/runs/<run b> --json --csv diff.csv`,
    )
    .action((a: string, b: string, opts: { json?: boolean; csv?: string; top: number }) => {
      const c = compareFolders(readRunFolder(a), readRunFolder(b));
      if (opts.csv !== undefined) {
        writeFileAtomic(opts.csv, comparisonCsv(c));
      }
      process.stdout.write(opts.json ? `${JSON.stringify(c)}\n` : `${comparisonText(c, opts.top)}\n`);
    });
}
