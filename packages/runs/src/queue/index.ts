/**
 * @tollkit/runs/queue — runs on many machines through BullMQ on Redis: the worker of
 * `tollkit worker`, the coordinator's {@link QueueClient} (`tollkit batch --queue`,
 * `tollkit serve --redis`) and what travels in a job. A separate entry point, so that nothing
 * loads bullmq or ioredis unless a queue is asked for.
 */
export { assertReachable, checkRedisUrl, connectionOptions, redactUrl } from "./connection.js";
export type { InputCheck, RunJobData } from "./job.js";
export {
  checkInputs,
  checkJobLimits,
  decodeResult,
  DEFAULT_QUEUE,
  encodeResult,
  FAILURE_TAGS,
  JOB_LIMITS,
  parseFailure,
  sha256File,
  TOLLKIT_VERSION,
} from "./job.js";
export type { QueueClientOptions, QueuedRun, QueuedRunHooks, QueueSnapshot } from "./client.js";
export { QueueClient } from "./client.js";
export type { RunWorker, RunWorkerOptions } from "./worker.js";
export { CANCEL_EVENT, startRunWorker } from "./worker.js";
