/**
 * @tollkit/api — the HTTP API of tollkit: an Express 5 app over a SQLite store, with runs
 * executed off the request thread by a {@link RunQueue} (child processes, or BullMQ workers).
 * What other packages and tests use; the modules behind it (routes, checks, schemas) stay inside.
 */
export { API_VERSION, createApp } from "./app.js";
export type { AppOptions, TollkitApp } from "./app.js";
export { defaultDbPath, isLoopback, startServer } from "./server.js";
export type { RunningServer, ServeOptions } from "./server.js";
export { MIGRATIONS, openStore, packColumns, RUN_KINDS, RUN_STATUSES, Store, TERMINAL_STATUSES, unpackColumns } from "./store.js";
export type { LinkColumns, Migration, RunKind, RunOutput, RunRow, RunStatus, ScenarioRow, StoreOptions } from "./store.js";
export { emitQueueEvent, ProcessRunQueue } from "./queue.js";
export type { ProcessRunQueueOptions, QueuedRun, QueueEvent, RunQueue } from "./queue.js";
export { BullRunQueue } from "./bull-queue.js";
export type { BullRunQueueOptions } from "./bull-queue.js";
export { DEFAULT_WORK_LIMITS, LIMIT_OPTIONS } from "./checks.js";
export type { WorkLimits } from "./checks.js";
export { ApiError } from "./errors.js";
export { openApiDocument } from "./openapi.js";
export { RunService } from "./service.js";
export type { RunEvent, RunServiceOptions } from "./service.js";
