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
 * Starts a run in a fresh child process.
 * @returns the running run; its `outcome` never rejects
 */
export function startChildRun(task: RunTask, opts: ChildRunOptions = {}): ChildRun {
  let child: ChildProcess;
  let resolveOutcome!: (o: ChildOutcome) => void;
  const outcome = new Promise<ChildOutcome>((r) => (resolveOutcome = r));
  try {
    child = fork(opts.childPath ?? defaultChildPath(), [], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", opts.stderr === "capture" ? "pipe" : "inherit", "ipc"],
      execArgv: opts.execArgv ?? [],
      env: process.env,
    });
  } catch (e) {
    resolveOutcome({ status: "crashed", error: `cannot start the run's process: ${(e as Error).message}` });
    return { pid: undefined, outcome, cancel() {}, kill() {} };
  }
  let result: ChildOutcome | undefined;
  let stderr = "";
  let timedOut = false;
  let cancelTimer: NodeJS.Timeout | undefined;
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), opts.timeoutMs) : undefined;
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL);
  });
  child.on("message", (m: FromChild) => {
    if (result) return;
    if (m.type === "progress") opts.onProgress?.(m.progress);
    else if (m.type === "done") result = { status: "done", result: m.result, progress: m.progress };
    else if (m.type === "cancelled") result = { status: "cancelled" };
    else result = { status: "failed", error: m.error, input: m.input };
  });
  let settled = false;
  const settle = (o: ChildOutcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(cancelTimer);
    resolveOutcome(o);
  };
  child.on("error", (err) => {
    // fork failed or the IPC channel broke; "exit" follows unless the process never started
    if (!child.pid) settle({ status: "crashed", error: `cannot start the run's process: ${err.message}` });
  });
  child.on("exit", (code, signal) => {
    if (result) return settle(result);
    const tail = stderr.trim().split("\n").slice(-3).join(" | ");
    settle({
      status: "crashed",
      error: timedOut
        ? `timed out after ${(opts.timeoutMs! / 1000).toString()} s`
        : `the run's process exited with ${signal ? `signal ${signal}` : `code ${code}`} before reporting a result${tail ? `: ${tail}` : ""}`,
    });
  });
  const post = (msg: ToChild) => {
    if (child.connected) child.send(msg, (err) => err && child.kill("SIGKILL"));
  };
  post({ type: "start", task });
  return {
    pid: child.pid,
    outcome,
    cancel() {
      if (settled || cancelTimer) return;
      post({ type: "cancel" });
      cancelTimer = setTimeout(() => child.kill("SIGKILL"), opts.killGraceMs ?? 2000);
    },
    kill(sig: NodeJS.Signals = "SIGKILL") {
      if (!settled) child.kill(sig);
    },
  };
}
