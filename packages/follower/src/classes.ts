/**
 * User classes from a classes file (`tollkit assign --classes file.json`): a JSON array with one
 * object per class,
 *
 * ```json
 * [
 *   { "name": "car",   "demandShare": 0.9, "valueOfTime": 0.5, "pce": 1,   "tolled": true },
 *   { "name": "truck", "demandShare": 0.1, "tollFactor": 0.5,  "pce": 2.5, "tolled": true }
 * ]
 * ```
 *
 * The fields and their rules are those of every user class, defined once in
 * `class-schema.ts` ({@link UserClassesSchema}): each class gives `demandShare` or
 * `demandScale`; the shares add up to 1; `valueOfTime` or `tollFactor` (neither: the network's
 * toll factor); `distanceFactor`, `pce` (default 1), `tolled` (default true). Unknown keys are
 * errors.
 */

import { Network, parseJsonText, readInputFile, schemaInputError } from "@tollkit/graph-core";
import { USER_CLASS_KEYS, UserClassesSchema, UserClassSpec } from "./class-schema.js";
import { UserClass } from "./types.js";

const MOD = "follower/classes";

/**
 * Checks the parsed contents of a classes file (see the module comment) without a network.
 * @param file the file name (or a label such as `request body`) for messages
 * @param path the JSON path of the array inside that input ("" for a classes file; e.g.
 *   `settings.classes` for an API request), prefixed to every field in messages
 * @throws InputError naming the file and the JSON path (e.g. `[1].pce`), what was given and
 *   what was expected
 */
function checkClasses(spec: unknown, file: string, path: string): UserClassSpec[] {
  const r = UserClassesSchema.safeParse(spec);
  if (r.success) return r.data;
  throw schemaInputError(r.error.issues, spec, {
    module: MOD,
    file,
    at: path ? [path] : [],
    rootField: path ? undefined : "(root)",
    keyWord: "key",
    knownFields: `only ${USER_CLASS_KEYS.join(", ")}`,
  });
}

/**
 * Builds user classes on a network from checked class specs: demand = the network's demand ×
 * `demandScale` (or × `demandShare`) × `demandMultiplier`; toll factor = 1 / valueOfTime, the
 * class's tollFactor, or the network's; distance factor the class's or the network's.
 * @param specs classes as {@link UserClassesSchema} (or a scenario's classes) output them
 * @param net the network whose demand matrix (trips per zone pair) and cost weights they scale
 * @param demandMultiplier multiplies every class's demand (a scenario's demandScale); default 1
 * @returns one {@link UserClass} per spec, in order
 */
export function buildUserClasses(specs: readonly UserClassSpec[], net: Network, demandMultiplier = 1): UserClass[] {
  return specs.map((c) => {
    const factor = c.demandShare ?? c.demandScale ?? 1;
    return {
      name: c.name,
      demand: Float64Array.from(net.demand, (v) => v * demandMultiplier * factor),
      tollFactor: c.valueOfTime !== undefined ? 1 / c.valueOfTime : (c.tollFactor ?? net.costWeights.tollFactor),
      distanceFactor: c.distanceFactor ?? net.costWeights.distanceFactor,
      pce: c.pce,
      tolled: c.tolled,
    };
  });
}

/**
 * Builds user classes from the parsed contents of a classes file (see the module comment).
 * @param spec the parsed JSON
 * @param net the network whose demand and cost weights the classes scale
 * @param file the file name for messages
 * @param path the JSON path of the classes array inside that input ("" for a classes file)
 * @throws InputError naming the file and the JSON path (e.g. `[1].pce`) and what was expected
 */
export function classesFromSpec(spec: unknown, net: Network, file = "classes.json", path = ""): UserClass[] {
  return buildUserClasses(checkClasses(spec, file, path), net);
}

/**
 * Parses the text of a classes file (JSON; see the module comment).
 * @throws InputError for malformed JSON (with the line) or a bad class (with the JSON path)
 */
export function parseClassesJson(text: string, net: Network, file = "classes.json"): UserClass[] {
  return classesFromSpec(parseJsonText(text, file, MOD, "a JSON array of classes"), net, file);
}

/**
 * Reads a classes file.
 * @throws InputError when the file cannot be read or is malformed
 */
export function readClassesFile(path: string, net: Network): UserClass[] {
  const text = readInputFile(path, MOD, "a readable JSON file");
  return parseClassesJson(text, net, path);
}
