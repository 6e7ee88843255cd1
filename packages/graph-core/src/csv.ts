/**
 * The one CSV reader and the one CSV writer of tollkit, on csv-parse and csv-stringify.
 *
 * Reading ({@link parseCsv}): RFC 4180 (comma-separated, `"` quotes, `""` inside quotes), a
 * UTF-8 byte-order mark is dropped, `\n` or `\r\n` line ends, cells trimmed, a header row
 * required, blank (or white-space only) lines skipped. Every data row keeps the 1-based line of
 * the file it ended on, so that a caller's message can name it. A row with another number of
 * fields than the header, an unclosed quote, a repeated column name or a missing required column
 * is an {@link InputError} naming the file, the line and the field.
 *
 * Writing ({@link formatCsv}): numbers as JavaScript prints them (`String(n)`, which reads back
 * to the same double), non-finite numbers, `null` and `undefined` as empty cells, booleans as
 * `true` / `false`; a cell is quoted only when it holds a comma, a quote or a line break;
 * `\n` line ends and a final newline.
 */

import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { InputError } from "./errors.js";

const MOD = "graph-core/csv";

/** A cell that {@link formatCsv} writes. */
export type CsvCell = string | number | boolean | null | undefined;

/** A CSV table read by {@link parseCsv}. */
export interface CsvTable {
  /** Column names as written (trimmed; lower-cased with `lowerCaseHeader`). */
  header: string[];
  /** One record per data row, keyed by the header's names; every column is present. */
  rows: Record<string, string>[];
  /** The 1-based line of the file on which each row ends (a quoted line break spans lines). */
  lines: number[];
  /** The 1-based line of the header row. */
  headerLine: number;
}

/** Options of {@link parseCsv}. */
export interface ParseCsvOptions {
  /** Columns that must be in the header (compared lower-cased with `lowerCaseHeader`). */
  required?: readonly string[];
  /** Module named at the start of error messages; default `graph-core/csv`. */
  module?: string;
  /** Lower-case the header's names (for case-insensitive column names, as GMNS's). */
  lowerCaseHeader?: boolean;
}

interface CsvParseError {
  code?: string;
  lines?: number;
  column?: number | string;
  message: string;
}

/**
 * Parses a CSV text with a header row into records (see the module comment for the dialect).
 * A row with too few fields names the first missing column; one with too many names the
 * first column (the row cannot say which of its fields is the extra one).
 * @param file the file name for messages (`file:line`)
 * @throws InputError naming the file, the line and the field: an empty file (field `header`),
 *   a repeated column name, a missing required column, a row whose number of fields differs
 *   from the header's, or CSV that cannot be read (an unclosed quote, text after a closing quote)
 */
export function parseCsv(text: string, file: string, opts: ParseCsvOptions = {}): CsvTable {
  const mod = opts.module ?? MOD;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: true }) as never;
  } catch (e) {
    const err = e as CsvParseError;
    let header: string[] = [];
    try {
      header = (parse(text, { bom: true, to_line: 1, trim: true }) as string[][])[0] ?? [];
    } catch {
      // the header itself is broken: no column names to report
    }
    const field = typeof err.column === "number" ? (header[err.column] ?? `column ${err.column + 1}`) : undefined;
    throw new InputError(
      mod,
      `not valid CSV: ${err.message.replace(/ at line \d+/, "")}`,
      { file, line: err.lines, field },
      "comma-separated values",
    );
  }
  // a white-space-only line reads as one empty cell: a blank line
  records = records.filter((r) => !(r.record.length === 1 && r.record[0] === ""));
  if (records.length === 0)
    throw new InputError(mod, "the file is empty", { file, line: 1, field: "header" }, "a header line, then data rows");
  const header = opts.lowerCaseHeader ? records[0].record.map((h) => h.toLowerCase()) : records[0].record;
  const headerLine = records[0].info.lines;
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h))
      throw new InputError(mod, `column "${h}" appears twice`, { file, line: headerLine, field: h }, "distinct column names");
    seen.add(h);
  }
  for (const name of opts.required ?? []) {
    const want = opts.lowerCaseHeader ? name.toLowerCase() : name;
    if (!seen.has(want))
      throw new InputError(
        mod,
        `missing column "${name}"`,
        { file, line: headerLine, field: name },
        `a header with ${opts.required!.join(",")}`,
      );
  }
  const rows: Record<string, string>[] = [];
  const lines: number[] = [];
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    if (record.length !== header.length) {
      const got = record.length;
      throw new InputError(
        mod,
        `${got} fields, expected ${header.length} (${got < header.length ? "truncated line?" : "extra fields"})`,
        { file, line: info.lines, field: got < header.length ? header[got] : header[0] },
        header.join(","),
      );
    }
    const row: Record<string, string> = {};
    for (let k = 0; k < header.length; k++) row[header[k]] = record[k];
    rows.push(row);
    lines.push(info.lines);
  }
  return { header, rows, lines, headerLine };
}

/** The text of one cell before quoting (see the module comment). */
function cellText(c: CsvCell): string {
  if (c === null || c === undefined) return "";
  if (typeof c === "number") return Number.isFinite(c) ? String(c) : "";
  return String(c);
}

/**
 * Formats a CSV text: the header row, then one line per row (see the module comment for the
 * dialect). Rows are written as given; a row need not have as many cells as the header.
 * @returns the text, `\n`-separated, with a final newline
 */
export function formatCsv(header: readonly string[], rows: Iterable<readonly CsvCell[]>): string {
  const records: string[][] = [header.map(cellText)];
  for (const row of rows) records.push(row.map(cellText));
  return stringify(records, { record_delimiter: "\n", eof: true });
}
