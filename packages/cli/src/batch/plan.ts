/**
 * The plan of a batch: the command's arguments (scenario files, folders of them, sweep files)
 * become a list of {@link RunSpec}s, each with a stable id, its effective settings and the
 * sha256 of its inputs.
 *
 * A run's id is `<name>[-<axis values>]-<hash>`, where the hash covers the run's settings as
 * written, its seed (where it applies) and the sha256 of its inputs: the same run planned again
 * gets the same id (so a rerun finds it complete), and a changed scenario or network file gives
 * a new id (so it is run again).
 *
 * What is an error of the whole batch (exit 2, nothing runs): a path that does not exist, an
 * invalid sweep file, a sweep's base scenario that is not valid by itself. What is a failed run
 * (recorded, the others go on): a scenario file that is malformed, a sweep point whose settings
 * do not form a valid scenario.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import { catalogueEntry, InputError, isInputError, isNetworkId, networkIdKind, readJsonFile } from "@tollkit/graph-core";
import { parseScenario, Scenario } from "@tollkit/leader";
import { AssignSweepEntry, DesignSweepEntry, GridPoint, gridPoints, isSweepJson, parseSweep } from "./sweep.js";
import { AssignSettings, InputRecord, ParameterColumn, RunSpec } from "./types.js";

const MOD = "cli/batch";

/** The runs of a batch, in order, and what the planner noticed. */
export interface Plan {
  runs: RunSpec[];
  warnings: string[];
}

/** Options of {@link planBatch}. */
export interface PlanOptions {
  /** --seed: the seed of runs whose sweep entry has no seed axis (default: the sweep's seed, else 1). */
  seed?: number;
}

/** sha256 of a file's bytes, or null when it cannot be read. */
export function sha256File(path: string): string | null {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return null;
  }
}

/** JSON with object keys sorted, so that equal values hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

function shortHash(v: unknown): string {
  return createHash("sha256").update(canonicalJson(v)).digest("hex").slice(0, 8);
}

/** A file-name-safe form of a label. */
export function slug(s: string, max = 60): string {
  const t = s
    .replace(/[^A-Za-z0-9._+-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|-+$/g, "");
  return (t.length > max ? t.slice(0, max).replace(/-+$/, "") : t) || "run";
}

// graph-core answers "is this a network id?"; re-exported for the batch executor
export { isNetworkId };

/** The input record of a network given as an id or a path relative to `baseDir`. */
export function networkInput(spec: string, baseDir: string): InputRecord {
  const kind = networkIdKind(spec);
  if (kind === "builtin") return { role: "network", name: spec, sha256: "built-in" };
  if (kind === "catalogue") {
    const entry = catalogueEntry(spec);
    return {
      role: "network",
      name: spec,
      // the best-known flow file is a reference, not an input
      files: Object.entries(entry.files)
        .filter(([kind, f]) => f !== undefined && kind !== "flow")
        .map(([, f]) => ({ name: f!.name, sha256: f!.sha256 })),
    };
  }
  const path = under(baseDir, spec);
  const shown = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => f.endsWith(".csv"))
      .sort();
    return { role: "network", name: shown, files: files.map((f) => ({ name: f, sha256: sha256File(join(path, f)) })) };
  }
  const files = [{ name: basename(path), sha256: sha256File(path) }];
  for (const other of ["_trips.tntp", "_node.tntp"]) {
    const p = path.replace(/_net\.tntp$/i, other);
    if (p !== path && existsSync(p)) files.push({ name: basename(p), sha256: sha256File(p) });
  }
  return { role: "network", name: shown, files };
}

/** A path as given (relative paths stay relative to the working folder, for readable messages). */
function shownPath(p: string): string {
  return normalize(p);
}

/** `p` relative to `dir` (kept relative when both are). */
export function under(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

function fmtNumber(v: number): string {
  return String(v);
}

/** results.csv's view of a value of time setting. */
function votColumn(v: number | Record<string, number> | undefined): string | number | null {
  if (v === undefined) return null;
  if (typeof v === "number") return v;
  return Object.entries(v)
    .map(([k, x]) => `${k}:${x}`)
    .join(" ");
}

/** results.csv's view of a design scenario's settings. */
function designColumns(s: Scenario, seed: number | null): Record<ParameterColumn, string | number | null> {
  const ins = s.instrument;
  let tollable: string;
  if (ins.type === "links")
    tollable = ins.links === "all" ? "all" : ins.links.length <= 12 ? ins.links.join(" ") : `${ins.links.length} links`;
  else if (ins.type === "link-types") tollable = `link types ${ins.linkTypes.join(" ")}`;
  else tollable = ins.nodes ? `cordon of ${ins.nodes.length} nodes` : `cordon polygon of ${ins.polygon!.length} points`;
  const classes = s.classes;
  return {
    network: typeof s.network === "string" ? s.network : `inline:${s.network.name}`,
    scenario: s.name ?? (s.file ? basename(s.file).replace(/\.json$/i, "") : null),
    method: s.method.type,
    objective: s.objective.minRevenue !== undefined ? `${s.objective.type} (revenue >= ${s.objective.minRevenue})` : s.objective.type,
    algorithm: s.follower.algorithm,
    gap: s.follower.gap,
    demandScale: s.demandScale,
    valueOfTime: !classes
      ? null
      : classes.length === 1
        ? (classes[0].valueOfTime ?? null)
        : classes.map((c) => `${c.name}:${c.valueOfTime ?? "none"}`).join(" "), // "none": a class given by its tollFactor
    tollable,
    tollsFile: null,
    seed,
  };
}

/** A short label of one axis value, for run ids. */
function axisLabel(axis: string, v: unknown): string {
  switch (axis) {
    case "network":
    case "tolls":
      return basename(String(v)).replace(/(_net\.tntp|\.csv)$/i, "");
    case "algorithm":
    case "objective":
    case "method":
      return typeof v === "string" ? v : String((v as { type?: string }).type ?? axis);
    case "gap":
      return `gap${fmtNumber(v as number)}`;
    case "demandScale":
      return `d${fmtNumber(v as number)}`;
    case "valueOfTime":
      return typeof v === "number" ? `vot${v}` : `vot-${Object.values(v as Record<string, number>).join("-")}`;
    case "tollable":
      if (v === "all") return "all";
      if (Array.isArray(v)) return v.length <= 4 ? `links${v.join("+")}` : `${v.length}links`;
      return String((v as { type?: string }).type ?? "instrument");
    case "seed":
      return `seed${v}`;
    case "maxIterations":
      return `it${v}`;
    case "maxSeconds":
      return `${v}s`;
    default:
      return String(v);
  }
}

/**
 * What of a run's inputs goes into its id: their contents (sha256), not where they are, so a
 * moved working tree finds its runs complete. The sweep file is left out: adding an axis value
 * to a sweep must not rerun the runs it already had.
 */
function fingerprint(inputs: readonly InputRecord[]): unknown {
  return inputs.filter((i) => i.role !== "sweep").map((i) => [i.role, i.sha256 ?? null, (i.files ?? []).map((f) => f.sha256)]);
}

function runId(name: string, point: GridPoint, hashed: unknown): string {
  const labels = point.map(([a, v]) => axisLabel(a, v));
  return `${slug([name, ...labels].join("-"), 80)}-${shortHash(hashed)}`;
}

/**
 * Reads a JSON file that a sweep file refers to; a problem with it is stated at the sweep's
 * field that names it (`where`), with the file and line it was found at.
 */
function readReferencedJson(path: string, where: { file: string; field: string }): unknown {
  try {
    return readJsonFile(path, MOD, "a JSON scenario");
  } catch (e) {
    if (!isInputError(e)) throw e;
    throw new InputError(MOD, `${e.line !== undefined ? `${path}:${e.line}` : path}: ${e.reason}`, where, e.expected);
  }
}

/** A class with the value of time `v`, which replaces its tollFactor (a class has one or the other). */
function withValueOfTime(c: Record<string, unknown>, v: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c, valueOfTime: v };
  delete out.tollFactor;
  return out;
}

/**
 * Applies one design axis value to a scenario's JSON (in place):
 * - `network`: replaces the network (a path given relative to the sweep file is rewritten
 *   relative to the scenario file);
 * - `demandScale`: replaces demandScale;
 * - `valueOfTime`: a number sets every class's value of time (a scenario without classes gets
 *   `[{"name": "all", "valueOfTime": v}]`); an object sets the named classes (each must exist);
 *   the value of time replaces a class's tollFactor;
 * - `tollable`: link ids or "all" make an instrument of type "links" with the base's bounds and
 *   uniform setting; an instrument object replaces the instrument (bounds default to the base's);
 * - `objective`, `method`: a type name keeps the base's object when it has that type, else
 *   `{"type": name}`; an object replaces it;
 * - `algorithm`, `gap`: the follower's; `seed`: the run's seed (not part of the scenario).
 * @throws Error with a message naming the axis when a class named by valueOfTime does not exist
 */
export function applyDesignAxis(
  s: Record<string, unknown>,
  axis: string,
  v: unknown,
  ctx: { sweepDir: string; scenarioDir: string },
): void {
  switch (axis) {
    case "network": {
      const spec = v as string;
      s.network = isNetworkId(spec) || isAbsolute(spec) ? spec : relative(resolve(ctx.scenarioDir), resolve(ctx.sweepDir, spec)) || ".";
      break;
    }
    case "demandScale":
      s.demandScale = v;
      break;
    case "valueOfTime": {
      const classes = s.classes as Record<string, unknown>[] | undefined;
      if (typeof v === "number") {
        s.classes = classes ? classes.map((c) => withValueOfTime(c, v)) : [{ name: "all", valueOfTime: v }];
      } else {
        const byName = v as Record<string, number>;
        const names = (classes ?? []).map((c) => c.name);
        for (const n of Object.keys(byName))
          if (!names.includes(n))
            throw new Error(
              `valueOfTime names the class "${n}", which the scenario does not have (its classes: ${names.join(", ") || "none"})`,
            );
        s.classes = classes!.map((c) => (String(c.name) in byName ? withValueOfTime(c, byName[String(c.name)]) : c));
      }
      break;
    }
    case "tollable": {
      const base = (s.instrument ?? {}) as Record<string, unknown>;
      if (Array.isArray(v) || v === "all") {
        const ins: Record<string, unknown> = { type: "links", links: v };
        if (base.bounds !== undefined) ins.bounds = base.bounds;
        if (base.uniform !== undefined) ins.uniform = base.uniform;
        s.instrument = ins;
      } else {
        const ins = { ...(v as Record<string, unknown>) };
        if (ins.bounds === undefined && base.bounds !== undefined) ins.bounds = base.bounds;
        s.instrument = ins;
      }
      break;
    }
    case "objective":
    case "method": {
      const base = s[axis] as { type?: string } | undefined;
      s[axis] = typeof v === "string" ? (base?.type === v ? base : { type: v }) : v;
      break;
    }
    case "algorithm":
    case "gap":
      s.follower = { ...((s.follower as Record<string, unknown>) ?? {}), [axis]: v };
      break;
    case "seed":
      break;
    default:
      throw new Error(`unknown design axis "${axis}"`);
  }
}

/** The network an (unvalidated) scenario JSON names: an input record, or undefined when it cannot tell. */
function scenarioNetworkInput(json: unknown, scenarioFile: string): { record: InputRecord; id: string } | undefined {
  const n = json && typeof json === "object" ? (json as Record<string, unknown>).network : undefined;
  if (typeof n === "string" && n.length > 0) return { record: networkInput(n, dirname(scenarioFile)), id: n };
  if (n && typeof n === "object") {
    const name = String((n as Record<string, unknown>).name ?? "inline");
    return { record: { role: "network", name: `inline:${name}`, sha256: "inline" }, id: `inline:${name}` };
  }
  return undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class Planner {
  readonly runs: RunSpec[] = [];
  readonly warnings: string[] = [];
  private readonly ids = new Map<string, string>();

  constructor(private readonly opts: PlanOptions) {}

  add(spec: RunSpec, origin: string): void {
    const earlier = this.ids.get(spec.id);
    if (earlier !== undefined) {
      this.warnings.push(`${origin} is the same run as ${earlier} (${spec.id}); it is run once`);
      return;
    }
    this.ids.set(spec.id, origin);
    this.runs.push(spec);
  }

  /** A scenario file given on the command line or found in a folder. */
  scenarioFile(file: string, json: unknown, parseError?: string): void {
    const scenarioSha = sha256File(file);
    const inputs: InputRecord[] = [{ role: "scenario", name: shownPath(file), sha256: scenarioSha }];
    const net = parseError === undefined ? scenarioNetworkInput(json, file) : undefined;
    if (net) inputs.push(net.record);
    const seedApplies = net?.id === "grid-city";
    const seed = this.opts.seed ?? 1;
    let scenario: Scenario | undefined;
    let invalid = parseError;
    if (invalid === undefined) {
      try {
        scenario = parseScenario(json, file);
      } catch (e) {
        invalid = messageOf(e);
      }
    }
    const name = basename(file).replace(/\.json$/i, "");
    const id = runId(name, [], { kind: "design", scenario: json ?? null, inputs: fingerprint(inputs), seed: seedApplies ? seed : null });
    this.add(
      {
        id,
        kind: "design",
        source: { file: shownPath(file) },
        parameters: {},
        seed,
        seedApplies,
        design: { scenario: json, file },
        inputs,
        invalid,
        settings: scenario ? scenarioSettings(scenario) : (json ?? null),
        columns: scenario ? designColumns(scenario, seedApplies ? seed : null) : emptyColumns(name),
      },
      shownPath(file),
    );
  }

  /** A sweep file: every entry's grid points. */
  sweepFile(file: string, json: unknown): void {
    const sweep = parseSweep(json, file);
    const sweepDir = dirname(file);
    const sweepInput: InputRecord = { role: "sweep", name: shownPath(file), sha256: sha256File(file) };
    const rawRuns = (json as { runs: { grid?: unknown }[] }).runs;
    const defaultSeed = this.opts.seed ?? sweep.seed ?? 1;
    sweep.runs.forEach((entry, k) => {
      const points = gridPoints(rawRuns[k].grid);
      if (entry.kind === "design") this.designEntry(file, sweepDir, sweepInput, entry, k, points, rawRuns[k], defaultSeed);
      else this.assignEntry(file, sweepDir, sweepInput, entry, k, points, rawRuns[k] as Record<string, unknown>, defaultSeed);
    });
  }

  private designEntry(
    file: string,
    sweepDir: string,
    sweepInput: InputRecord,
    entry: DesignSweepEntry,
    k: number,
    points: GridPoint[],
    raw: unknown,
    defaultSeed: number,
  ): void {
    const field = `runs[${k}].scenario`;
    let baseJson: unknown;
    let scenarioFile: string;
    const inputs: InputRecord[] = [sweepInput];
    if (typeof entry.scenario === "string") {
      scenarioFile = under(sweepDir, entry.scenario);
      baseJson = readReferencedJson(scenarioFile, { file, field });
      inputs.push({ role: "scenario", name: shownPath(scenarioFile), sha256: sha256File(scenarioFile) });
    } else {
      scenarioFile = file;
      baseJson = (raw as { scenario: unknown }).scenario;
    }
    let base: Scenario;
    try {
      base = parseScenario(baseJson, scenarioFile);
    } catch (e) {
      if (!isInputError(e)) throw e;
      throw new InputError(MOD, `the base scenario is not valid: ${messageOf(e)}`, { file, field }, "a valid scenario");
    }
    const name = entry.name ?? slug(base.name ?? basename(scenarioFile).replace(/\.json$/i, ""), 40);
    points.forEach((point) => {
      const json = structuredClone(baseJson) as Record<string, unknown>;
      delete json.$schema;
      const seedAxis = point.find(([a]) => a === "seed");
      const seed = seedAxis ? (seedAxis[1] as number) : defaultSeed;
      let invalid: string | undefined;
      let scenario: Scenario | undefined;
      const where = `${shownPath(file)} runs[${k}]${point.length ? ` (${point.map(([a, v]) => `${a} = ${JSON.stringify(v)}`).join(", ")})` : ""}`;
      try {
        for (const [a, v] of point) applyDesignAxis(json, a, v, { sweepDir, scenarioDir: dirname(scenarioFile) });
        scenario = parseScenario(json, scenarioFile);
      } catch (e) {
        invalid = `${where}: ${messageOf(e)}`;
      }
      const net = scenarioNetworkInput(json, scenarioFile);
      const runInputs = net ? [...inputs, net.record] : inputs;
      const seedApplies = net?.id === "grid-city";
      const id = runId(name, point, {
        kind: "design",
        scenario: json,
        inputs: fingerprint(runInputs),
        seed: seedApplies ? seed : null,
      });
      this.add(
        {
          id,
          kind: "design",
          source: { file: shownPath(file), entry: k },
          parameters: Object.fromEntries(point),
          seed,
          seedApplies,
          design: { scenario: json, file: scenarioFile },
          inputs: runInputs,
          invalid,
          settings: scenario ? scenarioSettings(scenario) : json,
          columns: scenario ? designColumns(scenario, seedApplies ? seed : null) : emptyColumns(name),
        },
        where,
      );
    });
  }

  private assignEntry(
    file: string,
    sweepDir: string,
    sweepInput: InputRecord,
    entry: AssignSweepEntry,
    k: number,
    points: GridPoint[],
    raw: Record<string, unknown>,
    defaultSeed: number,
  ): void {
    const fixedNetwork = entry.network !== undefined && entry.grid.network === undefined;
    const name = entry.name ?? (fixedNetwork ? slug(`assign-${basename(entry.network!).replace(/_net\.tntp$/i, "")}`, 40) : "assign");
    points.forEach((point) => {
      const s: AssignSettings = {
        network: entry.network ?? "",
        algorithm: entry.algorithm,
        objective: entry.objective,
        gap: entry.gap,
        maxIterations: entry.maxIterations,
        maxSeconds: entry.maxSeconds,
        tolls: entry.tolls,
        classes: entry.classes,
        demandScale: entry.demandScale,
        valueOfTime: raw.valueOfTime as AssignSettings["valueOfTime"],
      };
      let seed = defaultSeed;
      for (const [a, v] of point) {
        if (a === "seed") seed = v as number;
        else (s as unknown as Record<string, unknown>)[a] = v;
      }
      const inputs: InputRecord[] = [sweepInput, networkInput(s.network, sweepDir)];
      if (s.tolls !== undefined)
        inputs.push({ role: "tolls", name: shownPath(under(sweepDir, s.tolls)), sha256: sha256File(under(sweepDir, s.tolls)) });
      if (s.classes !== undefined)
        inputs.push({ role: "classes", name: shownPath(under(sweepDir, s.classes)), sha256: sha256File(under(sweepDir, s.classes)) });
      const seedApplies = s.network === "grid-city";
      const where = `${shownPath(file)} runs[${k}]${point.length ? ` (${point.map(([a, v]) => `${a} = ${JSON.stringify(v)}`).join(", ")})` : ""}`;
      const id = runId(name, point, {
        kind: "assign",
        settings: s,
        inputs: fingerprint(inputs),
        seed: seedApplies ? seed : null,
      });
      this.add(
        {
          id,
          kind: "assign",
          source: { file: shownPath(file), entry: k },
          parameters: Object.fromEntries(point),
          seed,
          seedApplies,
          assign: { settings: s, baseDir: sweepDir },
          inputs,
          settings: s,
          columns: {
            network: s.network,
            scenario: null,
            method: null,
            objective: s.objective,
            algorithm: s.algorithm,
            gap: s.gap,
            demandScale: s.demandScale,
            valueOfTime: votColumn(s.valueOfTime),
            tollable: null,
            tollsFile: s.tolls ?? null,
            seed: seedApplies ? seed : null,
          },
        },
        where,
      );
    });
  }
}

function emptyColumns(name: string): Record<ParameterColumn, string | number | null> {
  return {
    network: null,
    scenario: name,
    method: null,
    objective: null,
    algorithm: null,
    gap: null,
    demandScale: null,
    valueOfTime: null,
    tollable: null,
    tollsFile: null,
    seed: null,
  };
}

/** A parsed scenario as recorded in run.json (every default filled in; without the in-memory file field). */
function scenarioSettings(s: Scenario): unknown {
  const { file: _file, ...rest } = s;
  return rest;
}

/** The JSON files of a folder that a batch takes (sorted; JSON Schema files are skipped). */
function folderFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(".json") && !f.toLowerCase().endsWith(".schema.json"))
    .sort()
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile());
}

/**
 * Plans a batch: scenario files, folders of JSON files (scenarios and sweeps, not recursive,
 * `*.schema.json` skipped) and sweep files (`"kind": "sweep"`) become runs, in the order given.
 * @param args the command's arguments
 * @throws InputError for a path that does not exist, a folder with no JSON file, an invalid
 *   sweep file or an invalid base scenario of a sweep (naming file and JSON path)
 */
export function planBatch(args: readonly string[], opts: PlanOptions = {}): Plan {
  const p = new Planner(opts);
  if (args.length === 0) throw new InputError(MOD, "no scenario or sweep file given", {}, "scenario files, a folder or a sweep file");
  for (const arg of args) {
    if (!existsSync(arg))
      throw new InputError(MOD, "no such file or folder", { file: arg }, "a scenario file, a folder of them or a sweep file");
    const files = statSync(arg).isDirectory() ? folderFiles(arg) : [arg];
    if (files.length === 0) throw new InputError(MOD, "the folder holds no JSON file", { file: arg }, "scenario or sweep files (*.json)");
    for (const f of files) {
      const file = shownPath(f);
      let json: unknown;
      try {
        json = readJsonFile(file, MOD, "a JSON scenario or sweep file");
      } catch (e) {
        // a malformed file is a failed run, its message naming the line
        if (!isInputError(e)) throw e;
        p.scenarioFile(file, undefined, e.message);
        continue;
      }
      if (isSweepJson(json)) p.sweepFile(file, json);
      else p.scenarioFile(file, json);
    }
  }
  return { runs: p.runs, warnings: p.warnings };
}
