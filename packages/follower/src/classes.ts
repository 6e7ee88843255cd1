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
 * - `name`: a non-empty string, unique;
 * - the class's demand: `demandScale` (the network's demand matrix × scale, ≥ 0) or
 *   `demandShare` (a share in (0, 1] of the network's demand; shares sum to at most 1);
 * - its cost of money: `valueOfTime` (money per time unit, > 0; tollFactor = 1 / valueOfTime) or
 *   `tollFactor` (time units per unit of money, ≥ 0); neither: the network's toll factor;
 * - `distanceFactor` (time units per unit of length, ≥ 0; default the network's), `pce`
 *   (passenger-car equivalents, > 0; default 1), `tolled` (default true).
 * Unknown keys are errors (a typo must not be ignored).
 */

import { InputError, Network, parseJsonText, readInputFile } from "@tollkit/graph-core";
import { UserClass } from "./types.js";

const MOD = "follower/classes";
const KEYS = ["name", "demandScale", "demandShare", "valueOfTime", "tollFactor", "distanceFactor", "pce", "tolled"];

/** One class of a classes file, checked, before it is applied to a network. */
interface CheckedClass {
  name: string;
  /** Multiplies the network's demand matrix (demandScale or demandShare). */
  demandFactor: number;
  /** undefined: the network's toll factor. */
  tollFactor?: number;
  /** undefined: the network's distance factor. */
  distanceFactor?: number;
  pce: number;
  tolled: boolean;
}

/**
 * Checks the parsed contents of a classes file (see the module comment) without a network.
 * @param file the file name (or a label such as `request body`) for messages
 * @param path the JSON path of the array inside that input ("" for a classes file; e.g.
 *   `settings.classes` for an API request), prefixed to every field in messages
 * @throws InputError naming the file and the JSON path (e.g. `[1].pce`) and what was expected
 */
function checkClasses(spec: unknown, file: string, path: string): CheckedClass[] {
  const fail = (field: string, message: string, expected: string): never => {
    throw new InputError(MOD, message, { file, field }, expected);
  };
  const root = path || "(root)";
  if (!Array.isArray(spec))
    fail(root, `got ${typeof spec === "object" ? (spec === null ? "null" : "an object") : typeof spec}`, "a JSON array of classes");
  const list = spec as unknown[];
  if (list.length === 0) fail(root, "the array is empty", "at least one class");
  const names = new Set<string>();
  let shareSum = 0;
  return list.map((raw, k): CheckedClass => {
    const at = (key: string) => `${path}[${k}].${key}`;
    if (!raw || typeof raw !== "object" || Array.isArray(raw))
      return fail(`${path}[${k}]`, `got ${JSON.stringify(raw)}`, "an object describing a class");
    const c = raw as Record<string, unknown>;
    for (const key of Object.keys(c)) if (!KEYS.includes(key)) fail(at(key), `unknown key "${key}"`, `only ${KEYS.join(", ")}`);
    const num = (key: string, ok: (v: number) => boolean, expected: string): number | undefined => {
      const v = c[key];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) fail(at(key), `got ${JSON.stringify(v)}`, expected);
      return v as number;
    };
    if (typeof c.name !== "string" || c.name.trim() === "") fail(at("name"), `got ${JSON.stringify(c.name)}`, "a non-empty class name");
    const name = c.name as string;
    if (names.has(name)) fail(at("name"), `duplicate class name "${name}"`, "unique class names");
    names.add(name);
    const scale = num("demandScale", (v) => v >= 0, "a demand scale ≥ 0");
    const share = num("demandShare", (v) => v > 0 && v <= 1, "a share of the network's demand in (0, 1]");
    if (scale === undefined && share === undefined) fail(at("demandScale"), "no demand given", "demandScale or demandShare");
    if (scale !== undefined && share !== undefined) fail(at("demandShare"), "both demandScale and demandShare given", "one of them");
    if (share !== undefined) {
      shareSum += share;
      if (shareSum > 1 + 1e-9)
        fail(at("demandShare"), `the demand shares add up to ${Number(shareSum.toPrecision(12))}`, "shares summing to at most 1");
    }
    const vot = num("valueOfTime", (v) => v > 0, "a positive number (money per time unit)");
    const tf = num("tollFactor", (v) => v >= 0, "a number ≥ 0 (time units per unit of money)");
    if (vot !== undefined && tf !== undefined)
      fail(at("tollFactor"), "both valueOfTime and tollFactor given", "one of them (tollFactor = 1 / valueOfTime)");
    const distanceFactor = num("distanceFactor", (v) => v >= 0, "a number ≥ 0 (time units per unit of length)");
    const pce = num("pce", (v) => v > 0, "a positive number");
    if (c.tolled !== undefined && typeof c.tolled !== "boolean") fail(at("tolled"), `got ${JSON.stringify(c.tolled)}`, "true or false");
    return {
      name,
      demandFactor: scale ?? share!,
      tollFactor: vot !== undefined ? 1 / vot : tf,
      distanceFactor,
      pce: pce ?? 1,
      tolled: (c.tolled as boolean | undefined) ?? true,
    };
  });
}

/**
 * Checks user classes given as JSON (the contents of a classes file) without building them, e.g.
 * to refuse a bad API request before its run is queued.
 * @param file the input's name for messages (a file, or e.g. `request body`)
 * @param path the JSON path of the classes array inside that input (e.g. `settings.classes`)
 * @throws InputError naming the input and the JSON path of the bad value
 */
export function checkClassesSpec(spec: unknown, file: string, path = ""): void {
  checkClasses(spec, file, path);
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
  return checkClasses(spec, file, path).map((c) => ({
    name: c.name,
    demand: Float64Array.from(net.demand, (v) => v * c.demandFactor),
    tollFactor: c.tollFactor ?? net.costWeights.tollFactor,
    distanceFactor: c.distanceFactor ?? net.costWeights.distanceFactor,
    pce: c.pce,
    tolled: c.tolled,
  }));
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
