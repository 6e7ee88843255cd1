/**
 * User files and atomic output: JSON errors name their 1-based line; a write that fails leaves
 * no temporary file or folder behind and the destination untouched.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  isNetworkId,
  networkIdKind,
  parseJsonText,
  readJsonFile,
  replaceDirAtomic,
  resolveNetworkRef,
  writeFileAtomic,
  writeFilesAtomic,
} from "@tollkit/graph-core";
import { inputErrorOf } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tollkit-io-"));
afterAll(() => {
  chmodSync(root, 0o755);
  rmSync(root, { recursive: true, force: true });
});
const asRoot = process.getuid?.() === 0; // permissions do not stop root

describe("JSON files", () => {
  it("parses valid JSON, with a byte-order mark too", () => {
    expect(parseJsonText('\uFEFF{"a": [1, 2]}', "a.json", "test/mod", "an object")).toEqual({ a: [1, 2] });
  });

  const cases: [string, string, number][] = [
    ["a doubled comma on line 2", '[\n{"name": "car",,}\n]', 2],
    ["a missing value on line 3", '[\n  {"name": "a",\n  "pce": }\n]', 3],
    ["an unterminated string on line 2", '{\n"a": "open\n}', 2],
    ["an unexpected end after line 3", '{\n"a": 1,\n"b": [1,\n', 4],
    ["text after the document on line 4", '{\n"a": 1\n}\nx', 4],
  ];
  for (const [what, text, line] of cases)
    it(`names the line of ${what}`, () => {
      const e = inputErrorOf(() => parseJsonText(text, "bad.json", "test/mod", "a JSON document"));
      expect(e.message).toMatch(new RegExp(`^test/mod: bad\\.json:${line}: not valid JSON: .*\\(expected a JSON document\\)$`));
      expect(e.message.split("\n")).toHaveLength(1);
      expect(e.line).toBe(line);
      expect(e.reason).toMatch(/^not valid JSON: /); // the message without module, place and expectation
      expect(e.expected).toBe("a JSON document");
    });

  it("reads a file, and names a missing one", () => {
    const p = join(root, "ok.json");
    writeFileSync(p, '{"x": 1}');
    expect(readJsonFile(p, "test/mod", "a JSON object")).toEqual({ x: 1 });
    expect(inputErrorOf(() => readJsonFile(join(root, "none.json"), "test/mod", "a JSON object")).message).toMatch(
      /none\.json: cannot read the file \(ENOENT\)/,
    );
  });
});

describe("atomic writes", () => {
  it("writes a file, creating its folder, with no temporary file left", () => {
    const p = join(root, "one", "deep", "f.txt");
    writeFileAtomic(p, "hello\n");
    expect(readFileSync(p, "utf8")).toBe("hello\n");
    expect(readdirSync(join(root, "one", "deep"))).toEqual(["f.txt"]);
  });

  it("a write that fails leaves nothing behind", () => {
    const dir = join(root, "fail-one");
    mkdirSync(dir);
    // the destination is a folder: the rename fails after the temporary file was written
    mkdirSync(join(dir, "f.txt"));
    expect(inputErrorOf(() => writeFileAtomic(join(dir, "f.txt"), "x")).message).toMatch(
      /^graph-core\/io: .*f\.txt: cannot write the file/,
    );
    expect(readdirSync(dir)).toEqual(["f.txt"]);
  });

  it("writes files into a folder and keeps its other files", () => {
    const dir = join(root, "out");
    mkdirSync(dir);
    writeFileSync(join(dir, "keep.txt"), "old");
    writeFilesAtomic(dir, [
      { name: "a.csv", content: "a\n" },
      { name: "b.json", content: "{}\n" },
    ]);
    expect(readdirSync(dir).sort()).toEqual(["a.csv", "b.json", "keep.txt"]);
    expect(readdirSync(root).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("a folder write that fails adds nothing to the folder", () => {
    const dir = join(root, "out-fail");
    mkdirSync(dir);
    writeFileSync(join(dir, "keep.txt"), "old");
    // a file name with a folder that does not exist: the second write fails
    const e = inputErrorOf(() =>
      writeFilesAtomic(dir, [
        { name: "a.csv", content: "a\n" },
        { name: join("missing", "b.csv"), content: "b\n" },
      ]),
    );
    expect(e.message).toMatch(/out-fail: cannot write the output folder: ENOENT/);
    expect(readdirSync(dir)).toEqual(["keep.txt"]);
    expect(readdirSync(root).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("replaces a whole folder", () => {
    const dir = join(root, "run");
    mkdirSync(dir);
    writeFileSync(join(dir, "stale.txt"), "old");
    replaceDirAtomic(dir, [{ name: "summary.json", content: "{}\n" }]);
    expect(readdirSync(dir)).toEqual(["summary.json"]);
    expect(readdirSync(root).filter((f) => f.includes("partial") || f.includes("replaced"))).toEqual([]);
  });

  it("a folder replacement that fails keeps the old folder", () => {
    const dir = join(root, "run-fail");
    mkdirSync(dir);
    writeFileSync(join(dir, "old.txt"), "old");
    inputErrorOf(() => replaceDirAtomic(dir, [{ name: join("missing", "x"), content: "" }]));
    expect(readdirSync(dir)).toEqual(["old.txt"]);
    expect(readdirSync(root).filter((f) => f.includes("partial") || f.includes("replaced"))).toEqual([]);
  });

  it.skipIf(asRoot)("names the folder when its parent is not writable", () => {
    const parent = join(root, "locked");
    mkdirSync(parent);
    chmodSync(parent, 0o555);
    try {
      expect(inputErrorOf(() => replaceDirAtomic(join(parent, "run"), [])).message).toMatch(
        /locked\/run: cannot write the output folder: EACCES/,
      );
    } finally {
      chmodSync(parent, 0o755);
    }
  });
});

describe("network ids", () => {
  it("tells built-in and catalogue ids from paths", () => {
    expect(networkIdKind("two-route")).toBe("builtin");
    expect(networkIdKind("sioux-falls")).toBe("catalogue");
    expect(networkIdKind("toString")).toBeUndefined();
    expect(networkIdKind("nets/x_net.tntp")).toBeUndefined();
    expect(isNetworkId("grid-city")).toBe(true);
    expect(isNetworkId("sioux-falls", { supportedOnly: true })).toBe(true);
    expect(isNetworkId("munich")).toBe(true);
    expect(isNetworkId("munich", { supportedOnly: true })).toBe(false); // supported: false in the catalogue
    expect(isNetworkId("./sioux-falls")).toBe(false);
  });

  it("joins relative paths to the naming file's folder, never ids or absolute paths", () => {
    expect(resolveNetworkRef("sioux-falls", "/s")).toBe("sioux-falls");
    expect(resolveNetworkRef("pigou", "/s")).toBe("pigou");
    expect(resolveNetworkRef("n/x_net.tntp", "/s")).toBe("/s/n/x_net.tntp");
    expect(resolveNetworkRef("/abs/x_net.tntp", "/s")).toBe("/abs/x_net.tntp");
    expect(resolveNetworkRef("n/x_net.tntp")).toBe("n/x_net.tntp");
  });
});
