/**
 * The API's OD routes (docs/incidence.md), part of the route table of ./routes.ts:
 * - `GET /api/runs/:id/skims`: a done run's skims, paged JSON rows or the whole `skims.csv`
 *   streamed in pieces;
 * - `GET /api/runs/:id/select-link?links=…`: the demand using some links, from the bushes the
 *   run kept (bush runs whose bushes fit in 64 MB), by zone, OD pair or link, paged or as CSV;
 * - `GET /api/compare/incidence?a=&b=`: who pays and who gains from run a to run b, totals,
 *   winners and losers, and the rows of a grouping paged or as CSV.
 * Large answers (Berlin-Center: 748,000 OD pairs) are never one JSON string: JSON is paged
 * (`limit` ≤ 10000) and CSV is written piece by piece, waiting for the socket to drain.
 */
import type { Response } from "express";
import * as z from "zod";
import {
  incidence,
  INCIDENCE_BY,
  IncidenceBy,
  incidenceCsvChunks,
  incidenceRows,
  KeptBushes,
  SelectLinkTable,
  selectLinkCsvChunks,
  selectLinkFlowsCsv,
  selectLinkFromBushes,
  selectLinkRows,
  selectLinkSummary,
  selectLinkZones,
  skimCsvChunks,
  skimRow,
  skimRowCount,
  SkimTable,
} from "@tollkit/runs";
import { formatCsv } from "@tollkit/graph-core";
import { ApiError } from "./errors.js";
import { doneOr409, runOr404 } from "./checks.js";
import type { RouteDeps, RouteSpec } from "./routes.js";
import { ErrorSchema, IdParams, IdString } from "./schemas.js";

const PageLimit = z
  .string()
  .regex(/^[0-9]{1,6}$/, { error: "expected an integer" })
  .transform(Number)
  .pipe(z.number().min(1).max(10000))
  .default(1000)
  .meta({ description: "Rows per page (JSON), at most 10000." });
const PageOffset = z
  .string()
  .regex(/^[0-9]{1,9}$/, { error: "expected an integer ≥ 0" })
  .transform(Number)
  .default(0);
const Format = z.enum(["json", "csv"]).default("json").meta({ description: "json: one page of rows; csv: every row, streamed" });

export const SkimsQuery = z.strictObject({ format: Format, limit: PageLimit, offset: PageOffset });
export const SelectLinkQuery = z.strictObject({
  links: z
    .string()
    .regex(/^\s*[0-9]+(\s*,\s*[0-9]+)*\s*$/, { error: "expected 1-based link ids separated by commas, e.g. 39,74" })
    .optional()
    .meta({ description: "The selected links: 1-based ids, comma-separated; default the run's tolled links." }),
  by: z.enum(["zone", "od", "link"]).default("zone").meta({
    description: "Rows per zone (trips from and to it, its exact flow on the links), per OD pair, or per link (the flow of those trips).",
  }),
  format: Format,
  limit: PageLimit,
  offset: PageOffset,
});
export const IncidenceQuery = z.strictObject({
  a: IdString,
  b: IdString,
  by: z.enum(INCIDENCE_BY).default("origin"),
  threshold: z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/, { error: "expected a number ≥ 0" })
    .transform(Number)
    .optional()
    .meta({ description: "Cost per trip (time units) beyond which a group loses or gains; default 0.1% of run a's average." }),
  format: Format,
  limit: PageLimit,
  offset: PageOffset,
});

const Page = (row: z.ZodType) => z.object({ total: z.int(), offset: z.int(), limit: z.int(), rows: z.array(row) }).loose();

const SkimRowSchema = z
  .object({
    origin: z.number(),
    destination: z.number(),
    class: z.string(),
    demand: z.number(),
    time: z.number().nullable(),
    toll: z.number().nullable(),
    distance: z.number().nullable(),
    cost: z.number().nullable(),
    tollCost: z.number().nullable(),
    distanceCost: z.number().nullable(),
  })
  .meta({ id: "SkimRow" });

/** A number the answer may leave null (a group without trips). */
const numberOrNull = z.number().nullable();

const SelectLinkClassSchema = z
  .strictObject({ name: z.string(), selectedFlow: z.number(), trips: z.number() })
  .meta({ id: "SelectLinkClass", description: "Per class: the selected links' assigned flow and the trips that use them" });
/** The head of every select-link answer: the run, its network, the links and the per-class totals. */
const selectLinkAnswer = (by: "zone" | "od" | "link", row: z.ZodType) =>
  z.strictObject({
    run: z.int(),
    network: z.string(),
    links: z.array(z.int()),
    classes: z.array(SelectLinkClassSchema),
    by: z.literal(by),
    total: z.int(),
    offset: z.int(),
    limit: z.int(),
    rows: z.array(row),
  });
const SelectLinkSchema = z
  .union([
    selectLinkAnswer(
      "zone",
      z
        .strictObject({ zone: z.int(), class: z.string(), originTrips: z.number(), destinationTrips: z.number(), originFlow: z.number() })
        .meta({ id: "SelectLinkZoneRow" }),
    ),
    selectLinkAnswer(
      "od",
      z
        .strictObject({
          origin: z.int(),
          destination: z.int(),
          class: z.string(),
          trips: z.number(),
          demand: z.number(),
          share: z.number(),
        })
        .meta({ id: "SelectLinkOdRow" }),
    ),
    selectLinkAnswer(
      "link",
      z.strictObject({ link: z.int(), flow: z.number(), selectLinkFlow: z.number() }).meta({ id: "SelectLinkLinkRow" }),
    ),
  ])
  .meta({ id: "SelectLink", description: "The rows are by zone, OD pair or link as `by` says" });

type SelectLinkAnswer = z.infer<typeof SelectLinkSchema>;

/** One group (zone or OD pair, per class) of an incidence: b − a, costs in time units per trip, tolls in money. */
const IncidenceRowSchema = z
  .strictObject({
    origin: z.int().optional(),
    destination: z.int().optional(),
    class: z.string(),
    tripsA: z.number(),
    trips: z.number(),
    costPerTripA: numberOrNull,
    costPerTripB: numberOrNull,
    costChangePerTrip: numberOrNull.meta({ description: "Change of generalised cost per trip (time units); > 0: the group's users lose" }),
    timeChangePerTrip: numberOrNull,
    tollCostChangePerTrip: numberOrNull,
    distanceCostChangePerTrip: numberOrNull,
    tollPerTrip: numberOrNull.meta({ description: "Toll paid per trip in b (money)" }),
    tollChangePerTrip: numberOrNull,
    costChange: z.number().meta({ description: "Users' change of total generalised cost (time units)" }),
    tollPaid: z.number().meta({ description: "Tolls paid in b (money): the group's share of the revenue" }),
    tollPaidChange: z.number(),
  })
  .meta({ id: "IncidenceRow" });
const incidenceTotals = {
  tripsA: z.number(),
  trips: z.number(),
  userCostChange: z.number().meta({ description: "Users' change of generalised cost (time units, tolls included)" }),
  timeChange: z.number(),
  distanceCostChange: z.number(),
  tollCostChange: z.number().meta({ description: "The change of revenue in time units (toll factor × toll)" }),
  resourceCostChange: z.number().meta({ description: "Time and distance cost change (tolls are a transfer)" }),
  revenueA: z.number(),
  revenueB: z.number(),
  revenueChange: z.number(),
};
const IncidenceTotalsSchema = z
  .strictObject({
    ...incidenceTotals,
    totalCostA: numberOrNull,
    totalCostB: numberOrNull,
    totalCostChange: numberOrNull,
    residuals: z
      .strictObject({ resourcePlusRevenue: z.number(), totalCost: numberOrNull, revenueA: numberOrNull, revenueB: numberOrNull })
      .meta({ description: "Relative residuals of the identities the totals satisfy" }),
  })
  .meta({ id: "IncidenceTotals" });
const IncidenceSchema = z
  .strictObject({
    a: z.int(),
    b: z.int(),
    network: z.string(),
    by: z.enum(INCIDENCE_BY),
    rules: z.strictObject({ a: z.string(), b: z.string() }).meta({ description: "The skim rule of each run" }),
    totals: IncidenceTotalsSchema,
    classes: z.array(z.strictObject({ ...incidenceTotals, name: z.string() })),
    threshold: z.number(),
    losers: z.array(IncidenceRowSchema).meta({ description: "Groups whose users lose more than threshold per trip, largest loss first" }),
    winners: z.array(IncidenceRowSchema).meta({ description: "Groups whose users gain more than threshold per trip, largest gain first" }),
    rowCount: z.int(),
    warnings: z.array(z.string()),
    total: z.int(),
    offset: z.int(),
    limit: z.int(),
    rows: z.array(IncidenceRowSchema),
  })
  .meta({ id: "Incidence" });

const err = (description: string) => ({ description, schema: ErrorSchema });

/** Writes text pieces to a response, waiting for the socket to drain between them. */
async function stream(res: Response, type: string, name: string, chunks: Iterable<string>): Promise<void> {
  res.type(type).attachment(name);
  for (const c of chunks) {
    if (res.destroyed) return;
    if (!res.write(c)) await new Promise<void>((r) => res.once("drain", () => r()).once("close", () => r()));
  }
  res.end();
}

/** Up to `limit` items of an iterable after skipping `offset`, and how many there are in all. */
function page<T>(items: Iterable<T>, offset: number, limit: number): { total: number; rows: T[] } {
  const rows: T[] = [];
  let total = 0;
  for (const it of items) {
    if (total >= offset && rows.length < limit) rows.push(it);
    total++;
  }
  return { total, rows };
}

/**
 * A small cache of the last few values by key (results of done runs never change, but a run can
 * be deleted: `forgetRun(id)` drops the keys of one run, `"<id>"` and `"<id>:…"`).
 */
function lru<V>(size: number) {
  const m = new Map<string, V>();
  const get = (key: string, make: () => V): V => {
    let v = m.get(key);
    if (v === undefined) {
      v = make();
      m.set(key, v);
      while (m.size > size) m.delete(m.keys().next().value!);
    } else {
      m.delete(key);
      m.set(key, v);
    }
    return v;
  };
  const forgetRun = (id: number): void => {
    for (const key of [...m.keys()]) if (key === String(id) || key.startsWith(`${id}:`)) m.delete(key);
  };
  return Object.assign(get, { forgetRun });
}

/** The OD routes. */
export function odRoutes(deps: RouteDeps): RouteSpec[] {
  const { store, service, networks } = deps;
  const skimsCache = lru<SkimTable>(4);
  const bushCache = lru<KeptBushes>(2);
  const selectCache = lru<SelectLinkTable>(4);
  service.onDeleted((id) => [skimsCache, bushCache, selectCache].forEach((c) => c.forgetRun(id)));
  const skimsOf = (id: number, where: { path: string; in: "params" | "query" }) =>
    skimsCache(String(id), () => {
      const s = store.getSkims(id);
      if (!s)
        throw new ApiError(409, `api: run ${id} has no skims (runs finished before tollkit kept skims have none; run it again)`, where);
      return s;
    });
  return [
    {
      method: "get",
      path: "/api/runs/:id/skims",
      tag: "runs",
      summary:
        "Skims of a done run: per OD pair and class, travel time, toll paid, distance and generalised cost (flow-weighted over the used routes)",
      description:
        "Columns as skims.csv: origin, destination (zone ids), class, demand, time, toll (money), distance, cost (generalised, time units), tollCost, distanceCost (time + tollCost + distanceCost = cost). Rows in class, origin, destination order. format=json answers one page (limit, offset); format=csv streams every row.",
      params: IdParams,
      query: SkimsQuery,
      responses: {
        200: {
          description: "A page of skims",
          schema: Page(SkimRowSchema).extend({ run: z.int(), network: z.string(), rule: z.string() }),
          alternatives: ["text/csv"],
        },
        404: err("Unknown run"),
        409: err("The run is not done, or has no skims"),
      },
      handler: async ({ params, query, res }) => {
        const run = runOr404(service, params.id as number);
        doneOr409(run, store);
        const q = query as z.infer<typeof SkimsQuery>;
        const t = skimsOf(run.id, { path: "id", in: "params" });
        if (q.format === "csv") return stream(res, "text/csv", `run-${run.id}-skims.csv`, skimCsvChunks(t));
        const total = skimRowCount(t);
        const rows = [];
        for (let r = q.offset; r < Math.min(total, q.offset + q.limit); r++) rows.push(skimRow(t, r));
        return { run: run.id, network: t.network, rule: t.rule, total, offset: q.offset, limit: q.limit, rows };
      },
    },
    {
      method: "get",
      path: "/api/runs/:id/select-link",
      tag: "runs",
      summary: "Select-link analysis of a done bush run: the trips that use the given links, by zone, OD pair or link, per class",
      description:
        "From the bushes the run kept (bush runs whose bushes take at most 64 MB). Per zone: trips from it and to it that use a selected link, and its exact flow on them (originFlow); per OD pair: the trips that use them (rule: route flows proportional to in-link flows inside each bush; docs/incidence.md); per link: the flow of those trips (PCE). format=csv streams every row (od: select-link.csv, link: select-link-flows.csv).",
      params: IdParams,
      query: SelectLinkQuery,
      responses: {
        200: {
          description: "Totals per class and a page of rows",
          schema: SelectLinkSchema,
          alternatives: ["text/csv"],
        },
        400: err("Bad links"),
        404: err("Unknown run"),
        409: err("The run is not done, or kept no bushes (not a bush run, or too large)"),
      },
      handler: async ({ params, query, res }) => {
        const run = runOr404(service, params.id as number);
        doneOr409(run, store);
        const q = query as z.infer<typeof SelectLinkQuery>;
        let links: number[];
        if (q.links !== undefined) links = [...new Set(q.links.split(",").map((s) => Number(s.trim())))];
        else {
          const toll = store.getLinks(run.id)!.columns.toll;
          links = [];
          for (let a = 0; a < toll.length; a++) if (toll[a] !== 0) links.push(a + 1);
          if (links.length === 0)
            throw new ApiError(
              400,
              `api: query, field "links": run ${run.id} has no tolled links to select (expected link ids, e.g. links=39,74)`,
              { path: "links", in: "query" },
            );
        }
        const net = await networks.load(run.network);
        for (const l of links)
          if (!(l >= 1 && l <= net.linkCount))
            throw new ApiError(400, `api: query, field "links": link ${l} is not in ${net.name} (expected 1..${net.linkCount})`, {
              path: "links",
              in: "query",
            });
        const t = selectCache(`${run.id}:${links.join(",")}`, () => {
          const kept = bushCache(String(run.id), () => {
            const b = store.getBushes(run.id);
            if (!b)
              throw new ApiError(
                409,
                `api: run ${run.id} kept no bushes: select-link needs a run with algorithm "bush" whose bushes fit in 64 MB (or use tollkit assign … --select-link)`,
                { path: "id", in: "params" },
              );
            return b;
          });
          return selectLinkFromBushes(net, kept, links);
        });
        const head = { run: run.id, ...selectLinkSummary(t), by: q.by };
        if (q.format === "csv") {
          if (q.by === "od") return stream(res, "text/csv", `run-${run.id}-select-link.csv`, selectLinkCsvChunks(t));
          if (q.by === "link")
            return stream(res, "text/csv", `run-${run.id}-select-link-flows.csv`, [selectLinkFlowsCsv(store.getLinks(run.id)!, t)]);
          const z = selectLinkZones(t);
          return stream(res, "text/csv", `run-${run.id}-select-link-zones.csv`, [
            formatCsv(
              ["zone", "class", "originTrips", "destinationTrips", "originFlow"],
              z.map((r) => [r.zone, r.class, r.originTrips, r.destinationTrips, r.originFlow]),
            ),
          ]);
        }
        if (q.by === "link") {
          const flow = store.getLinks(run.id)!.columns.flow;
          const all = Array.from(t.linkFlowsPce, (v, a) => ({ link: a + 1, flow: flow[a], selectLinkFlow: v }));
          return { ...head, ...page(all, q.offset, q.limit), offset: q.offset, limit: q.limit } satisfies SelectLinkAnswer;
        }
        if (q.by === "od")
          return { ...head, ...page(selectLinkRows(t), q.offset, q.limit), offset: q.offset, limit: q.limit } satisfies SelectLinkAnswer;
        return { ...head, ...page(selectLinkZones(t), q.offset, q.limit), offset: q.offset, limit: q.limit } satisfies SelectLinkAnswer;
      },
    },
    {
      method: "get",
      path: "/api/compare/incidence",
      tag: "runs",
      summary:
        "Who pays and who gains from run a to run b: change of generalised cost per trip, tolls paid and trips by origin, destination or OD pair, per class",
      description:
        "b − a. Totals reconcile: users' change of time and distance cost + revenue (time units) = their change of generalised cost = the change of the runs' totalCost (up to their gaps); revenue by zone = the run's revenue. Winners and losers: the groups whose cost per trip falls or rises by more than `threshold`. format=json answers the totals and one page of rows; csv streams every row.",
      query: IncidenceQuery,
      responses: {
        200: {
          description: "The incidence with a page of rows",
          schema: IncidenceSchema,
          alternatives: ["text/csv"],
        },
        404: err("Unknown run"),
        409: err("A run is not done or has no skims, or the runs differ in zones or classes"),
      },
      handler: async ({ query, res }) => {
        const q = query as z.infer<typeof IncidenceQuery>;
        const ra = runOr404(service, q.a, { path: "a", in: "query" });
        const rb = runOr404(service, q.b, { path: "b", in: "query" });
        doneOr409(ra, store, { path: "a", in: "query" });
        doneOr409(rb, store, { path: "b", in: "query" });
        const sa = skimsOf(ra.id, { path: "a", in: "query" });
        const sb = skimsOf(rb.id, { path: "b", in: "query" });
        if (sa.zoneIds.length !== sb.zoneIds.length || sa.classes.length !== sb.classes.length || ra.network !== rb.network)
          throw new ApiError(
            409,
            `api: runs ${ra.id} (${ra.network}) and ${rb.id} (${rb.network}) differ in network or classes; compare runs of one network and classes`,
            { path: "b", in: "query" },
          );
        const by = q.by as IncidenceBy;
        if (q.format === "csv") return stream(res, "text/csv", `incidence-${ra.id}-${rb.id}-${by}.csv`, incidenceCsvChunks(sa, sb, by));
        const inc = incidence(
          { skims: sa, summary: store.getSummary(ra.id), label: `run ${ra.id}` },
          { skims: sb, summary: store.getSummary(rb.id), label: `run ${rb.id}` },
          by,
          q.threshold,
        );
        return {
          a: ra.id,
          b: rb.id,
          ...inc,
          ...page(incidenceRows(sa, sb, by), q.offset, q.limit),
          offset: q.offset,
          limit: q.limit,
        } satisfies z.infer<typeof IncidenceSchema>;
      },
    },
  ];
}
