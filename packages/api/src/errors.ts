/**
 * Errors of the HTTP API. Every error reaches the client as JSON
 * `{ "error": { "message": "...", "path"?: "settings.gap", "in"?: "body" } }` with a 4xx or 5xx
 * status; stack traces are never sent (a 5xx says only "internal error" and the server logs
 * the detail).
 */
import { InputError, isInputError, jsonPath, schemaInputError } from "@tollkit/graph-core";
import type { ZodError } from "zod";
import { storageFailure } from "./store.js";

/** Where in a request a value was found. */
export type RequestPart = "body" | "query" | "params" | "headers";

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    message: string;
    /** JSON path of the offending value inside `in`, e.g. `settings.tolls[2].link`. */
    path?: string;
    in?: RequestPart;
  };
}

/** An error with an HTTP status and a message that is safe to show to the client. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly where: { path?: string; in?: RequestPart } = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Formats a zod path (`["settings", "tolls", 2, "link"]`) as `settings.tolls[2].link`. */
export { jsonPath };

const PART_LABEL: Record<RequestPart, string> = {
  body: "request body",
  query: "query string",
  params: "URL",
  headers: "request headers",
};

/**
 * Turns a zod validation failure of one part of a request into a 400 naming the JSON path of
 * the first problem, what was given and what was expected (and counting the rest), with the
 * converter every package uses ({@link schemaInputError}).
 * @param part where the validated value came from
 * @param err zod's error
 * @param value the validated value (to quote what was given)
 */
export function validationError(part: RequestPart, err: ZodError, value: unknown): ApiError {
  const e = schemaInputError(err.issues, value, { module: "api", file: PART_LABEL[part] });
  return new ApiError(400, e.message, e.field ? { path: e.field, in: part } : { in: part });
}

/**
 * A problem with one value of the request body that its schema cannot see (a link the network
 * lacks, a limit of this server), said as every input error is said:
 * `api: request body, field "settings.tolls[1].link": link 1 is tolled twice (expected …)`.
 * @param path JSON path of the value in the body, e.g. `settings.maxSeconds`
 * @param message what is wrong with the value given
 * @param expected what was expected instead
 * @param status the HTTP status; default 400
 */
export function bodyError(path: string, message: string, expected?: string, status = 400): ApiError {
  const e = new InputError("api", message, { file: PART_LABEL.body, field: path }, expected);
  return new ApiError(status, e.message, { path, in: "body" });
}

/** Maps any thrown value to a status and a client-safe body. Unknown errors become a bare 500. */
export function toErrorResponse(e: unknown): { status: number; body: ErrorBody; headers: Record<string, string>; internal: boolean } {
  if (e instanceof ApiError) {
    const body: ErrorBody = { error: { message: e.message } };
    if (e.where.path !== undefined) body.error.path = e.where.path;
    if (e.where.in !== undefined) body.error.in = e.where.in;
    return { status: e.status, body, headers: e.headers, internal: false };
  }
  if (isInputError(e)) {
    const ie = e as Error & { field?: string };
    const body: ErrorBody = { error: { message: ie.message } };
    if (ie.field) body.error.path = ie.field;
    return { status: 400, body, headers: {}, internal: false };
  }
  // the database's storage failed (a full disk, an I/O error): the request was not stored
  const sf = storageFailure(e);
  if (sf)
    return {
      status: sf.status,
      body: {
        error: {
          message: `api: the server cannot write to its database (${sf.code}: ${sf.message}); nothing of this request was stored. ${sf.status === 507 ? "Free disk space for the database" : "Check the database's storage"}, then try again (GET /api/health says when it takes writes again)`,
        },
      },
      headers: { "Retry-After": "30" },
      internal: false,
    };
  // body-parser errors carry `type` and `status` (malformed JSON, too large, bad charset …).
  const be = e as { type?: string; status?: number; expose?: boolean; message?: string; limit?: number };
  if (be && typeof be.status === "number" && be.status >= 400 && be.status < 500 && be.expose !== false) {
    let message: string;
    switch (be.type) {
      case "entity.parse.failed":
        message = `api: request body: not valid JSON (${be.message ?? "parse error"})`;
        break;
      case "entity.too.large":
        message = `api: request body is too large (limit ${be.limit ?? "?"} bytes)`;
        break;
      case "encoding.unsupported":
      case "charset.unsupported":
        message = "api: request body: unsupported encoding (expected UTF-8 JSON)";
        break;
      default:
        message = `api: bad request: ${be.message ?? "invalid"}`;
    }
    return { status: be.status, body: { error: { message, in: "body" } }, headers: {}, internal: false };
  }
  return { status: 500, body: { error: { message: "api: internal error (see the server log)" } }, headers: {}, internal: true };
}
