/**
 * Sweep files: one JSON document expands into many runs of `tollkit batch`.
 *
 * ```json
 * {
 *   "kind": "sweep",
 *   "name": "sioux-falls-study",
 *   "runs": [
 *     { "kind": "design", "scenario": "../sioux-falls-second-best-10.json",
 *       "grid": { "demandScale": [0.9, 1, 1.1], "valueOfTime": [0.1, 0.2], "method": ["gradient", "derivative-free"] } },
 *     { "kind": "assign", "algorithm": "fw", "gap": 1e-3,
 *       "grid": { "network": ["sioux-falls", "anaheim"], "algorithm": ["fw", "cfw", "bfw"] } }
 *   ]
 * }
 * ```
 *
 * Every entry of `runs` is a base (a scenario for `design`, assignment settings for `assign`)
 * and a `grid`: for each axis a list of values; the entry expands into the Cartesian product of
 * its axes, in the order they are written (the last axis varies fastest). An axis value
 * replaces the base's setting (see {@link applyDesignAxis}).
 *
 * The zod schema below is the single definition: it validates files ({@link parseSweep}) with
 * errors naming the file and the JSON path (`runs[1].grid.gap[0]`), gives the TypeScript types
 * and generates `scenarios/sweeps/sweep.schema.json` ({@link sweepJsonSchema}). Paths in a
 * sweep file are relative to the sweep file.
 */
import * as z from "zod";
import { ALGORITHMS, FOLLOWER_DEFAULTS, OBJECTIVES } from "@tollkit/follower";
import { describeValue, InputError, schemaInputError } from "@tollkit/graph-core";
import { ScenarioSchema } from "@tollkit/leader";

const MOD = "cli/sweep";

const positive = (what = "a number > 0") => z.number({ error: what }).positive({ error: what }).finite({ error: what });
const posInt = (what = "an integer ≥ 1") => z.number({ error: what }).int({ error: what }).min(1, { error: what });
const seedValue = z
  .number({ error: "an integer seed in 0..4294967295" })
  .int({ error: "an integer seed in 0..4294967295" })
  .min(0, { error: "an integer seed in 0..4294967295" })
  .max(4294967295, { error: "an integer seed in 0..4294967295" });
const runName = z
  .string({ error: "a name" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$/, { error: "a name of 1–40 letters, digits, '.', '_', '+' or '-'" });
const networkValue = z
  .string({ error: "a network: a catalogue id, a built-in id, a *_net.tntp path or a GMNS folder" })
  .min(1, { error: "a non-empty network" });

/** A list of axis values: at least one. */
const axis = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item, { error: `an array of ${what}` }).min(1, { error: `at least one ${what.replace(/s$/, "")}` });

/** A value of time for every class (a number), or per class by name. */
const ValueOfTime = z
  .union([positive("a value of time > 0 (money per time unit)"), z.record(z.string().min(1), positive("a value of time > 0"))], {
    error: 'a value of time > 0, or one per class: {"car": 0.25, "truck": 0.5}',
  })
  .meta({
    description:
      "Money per time unit of the network. A number sets every class's value of time (a scenario without classes gets one class of that value of time); an object sets the named classes.",
  });

/** What may be tolled: link ids, "all", or a whole instrument object (validated as a scenario's `instrument`). */
const Tollable = z
  .union(
    [
      z.array(posInt("a link id (1-based)"), { error: "an array of link ids" }).min(1, { error: "at least one link id" }),
      z.literal("all"),
      ScenarioSchema.shape.instrument,
    ],
    { error: 'an array of link ids (1-based), "all", or an instrument object ({"type": "links" | "link-types" | "cordon", ...})' },
  )
  .meta({
    description:
      'The tollable set: link ids or "all" (an instrument of type "links" with the base scenario\'s bounds), or a whole instrument object (its bounds default to the base scenario\'s).',
  });

const OBJECTIVE_TYPES = ["tstt", "revenue", "welfare"] as const;
const METHOD_TYPES = ["first-best", "grid", "gradient", "derivative-free"] as const;

const DesignGrid = z
  .strictObject({
    network: axis(networkValue, "networks").optional().meta({ description: "Replaces the scenario's network." }),
    demandScale: axis(positive("a demand scale > 0"), "demand scales").optional().meta({ description: "Multiplies the demand matrix." }),
    valueOfTime: axis(ValueOfTime, "values of time").optional(),
    tollable: axis(Tollable, "tollable sets").optional(),
    objective: axis(
      z.union([z.enum(OBJECTIVE_TYPES), ScenarioSchema.shape.objective], {
        error: 'an objective: "tstt", "revenue", "welfare" or an object',
      }),
      "objectives",
    )
      .optional()
      .meta({ description: 'An objective type or a whole objective object ({"type": "tstt", "minRevenue": 1000}).' }),
    method: axis(
      z.union([z.enum(METHOD_TYPES), ScenarioSchema.shape.method], {
        error: 'a method: "first-best", "grid", "gradient", "derivative-free" or an object',
      }),
      "methods",
    )
      .optional()
      .meta({ description: "A method type (keeping the base scenario's settings when it has that type) or a whole method object." }),
    algorithm: axis(z.enum(ALGORITHMS, { error: `one of ${ALGORITHMS.join(", ")}` }), "algorithms")
      .optional()
      .meta({ description: "The follower's algorithm." }),
    gap: axis(positive("a relative gap > 0"), "gaps").optional().meta({ description: "The follower's relative gap." }),
    seed: axis(seedValue, "seeds").optional().meta({ description: "Seeds of anything random (the grid-city demand); replicates." }),
  })
  .meta({ description: "Axes of a design sweep; the runs are their Cartesian product." });

const DesignEntry = z
  .strictObject({
    kind: z.literal("design"),
    name: runName.optional().meta({ description: "Prefix of the run ids (default: the scenario's name)." }),
    scenario: z
      .union([z.string().min(1), z.record(z.string(), z.unknown())], { error: "a scenario file path or an inline scenario object" })
      .meta({ description: "The base scenario: a path relative to the sweep file, or an inline scenario object." }),
    grid: DesignGrid.prefault({}),
  })
  .meta({ description: "Toll designs: a base scenario varied over the grid." });

const assignBase = {
  network: networkValue.optional().meta({ description: "The network (or give grid.network)." }),
  algorithm: z.enum(ALGORITHMS, { error: `one of ${ALGORITHMS.join(", ")}` }).default(FOLLOWER_DEFAULTS.algorithm),
  objective: z.enum(OBJECTIVES, { error: `one of ${OBJECTIVES.join(", ")}` }).default(FOLLOWER_DEFAULTS.objective),
  gap: positive("a relative gap > 0").default(FOLLOWER_DEFAULTS.gap),
  maxIterations: posInt().optional(),
  maxSeconds: positive("a number of seconds > 0").optional(),
  tolls: z.string().min(1).optional().meta({ description: "A tolls CSV (link,toll), relative to the sweep file." }),
  classes: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "A classes JSON file (as `tollkit assign --classes`), relative to the sweep file." }),
  demandScale: positive("a demand scale > 0").default(1),
  valueOfTime: ValueOfTime.optional(),
};

const AssignGrid = z
  .strictObject({
    network: axis(networkValue, "networks").optional(),
    algorithm: axis(z.enum(ALGORITHMS, { error: `one of ${ALGORITHMS.join(", ")}` }), "algorithms").optional(),
    objective: axis(z.enum(OBJECTIVES, { error: `one of ${OBJECTIVES.join(", ")}` }), "objectives").optional(),
    gap: axis(positive("a relative gap > 0"), "gaps").optional(),
    maxIterations: axis(posInt(), "iteration limits").optional(),
    maxSeconds: axis(positive("a number of seconds > 0"), "time limits").optional(),
    demandScale: axis(positive("a demand scale > 0"), "demand scales").optional(),
    valueOfTime: axis(ValueOfTime, "values of time").optional(),
    tolls: axis(z.string().min(1), "tolls files").optional(),
    seed: axis(seedValue, "seeds").optional(),
  })
  .meta({ description: "Axes of an assignment sweep; the runs are their Cartesian product." });

const AssignEntry = z
  .strictObject({ kind: z.literal("assign"), name: runName.optional(), ...assignBase, grid: AssignGrid.prefault({}) })
  .meta({ description: "Traffic assignments (`tollkit assign`) over the grid; every field but grid is the base value of an axis." });

/** The zod definition of a sweep file (validation, types and JSON Schema). */
export const SweepSchema = z
  .strictObject({
    $schema: z.string().optional(),
    kind: z.literal("sweep", { error: '"sweep"' }),
    name: runName.optional(),
    description: z.string().optional(),
    seed: seedValue
      .optional()
      .meta({ description: "Seed of the sweep's runs where a grid has no seed axis and --seed is not given (default 1)." }),
    runs: z
      .array(z.discriminatedUnion("kind", [DesignEntry, AssignEntry], { error: 'an entry with "kind": "design" or "assign"' }), {
        error: "an array of sweep entries",
      })
      .min(1, { error: "at least one entry" }),
  })
  .meta({ title: "tollkit sweep", description: "A batch of toll designs and assignments over parameter grids (`tollkit batch`)." });

export type Sweep = z.output<typeof SweepSchema>;
export type DesignSweepEntry = z.output<typeof DesignEntry>;
export type AssignSweepEntry = z.output<typeof AssignEntry>;
export type SweepEntry = Sweep["runs"][number];
export type DesignAxis = keyof z.output<typeof DesignGrid>;
export type AssignAxis = keyof z.output<typeof AssignGrid>;
export type ValueOfTimeSetting = z.output<typeof ValueOfTime>;

/** True when a JSON document declares itself a sweep (`"kind": "sweep"`). */
export function isSweepJson(json: unknown): boolean {
  return json !== null && typeof json === "object" && !Array.isArray(json) && (json as Record<string, unknown>).kind === "sweep";
}

/** Most runs one sweep file may plan (the sum over its entries of each grid's product); `TOLLKIT_MAX_SWEEP_RUNS` raises it. */
export const DEFAULT_MAX_SWEEP_RUNS = 10_000;

function maxSweepRuns(): number {
  const v = process.env.TOLLKIT_MAX_SWEEP_RUNS;
  if (v === undefined || v === "") return DEFAULT_MAX_SWEEP_RUNS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InputError(MOD, `got "${v}"`, { field: "TOLLKIT_MAX_SWEEP_RUNS" }, "a positive integer (most runs of one sweep file)");
  return n;
}

/**
 * Validates a sweep file's JSON and fills in defaults.
 * @param json the parsed document
 * @param file the file name used in messages
 * @throws InputError naming the file, the JSON path of the first problem and what was expected;
 *   also for duplicate axis values, an assign entry without a network and a grid axis that
 *   duplicates a base value
 */
export function parseSweep(json: unknown, file: string): Sweep {
  const r = SweepSchema.safeParse(json);
  if (!r.success)
    throw schemaInputError(r.error.issues, json, {
      module: MOD,
      file,
      knownFields: "only the fields of scenarios/sweeps/sweep.schema.json",
      rootField: "(top level)",
      describeDiscriminator: (options) => `"kind": ${options.map((o) => JSON.stringify(o)).join(" or ")}`,
    });
  const sweep = r.data;
  // the size first: a grid of 1000 × 1000 × 1000 values is refused before it is expanded
  const limit = maxSweepRuns();
  let total = 0;
  sweep.runs.forEach((e, k) => {
    const sizes = Object.values(e.grid as Record<string, unknown[] | undefined>).map((v) => v?.length ?? 1);
    const n = sizes.reduce((a, b) => a * b, 1);
    total += n;
    if (total > limit)
      throw new InputError(
        MOD,
        `${sizes.length > 1 ? `${sizes.join(" × ")} = ` : ""}${n} runs${total > n ? ` (${total} with the entries before it)` : ""} is above the limit of ${limit} runs per sweep file`,
        { file, field: `runs[${k}].grid` },
        `at most ${limit} runs (raise it with TOLLKIT_MAX_SWEEP_RUNS)`,
      );
  });
  sweep.runs.forEach((e, k) => {
    const grid = e.grid as Record<string, unknown[] | undefined>;
    for (const [name, values] of Object.entries(grid)) {
      if (!values) continue;
      const seen = new Map<string, number>();
      values.forEach((v, j) => {
        const key = JSON.stringify(v);
        const first = seen.get(key);
        if (first !== undefined)
          throw new InputError(
            MOD,
            `duplicate value ${describeValue(v)} (also at index ${first})`,
            { file, field: `runs[${k}].grid.${name}[${j}]` },
            "distinct values on an axis",
          );
        seen.set(key, j);
      });
    }
    if (e.kind === "assign" && e.network === undefined && e.grid.network === undefined)
      throw new InputError(MOD, "no network", { file, field: `runs[${k}].network` }, 'a network, or a grid axis "network"');
  });
  return sweep;
}

/** The JSON Schema (draft 2020-12) of sweep files, generated from {@link SweepSchema}. */
export function sweepJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SweepSchema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }) as Record<string, unknown>;
}

/** One point of an entry's grid: the axis values, in the file's axis order. */
export type GridPoint = [axis: string, value: unknown][];

/**
 * The Cartesian product of a grid's axes, in the order the axes are written in the file (the
 * last varies fastest). An empty or absent grid gives one point with no axis values.
 * @param rawGrid the grid as written in the file, already validated by {@link parseSweep}
 *   (values as written: an instrument object without bounds stays without bounds)
 */
export function gridPoints(rawGrid: unknown): GridPoint[] {
  const grid = (rawGrid && typeof rawGrid === "object" ? rawGrid : {}) as Record<string, unknown[]>;
  let points: GridPoint[] = [[]];
  for (const n of Object.keys(grid)) {
    const values = grid[n];
    const next: GridPoint[] = [];
    for (const p of points) for (const v of values) next.push([...p, [n, v]]);
    points = next;
  }
  return points;
}
