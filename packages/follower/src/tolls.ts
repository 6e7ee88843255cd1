/**
 * Tolls files (`tollkit assign --tolls file.csv`): a CSV with the header `link,toll` and one
 * row per tolled link, the link id 1-based (its position in the network file) and the toll in
 * money (read by graph-core's parseCsv: quoted cells, a byte-order mark and blank lines are
 * fine). Links not listed keep the network's own toll (0 in most TNTP files). An unknown link, a
 * toll that is not a finite number, a negative toll (unless subsidies are allowed), a row
 * without two fields, a link listed twice or a missing header is an error naming the file,
 * line and field.
 */

/** Options of reading a tolls file. */
export interface TollsFileOptions {
  /** Accept negative tolls (subsidies); default false: a negative toll is an error. */
  allowSubsidies?: boolean;
}

import { InputError, Network, parseCsv, readInputFile } from "@tollkit/graph-core";

const MOD = "follower/tolls";

/**
 * Parses a tolls CSV into a toll per link (money), starting from the network's link tolls.
 * @throws InputError naming file, line and field (`header`, `link` or `toll`)
 */
export function parseTollsCsv(text: string, net: Network, file = "tolls.csv", opts: TollsFileOptions = {}): Float64Array {
  const tolls = Float64Array.from(net.links.toll);
  const t = parseCsv(text, file, { module: MOD, lowerCaseHeader: true });
  if (t.header.length !== 2 || t.header[0] !== "link" || t.header[1] !== "toll")
    throw new InputError(
      MOD,
      `the first line is "${t.header.join(",")}"`,
      { file, line: t.headerLine, field: "header" },
      'the header "link,toll"',
    );
  const seen = new Map<number, number>();
  t.rows.forEach((row, r) => {
    const line = t.lines[r];
    const link = Number(row.link);
    if (row.link === "" || !Number.isInteger(link) || link < 1 || link > net.linkCount)
      throw new InputError(
        MOD,
        `unknown link "${row.link}"`,
        { file, line, field: "link" },
        `a link id in 1..${net.linkCount} of ${net.name}`,
      );
    const toll = Number(row.toll);
    if (row.toll === "" || !Number.isFinite(toll))
      throw new InputError(MOD, `toll "${row.toll}" is not a number`, { file, line, field: "toll" }, "a finite number (money)");
    if (toll < 0 && !opts.allowSubsidies)
      throw new InputError(
        MOD,
        `toll ${toll} on link ${link} is negative`,
        { file, line, field: "toll" },
        "a toll ≥ 0 (a subsidy needs --allow-subsidies)",
      );
    const first = seen.get(link);
    if (first !== undefined)
      throw new InputError(
        MOD,
        `link ${link} is listed twice (first on line ${first})`,
        { file, line, field: "link" },
        "each link at most once",
      );
    seen.set(link, line);
    tolls[link - 1] = toll;
  });
  return tolls;
}

/**
 * Reads a tolls file (see {@link parseTollsCsv}).
 * @throws InputError when the file cannot be read or is malformed
 */
export function readTollsFile(path: string, net: Network, opts: TollsFileOptions = {}): Float64Array {
  const text = readInputFile(path, MOD, "a readable CSV file");
  return parseTollsCsv(text, net, path, opts);
}
