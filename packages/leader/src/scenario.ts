/**
 * Scenario files: one JSON document describes a toll-design study — the network, the user
 * classes, the instrument (which links may be tolled, with bounds), the leader's objective,
 * the search method and the follower's settings.
 *
 * The zod schema below is the single definition: it validates files ({@link parseScenario}),
 * gives the TypeScript types, and generates the JSON Schema committed as
 * `scenarios/scenario.schema.json` ({@link scenarioJsonSchema}). A bad file is an
 * {@link InputError} naming the file and the JSON path (e.g. `classes[0].valueOfTime`).
 *
 * Units: tolls in money (the unit a class's value of time is given in: £, $, cents);
 * values of time in money per time unit of the network (per minute for most TNTP networks).
 */

import * as z from "zod";
import { InputError, readJsonFile, schemaInputError, VDF_NAMES } from "@tollkit/graph-core";
import { ALGORITHMS, ElasticDemandSchema, userClassesSchema } from "@tollkit/follower";

const MOD = "leader/scenario";

// ---------------------------------------------------------------- building blocks

const positive = (what = "a positive number") => z.number({ error: what }).positive({ error: what }).finite({ error: what });
const nonNegative = (what = "a number ≥ 0") => z.number({ error: what }).min(0, { error: what }).finite({ error: what });
const finite = (what = "a finite number") => z.number({ error: what }).finite({ error: what });
const posInt = (what = "an integer ≥ 1") => z.number({ error: what }).int({ error: what }).min(1, { error: what });
const linkId = () => posInt("a link id (an integer ≥ 1, the 1-based position of the link in the network file)");

const InlineLink = z
  .strictObject({
    from: finite("a node id"),
    to: finite("a node id"),
    freeFlowTime: nonNegative("a free-flow time ≥ 0"),
    capacity: positive("a capacity > 0").optional(),
    b: nonNegative("a VDF coefficient b ≥ 0").optional(),
    power: nonNegative("a VDF power ≥ 0").optional(),
    vdf: z.enum(VDF_NAMES, { error: `one of ${VDF_NAMES.join(", ")}` }).optional(),
    length: nonNegative("a length ≥ 0").optional(),
    toll: finite("a toll (money)").optional(),
    linkType: z.number({ error: "an integer link type" }).int({ error: "an integer link type" }).optional(),
  })
  .meta({ description: "A link. Defaults: BPR, b = 0.15, power = 4, capacity 1, length = free-flow time. b = 0 makes the cost constant." });

const InlineNetwork = z
  .strictObject({
    name: z.string({ error: "a name" }).min(1, { error: "a non-empty name" }),
    nodes: z
      .array(z.strictObject({ id: finite("a node id"), x: finite("a coordinate").optional(), y: finite("a coordinate").optional() }), {
        error: "an array of nodes",
      })
      .min(2, { error: "at least 2 nodes" }),
    zones: posInt("the number of zones (nodes 1..zones are the zones)"),
    firstThruNode: posInt("a node id").optional(),
    links: z.array(InlineLink, { error: "an array of links" }).min(1, { error: "at least one link" }),
    demand: z
      .array(
        z.tuple([posInt("a zone id"), posInt("a zone id"), nonNegative("trips ≥ 0")], { error: "[origin zone, destination zone, trips]" }),
        {
          error: "an array of [origin zone, destination zone, trips]",
        },
      )
      .min(1, { error: "at least one demand entry" }),
    costWeights: z
      .strictObject({ tollFactor: nonNegative("time units per unit of money ≥ 0").optional(), distanceFactor: nonNegative().optional() })
      .optional(),
  })
  .meta({ description: "A small network written inline (for tiny examples); zones are the nodes with ids 1..zones." });

/** User classes: the follower's one definition (demandShare or demandScale, shares adding up to 1), read as scenarios read it. */
const ScenarioClasses = userClassesSchema({ scenario: true });

const Bounds = z
  .strictObject({
    min: finite("a toll (money)").default(0).meta({ description: "Lowest toll (money); default 0." }),
    max: finite("a toll (money)").optional().meta({ description: "Highest toll (money). Required by the search methods." }),
  })
  .meta({ description: "Toll bounds (money) applied to every toll of the instrument." });

const LinkBound = z.strictObject({
  link: linkId(),
  min: finite("a toll (money)").optional(),
  max: finite("a toll (money)").optional(),
});

const instrumentCommon = {
  uniform: z
    .boolean({ error: "true or false" })
    .optional()
    .meta({ description: "One toll for all the instrument's links (default: true for a cordon, false otherwise)." }),
  bounds: Bounds.prefault({}),
  linkBounds: z
    .array(LinkBound, { error: "an array of {link, min, max}" })
    .optional()
    .meta({ description: "Per-link bounds overriding `bounds` (not with `uniform`)." }),
};

const Instrument = z
  .discriminatedUnion(
    "type",
    [
      z
        .strictObject({
          type: z.literal("links"),
          links: z.union([z.array(linkId()).min(1, { error: "at least one link id" }), z.literal("all")], {
            error: 'an array of link ids (1-based) or "all"',
          }),
          ...instrumentCommon,
        })
        .meta({ description: "Tolls on the listed links (1-based link ids), or on every link." }),
      z
        .strictObject({
          type: z.literal("link-types"),
          linkTypes: z
            .array(z.number({ error: "an integer link type" }).int({ error: "an integer link type" }))
            .min(1, { error: "at least one link type" }),
          ...instrumentCommon,
        })
        .meta({ description: "Tolls on every link of the given link types." }),
      z
        .strictObject({
          type: z.literal("cordon"),
          nodes: z
            .array(finite("a node id"))
            .min(1, { error: "at least one node id" })
            .optional()
            .meta({ description: "Node ids inside the cordon." }),
          polygon: z
            .array(z.tuple([finite("a coordinate"), finite("a coordinate")], { error: "[x, y] (lon, lat on lon/lat networks)" }))
            .min(3, { error: "a ring of at least 3 points" })
            .optional()
            .meta({ description: "A ring of [x, y] points in the network's coordinates ([lon, lat] on lon/lat networks)." }),
          ...instrumentCommon,
        })
        .meta({
          description: "A cordon: the links entering an area (from a node outside to a node inside), given as node ids or a polygon.",
        }),
    ],
    { error: 'an instrument with "type": "links", "link-types" or "cordon"' },
  )
  .meta({ description: "Which links the leader may toll." });

const Objective = z
  .strictObject({
    type: z.enum(["tstt", "revenue", "welfare"], { error: 'one of "tstt" (minimise), "revenue" (maximise), "welfare" (maximise)' }),
    minRevenue: nonNegative("a revenue floor ≥ 0 (money)")
      .optional()
      .meta({ description: "Revenue floor R (money): minimise TSTT (or maximise welfare) subject to revenue ≥ R (augmented Lagrangian)." }),
    multiplierUpdates: posInt().default(4).meta({ description: "Augmented-Lagrangian outer iterations (searches) used with minRevenue." }),
    penalty: positive().default(10).meta({
      description: "Initial augmented-Lagrangian penalty, on the objective and the constraint both scaled to 1 at the no-toll baseline.",
    }),
  })
  .meta({
    description:
      "The leader's objective. tstt: minimise Σ x·t(x). revenue: maximise toll revenue. welfare: maximise −(time and distance cost of all travel, in money); with fixed demand tolls are a transfer, so welfare ranks designs like TSTT weighted by each class's value of time.",
  });

const start = z
  .union([z.enum(["zero", "first-best"]), z.array(finite("a toll (money)"))], {
    error: '"zero", "first-best" or an array with one toll per decision variable',
  })
  .default("zero")
  .meta({
    description: 'Starting tolls: "zero", "first-best" (first-best tolls on the instrument, clipped to the bounds) or explicit values.',
  });

const startScale = z
  .union([z.number().positive(), z.array(z.number().min(0)).min(1)], { error: "a number > 0, or a list of numbers ≥ 0 (one start each)" })
  .optional()
  .meta({
    description:
      "With start \"first-best\": the first-best tolls are multiplied by this before clipping (default 1). Second-best tolls on a subset of links are usually well below the first-best ones, which push traffic onto the untolled routes (on Chicago-Sketch's 50 links of largest first-best toll, the first-best tolls themselves are worse than no tolls), so a fraction such as 0.5 is a start between no tolls and first-best. A list gives one start per entry along that ray (0 is no tolls), e.g. [0, 0.125, 0.25, 0.375]: several starts (`starts` is then the list's length), best screened with `screen`.",
  });

const screen = posInt().optional().meta({
  description:
    "With several starts: screen them by successive halving instead of splitting the budget evenly. Each start gets this many solves, then the better half (rounded up) goes on for as many more, each search resumed where it stopped, until one is left, which gets the rest of the budget (and the polish, if it stalls).",
});

const check = (dflt: string) =>
  z
    .enum(["directional", "full", "none"], { error: '"directional", "full" or "none"' })
    .optional()
    .meta({
      description: `Gradient check at the final point: "directional" — one finite difference along a random feasible direction (2 solves); "full" — every variable (2 solves each); "none". Steps stay inside the bounds (one-sided at a bound); a disagreement is a warning with numbers. Default "${dflt}" (from gradientCheck when only that is given).`,
    });

const starts = posInt().default(1).meta({
  description:
    "Starting points (the response is not convex): the first is `start`, the others are drawn uniformly in the bounds from a fixed seed (deterministic); the budget is split evenly and the best design wins. Not with a revenue floor.",
});

const checkSeed = posInt()
  .default(1)
  .meta({ description: "Seed of the random direction of the directional gradient check (the check is deterministic)." });

const Method = z
  .discriminatedUnion(
    "type",
    [
      z.strictObject({ type: z.literal("first-best") }).meta({
        description: "Marginal-cost tolls x·t′(x) at the system optimum on every link, checked by a tolled user equilibrium.",
      }),
      z
        .strictObject({
          type: z.literal("grid"),
          points: z
            .union([z.number().int().min(2), z.tuple([z.number().int().min(2), z.number().int().min(2)])], {
              error: "an integer ≥ 2 or [n1, n2] (points per axis)",
            })
            .default(21)
            .meta({ description: "Grid points per toll between its bounds (inclusive)." }),
        })
        .meta({ description: "Grid search over one or two tolls; returns the response surface." }),
      z
        .strictObject({
          type: z.literal("gradient"),
          maxSolves: posInt().default(40).meta({ description: "Budget of equilibrium solves for the search." }),
          start,
          startScale,
          initialStep: positive()
            .optional()
            .meta({ description: "Size of the first step (money); default 10% of the widest bound range." }),
          tolerance: positive().default(1e-7).meta({ description: "Stop when the relative objective decrease of a step is below this." }),
          memory: posInt().default(6).meta({ description: "Number of (step, gradient change) pairs kept by the quasi-Newton update." }),
          gradientCheck: z
            .boolean()
            .default(true)
            .meta({ description: 'Check the gradient against finite differences (false is check "none").' }),
          check: check("directional"),
          checkSeed,
          starts,
          screen,
          fdStep: positive()
            .optional()
            .meta({ description: "Finite-difference step (money) of the gradient check; default 1e-5 of the bound range." }),
          polish: z.boolean({ error: "true or false" }).default(true).meta({
            description:
              'When the gradient steps stall at a kink of the response (degenerate or nearly degenerate points, a line search that finds no decrease, steps too small, a failed gradient check), spend the rest of the budget on a derivative-free pattern search from the best point (history phase "polish").',
          }),
        })
        .meta({ description: "Projected quasi-Newton (L-BFGS with box bounds) driven by exact equilibrium sensitivities." }),
      z
        .strictObject({
          type: z.literal("derivative-free"),
          maxSolves: posInt().default(200).meta({ description: "Budget of equilibrium solves for the search." }),
          start,
          startScale,
          initialStep: positive().optional().meta({ description: "Initial pattern size (money); default 25% of the widest bound range." }),
          minStep: positive()
            .optional()
            .meta({ description: "Stop when the pattern is smaller than this (money); default 1e-5 of the bound range." }),
          gradientCheck: z
            .boolean()
            .default(false)
            .meta({ description: 'Also check sensitivities against finite differences at the final point (true is check "directional").' }),
          check: check("none"),
          checkSeed,
          starts,
          screen,
          fdStep: positive()
            .optional()
            .meta({ description: "Finite-difference step (money) of the gradient check; default 1e-5 of the bound range." }),
        })
        .meta({ description: "Pattern search (compass search with step halving), projected onto the bounds." }),
    ],
    { error: 'a method with "type": "first-best", "grid", "gradient" or "derivative-free"' },
  )
  .meta({ description: "How the leader searches." });

const Follower = z
  .strictObject({
    algorithm: z.enum(ALGORITHMS, { error: `one of ${ALGORITHMS.join(", ")}` }).default("bush"),
    gap: positive("a relative gap > 0").default(1e-10),
    maxIterations: posInt().optional(),
    maxSeconds: positive().optional(),
  })
  .meta({ description: "Settings of every equilibrium solve (the follower)." });

const Ties = z
  .strictObject({
    rule: z
      .enum(["optimistic", "pessimistic"], { error: '"optimistic" or "pessimistic"' })
      .default("optimistic")
      .meta({ description: "Where followers are indifferent: optimistic = they break ties in the leader's favour." }),
    margin: positive()
      .default(0.01)
      .meta({ description: "The design is also evaluated with every toll lowered by this much (money): the 'just below' values." }),
  })
  .meta({ description: "How ties of followers between equally costly routes are resolved (only constant-cost links can tie)." });

const Demand = z
  .discriminatedUnion(
    "type",
    [z.strictObject({ type: z.literal("fixed") }).meta({ description: "The trip table as it is (the default)." }), ElasticDemandSchema],
    { error: 'a demand with "type": "fixed" or "elastic"' },
  )
  .meta({ description: "Fixed (the trip table) or elastic demand." });

/** The zod definition of a scenario file (validation, types and JSON Schema). */
export const ScenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string({ error: "a name" }).min(1, { error: "a non-empty name" }).optional(),
    description: z.string({ error: "a text" }).optional(),
    network: z
      .union([z.string().min(1), InlineNetwork], {
        error: "a catalogue id, a built-in id, a path to a *_net.tntp or GMNS folder, or an inline network",
      })
      .meta({
        description: "A catalogue id (sioux-falls), a built-in id (two-route), a path relative to the scenario file, or an inline network.",
      }),
    demandScale: positive().default(1).meta({ description: "Multiplies the demand matrix." }),
    demand: Demand.optional(),
    classes: ScenarioClasses.optional().meta({
      description:
        "User classes, each with its demand (demandShare, default 1, or demandScale; `share` is another name for demandShare) and valueOfTime or tollFactor; the shares add up to 1. Default: one class with the network's demand and cost weights (needs a toll factor > 0).",
    }),
    instrument: Instrument,
    objective: Objective,
    method: Method,
    follower: Follower.prefault({}),
    ties: Ties.prefault({}),
    firstBest: z
      .boolean({ error: "true or false" })
      .default(true)
      .meta({ description: "Compute the first-best reference (2 solves) to report the share of its improvement captured." }),
  })
  .meta({
    title: "tollkit scenario",
    description: "A toll-design study: network, user classes, instrument, objective, method, follower settings.",
  });

/** A parsed scenario (defaults filled in) and the file it came from. */
export type Scenario = z.output<typeof ScenarioSchema> & {
  /** The file it was read from (for messages and for paths relative to it). */
  file?: string;
};
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type InstrumentSpec = Scenario["instrument"];
export type ObjectiveSpec = Scenario["objective"];
export type MethodSpec = Scenario["method"];
export type FollowerSpec = Scenario["follower"];
export type InlineNetworkSpec = z.output<typeof InlineNetwork>;
export type ObjectiveType = ObjectiveSpec["type"];
export type MethodType = MethodSpec["type"];
export type TieRule = Scenario["ties"]["rule"];
export type DemandSpec = NonNullable<Scenario["demand"]>;

/**
 * The gradient check a search method asks for: its `check`, else from `gradientCheck`
 * (true → "directional", false → "none"); "none" for first-best and grid.
 */
export function gradientCheckKind(m: MethodSpec): "directional" | "full" | "none" {
  if (m.type !== "gradient" && m.type !== "derivative-free") return "none";
  return m.check ?? (m.gradientCheck ? "directional" : "none");
}

/** An InputError at a JSON path of a scenario. */
export function scenarioError(file: string | undefined, path: string, message: string, expected?: string): InputError {
  return new InputError(MOD, message, { file: file ?? "scenario", field: path }, expected);
}

/**
 * Validates a scenario (parsed JSON) and fills in defaults.
 * @param json the parsed JSON document
 * @param file the file name used in messages (and to resolve relative network paths)
 * @param at the JSON path of the scenario inside that input (e.g. `scenario` in an API run
 *   request), prefixed to every field in messages; default none
 * @throws InputError naming the file and the JSON path of the first problem and what was expected
 */
export function parseScenario(json: unknown, file?: string, at = ""): Scenario {
  const r = ScenarioSchema.safeParse(json);
  if (!r.success)
    throw schemaInputError(r.error.issues, json, {
      module: MOD,
      file: file ?? "scenario",
      at: at ? [at] : [],
      knownFields: "only the fields of scenarios/scenario.schema.json",
      rootField: at ? undefined : "(top level)",
    });
  const s: Scenario = { ...r.data, file };
  checkScenario(s, at);
  return s;
}

/** Checks that need more than one field (done after the schema, still before any network is loaded). */
function checkScenario(s: Scenario, at: string): void {
  const fail = (path: string, message: string, expected?: string) => scenarioError(s.file, at ? `${at}.${path}` : path, message, expected);
  if (s.classes) {
    // shares, names and the cost of money are checked by the follower's class schema
    if (!s.classes.some((c) => c.tolled))
      throw fail("classes", "no class is tolled, so tolls cannot change anything", "at least one class with tolled: true");
  }
  const ins = s.instrument;
  if (ins.bounds.max !== undefined && ins.bounds.max < ins.bounds.min)
    throw fail("instrument.bounds.max", `max ${ins.bounds.max} is below min ${ins.bounds.min}`, "max ≥ min");
  if (ins.type === "cordon") {
    if ((ins.nodes === undefined) === (ins.polygon === undefined))
      throw fail("instrument", "a cordon needs exactly one of nodes or polygon", '"nodes": [...] or "polygon": [[x, y], ...]');
    if (ins.linkBounds) throw fail("instrument.linkBounds", "a cordon charge has one toll", "bounds only");
  }
  const uniform = ins.uniform ?? ins.type === "cordon";
  if (uniform && ins.linkBounds)
    throw fail("instrument.linkBounds", "per-link bounds with a uniform toll", "bounds only, or uniform: false");
  ins.linkBounds?.forEach((b, k) => {
    const lo = b.min ?? ins.bounds.min;
    const hi = b.max ?? ins.bounds.max;
    if (hi !== undefined && hi < lo) throw fail(`instrument.linkBounds[${k}].max`, `max ${hi} is below min ${lo}`, "max ≥ min");
  });
  const obj = s.objective;
  if (obj.minRevenue !== undefined && obj.type === "revenue")
    throw fail("objective.minRevenue", "a revenue floor on a revenue objective", 'objective "tstt" or "welfare" with minRevenue');
  const dm = s.demand;
  if (dm?.type === "elastic") {
    const both = (v: { elasticity?: number; rate?: number }, path: string, required: boolean) => {
      if (v.elasticity !== undefined && v.rate !== undefined) throw fail(path, "both elasticity and rate given", "one of elasticity, rate");
      if (required && v.elasticity === undefined && v.rate === undefined)
        throw fail(path, "no elasticity or rate given", "elasticity (dimensionless) or rate (per time unit)");
      if (dm.form === "power" && v.rate !== undefined) throw fail(`${path}.rate`, "rate given for power demand", "elasticity");
    };
    both(dm, "demand", true);
    for (const [z, v] of Object.entries(dm.zones ?? {})) both(v, `demand.zones.${z}`, true);
    for (const [c, v] of Object.entries(dm.classes ?? {})) {
      both(v, `demand.classes.${c}`, false);
      for (const [z, w] of Object.entries(v.zones ?? {})) both(w, `demand.classes.${c}.zones.${z}`, true);
    }
  }
  const m = s.method;
  const needsSensitivity = m.type === "gradient" || (m.type === "derivative-free" && gradientCheckKind(m) !== "none");
  if (needsSensitivity && s.follower.algorithm !== "bush")
    throw fail(
      "follower.algorithm",
      `"${s.follower.algorithm}": gradients come from equilibrium sensitivities, which need the bush algorithm's used bushes`,
      '"bush"',
    );
  if (needsSensitivity && obj.type === "welfare" && s.classes && s.classes.length > 1)
    throw fail(
      "objective.type",
      "welfare gradients with several classes need per-class flow sensitivities, which the follower does not provide",
      'method "derivative-free" or "grid" for welfare with several classes',
    );
  if (m.type === "gradient" || m.type === "derivative-free") {
    const scales = Array.isArray(m.startScale) ? m.startScale : undefined;
    if (scales && m.starts !== 1 && m.starts !== scales.length)
      throw fail(
        "method.starts",
        `${m.starts} starts with ${scales.length} start scales`,
        `${scales.length} (one start per scale), or no starts`,
      );
    const starts = scales ? scales.length : m.starts;
    if (starts > 1 && obj.minRevenue !== undefined)
      throw fail(
        scales ? "method.startScale" : "method.starts",
        `${starts} starts with a revenue floor (each would need its own multiplier updates)`,
        "one start with minRevenue",
      );
    if (m.startScale !== undefined && m.start !== "first-best")
      throw fail(
        "method.startScale",
        `startScale ${JSON.stringify(m.startScale)} with start ${JSON.stringify(m.start)} (it scales the first-best tolls only)`,
        'start "first-best", or no startScale',
      );
    if (starts > m.maxSolves)
      throw fail("method.starts", `${starts} starts for a budget of ${m.maxSolves} solves`, "at most maxSolves starts");
    if (m.screen !== undefined && starts < 2)
      throw fail(
        "method.screen",
        `screen ${m.screen} with one start (it screens several starts)`,
        "starts ≥ 2 or a list of start scales, or no screen",
      );
    if (m.screen !== undefined && m.screen * starts > m.maxSolves)
      throw fail(
        "method.screen",
        `${m.screen} solves for each of ${starts} starts in the first round, beyond the budget of ${m.maxSolves}`,
        `at most ${Math.floor(m.maxSolves / starts)}`,
      );
  }
  if (m.type === "first-best") {
    if (obj.type === "revenue")
      throw fail(
        "method.type",
        "first-best (marginal-cost) tolls minimise travel time, they do not maximise revenue",
        'objective "tstt" or "welfare"',
      );
  } else if (ins.bounds.max === undefined && !(ins.linkBounds && ins.linkBounds.every((b) => b.max !== undefined))) {
    throw fail("instrument.bounds.max", `the ${m.type} method needs an upper toll bound`, "a number (money)");
  }
}

/**
 * Reads and validates a scenario file.
 * @param path path of a JSON scenario file
 * @throws InputError when the file cannot be read, is not JSON, or is not a valid scenario
 */
export function loadScenario(path: string): Scenario {
  return parseScenario(readJsonFile(path, MOD, "a JSON scenario"), path);
}

/** The JSON Schema (draft 2020-12) of scenario files, generated from {@link ScenarioSchema}. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ScenarioSchema, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
}
