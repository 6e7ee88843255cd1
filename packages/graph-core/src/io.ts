/**
 * Files given by users, and output that never leaves a half-written file.
 *
 * Reading: {@link readInputFile} (text) and {@link readJsonFile} / {@link parseJsonText} (JSON,
 * a syntax error named with its 1-based line).
 *
 * Writing: everything goes under a temporary name beside its destination first and is renamed
 * into place when complete (a rename is atomic on one file system):
 * - {@link writeFileAtomic}: one file (`.<name>.<pid>.tmp` beside it);
 * - {@link writeFilesAtomic}: several files into a folder, none renamed in before all are
 *   written (a temporary folder `.<dir>.partial-…` beside it);
 * - {@link replaceDirAtomic}: a whole folder replaced in one rename (`.partial-<dir>-…`, the old
 *   one moved aside as `.replaced-<dir>-…` and removed).
 * Temporary files and folders are removed on failure too.
 */

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "./errors.js";

const MOD = "graph-core/io";

/** One file of a folder written by {@link writeFilesAtomic} or {@link replaceDirAtomic}. */
export interface NamedFile {
  /** File name inside the folder (no path separators). */
  name: string;
  content: string | Uint8Array;
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * Reads a UTF-8 text file given by a user.
 * @param module module named in the message, e.g. `follower/tolls`
 * @param expected what the file should be, e.g. `a readable CSV file`
 * @throws InputError naming the file and why it cannot be read (missing, a folder, no permission)
 */
export function readInputFile(path: string, module: string, expected: string): string {
  checkInputSize(path, module);
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(module, `cannot read the file (${errorCode(e)})`, { file: path }, expected);
  }
}

/**
 * The largest input file tollkit reads, bytes: `TOLLKIT_MAX_INPUT_MB` (default 512; a text file
 * cannot be larger than the longest string Node holds, about 512 MiB).
 */
export function maxInputBytes(): number {
  const mb = Number(process.env.TOLLKIT_MAX_INPUT_MB);
  return (Number.isFinite(mb) && mb > 0 ? Math.min(mb, 512) : 512) * 1024 * 1024;
}

/**
 * Refuses a file larger than {@link maxInputBytes} before reading it (a missing file is left to
 * the reader's own message).
 * @throws InputError naming the file, its size and the limit
 */
export function checkInputSize(path: string, module: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return;
  }
  const max = maxInputBytes();
  if (size > max)
    throw new InputError(
      module,
      `the file is ${(size / 1048576).toFixed(0)} MiB, more than the ${(max / 1048576).toFixed(0)} MiB tollkit reads`,
      { file: path },
      `a file of at most ${(max / 1048576).toFixed(0)} MiB (TOLLKIT_MAX_INPUT_MB lowers the limit)`,
    );
}

/**
 * The character offset at which `JSON.parse(text)` fails. V8 states a position for most
 * errors; for the others (an unexpected end, an unterminated string) the offset is found by
 * bisection: the shortest prefix that fails for a reason other than ending early.
 */
function jsonErrorOffset(text: string, message: string): number {
  const m = /position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  const failsInside = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (e) {
      return !/end of JSON input|Unterminated/i.test((e as Error).message);
    }
  };
  let lo = 0;
  let hi = text.length;
  if (!failsInside(hi)) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (failsInside(mid)) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}

/** 1-based line of a character offset in a text. */
function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Parses the JSON text of a user's file (a UTF-8 byte-order mark is dropped).
 * @param file the file name for messages
 * @param module module named in the message, e.g. `leader/scenario`
 * @param expected what the file should hold, e.g. `a JSON scenario`
 * @throws InputError `not valid JSON: …` naming the file and the 1-based line of the error
 *   (the message is one line)
 */
export function parseJsonText(text: string, file: string, module: string, expected: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  try {
    return JSON.parse(body);
  } catch (e) {
    const msg = (e as Error).message;
    // one line: V8 quotes the text around the error, newlines included
    throw new InputError(
      module,
      `not valid JSON: ${msg.replace(/\s+/g, " ")}`,
      { file, line: lineAt(body, jsonErrorOffset(body, msg)) },
      expected,
    );
  }
}

/**
 * Reads and parses a user's JSON file (see {@link parseJsonText}).
 * @param module module named in the message, e.g. `leader/scenario`
 * @param expected what the file should hold, e.g. `a JSON scenario`
 * @throws InputError naming the file when it cannot be read, or the file and line when it is
 *   not valid JSON
 */
export function readJsonFile(path: string, module: string, expected: string): unknown {
  return parseJsonText(readInputFile(path, module, expected), path, module, expected);
}

/**
 * Writes `content` to `path` atomically (a temporary name beside it, then a rename), creating
 * the folder if needed.
 * @throws InputError naming the file when it cannot be written; the temporary file is removed
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new InputError(MOD, `cannot write the file: ${errorCode(e)}`, { file: path }, "a writable file");
  }
}

/**
 * Writes files into `dir` (created if needed): all of them go to a temporary folder beside
 * `dir` first, and each is renamed into `dir` only once every one is written. A failure while
 * writing leaves nothing new in `dir`; files of `dir` with other names are kept.
 * @throws InputError naming the folder when it cannot be created or written
 */
export function writeFilesAtomic(dir: string, files: readonly NamedFile[]): void {
  const target = resolve(dir);
  const tmp = join(dirname(target), `.${basename(target)}.partial-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(target, { recursive: true });
    mkdirSync(tmp, { recursive: true });
    for (const f of files) writeFileSync(join(tmp, f.name), f.content);
    for (const f of files) renameSync(join(tmp, f.name), join(target, f.name));
  } catch (e) {
    throw new InputError(MOD, `cannot write the output folder: ${errorCode(e)}`, { file: dir }, "a writable folder");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Replaces the folder `dir` by one holding exactly `files`, in one rename: the files go to a
 * temporary folder beside `dir`, an existing `dir` is moved aside (and removed afterwards), and
 * the temporary folder is renamed to `dir`. A reader sees the old folder, no folder, or the
 * complete new one — never some of the files, so "the folder exists" can mean "the run is
 * complete" (`tollkit batch` relies on it). When the last rename fails the old folder is put
 * back.
 * @throws InputError naming the folder when its parent cannot be created or written
 */
export function replaceDirAtomic(dir: string, files: readonly NamedFile[]): void {
  const target = resolve(dir);
  const stamp = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = join(dirname(target), `.partial-${basename(target)}-${stamp}`);
  const old = join(dirname(target), `.replaced-${basename(target)}-${stamp}`);
  let movedAside = false;
  try {
    mkdirSync(tmp, { recursive: true });
    for (const f of files) writeFileSync(join(tmp, f.name), f.content);
    if (existsSync(target)) {
      renameSync(target, old);
      movedAside = true;
    }
    renameSync(tmp, target);
  } catch (e) {
    // the new folder could not take its place: put the old one back
    if (movedAside && !existsSync(target)) renameSync(old, target);
    throw new InputError(MOD, `cannot write the output folder: ${errorCode(e)}`, { file: dir }, "a writable folder");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}
