/**
 * Routes of the planner's studio (the web page that authors scenarios):
 *
 * - `POST /api/scenarios/check` validates a draft scenario with the leader's own schema and
 *   checks ({@link parseScenario}, then {@link resolveInstrument} on the network) and answers
 *   every problem with its JSON path, plus the links the instrument tolls. Nothing is stored, so
 *   it needs no token: the page calls it on every edit and shows each message beside its field.
 *
 * - `PATCH /api/runs/:id` names a run (`{name}`; null or "" clears it), so that planners can
 *   tell their runs apart in lists and comparisons.
 *
 * The rules live in the leader; this file only reports them (no second copy of a rule).
 */
import * as z from "zod";
import { isInputError, jsonPath } from "@tollkit/graph-core";
import { parseScenario, resolveInstrument, ScenarioSchema } from "@tollkit/leader";
import type { RouteDeps, RouteSpec } from "./routes.js";
import { ApiError } from "./errors.js";
import { ErrorSchema, IdParams, NoQuery, RunSchema } from "./schemas.js";

/** One problem of a draft scenario: its JSON path (empty for the whole document) and what is wrong. */
const IssueSchema = z.object({ path: z.string(), message: z.string() });

/** The answer of `POST /api/scenarios/check`. */
export const ScenarioCheckSchema = z
  .object({
    valid: z.boolean().meta({ description: "True when `tollkit design` would accept the scenario." }),
    issues: z.array(IssueSchema).meta({ description: "Every problem found, each with its JSON path." }),
    links: z
      .array(z.number().int())
      .optional()
      .meta({ description: "The links the instrument tolls (1-based link ids), when the instrument resolves on the network." }),
    variables: z.number().int().optional().meta({ description: "Number of decision variables (tolls the leader chooses)." }),
  })
  .meta({ id: "ScenarioCheck" });

export type ScenarioCheck = z.infer<typeof ScenarioCheckSchema>;

/** The body of `PATCH /api/runs/:id`. */
const RunPatch = z.strictObject({
  name: z.string({ error: "a name (text), or null to clear it" }).max(200, { error: "a name of at most 200 characters" }).nullable(),
});

/** The message of an InputError without its `module: file, field "…": ` prefix (the path is reported apart). */
function shortMessage(e: Error & { field?: string }): string {
  const marker = e.field ? `field "${e.field}": ` : undefined;
  const i = marker ? e.message.indexOf(marker) : -1;
  return i >= 0 ? e.message.slice(i + marker!.length) : e.message.replace(/^[\w/-]+: (scenario: )?/, "");
}

/**
 * Checks a draft scenario: the schema's issues (all of them), then the checks across fields and
 * the instrument on the network (the first problem of each, as `tollkit design` reports it).
 */
export async function checkScenario(deps: Pick<RouteDeps, "networks">, body: unknown): Promise<ScenarioCheck> {
  const r = ScenarioSchema.safeParse(body);
  if (!r.success) {
    const issues = r.error.issues.map((i) => {
      const keys = i.code === "unrecognized_keys" ? (i as { keys?: string[] }).keys : undefined;
      return {
        path: jsonPath([...i.path, ...(keys?.length ? [keys[0]] : [])]),
        message: keys?.length ? `unknown field "${keys[0]}"` : i.message,
      };
    });
    return { valid: false, issues };
  }
  const issueOf = (e: unknown): { path: string; message: string } => {
    if (!isInputError(e)) throw e;
    const field = (e as { field?: string }).field;
    return { path: field && field !== "(top level)" ? field : "", message: shortMessage(e) };
  };
  const issues: { path: string; message: string }[] = [];
  try {
    parseScenario(body, "scenario");
  } catch (e) {
    issues.push(issueOf(e));
  }
  const network = r.data.network;
  if (typeof network !== "string") return { valid: issues.length === 0, issues };
  if (!deps.networks.has(network))
    return { valid: false, issues: [...issues, { path: "network", message: `no network "${network}" on this server` }] };
  // The instrument is resolved even when another field has a problem, so that the page can
  // show which links it tolls while the planner is still filling in the rest.
  const net = await deps.networks.load(network);
  try {
    const ins = resolveInstrument(net, r.data.instrument as Parameters<typeof resolveInstrument>[1], "scenario");
    return { valid: issues.length === 0, issues, links: Array.from(ins.links, (a) => a + 1), variables: ins.variables.length };
  } catch (e) {
    return { valid: false, issues: [...issues, issueOf(e)] };
  }
}

/** The studio's routes (see the module notes). */
export function studioRoutes(deps: RouteDeps): RouteSpec[] {
  return [
    {
      method: "post",
      path: "/api/scenarios/check",
      tag: "scenarios",
      summary: "Check a draft scenario without storing it",
      description:
        "Validates with the same schema and checks as `tollkit design` and `POST /api/scenarios`, and resolves the instrument on its network. Always 200 for a JSON object: `valid` says whether the scenario would be accepted, `issues` lists each problem with its JSON path.",
      query: NoQuery,
      body: z.record(z.string(), z.unknown()),
      docBody: ScenarioSchema,
      responses: {
        200: { description: "The check", schema: ScenarioCheckSchema },
        400: { description: "Not a JSON object", schema: ErrorSchema },
      },
      handler: ({ body }) => checkScenario(deps, body),
    },
    {
      method: "patch",
      path: "/api/runs/:id",
      tag: "runs",
      summary: "Name a run",
      write: true,
      params: IdParams,
      query: NoQuery,
      body: RunPatch,
      responses: {
        200: { description: "The run with its new name (without its summary)", schema: RunSchema },
        400: { description: "Not a name", schema: ErrorSchema },
        401: { description: "Missing or wrong bearer token", schema: ErrorSchema },
        404: { description: "Unknown run", schema: ErrorSchema },
      },
      handler: ({ params, body }) => {
        const id = params.id as number;
        const name = (body as z.infer<typeof RunPatch>).name?.trim() || null;
        if (!deps.store.setRunName(id, name)) throw new ApiError(404, `api: run ${id} does not exist`, { path: "id", in: "params" });
        return deps.store.getRun(id);
      },
    },
  ];
}
