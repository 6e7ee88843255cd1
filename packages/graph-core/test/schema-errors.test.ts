/**
 * schemaInputError: a validator's issues (zod's shape, written out here by hand so graph-core
 * needs no zod) become one InputError naming the file, the JSON path, what was given and what
 * was expected.
 */
import { describe, expect, it } from "vitest";
import { isInputError, schemaInputError } from "@tollkit/graph-core";

const doc = { instruments: [{ bounds: { min: 0, max: "ten" } }], settings: { classes: [{ name: "car" }, { name: "bus", pcu: 2 }] } };

describe("schemaInputError", () => {
  it("names the JSON path, the value given and the expectation (the message of the issue)", () => {
    const e = schemaInputError([{ code: "invalid_type", path: ["instruments", 0, "bounds", "max"], message: "a toll (money)" }], doc, {
      module: "leader/scenario",
      file: "s.json",
    });
    expect(isInputError(e)).toBe(true);
    expect(e.message).toBe('leader/scenario: s.json, field "instruments[0].bounds.max": got "ten" (expected a toll (money))');
    expect(e.field).toBe("instruments[0].bounds.max");
  });

  it("prefixes the path of the validated part and counts the other problems", () => {
    const classes = doc.settings.classes;
    const e = schemaInputError(
      [
        { code: "too_small", path: [1, "pce"], message: "Too small: expected number to be >0" },
        { code: "custom", path: [0, "name"], message: "x" },
        { code: "custom", path: [1], message: "y" },
      ],
      classes,
      { module: "api", file: "request body", at: ["settings", "classes"] },
    );
    expect(e.message).toBe(
      'api: request body, field "settings.classes[1].pce": got nothing (and 2 more problems) (expected number to be >0)',
    );
  });

  it("names an unknown key by its own path", () => {
    const e = schemaInputError(
      [{ code: "unrecognized_keys", path: [1], keys: ["pcu"], message: 'Unrecognized key: "pcu"' }],
      doc.settings.classes,
      {
        module: "follower/classes",
        file: "classes.json",
        keyWord: "key",
        knownFields: "only name, pce",
      },
    );
    expect(e.message).toBe('follower/classes: classes.json, field "[1].pcu": unknown key "pcu" (expected only name, pce)');
  });

  it("splits a statement ending in (expected …), lists a discriminator's options, names the root", () => {
    const s = schemaInputError(
      [{ code: "custom", path: [], message: "the demand shares add up to 0.95 (expected shares summing to 1)" }],
      [],
      {
        module: "m",
        file: "f.json",
        rootField: "(root)",
      },
    );
    expect(s.message).toBe('m: f.json, field "(root)": the demand shares add up to 0.95 (expected shares summing to 1)');
    const d = schemaInputError(
      [
        {
          code: "invalid_union",
          path: ["type"],
          discriminator: "type",
          options: ["links", "cordon"],
          message: "Invalid discriminator value",
        },
      ],
      { type: "ring" },
      { module: "m", file: "f.json" },
    );
    expect(d.message).toBe('m: f.json, field "type": got "ring" (expected one of "links", "cordon")');
    const t = schemaInputError([{ code: "invalid_type", path: [], message: "Invalid input: expected object, received array" }], [], {
      module: "api",
      file: "request body",
    });
    expect(t.message).toBe("api: request body: got [] (expected object)");
  });
});
