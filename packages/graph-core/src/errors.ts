/**
 * Errors raised for bad input. Every message names where the problem is (file and line, or a
 * JSON path), the field, and what was expected, so that a user can fix the input without a
 * stack trace. Messages start with the module that raised them, e.g. `graph-core/tntp: …`.
 */

import { describeValue, jsonPath, valueAtPath } from "./json-path.js";

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

/**
 * The part of a schema validator's issue that {@link schemaInputError} reads: zod 4's issue
 * shape, typed structurally so that graph-core needs no zod.
 */
export interface SchemaIssue {
  /** e.g. `invalid_type`, `too_small`, `unrecognized_keys`, `invalid_union`, `custom`. */
  readonly code: string;
  /** Path of the offending value inside the validated value. */
  readonly path: readonly PropertyKey[];
  /**
   * What was expected (`"a positive number"`), zod's own text (`"Too small: expected number
   * to be >0"`), or a whole statement ending in `(expected …)`.
   */
  readonly message: string;
  /** `unrecognized_keys`: the unknown keys. */
  readonly keys?: readonly string[];
  /** `invalid_union` of a discriminated union: the discriminator's name. */
  readonly discriminator?: string;
  /** `invalid_union` of a discriminated union: the allowed discriminator values. */
  readonly options?: readonly unknown[];
}

/** Where and how {@link schemaInputError} names a problem. */
export interface SchemaErrorOptions {
  /** Module named at the start of the message, e.g. `leader/scenario`. */
  module: string;
  /** File (or label such as `request body`) named in the message. */
  file: string;
  /**
   * Path of the validated value inside that input, prefixed to every issue's path (e.g.
   * `["settings", "classes"]` when only the classes of a request were validated). Default none.
   */
  at?: readonly PropertyKey[];
  /** What an unknown field should have been, e.g. `only the fields of scenarios/scenario.schema.json`. */
  knownFields?: string;
  /** How the input calls its keys in messages (`unknown field "x"` or `unknown key "x"`); default "field". */
  keyWord?: "field" | "key";
  /** The field named for a problem with the whole input (e.g. `(root)`); default none (the file only). */
  rootField?: string;
  /** How to say what a discriminated union expects, from its allowed discriminator values. */
  describeDiscriminator?: (options: readonly unknown[]) => string;
}

/** zod's generated messages: `Too small: expected number to be >0`, `Invalid input: expected object, received array`. */
const GENERATED = /^[A-Z][A-Za-z ]*: expected /;
/** A statement of ours with its expectation: `unknown network "x" (expected one of a, b)`. */
const STATEMENT = /^(.*\S) \(expected (.*)\)$/s;

/**
 * Turns the first issue of a failed schema validation into one {@link InputError} naming the
 * file, the JSON path (`settings.classes[1].demandShare`, `instruments[0].bounds.max`), what
 * was given and what was expected; further issues are counted (`and 2 more problems`).
 * @param issues the validator's issues (zod: `result.error.issues`), at least one
 * @param value the validated value (to quote what was given at the issue's path)
 * @param opts module, file and path prefix for the message
 * @returns the error to throw (an unknown key is named by its own path)
 */
export function schemaInputError(issues: readonly SchemaIssue[], value: unknown, opts: SchemaErrorOptions): InputError {
  // an unknown field first: a typo (`netwrok`) is the cause of the missing field it also makes
  const issue = issues.find((i) => i.code === "unrecognized_keys" && i.keys?.length) ?? issues[0];
  const n = issues.length;
  const more = n > 1 ? ` (and ${n - 1} more problem${n > 2 ? "s" : ""})` : "";
  const at = opts.at ?? [];
  const where = (path: readonly PropertyKey[]): InputLocation => {
    const field = jsonPath([...at, ...path]) || opts.rootField;
    return field ? { file: opts.file, field } : { file: opts.file };
  };
  if (!issue) return new InputError(opts.module, "invalid", where([]));
  if (issue.code === "unrecognized_keys" && issue.keys?.length) {
    const key = issue.keys[0];
    return new InputError(
      opts.module,
      `unknown ${opts.keyWord ?? "field"} "${key}"${more}`,
      where([...issue.path, key]),
      opts.knownFields ?? "no other fields",
    );
  }
  const given = `got ${describeValue(valueAtPath(value, issue.path))}`;
  if (issue.code === "invalid_union" && issue.discriminator && issue.options) {
    const expected = opts.describeDiscriminator
      ? opts.describeDiscriminator(issue.options)
      : `one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}`;
    return new InputError(opts.module, `${given}${more}`, where(issue.path), expected);
  }
  const statement = STATEMENT.exec(issue.message);
  if (statement) return new InputError(opts.module, `${statement[1]}${more}`, where(issue.path), statement[2]);
  // zod's own text: "expected int, received number" after "got 0.5" says the type twice
  const expected = GENERATED.test(issue.message)
    ? issue.message.replace(GENERATED, "").replace(/, received \w+$/, "")
    : issue.message.replace(/^expected /, "");
  return new InputError(opts.module, `${given}${more}`, where(issue.path), expected);
}
