/**
 * File output that never leaves a half-written file: write under a temporary name in the same
 * folder, then rename (atomic on one file system).
 */

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError } from "./errors.js";

/**
 * Reads a UTF-8 text file given by a user.
 * @param module module named in the message, e.g. `follower/tolls`
 * @param expected what the file should be, e.g. `a readable CSV file`
 * @throws InputError naming the file and why it cannot be read (missing, a folder, no permission)
 */
export function readInputFile(path: string, module: string, expected: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(
      module,
      `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file: path },
      expected,
    );
  }
}

/**
 * Writes `data` to `path` atomically, creating the folder if needed.
 * @throws the file system's error; the temporary file is removed first
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFilesAtomic([{ path, data }]);
}

/**
 * Writes several files so that none is replaced until all are written: each goes to a
 * temporary name first, and the renames happen only after every write succeeded.
 * @throws the file system's error; temporary files are removed first
 */
export function writeFilesAtomic(files: { path: string; data: string | Uint8Array }[]): void {
  const tmps = files.map((f) => join(dirname(f.path), `.${basename(f.path)}.${process.pid}.tmp`));
  try {
    files.forEach((f, k) => {
      mkdirSync(dirname(f.path), { recursive: true });
      writeFileSync(tmps[k], f.data);
    });
    files.forEach((f, k) => renameSync(tmps[k], f.path));
  } catch (err) {
    for (const t of tmps) rmSync(t, { force: true });
    throw err;
  }
}
