/**
 * File output that never leaves a half-written file: write under a temporary name in the same
 * folder, then rename (atomic on one file system).
 */

import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

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
