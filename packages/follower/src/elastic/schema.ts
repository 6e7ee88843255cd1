/**
 * The zod schema of an elastic demand specification (`{type: "elastic", form, elasticity | rate,
 * zones, classes}`), shared by scenario files (`demand`), the API's assign settings and the CLI's
 * `--demand-function` file: one definition, validated the same way everywhere. Cross-field rules
 * (exactly one of elasticity and rate, no rate for power) are checked by
 * {@link checkDemandFunctionSpec} and the scenario checks.
 */

import { InputError, schemaInputError } from "@tollkit/graph-core";
import * as z from "zod";
import { DEMAND_FORMS, DemandFunctionSpec } from "./demand.js";

const nonNegative = (what: string) => z.number({ error: what }).min(0, { error: what }).finite({ error: what });

/** An elasticity or a rate. */
export const DemandSensitivitySchema = z.strictObject({
  elasticity: nonNegative("an elasticity ≥ 0 (dimensionless)")
    .optional()
    .meta({ description: "−(dq/dc)·c0/q0 at the pivot (dimensionless)." }),
  rate: nonNegative("a rate ≥ 0 (per time unit)")
    .optional()
    .meta({ description: "−(dq/dc)/q0 at the pivot (per time unit; exponential and linear)." }),
});

/** The elastic demand object. */
export const ElasticDemandSchema = z
  .strictObject({
    type: z.literal("elastic"),
    form: z.enum(DEMAND_FORMS, { error: `one of ${DEMAND_FORMS.join(", ")}` }),
    ...DemandSensitivitySchema.shape,
    zones: z.record(z.string(), DemandSensitivitySchema).optional().meta({ description: "Overrides by origin zone id." }),
    classes: z
      .record(z.string(), DemandSensitivitySchema.extend({ zones: z.record(z.string(), DemandSensitivitySchema).optional() }))
      .optional()
      .meta({ description: "Overrides by class name." }),
  })
  .meta({
    description:
      "Demand functions per OD pair and class, pivoted on the no-toll equilibrium cost (demand = the trip table with no toll): exponential q0·exp(−r(c − c0)), linear q0·(1 − r(c − c0)), power q0·(c/c0)^(−ε). See docs/elastic-demand.md.",
  });

/**
 * Validates an elastic demand specification: a JSON object as {@link ElasticDemandSchema}, or
 * the CLI's short form `FORM:ELASTICITY` / `FORM:rate=R` (e.g. `exponential:0.3`, `linear:rate=0.05`).
 * @param file the input named in messages (a file, `--demand-function`, `request body`)
 * @param path the JSON path of the value in that input (e.g. `settings.demand`), "" for a file
 * @throws InputError naming the input and the field: unknown form, a bad number, an unknown key,
 *   elasticity and rate both or neither given, a rate for the power form
 */
export function parseDemandFunction(spec: unknown, file: string, path = ""): DemandFunctionSpec {
  let value = spec;
  if (typeof spec === "string") {
    const m = /^([a-z]+):(?:(rate)=)?([^=]+)$/.exec(spec.trim());
    const n = m ? Number(m[3]) : NaN;
    if (!m || !Number.isFinite(n))
      throw new InputError(
        "follower/elastic",
        `"${spec}"`,
        { file, field: path || undefined },
        "FORM:ELASTICITY or FORM:rate=R, e.g. exponential:0.3, linear:rate=0.05 (FORM: exponential, linear, power), or a JSON file",
      );
    value = { type: "elastic", form: m[1], [m[2] ? "rate" : "elasticity"]: n };
  }
  const r = ElasticDemandSchema.safeParse(value);
  if (!r.success)
    throw schemaInputError(r.error.issues, value, {
      module: "follower/elastic",
      file,
      at: path ? [path] : [],
      rootField: path ? undefined : "(root)",
      knownFields: "only type, form, elasticity, rate, zones, classes",
    });
  const d = r.data;
  const check = (v: { elasticity?: number; rate?: number }, field: string, required: boolean) => {
    const join = (a: string, b: string) => (a && b ? `${a}.${b}` : a || b);
    const at = join(path, field);
    const fail = (message: string, f: string, expected: string) =>
      new InputError("follower/elastic", message, { file, field: f || "(root)" }, expected);
    if (v.elasticity !== undefined && v.rate !== undefined) throw fail("both elasticity and rate given", at, "one of elasticity, rate");
    if (required && v.elasticity === undefined && v.rate === undefined)
      throw fail("no elasticity or rate given", at, "elasticity (dimensionless) or rate (per time unit)");
    if (d.form === "power" && v.rate !== undefined) throw fail("rate given for power demand", join(at, "rate"), "elasticity");
  };
  check(d, "", true);
  for (const [z, v] of Object.entries(d.zones ?? {})) check(v, `zones.${z}`, true);
  for (const [c, v] of Object.entries(d.classes ?? {})) {
    check(v, `classes.${c}`, false);
    for (const [z, w] of Object.entries(v.zones ?? {})) check(w, `classes.${c}.zones.${z}`, true);
  }
  return d;
}
