/**
 * Turns the first problem zod finds in a JSON document into one {@link InputError} naming the
 * file, the JSON path, what was found and what was expected. Shared by scenario files and the
 * CLI's sweep files.
 */
import { describeValue, InputError, jsonPath, valueAtPath } from "@tollkit/graph-core";
import { z } from "zod";

export interface ZodInputErrorOptions {
  /** Module named at the start of the message, e.g. `leader/scenario`. */
  module: string;
  /** File named in the message. */
  file: string;
  /** What an unknown field should have been, e.g. `only the fields of scenarios/scenario.schema.json`. */
  knownFields: string;
  /** How to say what a discriminated union expects, from its allowed discriminator values. */
  describeDiscriminator?: (options: unknown[]) => string;
}

/** The InputError for a failed `safeParse` of `json`. */
export function zodInputError(error: z.ZodError, json: unknown, opts: ZodInputErrorOptions): InputError {
  const issue = error.issues[0];
  const n = error.issues.length;
  const more = n > 1 ? ` (and ${n - 1} more problem${n > 2 ? "s" : ""})` : "";
  const field = (path: readonly PropertyKey[]) => jsonPath(path) || "(top level)";
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    return new InputError(
      opts.module,
      `unknown field "${key}"${more}`,
      { file: opts.file, field: field([...issue.path, key]) },
      opts.knownFields,
    );
  }
  let expected = issue.message.replace(/^Invalid input: expected /, "");
  if (issue.code === "invalid_union" && "discriminator" in issue && issue.discriminator) {
    const options = (issue as unknown as { options: unknown[] }).options;
    expected = opts.describeDiscriminator
      ? opts.describeDiscriminator(options)
      : `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
  }
  return new InputError(
    opts.module,
    `got ${describeValue(valueAtPath(json, issue.path))}${more}`,
    { file: opts.file, field: field(issue.path) },
    expected,
  );
}
