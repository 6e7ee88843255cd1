/**
 * Errors raised for bad input. Every message names where the problem is (file and line, or a
 * JSON path), the field, and what was expected, so that a user can fix the input without a
 * stack trace. Messages start with the module that raised them, e.g. `graph-core/tntp: …`.
 */

/** Where in an input a problem was found. */
export interface InputLocation {
  /** File name or path (or a label such as `request body`). */
  file?: string;
  /** 1-based line number in the file. */
  line?: number;
  /** Field (column) name, or a JSON path such as `classes[0].valueOfTime`. */
  field?: string;
}

/** A problem with user input: a file, a flag or a request. Never a bug in tollkit. */
export class InputError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  readonly expected?: string;
  /** The message without the module, the place and what was expected (to restate it elsewhere). */
  readonly reason: string;
  constructor(module: string, message: string, where: InputLocation = {}, expected?: string) {
    const parts: string[] = [];
    if (where.file !== undefined) parts.push(where.line !== undefined ? `${where.file}:${where.line}` : where.file);
    if (where.field !== undefined) parts.push(`field "${where.field}"`);
    const loc = parts.length ? `${parts.join(", ")}: ` : "";
    super(`${module}: ${loc}${message}${expected ? ` (expected ${expected})` : ""}`);
    this.name = "InputError";
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
    this.expected = expected;
    this.reason = message;
  }
}

/** True when `e` is an {@link InputError} (also across package copies). */
export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && e.name === "InputError";
}
