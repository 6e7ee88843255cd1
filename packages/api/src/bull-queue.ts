/**
 * The API's {@link RunQueue} on BullMQ (`tollkit serve --redis URL`): runs are executed by
 * `tollkit worker` processes on any number of machines; the server stays the only writer of
 * its SQLite database (workers return a run's output, the server records it). Progress for
 * the SSE stream comes from the queue's event stream; `POST /api/runs/:id/cancel` removes a waiting
 * job or stops it on the worker running it.
 *
 * Job ids are `api-<hash of host and database path>-<run id>`, so a server restarted on the same
 * database adopts its runs still in the queue (and a run that finished while it was down gives
 * its result) instead of running them twice; it is {@link durable}.
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { ChildOutcome } from "@tollkit/runs";
import type { QueueClient, QueuedRun as QueuedJob, QueueSnapshot } from "@tollkit/runs/queue"; // loaded by open()
import { emitQueueEvent } from "./queue.js";
import type { QueuedRun, QueueEvent, RunQueue } from "./queue.js";

/** Options of {@link BullRunQueue.open}. */
export interface BullRunQueueOptions {
  redis: string;
  queue?: string;
  /** The server's database file (names its jobs). */
  dbPath: string;
  /** How often the health snapshot (waiting, active, workers) is refreshed, ms (default 2000). */
  snapshotMs?: number;
  log?: (line: string) => void;
}

interface Tracked {
  job: QueuedJob;
  started: boolean;
  cancelRequested: boolean;
}

/** A run queue whose jobs run on `tollkit worker` processes. */
export class BullRunQueue implements RunQueue {
  /** Runs still in Redis when the server stops are adopted by the next server on the same database. */
  readonly durable = true;
  private readonly tracked = new Map<number, Tracked>();
  private readonly listeners = new Set<(e: QueueEvent) => void>();
  private readonly prefix: string;
  private snap: QueueSnapshot | null = null;
  private readonly timer: NodeJS.Timeout;
  private closing = false;

  private constructor(
    private readonly client: QueueClient,
    opts: BullRunQueueOptions,
  ) {
    this.prefix = `api-${createHash("sha256")
      .update(`${hostname()}:${resolve(opts.dbPath)}`)
      .digest("hex")
      .slice(0, 10)}`;
    const refresh = () =>
      void client.snapshot().then(
        (s) => (this.snap = s),
        () => (this.snap = this.snap ? { ...this.snap, connected: false } : null),
      );
    refresh();
    this.timer = setInterval(refresh, opts.snapshotMs ?? 2000);
    this.timer.unref();
  }

  /**
   * Connects to Redis.
   * @throws InputError when Redis cannot be reached
   */
  static async open(opts: BullRunQueueOptions): Promise<BullRunQueue> {
    const { assertReachable, checkRedisUrl, QueueClient } = await import("@tollkit/runs/queue");
    checkRedisUrl(opts.redis, "--redis");
    await assertReachable(opts.redis, "--redis");
    return new BullRunQueue(await QueueClient.open({ redis: opts.redis, queue: opts.queue, log: opts.log }), opts);
  }

  /** Workers seen on the queue (there is no fixed concurrency: it is the workers'). */
  get concurrency(): number {
    return this.snap?.workers ?? 0;
  }

  enqueue(q: QueuedRun): void {
    if (this.closing) throw new Error("api/queue: the queue is closed");
    const runId = q.runId;
    if (this.tracked.has(runId)) return;
    const maxSeconds = (q.task.kind === "design" ? q.task.maxSeconds : q.task.settings.maxSeconds) ?? undefined;
    let job: QueuedJob;
    try {
      job = this.client.submit(
        `${this.prefix}-${runId}`,
        // the solver stops itself at maxSeconds; the kill is the backstop for one that does not yield
        { task: q.task, label: `run ${runId}`, ...(maxSeconds !== undefined ? { timeoutMs: maxSeconds * 1000 + 30000 } : {}) },
        {
          onStart: () => {
            const t = this.tracked.get(runId);
            if (t && !t.started) {
              t.started = true;
              this.emit({ type: "started", runId });
            }
          },
          onProgress: (progress) => this.emit({ type: "progress", runId, progress }),
        },
      );
    } catch (e) {
      // over the limits of a queued run (a larger --body-limit than a job carries): the run fails saying so
      queueMicrotask(() => this.emit({ type: "failed", runId, error: (e as Error).message }));
      return;
    }
    const t: Tracked = { job, started: false, cancelRequested: false };
    this.tracked.set(runId, t);
    void job.outcome.then((o) => {
      this.tracked.delete(runId);
      this.emit(this.eventOf(runId, o, t));
    });
  }

  private eventOf(runId: number, o: ChildOutcome, t: Tracked): QueueEvent {
    if (o.status === "done") return { type: "done", runId, output: o.result.output, progress: o.progress };
    if (o.status === "cancelled" || t.cancelRequested) return this.closing ? { type: "interrupted", runId } : { type: "cancelled", runId };
    if (o.status === "failed") return { type: "failed", runId, error: o.error };
    return { type: "failed", runId, error: `api/queue: the run's worker stopped unexpectedly (${o.error})` };
  }

  async cancel(runId: number): Promise<boolean> {
    const t = this.tracked.get(runId);
    if (!t) return false;
    t.cancelRequested = true;
    t.job.cancel();
    await t.job.outcome;
    return true;
  }

  subscribe(listener: (e: QueueEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats() {
    let running = 0;
    for (const t of this.tracked.values()) if (t.started) running++;
    const s = this.snap;
    return {
      running,
      queued: this.tracked.size - running,
      concurrency: this.concurrency,
      backend: "bullmq" as const,
      queue: this.client.queueName,
      redis: s?.connected ? "connected" : "unreachable",
      waiting: s?.waiting ?? null,
      active: s?.active ?? null,
      workers: s?.workers ?? null,
      workerNames: s?.workerNames ?? [],
    };
  }

  /**
   * Waits up to `graceMs` for this server's runs, then stops the rest on their workers (they are
   * recorded `interrupted`) and disconnects.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    const all = [...this.tracked.values()].map((t) => t.job.outcome);
    if (all.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(all), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    const rest = [...this.tracked.keys()];
    this.tracked.clear();
    await this.client.close({ cancelOutstanding: true });
    for (const runId of rest) this.emit({ type: "interrupted", runId });
  }

  private emit(e: QueueEvent): void {
    emitQueueEvent(this.listeners, e);
  }
}
