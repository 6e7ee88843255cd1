/**
 * The user class, defined once: the zod schema of a list of user classes, used by classes files
 * (`tollkit assign --classes`), scenario files (`classes`) and API requests (`settings.classes`),
 * and shown in the scenario JSON Schema and the OpenAPI document (as `UserClass`).
 *
 * A class is one object (AequilibraE's habit): its demand, its cost of money, its PCE and whether
 * tolls apply.
 * - `name`: a non-empty string, unique among the classes;
 * - its demand: `demandShare` (a share in (0, 1] of the network's demand) or `demandScale` (the
 *   network's demand matrix × scale, ≥ 0), never both. `share` is another name for
 *   `demandShare` (scenario files written before the two were one). The shares given must add
 *   up to 1: shares that do not are an error naming their sum (0.85 + 0.10 would otherwise route
 *   only 95% of the trips); a scale adds its own trips, whatever the shares;
 * - its cost of money: `valueOfTime` (money per time unit, > 0; tollFactor = 1 / valueOfTime) or
 *   `tollFactor` (time units per unit of money, ≥ 0), never both;
 * - `distanceFactor` (time units per unit of length, ≥ 0; default the network's), `pce`
 *   (passenger-car equivalents, > 0; default 1), `tolled` (default true).
 * Unknown keys are errors (a typo must not be ignored).
 *
 * Two uses differ only in what a missing value means (see {@link userClassesSchema}): in a
 * scenario a class without demand is the whole demand (`demandShare` 1) and one without a cost
 * of money is an error (tolls reach a class only through it); in a classes file or a request a
 * class without demand is an error and one without a cost of money takes the network's toll
 * factor.
 *
 * Messages follow graph-core's `schemaInputError`: a zod message is what was expected, or a
 * statement ending in `(expected …)`.
 */

import * as z from "zod";

const positive = (what: string) => z.number({ error: what }).positive({ error: what });
const nonNegative = (what: string) => z.number({ error: what }).min(0, { error: what });
const share = (what: string) =>
  z
    .number({ error: "a share of the network's demand in (0, 1]" })
    .gt(0, { error: "a share of the network's demand in (0, 1]" })
    .max(1, { error: "a share of the network's demand in (0, 1]" })
    .optional()
    .meta({ description: what });

/** The keys of a user class, in the order messages list them. */
export const USER_CLASS_KEYS = [
  "name",
  "demandShare",
  "share",
  "demandScale",
  "valueOfTime",
  "tollFactor",
  "distanceFactor",
  "pce",
  "tolled",
] as const;

/** One user class as written (before the rules between its fields and the other classes). */
export const UserClassObject = z
  .strictObject({
    name: z
      .string({ error: "a non-empty class name" })
      .min(1, { error: "a non-empty class name" })
      .max(200, { error: "a class name of at most 200 characters" })
      .refine((s) => s.trim() !== "", { error: "a non-empty class name" })
      .meta({ description: "Class name, unique among the classes." }),
    demandShare: share("A share of the network's demand (after the scenario's demandScale); the shares of all classes add up to 1."),
    share: share("Another name for demandShare (scenario files written before the two were one)."),
    demandScale: nonNegative("a demand scale ≥ 0 (the network's demand matrix × scale)")
      .optional()
      .meta({ description: "The network's demand matrix × this scale (instead of a share)." }),
    valueOfTime: positive("a positive number (money per time unit)")
      .optional()
      .meta({ description: "Money per time unit of the network (e.g. £ per minute); tollFactor = 1 / valueOfTime." }),
    tollFactor: nonNegative("a number ≥ 0 (time units per unit of money)")
      .optional()
      .meta({ description: "Time units per unit of money (instead of valueOfTime)." }),
    distanceFactor: nonNegative("a number ≥ 0 (time units per unit of length)")
      .optional()
      .meta({ description: "Time units per unit of link length; default: the network's distance factor." }),
    pce: positive("a positive number").optional().meta({ description: "Passenger-car equivalents of one vehicle (default 1)." }),
    tolled: z.boolean({ error: "true or false" }).optional().meta({ description: "Whether tolls apply to this class (default true)." }),
  })
  .meta({ id: "UserClass", description: "A user class (a class of followers): its demand, cost of money, PCE and whether it pays tolls." });

/** A user class after the schema: demand as a share or a scale, defaults filled in. */
export interface UserClassSpec {
  name: string;
  /** Share of the network's demand (the shares of a list add up to 1). */
  demandShare?: number;
  /** Multiplies the network's demand matrix (instead of a share). */
  demandScale?: number;
  /** Money per time unit (tollFactor = 1 / valueOfTime). */
  valueOfTime?: number;
  /** Time units per unit of money; with neither this nor valueOfTime: the network's. */
  tollFactor?: number;
  /** Time units per unit of length; undefined: the network's. */
  distanceFactor?: number;
  pce: number;
  tolled: boolean;
}

/** What a missing value means where a list of classes is read (see the module comment). */
export interface UserClassRules {
  /** Scenarios: a class without demand is the whole demand (demandShare 1) and one without valueOfTime or tollFactor is an error. */
  scenario: boolean;
  /** Most classes accepted (API requests bound their work); default unbounded. */
  maxClasses?: number;
}

const SUM_TOLERANCE = 1e-9;

/**
 * The zod schema of a list of user classes (see the module comment): it checks every class,
 * the rules between fields (one demand, one cost of money) and between classes (unique names,
 * shares adding up to 1), and outputs {@link UserClassSpec}s.
 * @param rules what a missing demand or cost of money means, and the most classes accepted
 * @returns a zod schema; its issues name the JSON path inside the list, e.g. `[1].demandShare`
 */
export function userClassesSchema(rules: UserClassRules) {
  let list = z.array(UserClassObject, { error: "a JSON array of classes" }).min(1, { error: "at least one class" });
  if (rules.maxClasses !== undefined) list = list.max(rules.maxClasses, { error: `at most ${rules.maxClasses} classes` });
  return list
    .superRefine((classes, ctx) => {
      const fail = (path: PropertyKey[], statement: string) => ctx.addIssue({ code: "custom", path, message: statement, input: classes });
      const names = new Map<string, number>();
      const shares: { k: number; key: string; value: number }[] = [];
      for (let k = 0; k < classes.length; k++) {
        const c = classes[k];
        if (names.has(c.name)) return fail([k, "name"], `duplicate class name "${c.name}" (expected unique class names)`);
        names.set(c.name, k);
        if (c.share !== undefined && c.demandShare !== undefined)
          return fail([k, "share"], "both share and demandShare given (expected one of them: share is another name for demandShare)");
        const shareKey = c.share !== undefined ? "share" : "demandShare";
        const sh = c.share ?? c.demandShare;
        if (sh !== undefined && c.demandScale !== undefined)
          return fail([k, shareKey], `both demandScale and ${shareKey} given (expected one of them)`);
        if (sh === undefined && c.demandScale === undefined) {
          if (!rules.scenario) return fail([k, "demandScale"], "no demand given (expected demandScale or demandShare)");
          shares.push({ k, key: "demandShare", value: 1 });
        } else if (sh !== undefined) shares.push({ k, key: shareKey, value: sh });
        if (c.valueOfTime !== undefined && c.tollFactor !== undefined)
          return fail([k, "tollFactor"], "both valueOfTime and tollFactor given (expected one of them, tollFactor = 1 / valueOfTime)");
        if (rules.scenario && c.valueOfTime === undefined && c.tollFactor === undefined)
          return fail(
            [k, "valueOfTime"],
            "got nothing (expected a positive number, money per time unit, or a tollFactor: tolls reach a class only through it)",
          );
      }
      if (shares.length === 0) return;
      const sum = shares.reduce((a, s) => a + s.value, 0);
      if (Math.abs(sum - 1) <= SUM_TOLERANCE) return;
      const said = Number(sum.toPrecision(12));
      // above 1: name the class whose share takes the sum over 1; below: the list itself
      let running = 0;
      const over = shares.find((s) => (running += s.value) > 1 + SUM_TOLERANCE);
      fail(over ? [over.k, over.key] : [], `the demand shares add up to ${said} (expected shares summing to 1)`);
    })
    .transform((classes): UserClassSpec[] =>
      classes.map((c) => {
        const demandShare = c.demandShare ?? c.share ?? (c.demandScale === undefined ? 1 : undefined);
        return {
          name: c.name,
          ...(demandShare !== undefined ? { demandShare } : { demandScale: c.demandScale }),
          ...(c.valueOfTime !== undefined ? { valueOfTime: c.valueOfTime } : {}),
          ...(c.tollFactor !== undefined ? { tollFactor: c.tollFactor } : {}),
          ...(c.distanceFactor !== undefined ? { distanceFactor: c.distanceFactor } : {}),
          pce: c.pce ?? 1,
          tolled: c.tolled ?? true,
        };
      }),
    );
}

/** User classes of a classes file (`tollkit assign --classes`): every class gives its demand. */
export const UserClassesSchema = userClassesSchema({ scenario: false });
