/**
 * The OD outputs of `tollkit assign` and `tollkit design` (docs/incidence.md): `--skims` writes
 * `skims.csv` (per OD pair and class: time, toll, distance, generalised cost, flow-weighted over
 * the used routes), `--select-link L1,L2` writes `select-link.csv` (the trips using the links, by
 * OD pair and class) and `select-link-flows.csv` (their flow on every link), all into `--out`,
 * each atomically and streamed in pieces (Berlin-Center's 748,000 OD pairs are never one string).
 */
import { join } from "node:path";
import { Command } from "commander";
import { InputError, writeFileAtomic } from "@tollkit/graph-core";
import {
  OdAnalysis,
  RunOutput,
  selectLinkCsvChunks,
  selectLinkFlowsCsv,
  selectLinkSummary,
  skimCsvChunks,
  writeChunksAtomic,
} from "@tollkit/runs";
import { formatNumber } from "../format.js";

/** The flags of the OD outputs. */
export interface OdFlags {
  skims?: boolean;
  /** Link ids, or true: the run's tolled links. */
  selectLink?: number[] | true;
  out?: string;
}

/** Parses `--select-link 12,40`: 1-based link ids (checked against the network when the run starts). */
function linkList(mod: string) {
  return (v: string): number[] => {
    const ids = v.split(",").map((s) => s.trim());
    const out: number[] = [];
    for (const s of ids) {
      const n = Number(s);
      if (s === "" || !Number.isInteger(n) || n < 1)
        throw new InputError(
          mod,
          `got ${JSON.stringify(v)}`,
          { field: "--select-link" },
          "1-based link ids separated by commas, e.g. 12,40",
        );
      if (!out.includes(n)) out.push(n);
    }
    return out;
  };
}

/** Adds `--skims` and `--select-link` to a command. */
export function addOdOptions(cmd: Command, mod: string): Command {
  return cmd
    .option(
      "--skims",
      "write skims.csv into --out: per OD pair and class, time, toll, distance and generalised cost (needed by tollkit incidence)",
    )
    .option(
      "--select-link [links]",
      "write select-link.csv and select-link-flows.csv into --out: the trips using these links (1-based ids, comma-separated; default the tolled links) by OD pair, and their flow on every link; needs --algorithm bush",
      linkList(mod),
    );
}

/**
 * The analyses the flags ask for.
 * @throws InputError when --skims or --select-link is given without --out
 */
export function odAnalysis(flags: OdFlags, mod: string): OdAnalysis | undefined {
  if (!flags.skims && !flags.selectLink) return undefined;
  if (flags.out === undefined)
    throw new InputError(
      mod,
      `${flags.skims ? "--skims" : "--select-link"} writes its files into the output folder`,
      { field: "--out" },
      "--out DIR",
    );
  return { skims: flags.skims, selectLink: flags.selectLink === true ? "tolled" : flags.selectLink, selectLinkField: "--select-link" };
}

/** Writes the OD files of a run's output into `dir`; returns their names. */
export function writeOdFiles(dir: string, output: RunOutput): string[] {
  const names: string[] = [];
  if (output.skims) {
    writeChunksAtomic(join(dir, "skims.csv"), skimCsvChunks(output.skims));
    names.push("skims.csv");
  }
  if (output.selectLink) {
    writeChunksAtomic(join(dir, "select-link.csv"), selectLinkCsvChunks(output.selectLink));
    writeFileAtomic(join(dir, "select-link-flows.csv"), selectLinkFlowsCsv(output.links, output.selectLink));
    names.push("select-link.csv", "select-link-flows.csv");
  }
  return names;
}

/** Report lines of a select-link analysis. */
export function selectLinkText(output: RunOutput): string[] {
  if (!output.selectLink) return [];
  const s = selectLinkSummary(output.selectLink);
  return s.classes.map(
    (c) =>
      `  select-link ${s.links.join(",")}${s.classes.length > 1 ? ` (class ${c.name})` : ""}: assigned flow ${formatNumber(c.selectedFlow)}, trips using them ${formatNumber(c.trips)}`,
  );
}
