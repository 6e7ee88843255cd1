/**
 * The one way tollkit runs a run in a child process ({@link startChildRun}): the API's
 * ProcessRunQueue and `tollkit batch` both call it, and a queue worker can reuse it. A child process rather than a worker thread: a run that
 * exhausts memory or never yields cannot take its parent down, and a cancellation the solver
 * does not notice in time ends with a kill.
 *
 * The outcome is exactly one of: done (with the result), cancelled, failed (the run's own
 * error; `input` says whether its input was at fault) or crashed (the process ended without a
 * result: killed, out of memory, a time limit); the caller decides what a crash means
 * (interrupted, timed out, failed).
 */
import { ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import type { FromChild, ToChild } from "./child.js";
import type { RunResult } from "./execute.js";
import type { RunProgress, RunTask } from "./task.js";

/** How a child run ended. */
export type ChildOutcome =
  | { status: "done"; result: RunResult; progress: RunProgress | null }
  | { status: "cancelled" }
  | { status: "failed"; error: string; input: boolean }
  | { status: "crashed"; error: string };

/** Options of {@link startChildRun}. */
export interface ChildRunOptions {
  onProgress?: (p: RunProgress) => void;
  /** How long a cancelled run may take to stop before it is killed, ms (default 2000). */
  killGraceMs?: number;
  /** Longest the run may take, ms; then it is killed and the outcome is `crashed` saying so. */
  timeoutMs?: number;
  /** Extra Node options of the child (e.g. a heap limit). */
  execArgv?: string[];
  /** `inherit` (default) passes the child's stderr through; `capture` keeps its tail for the crash message. */
  stderr?: "inherit" | "capture";
  /** The child script (default: child.js of the built package). */
  childPath?: string;
  /** The child's scheduling niceness (0..19; default 0: the parent's). See {@link ChildPoolOptions.niceness}. */
  niceness?: number;
}

/** A run in its child process. */
export interface ChildRun {
  readonly pid: number | undefined;
  /** Settles once, when the child has exited. */
  readonly outcome: Promise<ChildOutcome>;
  /** Asks the run to stop; kills it when it has not stopped within the grace period. */
  cancel(): void;
  /** Ends the run now (SIGKILL, or the given signal). */
  kill(signal?: NodeJS.Signals): void;
}

/** Characters of a child's stderr kept for its crash message. */
const STDERR_TAIL = 4000;

/** The built child script: beside this module in dist, or in ../dist when running from src. */
export function defaultChildPath(): string {
  for (const rel of ["./child.js", "../dist/child.js"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("runs/executor: child.js not found; build the runs package first (pnpm build)");
}

/**
 * Starts a run in a fresh child process (a {@link ChildPool} of one child for one run, closed
 * when the run ends).
 * @returns the running run; its `outcome` never rejects
 */
export function startChildRun(task: RunTask, opts: ChildRunOptions = {}): ChildRun {
  const pool = new ChildPool({
    execArgv: opts.execArgv,
    childPath: opts.childPath,
    maxRunsPerChild: 1,
    stderr: opts.stderr ?? "inherit",
    niceness: opts.niceness,
  });
  const run = pool.run(task, opts);
  void run.outcome.then(() => pool.close());
  return run;
}

/** Options of a {@link ChildPool}. */
export interface ChildPoolOptions {
  /** Extra Node options of the children. */
  execArgv?: string[];
  /** The child script (default: child.js of the built package). */
  childPath?: string;
  /** Runs one child executes before it is replaced by a fresh one (bounds what caches can grow to). Default 200. */
  maxRunsPerChild?: number;
  /** `capture` (default) keeps the children's stderr for crash messages only; `inherit` also passes it through. */
  stderr?: "inherit" | "capture";
  /**
   * Scheduling niceness of the children (0..19, higher yields more; default 0). A server gives
   * its runs a positive niceness so that on a machine with few cores the solver takes the CPU
   * the HTTP event loop leaves, not the other way round (the run is as fast when the server is
   * idle). Where the system refuses it, the run goes on at the parent's priority and a warning is
   * written to stderr once.
   */
  niceness?: number;
}

/** Whether a refused niceness was already reported (once per process). */
let nicenessWarned = false;

interface PoolChild {
  proc: ChildProcess;
  runs: number;
  stderr: string;
  /** The run it is executing, if any. */
  current?: (m: FromChild | { type: "exit"; code: number | null; signal: NodeJS.Signals | null }) => void;
}

/**
 * Child processes reused across runs, for batches of small runs whose cost would otherwise be
 * process start-up: {@link ChildPool.run} has the contract of {@link startChildRun} (one
 * outcome per run, never rejecting), but starts the run in an idle child when there is one.
 * A child that dies, is killed (a time limit, a cancellation it ignored) or has done
 * `maxRunsPerChild` runs is replaced, so a crash still costs one run only. Keep at most as
 * many runs going as the pool should have children; {@link ChildPool.close} ends them all.
 */
export class ChildPool {
  private readonly idle: PoolChild[] = [];
  private readonly all = new Set<PoolChild>();
  private closed = false;

  constructor(private readonly opts: ChildPoolOptions = {}) {}

  private spawn(): PoolChild {
    const proc = fork(this.opts.childPath ?? defaultChildPath(), ["--reuse"], {
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      execArgv: this.opts.execArgv ?? [],
      env: process.env,
    });
    const nice = this.opts.niceness ?? 0;
    if (nice !== 0 && proc.pid !== undefined)
      try {
        setPriority(proc.pid, nice);
      } catch (e) {
        if (!nicenessWarned)
          process.stderr.write(
            `tollkit: cannot set the runs' niceness to ${nice} (${(e as Error).message}); they run at normal priority\n`,
          );
        nicenessWarned = true;
      }
    const c: PoolChild = { proc, runs: 0, stderr: "" };
    proc.stderr?.on("data", (d: Buffer) => {
      c.stderr = (c.stderr + d.toString()).slice(-STDERR_TAIL); // kept for the crash message
      if (this.opts.stderr === "inherit") process.stderr.write(d);
    });
    proc.on("message", (m: FromChild) => c.current?.(m));
    proc.on("exit", (code, signal) => {
      this.all.delete(c);
      const k = this.idle.indexOf(c);
      if (k >= 0) this.idle.splice(k, 1);
      c.current?.({ type: "exit", code, signal });
    });
    proc.on("error", () => {}); // "exit" follows, or the run's send fails and is reported there
    this.all.add(c);
    return c;
  }

  /** Runs a task in an idle child (or a new one). */
  run(task: RunTask, opts: Pick<ChildRunOptions, "onProgress" | "killGraceMs" | "timeoutMs"> = {}): ChildRun {
    let resolveOutcome!: (o: ChildOutcome) => void;
    const outcome = new Promise<ChildOutcome>((r) => (resolveOutcome = r));
    if (this.closed) {
      resolveOutcome({ status: "crashed", error: "the pool is closed" });
      return { pid: undefined, outcome, cancel() {}, kill() {} };
    }
    let c: PoolChild;
    try {
      c = this.idle.pop() ?? this.spawn();
    } catch (e) {
      resolveOutcome({ status: "crashed", error: `cannot start the run's process: ${(e as Error).message}` });
      return { pid: undefined, outcome, cancel() {}, kill() {} };
    }
    c.stderr = "";
    let settled = false;
    let timedOut = false;
    let cancelTimer: NodeJS.Timeout | undefined;
    const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), c.proc.kill("SIGKILL")), opts.timeoutMs) : undefined;
    const settle = (o: ChildOutcome, reusable: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(cancelTimer);
      c.current = undefined;
      c.runs++;
      if (reusable && !this.closed && c.runs < (this.opts.maxRunsPerChild ?? 200) && c.proc.connected) this.idle.push(c);
      else if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
      resolveOutcome(o);
    };
    c.current = (m) => {
      if (m.type === "progress") opts.onProgress?.(m.progress);
      else if (m.type === "done") settle({ status: "done", result: m.result, progress: m.progress }, true);
      else if (m.type === "cancelled") settle({ status: "cancelled" }, true);
      else if (m.type === "failed") settle({ status: "failed", error: m.error, input: m.input }, true);
      else {
        const tail = c.stderr.trim().split("\n").slice(-3).join(" | ");
        settle(
          {
            status: "crashed",
            error: timedOut
              ? `timed out after ${(opts.timeoutMs! / 1000).toString()} s`
              : `the run's process exited with ${m.signal ? `signal ${m.signal}` : `code ${m.code}`} before reporting a result${tail ? `: ${tail}` : ""}`,
          },
          false,
        );
      }
    };
    const post = (msg: ToChild) => {
      if (c.proc.connected) c.proc.send(msg, (err) => err && c.proc.kill("SIGKILL"));
      else c.proc.kill("SIGKILL");
    };
    post({ type: "start", task });
    return {
      pid: c.proc.pid,
      outcome,
      cancel() {
        if (settled || cancelTimer) return;
        post({ type: "cancel" });
        cancelTimer = setTimeout(() => c.proc.kill("SIGKILL"), opts.killGraceMs ?? 2000);
      },
      kill(sig: NodeJS.Signals = "SIGKILL") {
        if (!settled) c.proc.kill(sig);
      },
    };
  }

  /** Ends every child (a running run ends `crashed`). */
  close(): void {
    this.closed = true;
    for (const c of this.all) c.proc.kill("SIGKILL");
    this.idle.length = 0;
  }
}
