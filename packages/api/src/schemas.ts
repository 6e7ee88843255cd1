/**
 * zod 4 schemas of every request (and, for the OpenAPI document, every response) of the API.
 * The same schemas validate requests and generate `GET /api/openapi.json` (through
 * `z.toJSONSchema`), so the document cannot drift from what the server accepts.
 *
 * Setting names are the CLI's option names in camelCase: `algorithm, objective, gap,
 * maxIterations, maxSeconds, tolls, classes` (`classes` takes the contents of a classes file,
 * checked by the follower's own class schema); defaults are the follower's `FOLLOWER_DEFAULTS`.
 */
import * as z from "zod";
import { ALGORITHMS, ElasticDemandSchema, FOLLOWER_DEFAULTS, OBJECTIVES, userClassesSchema } from "@tollkit/follower";
import { BUILTIN_NETWORKS, loadCatalogue } from "@tollkit/graph-core";
import { ScenarioSchema } from "@tollkit/leader";
import { RUN_KINDS, RUN_STATUSES } from "./store.js";

/** Ids of networks that may be named in a request: supported catalogue networks and built-ins. */
export function networkIds(): string[] {
  return [
    ...loadCatalogue()
      .networks.filter((n) => n.supported !== false)
      .map((n) => n.id),
    ...Object.keys(BUILTIN_NETWORKS),
  ];
}

/**
 * The message for a network reference that is not an allowed id: a statement ending in
 * `(expected …)`, as graph-core's `schemaInputError` splits it.
 */
export function networkIdMessage(input: unknown): string {
  if (typeof input !== "string")
    return `got ${input === null ? "null" : typeof input} (expected a network id, a string such as "sioux-falls")`;
  if (/[/\\]|\.\.|^\.|:/.test(input))
    return `"${input}" looks like a file path (expected a catalogue or built-in network id: the HTTP API accepts no file paths, see GET /api/networks)`;
  const unsupported = loadCatalogue().networks.find((n) => n.id === input && n.supported === false);
  if (unsupported)
    return `network "${input}" is not supported: ${unsupported.notes ?? "it cannot be loaded"} (expected a supported network, see GET /api/networks)`;
  const shown = input.length > 64 ? `${input.slice(0, 64)}…` : input;
  return `unknown network "${shown}" (expected one of ${networkIds().join(", ")})`;
}

const ids = networkIds() as [string, ...string[]];

/** A network named by id: a catalogue id or a built-in id. Paths are refused. */
export const NetworkId = z.enum(ids, { error: (iss) => networkIdMessage(iss.input) }).meta({
  description: "A catalogue or built-in network id (see GET /api/networks). File paths are not accepted.",
});

/** A positive integer id in a URL or query string. */
export const IdString = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, { error: "expected a positive integer id" })
  .transform((s) => Number(s));

/** A toll on one link, in money per vehicle of a tolled class. */
export const TollEntry = z.strictObject({
  link: z.int().min(1).meta({ description: "Link id: the 1-based position in the network file." }),
  toll: z.number().min(0).max(1e9).meta({ description: "Toll in money per vehicle (≥ 0)." }),
});

/**
 * User classes of a request: the follower's one definition (as in a `tollkit assign --classes`
 * file: demandShare or demandScale, shares adding up to 1, valueOfTime or tollFactor, unique
 * names), at most 100 classes. Shown in the OpenAPI document as `UserClass`.
 */
export const ClassList = userClassesSchema({ scenario: false, maxClasses: 100 });

/** Settings of an `assign` run (the CLI's `assign` options in camelCase). */
export const AssignSettings = z
  .strictObject({
    algorithm: z.enum(ALGORITHMS).default(FOLLOWER_DEFAULTS.algorithm).meta({ description: "Follower algorithm." }),
    objective: z.enum(OBJECTIVES).default(FOLLOWER_DEFAULTS.objective).meta({ description: "ue: user equilibrium; so: system optimum." }),
    gap: z
      .number()
      .gt(0)
      .lt(1)
      .default(FOLLOWER_DEFAULTS.gap)
      .meta({ description: `Relative gap to reach (as the CLI: default ${FOLLOWER_DEFAULTS.gap}).` }),
    maxIterations: z.int().min(1).max(10_000_000).optional(),
    maxSeconds: z
      .number()
      .gt(0)
      .optional()
      .meta({ description: "Wall-time limit in seconds (at most the server's limit, which is the default)." }),
    tolls: z
      .array(TollEntry)
      .max(1_000_000)
      .optional()
      .meta({ description: "Tolls per link; links not listed keep the network's own tolls. Same shape as `design --json` output." }),
    classes: ClassList.optional().meta({
      description:
        "User classes (the CLI's `--classes` file contents): each its own demand, value of time, PCE and whether it pays tolls. Default: one class from the network's demand.",
    }),
    demand: ElasticDemandSchema.optional().meta({
      description:
        "Elastic demand (the CLI's `--demand-function`): {type: elastic, form, elasticity | rate, zones, classes}, pivoted on the no-toll equilibrium. Default: fixed demand. The summary then has `demand` (trips made / not made and welfare, per zone).",
    }),
  })
  .meta({ id: "AssignSettings" });
export type AssignSettings = z.infer<typeof AssignSettings>;

/** Settings of a `design` run. */
export const DesignSettings = z
  .strictObject({
    maxSeconds: z.number().gt(0).optional().meta({ description: "Wall-time limit in seconds (at most the server's limit)." }),
  })
  .meta({ id: "DesignSettings" });

/** The top-level fields of a scenario (those of the leader's schema, and `$schema`). */
const SCENARIO_FIELDS = new Set(["$schema", ...Object.keys(ScenarioSchema.shape)]);

/** A scenario as posted: the same JSON as a scenario file for `tollkit design` (validated in full by the leader). */
export const ScenarioBody = z
  .looseObject({
    name: z.string().min(1).max(200).optional(),
    network: z
      .union(
        [
          z.string().meta({ description: "A catalogue or built-in network id (file paths are refused)." }),
          z.looseObject({}).meta({ description: "An inline network (nodes, links, zones, demand), within the server's size limit." }),
        ],
        { error: "a catalogue or built-in network id, or an inline network object" },
      )
      .optional(), // required: see below, after the unknown fields
  })
  .superRefine((s, ctx) => {
    // A typo of a field (`netwrok`) is said as an unknown field before the field is said missing.
    const unknown = Object.keys(s).filter((k) => !SCENARIO_FIELDS.has(k));
    if (unknown.length) ctx.addIssue({ code: "unrecognized_keys", keys: unknown, path: [], message: "" });
    if (s.network === undefined)
      ctx.addIssue({ code: "custom", path: ["network"], message: "a catalogue or built-in network id, or an inline network object" });
  })
  .meta({ id: "Scenario", description: "A scenario file's JSON (as for `tollkit design <scenario.json>`)." });

/** A scenario reference in a run request: a stored scenario's id, or a scenario object (stored first). */
export const ScenarioRef = z
  .union([z.int().min(1), ScenarioBody], { error: "a stored scenario's id (an integer ≥ 1) or a scenario object" })
  .meta({ description: "A stored scenario's id, or a scenario object (stored first)." });

/** `POST /api/runs` with kind `assign`: a follower equilibrium on a network. */
export const AssignRunRequest = z
  .strictObject({
    kind: z.literal("assign"),
    network: NetworkId,
    settings: AssignSettings.prefault({}),
  })
  .meta({ id: "AssignRunRequest" });

/** `POST /api/runs` with kind `design`: a leader toll design for a scenario. */
export const DesignRunRequest = z
  .strictObject({
    kind: z.literal("design"),
    scenario: ScenarioRef,
    settings: DesignSettings.prefault({}),
  })
  .meta({ id: "DesignRunRequest" });

/** `POST /api/runs`. */
export const RunRequest = z
  .discriminatedUnion("kind", [AssignRunRequest, DesignRunRequest], {
    error: (iss) => (iss.code === "invalid_union" ? 'expected kind "assign" or "design"' : undefined),
  })
  .meta({ id: "RunRequest" });
export type RunRequest = z.infer<typeof RunRequest>;

/** `:id` in `/api/runs/:id…` and `/api/scenarios/:id`. */
export const IdParams = z.strictObject({ id: IdString });
/** `:id` in `/api/networks/:id…`. */
export const NetworkParams = z.strictObject({ id: z.string().max(200) });

const Limit = z
  .string()
  .regex(/^[0-9]{1,6}$/, { error: "expected an integer" })
  .transform(Number)
  .pipe(z.number().min(1).max(1000))
  .default(50);
const Offset = z
  .string()
  .regex(/^[0-9]{1,9}$/, { error: "expected an integer ≥ 0" })
  .transform(Number)
  .default(0);

/** `GET /api/runs` query. */
export const RunListQuery = z.strictObject({ limit: Limit, offset: Offset, status: z.enum(RUN_STATUSES).optional() });
/** `GET /api/scenarios` query. */
export const ListQuery = z.strictObject({ limit: Limit, offset: Offset });
/** The most rows of a convergence report (or search history) in one answer; also the default page size. */
export const MAX_PAGE = 2000;

/** `GET /api/runs/:id` query. */
export const RunQuery = z.strictObject({
  convergence: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional()
    .meta({
      description: `Include the first ${MAX_PAGE} rows of the columnar convergence report and \`convergenceTotal\`, the number of rows in all (page through the rest with GET /api/runs/{id}/convergence).`,
    }),
});
/** `DELETE /api/runs/:id` query. */
export const DeleteRunQuery = z.strictObject({
  purge: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional()
    .meta({ description: "true: delete a finished run and its results (without it, DELETE cancels a queued or running run)" }),
});
/** `GET /api/runs/:id/convergence` query. */
export const ConvergenceQuery = z.strictObject({
  offset: Offset.meta({ description: "First row (0-based); default 0" }),
  limit: z
    .string()
    .regex(/^[0-9]{1,6}$/, { error: "expected an integer" })
    .transform(Number)
    .pipe(z.number().min(1).max(MAX_PAGE))
    .default(MAX_PAGE)
    .meta({ description: `Rows in the page: 1..${MAX_PAGE}, default ${MAX_PAGE}` }),
});
/** `GET /api/runs/:id/flows` query. */
export const FlowsQuery = z.strictObject({ format: z.enum(["json", "csv", "geojson"]).default("json") });
/** `GET /api/compare` query. */
export const CompareQuery = z.strictObject({ a: IdString, b: IdString });
/** Routes without query parameters. */
export const NoQuery = z.strictObject({});

// ---- responses (documentation only) ---------------------------------------------------------

/** The body of every error response. */
export const ErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      path: z.string().optional().meta({ description: "JSON path of the offending value, e.g. settings.tolls[2].link" }),
      in: z.enum(["body", "query", "params", "headers"]).optional(),
    }),
  })
  .meta({ id: "Error" });

/** `GET /api/health`. */
export const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]).meta({ description: "degraded (HTTP 503): the database refuses writes; see storage" }),
    storage: z
      .object({
        status: z.enum(["ok", "degraded"]),
        reason: z
          .string()
          .optional()
          .meta({ description: "What the database said (e.g. SQLITE_FULL: database or disk is full) and since when" }),
        pendingRuns: z.array(z.int()).optional().meta({ description: "Runs whose new state or result waits to be written" }),
      })
      .optional(),
    version: z.string(),
    schemaVersion: z.int(),
    uptimeSeconds: z.number(),
    queue: z.object({
      running: z.int(),
      queued: z.int(),
      concurrency: z.int().meta({ description: "Runs at once (with --redis: the workers seen)" }),
      backend: z.enum(["bullmq"]).optional().meta({ description: "Present with --redis: runs go to tollkit worker processes" }),
      queue: z.string().optional(),
      redis: z.enum(["connected", "unreachable"]).optional(),
      waiting: z.int().nullable().optional().meta({ description: "Jobs waiting in the Redis queue (every server's)" }),
      active: z.int().nullable().optional().meta({ description: "Jobs running on workers" }),
      workers: z.int().nullable().optional().meta({ description: "Workers connected to the queue" }),
      workerNames: z.array(z.string()).optional(),
    }),
    authRequired: z.boolean(),
  })
  .meta({ id: "Health" });

/** One row of `GET /api/networks`. */
export const NetworkSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(["catalogue", "builtin"]),
    zones: z.int(),
    nodes: z.int(),
    links: z.int(),
    available: z.enum(["local", "download"]),
    coordinateSystem: z.string(),
  })
  .meta({ id: "NetworkSummary" });

/** `GET /api/networks/:id`. */
export const NetworkDetailSchema = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    zones: z.int(),
    nodes: z.int(),
    links: z.int(),
    totalDemand: z.number(),
    firstThruNode: z.number(),
    costWeights: z.object({ tollFactor: z.number(), distanceFactor: z.number() }),
    coordinateSystem: z.string(),
    bestKnownObjective: z.number().nullable(),
    warnings: z.array(z.string()),
  })
  .meta({ id: "NetworkDetail" });

/** A stored scenario (`body`: its JSON, in `GET /api/scenarios/:id`). */
export const StoredScenarioSchema = z
  .object({ id: z.int(), name: z.string(), network: z.string(), createdAt: z.string(), body: z.unknown().optional() })
  .meta({ id: "StoredScenario" });

/** Progress of a run (assign: iteration and relative gap; design: equilibrium solves, phase and objective value). */
export const RunProgressSchema = z
  .object({
    iteration: z.int(),
    relativeGap: z.number().nullable(),
    elapsedMs: z.number(),
    fraction: z.number().nullable(),
    phase: z.string().optional(),
    value: z.number().nullable().optional(),
  })
  .meta({ id: "RunProgress" });

/** A run as `GET /api/runs/:id` shows it. */
export const RunSchema = z
  .object({
    id: z.int(),
    kind: z.enum(RUN_KINDS),
    network: z.string(),
    scenario: z.int().nullable(),
    settings: z.record(z.string(), z.unknown()),
    status: z.enum(RUN_STATUSES),
    progress: RunProgressSchema.nullable(),
    error: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    name: z.string().nullable().optional().meta({ description: "A planner's name for the run (PATCH /api/runs/:id), null when none." }),
    summary: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .meta({ description: "When done: the same object as `assign --json` / `design --json`." }),
    convergence: z
      .record(z.string(), z.array(z.unknown()))
      .optional()
      .meta({ description: `With ?convergence=true: the first ${MAX_PAGE} rows of the convergence report, columnar.` }),
    convergenceTotal: z.int().optional().meta({ description: "With ?convergence=true: the number of rows of the whole report." }),
  })
  .meta({ id: "Run" });

/** `GET /api/runs/:id/convergence`. */
export const ConvergencePageSchema = z
  .object({
    run: z.int(),
    kind: z.enum(RUN_KINDS),
    total: z.int().meta({ description: "Rows of the whole report" }),
    offset: z.int(),
    limit: z.int(),
    columns: z.record(z.string(), z.array(z.unknown())).meta({
      description:
        "Columns of rows offset … offset + limit − 1: assignment iteration, relativeGap, step, objective, elapsedMs; design step, solves, value, merit, tstt, revenue, accepted, phase",
    }),
  })
  .meta({ id: "ConvergencePage" });

/** The answer to `POST /api/runs`. */
export const RunCreatedSchema = z.object({ id: z.int(), status: z.enum(RUN_STATUSES), href: z.string() }).meta({ id: "RunCreated" });

/** A page of a list (`limit`, `offset`, `total`). */
export const PageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ total: z.int(), limit: z.int(), offset: z.int(), items: z.array(item) });

/** One link of `GET /api/runs/:id/flows?format=json`. */
export const LinkFlowSchema = z
  .object({
    link: z.int(),
    from: z.number(),
    to: z.number(),
    flow: z.number(),
    time: z.number(),
    cost: z.number(),
    toll: z.number(),
    voc: z.number(),
    revenue: z.number(),
  })
  .meta({ id: "LinkFlow" });

/** `GET /api/compare`: headline and per-link differences, b − a. */
export const ComparisonSchema = z
  .object({
    a: z.int(),
    b: z.int(),
    network: z.string(),
    headline: z.record(z.string(), z.object({ a: z.number(), b: z.number(), difference: z.number(), relative: z.number().nullable() })),
    links: z.array(
      z.object({
        link: z.int(),
        from: z.number(),
        to: z.number(),
        flowA: z.number(),
        flowB: z.number(),
        flowDifference: z.number(),
        timeDifference: z.number(),
        vocDifference: z.number().nullable(),
        tollDifference: z.number(),
        revenueDifference: z.number(),
      }),
    ),
  })
  .meta({ id: "Comparison" });
