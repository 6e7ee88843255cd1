/**
 * The coordinator's side of the queue: `tollkit batch --queue` and `tollkit serve --redis`
 * submit runs through a {@link QueueClient} and get back, per run, the same shape as a local
 * child run ({@link QueuedRun}: an `outcome` that settles exactly once with a
 * {@link ChildOutcome}, and `cancel`). The coordinator stays the only writer of its results:
 * workers return a run's files and output; nothing else is written anywhere.
 *
 * How an outcome is learnt: from the queue's event stream (QueueEvents: active, progress,
 * completed, failed), and, because events can be missed while Redis restarts, from a
 * reconciliation every `reconcileMs` that asks Redis for the state of every outstanding job.
 * A job that Redis no longer knows (it restarted without persistence) is queued again. A job
 * whose id exists already (a coordinator restarted on the same batch) is adopted: a finished
 * one gives its result at once, a failed one is removed and queued again. A finished job is
 * removed from Redis once its outcome has been handed over, so nothing is recorded twice.
 */
import type { EventEmitter } from "node:events";
import { Job, Queue, QueueEvents, QueueEventsProducer } from "bullmq";
import type { ChildOutcome } from "../executor.js";
import type { RunProgress } from "../task.js";
import { connectionOptions, redactUrl } from "./connection.js";
import { checkJobLimits, decodeResult, DEFAULT_QUEUE, parseFailure, RunJobData, TOLLKIT_VERSION } from "./job.js";
import { CANCEL_EVENT } from "./worker.js";

/** Options of {@link QueueClient}. */
export interface QueueClientOptions {
  redis: string;
  queue?: string;
  /** Attempts of a run that crashes (default 3), with exponential backoff from `backoffMs` (default 1000). */
  attempts?: number;
  backoffMs?: number;
  /** How often the state of outstanding jobs is checked in Redis (a fallback for missed events), ms (default 5000). */
  reconcileMs?: number;
  /** Connection troubles (default stderr). */
  log?: (line: string) => void;
}

/** Callbacks of one queued run. */
export interface QueuedRunHooks {
  /** A worker started it (again, after a retry). */
  onStart?: () => void;
  onProgress?: (p: RunProgress) => void;
}

/** A run in the queue. */
export interface QueuedRun {
  readonly jobId: string;
  /** Settles once; never rejects. */
  readonly outcome: Promise<ChildOutcome>;
  /** Removes the run from the queue, or stops it on its worker. */
  cancel(): void;
  /** Cancels and settles `cancelled` now, without waiting for the worker (a coordinator giving up). */
  abandon(): void;
}

/** The queue seen from a coordinator, for health reports. */
export interface QueueSnapshot {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  /** Workers connected to the queue now. */
  workers: number;
  /** Names of the workers (host:pid). */
  workerNames: string[];
  connected: boolean;
}

interface Entry {
  jobId: string;
  data: RunJobData;
  hooks: QueuedRunHooks;
  resolve: (o: ChildOutcome) => void;
  started: boolean;
  cancelRequested: boolean;
  settled: boolean;
  lastProgress: RunProgress | null;
  /** Being added to Redis (reconciliation leaves it alone). */
  adding: boolean;
  cancelTimer?: NodeJS.Timeout;
}

/** The coordinator's client of a run queue. */
export class QueueClient {
  readonly queueName: string;
  private readonly queue: Queue<RunJobData, string, string>;
  private readonly events: QueueEvents;
  private readonly producer: QueueEventsProducer;
  private readonly entries = new Map<string, Entry>();
  private readonly log: (line: string) => void;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timer: NodeJS.Timeout;
  private lastError = "";
  private readonly cancelling = new Set<Promise<void>>();
  private closed = false;
  private reconciling = false;

  private constructor(
    readonly url: string,
    opts: QueueClientOptions,
  ) {
    this.queueName = opts.queue ?? DEFAULT_QUEUE;
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.attempts = opts.attempts ?? 3;
    this.backoffMs = opts.backoffMs ?? 1000;
    this.queue = new Queue<RunJobData, string, string>(this.queueName, { connection: connectionOptions(url) });
    this.events = new QueueEvents(this.queueName, { connection: connectionOptions(url) });
    this.producer = new QueueEventsProducer(this.queueName, { connection: connectionOptions(url) });
    for (const o of [this.queue, this.events, this.producer] as unknown as EventEmitter[]) o.on("error", (e: Error) => this.onError(e));
    this.events.on("active", ({ jobId }) => this.onActive(jobId));
    this.events.on("progress", ({ jobId, data }) => this.onProgress(jobId, data as unknown as RunProgress));
    this.events.on("completed", ({ jobId }) => void this.check(jobId));
    this.events.on("failed", ({ jobId }) => void this.check(jobId));
    this.events.on("removed", ({ jobId }) => void this.check(jobId));
    this.timer = setInterval(() => void this.reconcile(), opts.reconcileMs ?? 5000);
    this.timer.unref();
  }

  /**
   * Connects to the queue.
   * @returns once the event stream is being read (so no event of a job added later is missed)
   */
  static async open(opts: QueueClientOptions): Promise<QueueClient> {
    const c = new QueueClient(opts.redis, opts);
    await Promise.all([c.queue.waitUntilReady(), c.events.waitUntilReady(), c.producer.waitUntilReady()]);
    return c;
  }

  private onError(e: Error): void {
    if (this.closed) return;
    if (e.message !== this.lastError) this.log(`tollkit: redis ${redactUrl(this.url)}: ${e.message} (reconnecting)`);
    this.lastError = e.message;
  }

  /**
   * Queues a run under `jobId` (or adopts the job of that id, see the module comment).
   * @throws InputError (synchronously) when the job exceeds the limits of a queued run
   */
  submit(jobId: string, job: Omit<RunJobData, "tollkit">, hooks: QueuedRunHooks = {}): QueuedRun {
    const data: RunJobData = { ...job, tollkit: TOLLKIT_VERSION };
    if (this.closed) throw new Error("runs/queue: the queue client is closed");
    if (this.entries.has(jobId)) throw new Error(`runs/queue: job ${jobId} is already submitted`);
    checkJobLimits(data);
    let resolve!: (o: ChildOutcome) => void;
    const outcome = new Promise<ChildOutcome>((r) => (resolve = r));
    const e: Entry = {
      jobId,
      data,
      hooks,
      resolve,
      started: false,
      cancelRequested: false,
      settled: false,
      lastProgress: null,
      adding: true,
    };
    this.entries.set(jobId, e);
    void this.add(e, true);
    return {
      jobId,
      outcome,
      cancel: () => this.track(this.cancel(jobId)),
      abandon: () => {
        this.track(this.cancel(jobId));
        this.settle(e, { status: "cancelled" });
      },
    };
  }

  /** Adds an entry's job, adopting an existing job of the same id. */
  private async add(e: Entry, adopt: boolean): Promise<void> {
    e.adding = true;
    try {
      for (;;) {
        try {
          if (adopt) {
            const state = await this.queue.getJobState(e.jobId);
            if (state === "failed") await this.queue.remove(e.jobId);
            else if (state !== "unknown") return; // waiting, active, delayed or completed: check() takes it from here
          }
          if (e.settled || this.closed) return;
          await this.queue.add("run", e.data, {
            jobId: e.jobId,
            attempts: this.attempts,
            backoff: { type: "exponential", delay: this.backoffMs },
            // outcomes are taken by check(), which removes the job; these bound what a vanished coordinator leaves
            removeOnComplete: { age: 7 * 86400 },
            removeOnFail: { age: 7 * 86400 },
          });
          return;
        } catch (err) {
          if (this.closed) return;
          this.onError(err as Error);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } finally {
      e.adding = false;
      void this.check(e.jobId);
    }
  }

  private onActive(jobId: string): void {
    const e = this.entries.get(jobId);
    if (!e || e.settled) return;
    e.started = true;
    e.hooks.onStart?.();
  }

  private onProgress(jobId: string, p: RunProgress): void {
    const e = this.entries.get(jobId);
    if (!e || e.settled) return;
    if (!e.started) this.onActive(jobId);
    e.lastProgress = p;
    e.hooks.onProgress?.(p);
  }

  /** Learns a job's state from Redis and settles its entry when the job has ended. */
  private async check(jobId: string): Promise<void> {
    const e = this.entries.get(jobId);
    if (!e || e.settled || e.adding || this.closed) return;
    let state: string;
    let job: Job<RunJobData, string> | undefined;
    try {
      state = await this.queue.getJobState(jobId);
      if (state === "completed" || state === "failed") job = await Job.fromId<RunJobData, string>(this.queue, jobId);
    } catch (err) {
      this.onError(err as Error);
      return;
    }
    if (e.settled) return;
    if (state === "active" && !e.started) this.onActive(jobId);
    if (state === "unknown" || ((state === "completed" || state === "failed") && !job)) {
      if (e.cancelRequested) return this.settle(e, { status: "cancelled" });
      this.log(`tollkit: job ${jobId} is no longer in Redis (restarted without persistence?); queued again`);
      void this.add(e, false);
      return;
    }
    if (state === "completed") {
      let o: ChildOutcome;
      try {
        o = { status: "done", result: decodeResult(job!.returnvalue), progress: e.lastProgress };
      } catch (err) {
        o = { status: "failed", error: (err as Error).message, input: false };
      }
      return this.settle(e, o, job);
    }
    if (state === "failed") {
      const f = parseFailure(job!.failedReason ?? "failed without a reason");
      if (e.cancelRequested || f.kind === "cancelled") return this.settle(e, { status: "cancelled" }, job);
      const o: ChildOutcome =
        f.kind === "input" || f.kind === "failed"
          ? { status: "failed", error: f.error, input: f.kind === "input" }
          : { status: "crashed", error: f.error };
      return this.settle(e, o, job);
    }
  }

  private settle(e: Entry, o: ChildOutcome, job?: Job): void {
    if (e.settled) return;
    e.settled = true;
    clearInterval(e.cancelTimer);
    this.entries.delete(e.jobId);
    e.resolve(o);
    // the consumer's handlers of the outcome run first (they write the result), then the job goes
    setImmediate(() => void job?.remove().catch(() => {}));
  }

  /** Keeps a cancellation in flight until it has reached Redis (close() waits for it). */
  private track(p: Promise<void>): void {
    this.cancelling.add(p);
    void p.finally(() => this.cancelling.delete(p));
  }

  /** Cancels a run: removed when it waits, stopped on its worker when it runs. */
  async cancel(jobId: string): Promise<void> {
    const e = this.entries.get(jobId);
    if (!e || e.settled || e.cancelRequested) return;
    e.cancelRequested = true;
    const attempt = async () => {
      if (e.settled) return;
      try {
        const removed = await this.queue.remove(jobId); // 0 when locked by a worker
        if (removed === 1) return this.settle(e, { status: "cancelled" });
        await this.producer.publishEvent({ eventName: CANCEL_EVENT, jobId });
      } catch (err) {
        this.onError(err as Error);
      }
      void this.check(jobId);
    };
    await attempt();
    // a worker that took the job just after the event was published has not seen it: repeat until it ends
    if (!e.settled) e.cancelTimer = setInterval(() => void attempt(), 1000);
  }

  /** Checks every outstanding job (missed events, a restarted Redis). */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.closed) return;
    this.reconciling = true;
    try {
      for (const id of [...this.entries.keys()]) await this.check(id);
    } finally {
      this.reconciling = false;
    }
  }

  /** Runs submitted and not yet ended. */
  outstanding(): number {
    return this.entries.size;
  }

  /** The queue's counts and the workers connected to it. */
  async snapshot(): Promise<QueueSnapshot> {
    const [c, w] = await Promise.all([
      this.queue.getJobCounts("waiting", "active", "delayed", "failed", "completed", "prioritized"),
      this.queue.getWorkers(),
    ]);
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
      workers: w.length,
      workerNames: w.map((x) => String(x.name ?? "")),
      connected: true,
    };
  }

  /**
   * Closes the connections. Outstanding runs stay in the queue (a coordinator started again on
   * the same job ids adopts them) unless `cancelOutstanding`.
   */
  async close(opts: { cancelOutstanding?: boolean } = {}): Promise<void> {
    if (opts.cancelOutstanding) for (const id of this.entries.keys()) this.track(this.cancel(id));
    await Promise.race([Promise.all([...this.cancelling]), new Promise((r) => setTimeout(r, 5000))]);
    this.closed = true;
    clearInterval(this.timer);
    for (const e of this.entries.values()) clearInterval(e.cancelTimer);
    await Promise.allSettled([this.events.close(), this.producer.close(), this.queue.close()]);
  }
}
