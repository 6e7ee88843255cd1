/**
 * Run queues. The routes see only the {@link RunQueue} interface (enqueue, cancel, events,
 * close), so a Redis-backed queue (e.g. BullMQ with its workers calling `executeJob`) can
 * replace the in-process {@link ProcessRunQueue} without touching them.
 *
 * {@link ProcessRunQueue} runs each job in its own child process (the runner script, forked),
 * at most `concurrency` at a time, first in first out. A child process rather than a worker
 * thread: a run that exhausts memory or never yields cannot take the server down, and a
 * cancellation that the solver does not notice in time ends with a kill.
 */
import { ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RunJob, RunProgress } from "./jobs.js";
import type { FromRunner, ToRunner } from "./runner.js";
import type { RunOutput } from "./store.js";

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
  /** Adds a job; it starts when a slot is free. */
  enqueue(job: RunJob): void;
  /**
   * Cancels a queued or running job. Resolves once the job has stopped (its terminal event has
   * been emitted); false when the queue does not know the job.
   */
  cancel(runId: number): Promise<boolean>;
  /** Listens to every job's events; returns the unsubscribe function. */
  subscribe(listener: (e: QueueEvent) => void): () => void;
  /** Jobs running and waiting now. */
  stats(): { running: number; queued: number; concurrency: number };
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
  /** The runner script (default: `runner.js` of the built package). */
  runnerPath?: string;
  /** Extra Node options of the children (e.g. a heap limit). */
  execArgv?: string[];
}

/** The built runner script: beside this module in dist, or in ../dist when running from src. */
export function defaultRunnerPath(): string {
  for (const rel of ["./runner.js", "../dist/runner.js"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("api/queue: runner.js not found; build the api package first (pnpm build)");
}

interface Active {
  job: RunJob;
  child: ChildProcess;
  /** Set once the terminal event has been emitted. */
  settled: boolean;
  cancelRequested: boolean;
  exited: Promise<void>;
}

/** The in-process queue: child processes, FIFO, bounded concurrency. */
export class ProcessRunQueue implements RunQueue {
  readonly concurrency: number;
  private readonly killGraceMs: number;
  private readonly runnerPath: string;
  private readonly execArgv: string[];
  private readonly pending: RunJob[] = [];
  private readonly active = new Map<number, Active>();
  private readonly listeners = new Set<(e: QueueEvent) => void>();
  private closing = false;

  constructor(opts: ProcessRunQueueOptions = {}) {
    const c = opts.concurrency ?? 1;
    if (!(Number.isInteger(c) && c >= 1 && c <= 64)) throw new RangeError(`api/queue: concurrency ${c} (expected an integer in 1..64)`);
    this.concurrency = c;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.runnerPath = opts.runnerPath ?? defaultRunnerPath();
    this.execArgv = opts.execArgv ?? [];
  }

  enqueue(job: RunJob): void {
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
      this.post(a.child, { type: "cancel" });
      const t = setTimeout(() => a.child.kill("SIGKILL"), this.killGraceMs);
      void a.exited.then(() => clearTimeout(t));
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
    for (const a of this.active.values()) a.child.kill("SIGKILL");
    await Promise.all([...this.active.values()].map((a) => a.exited));
  }

  private emit(e: QueueEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        process.stderr.write(`api/queue: a listener failed on ${e.type} of run ${e.runId}: ${(err as Error).message}\n`);
      }
    }
  }

  private post(child: ChildProcess, msg: ToRunner): void {
    if (child.connected) child.send(msg, (err) => void err); // a child that just exited is not an error here
  }

  private pump(): void {
    while (!this.closing && this.active.size < this.concurrency && this.pending.length > 0) this.start(this.pending.shift()!);
  }

  private start(job: RunJob): void {
    const child = fork(this.runnerPath, [], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: this.execArgv,
      env: process.env,
    });
    let resolveExit!: () => void;
    const a: Active = { job, child, settled: false, cancelRequested: false, exited: new Promise<void>((r) => (resolveExit = r)) };
    this.active.set(job.runId, a);
    const settle = (e: QueueEvent) => {
      if (a.settled) return;
      a.settled = true;
      this.emit(e);
    };
    this.emit({ type: "started", runId: job.runId });
    child.on("message", (msg: FromRunner) => {
      if (a.settled) return;
      switch (msg.type) {
        case "progress":
          this.emit({ type: "progress", runId: job.runId, progress: msg.progress });
          break;
        case "done":
          settle({ type: "done", runId: job.runId, output: msg.output, progress: msg.progress });
          break;
        case "cancelled":
          settle({ type: "cancelled", runId: job.runId });
          break;
        case "failed":
          settle({ type: "failed", runId: job.runId, error: msg.error });
          break;
      }
    });
    child.on("error", (err) => {
      // fork failed or the IPC channel broke; "exit" follows (or the process never started)
      if (!child.pid) {
        settle({ type: "failed", runId: job.runId, error: `api/queue: cannot start the runner: ${err.message}` });
        this.active.delete(job.runId);
        resolveExit();
        this.pump();
      }
    });
    child.on("exit", (code, signal) => {
      if (a.cancelRequested) settle({ type: "cancelled", runId: job.runId });
      else if (this.closing) settle({ type: "interrupted", runId: job.runId });
      else
        settle({
          type: "failed",
          runId: job.runId,
          error: `api/queue: the runner stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`,
        });
      this.active.delete(job.runId);
      resolveExit();
      this.pump();
    });
    this.post(child, { type: "start", job });
  }
}
