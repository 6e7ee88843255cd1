/**
 * @tollkit/api — the HTTP API of tollkit: an Express 5 app over a SQLite store, with runs
 * executed off the request thread by a {@link RunQueue}.
 */
export * from "./errors.js";
export * from "./checks.js";
export * from "./requests.js";
export * from "./store.js";
export * from "./schemas.js";
export * from "./queue.js";
export * from "./bull-queue.js";
export * from "./service.js";
export * from "./networks.js";
export * from "./results.js";
export * from "./routes.js";
export * from "./openapi.js";
export * from "./studio.js";
export * from "./app.js";
export * from "./server.js";
