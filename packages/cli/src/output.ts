/**
 * Output folders of the CLI (`assign --out DIR`, `design --out DIR`): an equilibrium is written
 * as `summary.json`, `flows.csv` (`link,from,to,flow,time,cost,toll,voc`), `convergence.csv` and
 * `flows.geojson`; commands add their own files (a design: `design.json`, `history.csv`).
 *
 * Nothing is half-written: every file goes to a temporary folder beside DIR first and is
 * renamed into DIR only when all of them are complete. The per-link columns, the CSV and the
 * GeoJSON come from @tollkit/api (the same functions serve `GET /api/runs/:id/flows`).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { FollowerResult } from "@tollkit/follower";
import { InputError, Network } from "@tollkit/graph-core";
import { linkColumns, linkCsv, linkGeojson } from "@tollkit/api";

/** One file of an output folder. */
export interface OutputFile {
  name: string;
  content: string;
}

/** A CSV line; numbers as JavaScript prints them (round-trip exact), non-finite as empty. */
export function csvLine(cells: readonly (string | number | boolean | null | undefined)[]): string {
  return cells
    .map((c) => {
      if (c === null || c === undefined) return "";
      if (typeof c === "number") return Number.isFinite(c) ? String(c) : "";
      const s = String(c);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(",");
}

/** `convergence.csv` of a follower result: iteration, relative gap, step, conjugate weights, objective, elapsed ms. */
export function convergenceCsv(r: FollowerResult): string {
  const lines = [csvLine(["iteration", "relativeGap", "step", "conjugateWeights", "objective", "elapsedMs"])];
  for (const it of r.convergence)
    lines.push(csvLine([it.iteration, it.relativeGap, it.step, it.conjugateWeights.join(" "), it.objective, it.elapsedMs]));
  return `${lines.join("\n")}\n`;
}

/**
 * The files of an equilibrium: `summary.json` (the given summary), `flows.csv`,
 * `convergence.csv` and `flows.geojson`.
 * @param tolled per class, whether it pays tolls (for the per-link revenue); default all
 */
export function equilibriumFiles(net: Network, r: FollowerResult, summary: unknown, tolled?: readonly boolean[]): OutputFile[] {
  const links = linkColumns(net, r, tolled);
  return [
    { name: "summary.json", content: `${JSON.stringify(summary, null, 2)}\n` },
    { name: "flows.csv", content: linkCsv(links) },
    { name: "convergence.csv", content: convergenceCsv(r) },
    { name: "flows.geojson", content: `${JSON.stringify(linkGeojson(net, links))}\n` },
  ];
}

/**
 * Writes files into `dir` atomically: all of them go to a temporary folder beside `dir`, then
 * each is renamed into `dir` (created if needed). On failure nothing new appears in `dir`.
 * @throws InputError when `dir` cannot be created or written
 */
export function writeOutputDir(dir: string, files: OutputFile[]): void {
  const target = resolve(dir);
  const tmp = join(dirname(target), `.${basename(target)}.partial-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(target, { recursive: true });
    mkdirSync(tmp, { recursive: true });
    for (const f of files) writeFileSync(join(tmp, f.name), f.content);
    for (const f of files) renameSync(join(tmp, f.name), join(target, f.name));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError("cli/output", `cannot write the output folder: ${err.code ?? err.message}`, { file: dir }, "a writable folder");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Writes a whole folder atomically: the files go to a temporary folder beside `dir`, which is
 * then renamed to `dir` in one step (an existing `dir` is first moved aside and removed).
 * A reader sees the old folder, no folder, or the complete new one — never a folder with some
 * of the files, so "the folder exists with summary.json" can mean "the run is complete"
 * (`tollkit batch` relies on it). Temporary names start with `.partial-` / `.replaced-`.
 * @throws InputError when the parent folder cannot be created or written
 */
export function replaceOutputDir(dir: string, files: OutputFile[]): void {
  const target = resolve(dir);
  const stamp = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = join(dirname(target), `.partial-${basename(target)}-${stamp}`);
  const old = join(dirname(target), `.replaced-${basename(target)}-${stamp}`);
  try {
    mkdirSync(tmp, { recursive: true });
    for (const f of files) writeFileSync(join(tmp, f.name), f.content);
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError("cli/output", `cannot write the output folder: ${err.code ?? err.message}`, { file: dir }, "a writable folder");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}
