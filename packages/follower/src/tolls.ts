/**
 * Tolls files (`tollkit assign --tolls file.csv`): a CSV with the header `link,toll` and one
 * row per tolled link, the link id 1-based (its position in the network file) and the toll in
 * money. Links not listed keep the network's own toll (0 in most TNTP files). Blank lines are
 * skipped. An unknown link, a toll that is not a finite number, a row without two fields, a link
 * listed twice or a missing header is an error naming the file, line and field.
 */

import { InputError, Network, readInputFile } from "@tollkit/graph-core";

const MOD = "follower/tolls";

/**
 * Parses a tolls CSV into a toll per link (money), starting from the network's link tolls.
 * @throws InputError naming file, line and field (`header`, `link` or `toll`)
 */
export function parseTollsCsv(text: string, net: Network, file = "tolls.csv"): Float64Array {
  const tolls = Float64Array.from(net.links.toll);
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let header = -1;
  const seen = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const line = i + 1;
    const cells = raw.split(",").map((s) => s.trim());
    if (header < 0) {
      header = line;
      if (cells.length !== 2 || cells[0].toLowerCase() !== "link" || cells[1].toLowerCase() !== "toll")
        throw new InputError(MOD, `the first line is "${raw}"`, { file, line, field: "header" }, 'the header "link,toll"');
      continue;
    }
    if (cells.length !== 2)
      throw new InputError(MOD, `${cells.length} fields`, { file, line, field: cells.length < 2 ? "toll" : "link" }, "2 fields: link,toll");
    const link = Number(cells[0]);
    if (cells[0] === "" || !Number.isInteger(link) || link < 1 || link > net.linkCount)
      throw new InputError(
        MOD,
        `unknown link "${cells[0]}"`,
        { file, line, field: "link" },
        `a link id in 1..${net.linkCount} of ${net.name}`,
      );
    const toll = Number(cells[1]);
    if (cells[1] === "" || !Number.isFinite(toll))
      throw new InputError(MOD, `toll "${cells[1]}" is not a number`, { file, line, field: "toll" }, "a finite number (money)");
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
  }
  if (header < 0) throw new InputError(MOD, "the file is empty", { file, line: 1, field: "header" }, 'the header "link,toll"');
  return tolls;
}

/**
 * Reads a tolls file (see {@link parseTollsCsv}).
 * @throws InputError when the file cannot be read or is malformed
 */
export function readTollsFile(path: string, net: Network): Float64Array {
  const text = readInputFile(path, MOD, "a readable CSV file");
  return parseTollsCsv(text, net, path);
}
