/**
 * The run service: the one place where the store, the queue and the live subscribers (SSE)
 * meet. Routes call it; it records every queue event in the store and forwards it to the
 * run's subscribers.
 *
 * Progress is kept in memory for running runs (so a GET sees the latest) and written to the
 * store at most once per `progressWriteMs`; results are written in one transaction with the
 * status `done` ({@link Store.finishRun}).
 *
 * Storage failures (a full disk, an I/O error: {@link storageFailure}) never lose a run
 * silently. A status or result that cannot be written is kept in memory and written again every
 * `storageRetry.delayMs`; meanwhile every read of the run (GET, lists, events) shows what the
 * database will say once written. A result that still cannot be written after
 * `storageRetry.attempts` tries is given up: the run becomes `failed` with the reason (that
 * status is retried until the database takes it). So a live server never leaves a run
 * `running`, and it recovers by itself once space returns.
 */
import { AssignTaskSettings, isDesignSummary, RunProgress, RunTask } from "@tollkit/runs";
import type { QueuedRun } from "./queue.js";
import type { QueueEvent, RunQueue } from "./queue.js";
import { RunKind, RunRow, Store, storageFailure, TERMINAL_STATUSES } from "./store.js";

/**
 * The OD analyses of every API run: skims (served by `GET /api/runs/:id/skims` and used by
 * `GET /api/compare/incidence`) and, for a bush run whose bushes take at most 64 MB (Chicago-Sketch:
 * about 10 MB; Berlin-Center's do not fit), the bushes for `GET /api/runs/:id/select-link`.
 */
export const RUN_ANALYSIS = Object.freeze({ skims: true, keepBushes: 64 });

/** An event of one run, as sent to subscribers (the SSE stream). */
export type RunEvent = { type: "progress"; progress: RunProgress } | { type: "status"; run: RunRow };

/** Options of {@link RunService}. */
export interface RunServiceOptions {
  /** Least time between two progress writes to the database, ms (default 500). */
  progressWriteMs?: number;
  /** Where to log (default stderr). */
  log?: (line: string) => void;
  /** How a status or result the database refused is written again (default every 1000 ms; a result 10 times, then the run fails). */
  storageRetry?: { delayMs?: number; attempts?: number };
  /** Called once a run's result is stored (e.g. to prepare its map layer in the background). */
  onResult?: (run: RunRow) => void;
}

/** A write of a run's state that the storage refused, kept until it succeeds. */
interface PendingWrite {
  /** What the run's row will say once written (shown by every read meanwhile). */
  view: Partial<RunRow>;
  /** Writes it (throws the storage's error when it fails again). */
  write: () => unknown;
  /** Tries so far. */
  attempts: number;
  /** A result: given up after `storageRetry.attempts` tries (the run then fails with `reason`). */
  result?: boolean;
  /** The last storage error. */
  reason: string;
}

/** Runs: submission, cancellation, live events; records every queue event in the store. */
export class RunService {
  private readonly subscribers = new Map<number, Set<(e: RunEvent) => void>>();
  private readonly progress = new Map<number, { p: RunProgress; writtenAt: number }>();
  private readonly progressWriteMs: number;
  private readonly log: (line: string) => void;
  private readonly unsubscribe: () => void;
  private readonly pendingWrites = new Map<number, PendingWrite>();
  private readonly retryMs: number;
  private readonly retryAttempts: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly onResult: ((run: RunRow) => void) | undefined;
  /** Called with a run's id once it is deleted (the routes' caches of its results forget it). */
  private readonly deletedListeners = new Set<(id: number) => void>();

  constructor(
    readonly store: Store,
    readonly queue: RunQueue,
    opts: RunServiceOptions = {},
  ) {
    this.progressWriteMs = opts.progressWriteMs ?? 500;
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.retryMs = opts.storageRetry?.delayMs ?? 1000;
    this.retryAttempts = opts.storageRetry?.attempts ?? 10;
    this.onResult = opts.onResult;
    this.unsubscribe = queue.subscribe((e) => this.onQueueEvent(e));
  }

  /**
   * Crash recovery at start-up: runs left `running` by a server that stopped become
   * `interrupted` (with a durable queue they are queued again, and adopted); runs still
   * `queued` are queued again.
   */
  recover(): { interrupted: number[]; requeued: number[] } {
    // a durable queue still holds the runs of the previous server: they are adopted, not interrupted
    const adopted = this.queue.durable ? this.store.runIdsWithStatus("running") : [];
    const interrupted = this.queue.durable ? [] : this.store.interruptRunning("the server stopped while this run was running");
    const requeued = [...adopted, ...this.store.runIdsWithStatus("queued")];
    for (const id of requeued) this.queue.enqueue(this.jobOf(this.store.getRun(id)!));
    if (interrupted.length) this.log(`tollkit serve: marked ${interrupted.length} run(s) interrupted: ${interrupted.join(", ")}`);
    if (requeued.length) this.log(`tollkit serve: queued again ${requeued.length} run(s): ${requeued.join(", ")}`);
    return { interrupted, requeued };
  }

  /** The task of a stored run (with skims, and its bushes kept for select-link: {@link RUN_ANALYSIS}): its validated settings, its scenario's JSON; networks by id only. */
  private jobOf(run: RunRow): QueuedRun {
    const sc = run.scenario !== null ? this.store.getScenario(run.scenario) : undefined;
    const scenario = sc ? { id: sc.id, body: sc.body } : undefined;
    const maxSeconds = typeof run.settings.maxSeconds === "number" ? run.settings.maxSeconds : undefined;
    const task: RunTask =
      run.kind === "assign"
        ? {
            kind: "assign",
            network: run.network,
            settings: run.settings as unknown as AssignTaskSettings,
            ...(scenario ? { scenario } : {}),
            analysis: RUN_ANALYSIS,
          }
        : { kind: "design", scenario: scenario?.body, label: `scenario ${scenario?.id}`, maxSeconds, form: "api", analysis: RUN_ANALYSIS };
    return { runId: run.id, task };
  }

  /** Records a queued run and hands it to the queue. */
  submit(kind: RunKind, network: string, scenario: number | null, settings: Record<string, unknown>): RunRow {
    const run = this.store.createRun(kind, network, scenario, settings);
    this.queue.enqueue(this.jobOf(run));
    return run;
  }

  /** A run with its freshest progress. */
  get(id: number): RunRow | undefined {
    const run = this.store.getRun(id);
    return run && this.view(run);
  }

  /**
   * A run's status and name alone, read cheaply (for answers kept by run: {@link get} reads the
   * whole row); undefined when the run does not exist or has state still waiting to be written
   * (then {@link get} says how it stands).
   */
  state(id: number): { status: RunRow["status"]; name: string | null } | undefined {
    if (this.pendingWrites.has(id)) return undefined;
    return this.store.runState(id);
  }

  /** A stored run as it is now: with its freshest progress and any state still waiting to be written. */
  view(run: RunRow): RunRow {
    const pending = this.pendingWrites.get(run.id);
    if (pending) Object.assign(run, pending.view);
    const live = this.progress.get(run.id);
    if (live && run.status === "running") run.progress = { ...live.p };
    return run;
  }

  /** Runs whose state waits to be written to the database (a storage failure), with the last reason. */
  pendingStorage(): { runs: number[]; reason: string | null } {
    const all = [...this.pendingWrites.entries()];
    return { runs: all.map(([id]) => id), reason: all.length ? all[all.length - 1][1].reason : null };
  }

  /**
   * Writes a run's new state; when the storage refuses it, keeps it to write again (and shows
   * it meanwhile). A failure that is not the storage's is logged and the run failed.
   */
  private persist(id: number, view: Partial<RunRow>, write: () => unknown, result = false): void {
    const prev = this.pendingWrites.get(id);
    const w: PendingWrite = { view: { ...prev?.view, ...view }, write, attempts: 0, result, reason: "" };
    this.pendingWrites.delete(id);
    if (!this.tryWrite(id, w)) {
      this.pendingWrites.set(id, w);
      this.retryTimer ??= setInterval(() => this.retryWrites(), this.retryMs).unref();
    }
  }

  /** One try of a pending write: true when done with it. */
  private tryWrite(id: number, w: PendingWrite): boolean {
    w.attempts++;
    try {
      w.write();
      if (w.attempts > 1) this.log(`tollkit serve: run ${id}: written to the database after ${w.attempts} attempts`);
      return true;
    } catch (e) {
      const s = storageFailure(e);
      if (!s) {
        this.log(`tollkit serve: run ${id}: cannot record its state: ${(e as Error).stack ?? String(e)}`);
        if (w.view.status !== "failed") {
          this.persist(id, { status: "failed", error: `api: the run's state could not be recorded: ${(e as Error).message}` }, () =>
            this.store.endRun(id, "failed", `api: the run's state could not be recorded: ${(e as Error).message}`),
          );
        }
        return true;
      }
      w.reason = `${s.code}: ${s.message}`;
      if (w.attempts === 1)
        this.log(`tollkit serve: run ${id}: the database refused a write (${w.reason}); retrying every ${this.retryMs} ms`);
      if (w.result && w.attempts >= this.retryAttempts) {
        const msg = `api: the run finished but its result could not be written to the database after ${w.attempts} attempts (${w.reason}); free space for the database and run it again`;
        this.log(`tollkit serve: run ${id}: ${msg}`);
        w.view = { ...w.view, status: "failed", error: msg, finishedAt: new Date().toISOString() };
        w.write = () => this.store.endRun(id, "failed", msg);
        w.result = false;
        this.publishStatus(id);
      }
      return false;
    }
  }

  /** Writes again what the storage refused, oldest first; publishes each run's status once written. */
  retryWrites(): void {
    for (const [id, w] of [...this.pendingWrites]) {
      if (this.pendingWrites.get(id) !== w) continue;
      if (this.tryWrite(id, w)) {
        if (this.pendingWrites.get(id) === w) this.pendingWrites.delete(id);
        this.publishStatus(id);
      }
    }
    if (this.pendingWrites.size === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  /**
   * Cancels a queued or running run and waits until it has stopped.
   * @returns the run afterwards, or undefined when it does not exist
   */
  async cancel(id: number): Promise<RunRow | undefined> {
    const run = this.store.getRun(id);
    if (!run || TERMINAL_STATUSES.includes(run.status)) return run;
    const known = await this.queue.cancel(id);
    // A run the queue does not know (it was lost with a previous process) is cancelled here.
    if (!known) {
      this.persist(id, { status: "cancelled", error: "cancelled by request" }, () =>
        this.store.endRun(id, "cancelled", "cancelled by request"),
      );
      this.publishStatus(id);
    }
    return this.get(id);
  }

  /**
   * Deletes a finished run ({@link Store.deleteRun}: its results go, its id is never reused) and
   * tells every {@link onDeleted} listener, so that no cache answers for it afterwards.
   * @returns as {@link Store.deleteRun}: "deleted", "missing" or "live" (queued or running: cancel it first)
   */
  delete(id: number): "deleted" | "missing" | "live" {
    const outcome = this.store.deleteRun(id);
    if (outcome === "deleted") {
      this.progress.delete(id);
      for (const fn of this.deletedListeners) fn(id);
    }
    return outcome;
  }

  /** Calls `fn(id)` after each deletion of a run; returns the function that stops it. */
  onDeleted(fn: (id: number) => void): () => void {
    this.deletedListeners.add(fn);
    return () => this.deletedListeners.delete(fn);
  }

  /** Listens to one run's events; returns the unsubscribe function. */
  subscribe(id: number, fn: (e: RunEvent) => void): () => void {
    let set = this.subscribers.get(id);
    if (!set) this.subscribers.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.subscribers.delete(id);
    };
  }

  /** Number of open subscriptions (for tests and health). */
  subscriberCount(): number {
    let n = 0;
    for (const s of this.subscribers.values()) n += s.size;
    return n;
  }

  private publish(id: number, e: RunEvent): void {
    for (const fn of this.subscribers.get(id) ?? []) {
      try {
        fn(e);
      } catch (err) {
        this.log(`tollkit serve: a subscriber of run ${id} failed: ${(err as Error).message}`);
      }
    }
  }

  private publishStatus(id: number): void {
    const run = this.get(id);
    if (run) this.publish(id, { type: "status", run });
  }

  private onQueueEvent(e: QueueEvent): void {
    const id = e.runId;
    switch (e.type) {
      case "started":
        this.persist(id, { status: "running", startedAt: new Date().toISOString() }, () => this.store.markRunning(id));
        this.publishStatus(id);
        break;
      case "progress": {
        const now = Date.now();
        const prev = this.progress.get(id);
        const write = !prev || now - prev.writtenAt >= this.progressWriteMs;
        if (write) this.writeProgress(id, e.progress);
        this.progress.set(id, { p: e.progress, writtenAt: write ? now : prev!.writtenAt });
        this.publish(id, { type: "progress", progress: e.progress });
        break;
      }
      case "done": {
        const p = e.progress ?? this.progress.get(id)?.p;
        this.progress.delete(id);
        // a design that stopped early on an error is failed, with its best design so far kept
        const s = e.output.summary;
        const failure =
          isDesignSummary(s) && s.partial
            ? `the design stopped early: ${s.error?.message ?? "an error"}; the best design found so far is kept (partial result)`
            : undefined;
        // until the result is written the run shows as running (its result is not readable yet)
        this.persist(
          id,
          { status: "running", ...(p ? { progress: { ...p } } : {}) },
          () => {
            // a run whose start the database refused is still queued there: recorded first (a no-op otherwise)
            this.store.markRunning(id);
            if (!this.store.finishRun(id, e.output, p ? { ...p } : undefined, failure))
              this.log(`tollkit serve: run ${id} finished but was no longer running; result dropped`);
            else if (this.onResult) {
              const run = this.store.getRun(id);
              if (run) this.onResult(run);
            }
          },
          true,
        );
        this.publishStatus(id);
        break;
      }
      case "failed":
      case "cancelled":
      case "interrupted": {
        const live = this.progress.get(id);
        if (live) this.writeProgress(id, live.p);
        this.progress.delete(id);
        const msg =
          e.type === "failed" ? e.error : e.type === "cancelled" ? "cancelled by request" : "the server stopped while this run was running";
        const status = e.type;
        this.persist(id, { status, error: msg, finishedAt: new Date().toISOString() }, () => this.store.endRun(id, status, msg));
        this.publishStatus(id);
        break;
      }
    }
  }

  /** Progress is best effort: a refused write is not retried (the next progress or the end replaces it). */
  private writeProgress(id: number, p: RunProgress): void {
    try {
      this.store.setProgress(id, { ...p });
    } catch (e) {
      if (!storageFailure(e)) throw e;
    }
  }

  /**
   * Stops the queue (waiting up to `graceMs` for running runs) and detaches from it. What the
   * storage still refuses is tried once more, then logged run by run (the next start marks
   * those left running `interrupted`).
   */
  async close(graceMs: number): Promise<void> {
    await this.queue.close(graceMs);
    this.retryWrites();
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    for (const [id, w] of this.pendingWrites)
      this.log(`tollkit serve: run ${id}: its ${w.view.status ?? "new"} state could not be written before shutdown (${w.reason})`);
    this.unsubscribe();
    this.subscribers.clear();
  }
}
