/**
 * Run queues. The routes see only the {@link RunQueue} interface (enqueue, cancel, events,
 * close), so a Redis-backed queue can replace the in-process {@link ProcessRunQueue} without
 * touching them.
 *
 * {@link ProcessRunQueue} runs each job in its own child process through the one executor of
 * @tollkit/runs ({@link startChildRun}), at most `concurrency` at a time, first in first out.
 */
import { ChildRun, RunOutput, RunProgress, RunTask, startChildRun } from "@tollkit/runs";

/** Hands an event to every listener; a listener that throws is logged and the others still hear it. */
export function emitQueueEvent(listeners: Iterable<(e: QueueEvent) => void>, e: QueueEvent): void {
  for (const l of listeners) {
    try {
      l(e);
    } catch (err) {
      process.stderr.write(`api/queue: a listener failed on ${e.type} of run ${e.runId}: ${(err as Error).message}\n`);
    }
  }
}

/** A run handed to a queue: the store's id and the task to execute. */
export interface QueuedRun {
  runId: number;
  task: RunTask;
}

/** Something that happened to a job. Exactly one terminal event (done … interrupted) per job. */
export type QueueEvent =
  | { type: "started"; runId: number }
  | { type: "progress"; runId: number; progress: RunProgress }
  | { type: "done"; runId: number; output: RunOutput; progress: RunProgress | null }
  | { type: "failed"; runId: number; error: string }
  | { type: "cancelled"; runId: number }
  /** The queue was closed while the job ran. */
  | { type: "interrupted"; runId: number };

/** What the API needs from a queue. */
export interface RunQueue {
  readonly concurrency: number;
  /**
   * True when jobs outlive this process (a Redis queue): a restarted server queues its
   * `running` runs again, and the queue adopts them, instead of marking them interrupted.
   */
  readonly durable?: boolean;
  /** Adds a job; it starts when a slot is free. */
  enqueue(job: QueuedRun): void;
  /**
   * Cancels a queued or running job. Resolves once the job has stopped (its terminal event has
   * been emitted); false when the queue does not know the job.
   */
  cancel(runId: number): Promise<boolean>;
  /** Listens to every job's events; returns the unsubscribe function. */
  subscribe(listener: (e: QueueEvent) => void): () => void;
  /** Jobs running and waiting now. */
  stats(): { running: number; queued: number; concurrency: number } & Record<string, unknown>;
  /**
   * Stops starting jobs, waits up to `graceMs` for running ones to finish, then stops the rest
   * (emitting `interrupted` for each). Queued jobs are dropped without events.
   */
  close(graceMs: number): Promise<void>;
}

/** Options of {@link ProcessRunQueue}. */
export interface ProcessRunQueueOptions {
  /** Jobs running at once (default 1). */
  concurrency?: number;
  /** How long a cancelled job may take to stop before it is killed, ms (default 2000). */
  killGraceMs?: number;
  /** The child script (default: child.js of @tollkit/runs). */
  childPath?: string;
  /** Extra Node options of the children (e.g. a heap limit). */
  execArgv?: string[];
  /** Scheduling niceness of the run processes, 0..19 (default {@link DEFAULT_RUN_NICENESS}): runs yield the CPU to the server. */
  niceness?: number;
}

/** The run processes' default niceness: a solve takes the CPU the HTTP server leaves. */
export const DEFAULT_RUN_NICENESS = 10;

interface Active {
  job: QueuedRun;
  run: ChildRun;
  cancelRequested: boolean;
  exited: Promise<void>;
}

/** The in-process queue: child processes, FIFO, bounded concurrency. */
export class ProcessRunQueue implements RunQueue {
  readonly concurrency: number;
  private readonly killGraceMs: number;
  private readonly childPath: string | undefined;
  private readonly execArgv: string[];
  private readonly niceness: number;
  private readonly pending: QueuedRun[] = [];
  private readonly active = new Map<number, Active>();
  private readonly listeners = new Set<(e: QueueEvent) => void>();
  private closing = false;

  constructor(opts: ProcessRunQueueOptions = {}) {
    const c = opts.concurrency ?? 1;
    if (!(Number.isInteger(c) && c >= 1 && c <= 64)) throw new RangeError(`api/queue: concurrency ${c} (expected an integer in 1..64)`);
    this.concurrency = c;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.childPath = opts.childPath;
    this.execArgv = opts.execArgv ?? [];
    const n = opts.niceness ?? DEFAULT_RUN_NICENESS;
    if (!(Number.isInteger(n) && n >= 0 && n <= 19)) throw new RangeError(`api/queue: niceness ${n} (expected an integer in 0..19)`);
    this.niceness = n;
  }

  enqueue(job: QueuedRun): void {
    if (this.closing) throw new Error("api/queue: the queue is closed");
    this.pending.push(job);
    this.pump();
  }

  subscribe(listener: (e: QueueEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats() {
    return { running: this.active.size, queued: this.pending.length, concurrency: this.concurrency };
  }

  async cancel(runId: number): Promise<boolean> {
    const k = this.pending.findIndex((j) => j.runId === runId);
    if (k >= 0) {
      this.pending.splice(k, 1);
      this.emit({ type: "cancelled", runId });
      return true;
    }
    const a = this.active.get(runId);
    if (!a) return false;
    if (!a.cancelRequested) {
      a.cancelRequested = true;
      a.run.cancel();
    }
    await a.exited;
    return true;
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.pending.length = 0;
    const all = [...this.active.values()];
    if (all.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.all(all.map((a) => a.exited)), timeout]);
    clearTimeout(timer);
    for (const a of this.active.values()) a.run.kill();
    await Promise.all([...this.active.values()].map((a) => a.exited));
  }

  private emit(e: QueueEvent): void {
    emitQueueEvent(this.listeners, e);
  }

  private pump(): void {
    while (!this.closing && this.active.size < this.concurrency && this.pending.length > 0) this.start(this.pending.shift()!);
  }

  private start(job: QueuedRun): void {
    const runId = job.runId;
    const run = startChildRun(job.task, {
      killGraceMs: this.killGraceMs,
      execArgv: this.execArgv,
      childPath: this.childPath,
      niceness: this.niceness,
      onProgress: (progress) => this.emit({ type: "progress", runId, progress }),
    });
    const a: Active = { job, run, cancelRequested: false, exited: run.outcome.then(() => undefined) };
    this.active.set(runId, a);
    this.emit({ type: "started", runId });
    void run.outcome.then((o) => {
      this.active.delete(runId);
      if (o.status === "done") this.emit({ type: "done", runId, output: o.result.output, progress: o.progress });
      else if (o.status === "cancelled" || a.cancelRequested) this.emit({ type: "cancelled", runId });
      else if (o.status === "failed") this.emit({ type: "failed", runId, error: o.error });
      else if (this.closing) this.emit({ type: "interrupted", runId });
      else
        this.emit({
          type: "failed",
          runId,
          error: `api/queue: the runner stopped unexpectedly (${o.error.replace(/^the run's process /, "")})`,
        });
      this.pump();
    });
  }
}
