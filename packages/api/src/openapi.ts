/**
 * The OpenAPI 3.1 document of the API, generated from the route table and its zod schemas
 * with `z.toJSONSchema` (JSON Schema 2020-12, which OpenAPI 3.1 uses as is). Schemas named with
 * `.meta({id})` become `components.schemas` entries; request and response variants of one
 * schema that differ (defaults make a field optional on input) get an `Output` suffix.
 */
import * as z from "zod";
import type { RouteSpec } from "./routes.js";
import { ErrorSchema } from "./schemas.js";

type Json = Record<string, unknown>;

/** Rewrites `#/$defs/X` references to `#/components/schemas/<rename(X)>` in place. */
function rewriteRefs(node: unknown, rename: (id: string) => string): void {
  if (Array.isArray(node)) {
    for (const v of node) rewriteRefs(v, rename);
    return;
  }
  if (node && typeof node === "object") {
    const o = node as Json;
    if (typeof o.$ref === "string" && o.$ref.startsWith("#/$defs/")) o.$ref = `#/components/schemas/${rename(o.$ref.slice(8))}`;
    for (const v of Object.values(o)) rewriteRefs(v, rename);
  }
}

class Components {
  readonly schemas: Record<string, Json> = {};

  /** JSON Schema of `schema` for requests (`input`) or responses (`output`), its named parts hoisted. */
  add(schema: z.ZodType, io: "input" | "output"): Json {
    const js = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
    delete js.$schema;
    const defs = (js.$defs ?? {}) as Record<string, Json>;
    delete js.$defs;
    const names = new Map<string, string>();
    const rename = (id: string) => names.get(id) ?? id;
    for (const [id, def] of Object.entries(defs)) {
      let name = id;
      const existing = this.schemas[name];
      if (existing && JSON.stringify(existing) !== JSON.stringify(def)) name = `${id}${io === "output" ? "Output" : "Input"}`;
      names.set(id, name);
    }
    for (const [id, def] of Object.entries(defs)) {
      rewriteRefs(def, rename);
      this.schemas[rename(id)] = def;
    }
    rewriteRefs(js, rename);
    return js;
  }
}

/** Each property of an object schema as an OpenAPI parameter. */
function parameters(schema: z.ZodType | undefined, where: "path" | "query", c: Components): Json[] {
  if (!schema) return [];
  const js = c.add(schema, "input");
  const props = (js.properties ?? {}) as Record<string, Json>;
  const required = new Set((js.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === "path" || required.has(name), schema: rest, ...(description ? { description } : {}) };
  });
}

/** Builds the OpenAPI 3.1 document of a route table. */
export function openApiDocument(routes: RouteSpec[], info: { version: string; authRequired: boolean }): Json {
  const c = new Components();
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, "{$1}");
    const op: Json = {
      operationId: `${r.method}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
      tags: [r.tag],
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
    };
    const params = [...parameters(r.params, "path", c), ...parameters(r.query, "query", c)];
    if (params.length) op.parameters = params;
    if (r.body) op.requestBody = { required: true, content: { "application/json": { schema: c.add(r.docBody ?? r.body, "input") } } };
    op.security = r.write ? [{ bearer: [] }] : []; // public reads say so
    const responses: Record<string, Json> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      const content: Json = {};
      content[spec.contentType ?? "application/json"] = spec.schema ? { schema: c.add(spec.schema, "output") } : {};
      for (const alt of spec.alternatives ?? []) content[alt] = {};
      // 204 No Content has no body to describe
      responses[status] = status === "204" ? { description: spec.description } : { description: spec.description, content };
    }
    const needsBodyErrors = r.body !== undefined;
    const common: Record<string, string> = {
      "400": "Invalid parameters or body (the message names the JSON path)",
      ...(needsBodyErrors ? { "413": "Request body too large", "415": "The body is not JSON" } : {}),
      "500": "Internal error (no details are sent)",
    };
    for (const [status, description] of Object.entries(common)) {
      if (!responses[status])
        responses[status] = { description, content: { "application/json": { schema: c.add(ErrorSchema, "output") } } };
    }
    op.responses = responses;
    (paths[path] ??= {})[r.method] = op;
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "tollkit HTTP API",
      version: info.version,
      license: { name: "MIT", identifier: "MIT" },
      description:
        "Runs, results and map layers of tollkit (Stackelberg toll design: the leader sets tolls, travellers answer with a Wardrop equilibrium). " +
        "Errors are JSON {error: {message, path?, in?}}. " +
        (info.authRequired
          ? "Write operations need `Authorization: Bearer <token>`."
          : "This server has no token configured: write operations are open."),
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "service", description: "Health and this document" },
      { name: "networks", description: "Catalogue and built-in networks" },
      { name: "scenarios", description: "Toll-design scenarios" },
      { name: "runs", description: "Assignments and designs, their progress and results" },
    ],
    paths,
    components: { schemas: c.schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
  };
}
