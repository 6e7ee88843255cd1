/**
 * The CSV reader and writer: RFC 4180 quoting, a byte-order mark, blank lines, line numbers of
 * rows (also after a quoted line break), and errors naming file, line and field. Expected
 * values are written out by hand from the texts below.
 */
import { describe, expect, it } from "vitest";
import { formatCsv, parseCsv } from "@tollkit/graph-core";
import { inputErrorOf } from "./helpers.js";

describe("parseCsv", () => {
  it("reads quoted fields, trims cells and keeps each row's line", () => {
    const t = parseCsv('link,toll\n"16","5"\n\n  17 , " 2.5 "\n', "t.csv");
    expect(t.header).toEqual(["link", "toll"]);
    expect(t.rows).toEqual([
      { link: "16", toll: "5" },
      { link: "17", toll: " 2.5 " },
    ]);
    expect(t.lines).toEqual([2, 4]);
    expect(t.headerLine).toBe(1);
  });

  it("drops a byte-order mark and reads CRLF line ends", () => {
    const t = parseCsv("\uFEFFa,b\r\n1,2\r\n", "bom.csv");
    expect(t.header).toEqual(["a", "b"]);
    expect(t.rows).toEqual([{ a: "1", b: "2" }]);
  });

  it("reads commas, quotes and line breaks inside quotes", () => {
    const t = parseCsv('name,note\n"a,b","say ""hi"""\n"c","two\nlines"\n"d",x\n', "q.csv");
    expect(t.rows.map((r) => r.name)).toEqual(["a,b", "c", "d"]);
    expect(t.rows[0].note).toBe('say "hi"');
    expect(t.rows[1].note).toBe("two\nlines");
    expect(t.lines).toEqual([2, 4, 5]);
  });

  it("skips blank and white-space-only lines, and before the header too", () => {
    const t = parseCsv("\n  \nx,y\n \n1,2\n", "blank.csv");
    expect(t.headerLine).toBe(3);
    expect(t.lines).toEqual([5]);
  });

  it("lower-cases the header on request and checks required columns", () => {
    const t = parseCsv("Link,TOLL\n1,2\n", "c.csv", { lowerCaseHeader: true, required: ["link", "Toll"] });
    expect(t.rows).toEqual([{ link: "1", toll: "2" }]);
    const e = inputErrorOf(() => parseCsv("link,cost\n1,2\n", "c.csv", { required: ["link", "toll"] }));
    expect(e.message).toBe('graph-core/csv: c.csv:1, field "toll": missing column "toll" (expected a header with link,toll)');
  });

  it("names the line and the first missing field of a short row", () => {
    const e = inputErrorOf(() => parseCsv("a,b,c\n1,2,3\n4,5\n", "short.csv", { module: "test/mod" }));
    expect(e.message).toBe('test/mod: short.csv:3, field "c": 2 fields, expected 3 (truncated line?) (expected a,b,c)');
  });

  it("names the line and the first field of a long row", () => {
    const e = inputErrorOf(() => parseCsv("a,b\n1,2\n\n3,4,5\n", "long.csv"));
    expect(e.message).toBe('graph-core/csv: long.csv:4, field "a": 3 fields, expected 2 (extra fields) (expected a,b)');
  });

  it("names the line and the column of an unclosed quote", () => {
    const e = inputErrorOf(() => parseCsv('o,d,v\n1,2,3\n2,"1,10\n', "quote.csv"));
    expect(e.message).toMatch(/^graph-core\/csv: quote\.csv:3, field "d": not valid CSV: .*\(expected comma-separated values\)$/);
  });

  it("rejects an empty file and a repeated column", () => {
    expect(inputErrorOf(() => parseCsv("\n\n", "empty.csv")).message).toBe(
      'graph-core/csv: empty.csv:1, field "header": the file is empty (expected a header line, then data rows)',
    );
    expect(inputErrorOf(() => parseCsv("a,b,a\n1,2,3\n", "dup.csv")).message).toMatch(/dup\.csv:1, field "a": column "a" appears twice/);
  });
});

describe("formatCsv", () => {
  it("prints numbers round-trip exact, empty cells for non-finite and missing values", () => {
    const text = formatCsv(
      ["a", "b", "c", "d", "e", "f"],
      [
        [0.1 + 0.2, 1e-7, -0, NaN, null, undefined],
        [Infinity, 2, true, false, "", 1e21],
      ],
    );
    expect(text).toBe("a,b,c,d,e,f\n0.30000000000000004,1e-7,0,,,\n,2,true,false,,1e+21\n");
    expect(Number(parseCsv(text, "x").rows[0].a)).toBe(0.1 + 0.2);
  });

  it("quotes only cells that need it", () => {
    const text = formatCsv(
      ["name", "note"],
      [
        ["a,b", 'say "hi"'],
        ["two\nlines", "plain text"],
      ],
    );
    expect(text).toBe('name,note\n"a,b","say ""hi"""\n"two\nlines",plain text\n');
    expect(parseCsv(text, "x").rows).toEqual([
      { name: "a,b", note: 'say "hi"' },
      { name: "two\nlines", note: "plain text" },
    ]);
  });

  it("writes the header alone for no rows", () => {
    expect(formatCsv(["link", "toll"], [])).toBe("link,toll\n");
  });
});
