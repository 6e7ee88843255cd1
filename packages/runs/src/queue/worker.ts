/**
 * The queue worker behind `tollkit worker`: a BullMQ Worker whose processor runs each job's
 * {@link RunTask} in its own child process through {@link startChildRun} — the executor the
 * API and `tollkit batch` use on one machine — so a run that crashes or exhausts memory never
 * takes the worker down, and the worker's event loop stays free to renew its job locks.
 *
 * Faults, all BullMQ's own mechanisms: a worker killed mid-run stops renewing its lock; after
 * `lockMs` another worker's stalled-job check puts the job back in the queue (at most
 * `maxStalledCount` times). A run that crashed is retried with exponential backoff up to the
 * job's `attempts`. A run that failed for its input (InputError), failed in the solver, timed
 * out or was cancelled throws an UnrecoverableError: never retried, reported once.
 *
 * Cancellation: the coordinator publishes a `tollkit:cancel` event on the queue's event stream
 * (BullMQ's QueueEventsProducer); every worker listens and aborts the job if it runs it
 * (`worker.cancelJob`), which cancels the child run.
 */
import { hostname } from "node:os";
import { isInputError } from "@tollkit/graph-core";
import { Job, QueueEvents, UnrecoverableError, Worker } from "bullmq";
import { startChildRun } from "../executor.js";
import type { RunProgress } from "../task.js";
import { connectionOptions, redactUrl } from "./connection.js";
import { checkInputs, DEFAULT_QUEUE, encodeResult, FAILURE_TAGS, RunJobData, TOLLKIT_VERSION } from "./job.js";

/** The custom event a coordinator publishes to cancel a job. */
export const CANCEL_EVENT = "tollkit:cancel";

/** Options of {@link startRunWorker}. */
export interface RunWorkerOptions {
  /** redis:// URL. */
  redis: string;
  /** Queue name (default {@link DEFAULT_QUEUE}). */
  queue?: string;
  /** Runs at once, each in its own process (default 1). */
  concurrency?: number;
  /** Lock duration and stalled-check interval, ms (default 30000): how soon a killed worker's run is retried elsewhere. */
  lockMs?: number;
  /** How often a job may stall (its worker died) before it fails (default 2). */
  maxStalledCount?: number;
  /** One line per run, and connection troubles (default stderr). */
  log?: (line: string) => void;
  /** The child script (default: the executor's child.js). */
  childPath?: string;
}

/** A running worker. */
export interface RunWorker {
  readonly name: string;
  /** Stops taking jobs; waits for running runs (or, with `force`, stops them: they are retried elsewhere). */
  close(force?: boolean): Promise<void>;
}

/**
 * Starts a worker on a queue.
 * @returns once the worker is connected and taking jobs
 */
export async function startRunWorker(opts: RunWorkerOptions): Promise<RunWorker> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const lockMs = opts.lockMs ?? 30000;
  const name = `${hostname()}:${process.pid}`;
  const processor = async (job: Job<RunJobData, string>, _token?: string, signal?: AbortSignal): Promise<string> => {
    const d = job.data;
    const t0 = performance.now();
    const attempt = `attempt ${job.attemptsStarted}/${job.opts.attempts ?? 1}`;
    const line = (what: string) =>
      log(
        `tollkit worker: ${d.label} (job ${job.id}, ${d.task.kind}) ${what} in ${((performance.now() - t0) / 1000).toFixed(2)} s, ${attempt}`,
      );
    if (d.tollkit !== TOLLKIT_VERSION) {
      line(`refused: tollkit ${d.tollkit} queued it, this worker is ${TOLLKIT_VERSION}`);
      throw new UnrecoverableError(
        `${FAILURE_TAGS.failed}runs/queue: queued by tollkit ${d.tollkit}, run by a worker of tollkit ${TOLLKIT_VERSION} (${name})`,
      );
    }
    try {
      checkInputs(d.inputs, hostname());
    } catch (e) {
      line(`failed for its input: ${(e as Error).message}`);
      throw new UnrecoverableError(`${isInputError(e) ? FAILURE_TAGS.input : FAILURE_TAGS.failed}${(e as Error).message}`);
    }
    const run = startChildRun(d.task, {
      stderr: "capture",
      timeoutMs: d.timeoutMs,
      childPath: opts.childPath,
      onProgress: (p: RunProgress) => void job.updateProgress(p as unknown as object).catch(() => {}),
    });
    const onAbort = () => run.cancel();
    if (signal?.aborted) run.cancel();
    else signal?.addEventListener("abort", onAbort, { once: true });
    const o = await run.outcome;
    signal?.removeEventListener("abort", onAbort);
    switch (o.status) {
      case "done":
        line("done");
        return encodeResult(o.result);
      case "cancelled":
        line("cancelled");
        throw new UnrecoverableError(`${FAILURE_TAGS.cancelled}cancelled by request`);
      case "failed":
        line(`failed${o.input ? " for its input" : ""}: ${o.error}`);
        throw new UnrecoverableError(`${o.input ? FAILURE_TAGS.input : FAILURE_TAGS.failed}${o.error}`);
      case "crashed":
        if (signal?.aborted) {
          line("cancelled (stopped)");
          throw new UnrecoverableError(`${FAILURE_TAGS.cancelled}cancelled by request`);
        }
        if (/^timed out/.test(o.error)) {
          line(o.error);
          throw new UnrecoverableError(`${FAILURE_TAGS.timeout}${o.error}`);
        }
        line(`crashed: ${o.error}`);
        throw new Error(o.error);
    }
  };
  const worker = new Worker<RunJobData, string>(queueName, processor, {
    connection: connectionOptions(opts.redis),
    concurrency: opts.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: opts.maxStalledCount ?? 2,
    name,
    autorun: false,
  });
  // Every BullMQ object reports connection trouble as 'error'; log it once per kind of message.
  let lastError = "";
  const onError = (e: Error) => {
    if (e.message !== lastError) log(`tollkit worker: redis: ${e.message} (reconnecting)`);
    lastError = e.message;
  };
  worker.on("error", onError);
  worker.on("ready", () => {
    if (lastError) log(`tollkit worker: connected to ${redactUrl(opts.redis)} again`);
    lastError = "";
  });
  const events = new QueueEvents(queueName, { connection: connectionOptions(opts.redis) });
  events.on("error", onError);
  // a custom event: QueueEvents emits it under its name, with the published fields
  (events as unknown as NodeJS.EventEmitter).on(CANCEL_EVENT, (args: { jobId?: string }) => {
    if (args.jobId && worker.cancelJob(args.jobId, "cancelled by request")) log(`tollkit worker: cancelling job ${args.jobId}`);
  });
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  void worker.run().catch((e: Error) => log(`tollkit worker: stopped: ${e.message}`));
  log(`tollkit worker: ${name} taking runs from queue "${queueName}" at ${redactUrl(opts.redis)}, concurrency ${opts.concurrency ?? 1}`);
  return {
    name,
    async close(force = false) {
      await worker.close(force);
      await events.close();
    },
  };
}
