/**
 * Runs a planned batch: each run in a child process of a pool (the executor of @tollkit/runs;
 * a child runs one run at a time and is reused, a crashed one replaced), at most `concurrency`
 * at a time, in plan order. The batch is the only writer of OUT: a run's
 * child returns its files and the batch writes the run's folder.
 *
 * Layout of OUT:
 * - `runs/<id>/`: a complete run (summary.json, flows.csv, convergence.csv, flows.geojson,
 *   run.json; a design also design.json and history.csv), or a failed run's record (run.json,
 *   error.json, no summary.json);
 * - `results.csv`: one row per planned run, rewritten atomically after every run;
 * - `.tollkit-batch.lock`: the pid of the batch writing to OUT (two batches on one OUT would
 *   race).
 *
 * Resuming: a run is complete iff `runs/<id>/summary.json` exists (a folder only appears by a
 * rename once all its files are written). A rerun skips complete runs and runs the others,
 * failed ones included. Killing the batch (even with SIGKILL) loses no finished run; its
 * children notice that their parent is gone and exit; leftover temporary folders
 * (`runs/.partial-*`) are removed by the next batch on OUT.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fetchNetworkFiles, InputError, networkIdKind, replaceDirAtomic } from "@tollkit/graph-core";
import { ChildOutcome, ChildPool, ChildRun } from "@tollkit/runs";
import { VERSION } from "../version.js";
import { doneRunFiles, failedRunFiles, taskOf } from "./execute.js";
import { Plan } from "./plan.js";
import type { RemoteRunner } from "./queue.js";
import { BatchSummary, Reporter } from "./progress.js";
import { completedSummary, RunState, writeResults } from "./results.js";
import { BatchInfo } from "./types.js";

const MOD = "cli/batch";

/** Options of {@link runBatch}. */
export interface BatchOptions {
  /** The output folder (created if needed). */
  out: string;
  /** Runs at once (child processes), ≥ 1. */
  concurrency: number;
  /** Longest a run may take, seconds; a run over it is killed and recorded as failed. */
  timeout?: number;
  reporter: Reporter;
  /** The command line (recorded in every run.json). */
  command: string;
  /** The child script (default: the executor's child.js). */
  childPath?: string;
  /** Runs the runs elsewhere (`--queue`: on workers; every run is submitted at once); default: local child processes. */
  remote?: RemoteRunner;
}

const LOCK = ".tollkit-batch.lock";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes OUT's lock, or fails when a live batch holds it. */
function lock(out: string): () => void {
  const path = join(out, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new InputError(
          MOD,
          `another tollkit batch (pid ${pid}) is writing to this folder`,
          { file: out },
          "one batch per output folder",
        );
      rmSync(path, { force: true }); // left by a batch that was killed
    }
  }
  throw new InputError(MOD, "cannot take the output folder's lock", { file: path });
}

/** Removes temporary folders left by runs that were killed while writing. */
function removeLeftovers(runsDir: string): void {
  for (const name of readdirSync(runsDir))
    if (name.startsWith(".partial-") || name.startsWith(".replaced-")) rmSync(join(runsDir, name), { recursive: true, force: true });
}

/**
 * Resolves every catalogue network the runs use, once, before any run starts (downloading what
 * is neither cached nor mirrored), so that a network that cannot be had is one clear error
 * instead of every run failing with it, and runs never race to download the same file.
 * @throws InputError naming the file that cannot be resolved and how to provide it
 */
export async function prefetchNetworks(plan: Plan): Promise<void> {
  const used = new Set<string>();
  for (const r of plan.runs)
    if (r.invalid === undefined)
      for (const i of r.inputs) if (i.role === "network" && networkIdKind(i.name) === "catalogue") used.add(i.name);
  for (const id of used) await fetchNetworkFiles(id);
}

/**
 * Runs a batch and reports as it goes.
 * @returns the totals (and the exit code: 0 all done, 1 some runs failed, 130/143 interrupted)
 * @throws InputError when OUT cannot be created or another batch is writing to it
 */
export async function runBatch(plan: Plan, opts: BatchOptions): Promise<BatchSummary> {
  const t0 = performance.now();
  if (!opts.remote) await prefetchNetworks(plan); // workers resolve networks themselves
  const out = opts.out;
  const runsDir = join(out, "runs");
  try {
    mkdirSync(runsDir, { recursive: true });
  } catch (e) {
    throw new InputError(MOD, `cannot create the output folder: ${(e as NodeJS.ErrnoException).code}`, { file: out }, "a writable folder");
  }
  const unlock = lock(out);
  const rep = opts.reporter;
  const batch: BatchInfo = { command: opts.command, out, startedAt: new Date().toISOString() };
  try {
    removeLeftovers(runsDir);
    const states: RunState[] = plan.runs.map((spec) => {
      const folder = join("runs", spec.id);
      const summary = completedSummary(join(out, folder));
      return summary ? { spec, status: "done", summary, folder } : { spec, status: "pending", folder };
    });
    const skipped = states.filter((s) => s.status === "done").length;
    writeResults(out, states);
    rep.begin({
      out,
      runs: states.length,
      complete: skipped,
      toRun: states.length - skipped,
      concurrency: opts.concurrency,
      tollkit: VERSION,
    });
    for (const w of plan.warnings) rep.warn(w);
    states.forEach((s, i) => {
      if (s.status === "done") rep.skip(s, i);
    });

    const queue = states.map((_, i) => i).filter((i) => states[i].status === "pending");
    const active = new Map<number, ChildRun>();
    let ran = 0;
    let stopping: NodeJS.Signals | undefined;

    const finishRun = (i: number, seconds: number, result: ChildOutcome) => {
      const s = states[i];
      const dir = join(out, s.folder);
      const summary = completedSummary(dir);
      if (summary) {
        s.status = "done";
        s.summary = summary;
        s.error = undefined;
      } else if (stopping && result.status !== "failed") {
        s.status = "pending"; // interrupted: run again next time
        return;
      } else {
        s.status = "failed";
        s.error =
          result.status === "failed" || result.status === "crashed"
            ? result.status === "crashed" && /^timed out/.test(result.error)
              ? `${result.error} (--timeout)`
              : result.error
            : "the run ended without a result";
        try {
          replaceDirAtomic(dir, failedRunFiles(s.spec, batch, s.error, seconds, result.status === "failed" && result.input));
        } catch (e) {
          rep.warn(`cannot write the failure record of ${s.spec.id}: ${(e as Error).message}`);
        }
      }
      ran++;
      writeResults(out, states);
      rep.finish(s, i, seconds);
    };

    // children are reused across runs (small runs cost their work, not a process start each)
    const pool = new ChildPool({ childPath: opts.childPath });
    const handlers: [NodeJS.Signals, () => void][] = [];
    await new Promise<void>((resolveAll) => {
      let settled = false;
      const pump = () => {
        while (!stopping && active.size < opts.concurrency && queue.length > 0) start(queue.shift()!);
        if (!settled && active.size === 0 && (queue.length === 0 || stopping)) {
          settled = true;
          resolveAll();
        }
      };
      const start = (i: number) => {
        const s = states[i];
        const started = performance.now();
        const startedAt = new Date().toISOString();
        if (s.spec.invalid !== undefined) {
          rep.start(s, i, undefined);
          finishRun(i, 0, { status: "failed", error: s.spec.invalid, input: true });
          return;
        }
        const timeoutMs = opts.timeout !== undefined ? opts.timeout * 1000 : undefined;
        let ranFrom = started; // a queued run's time counts from when a worker took it
        const run = opts.remote
          ? opts.remote.start(s.spec, taskOf(s.spec), {
              timeoutMs,
              onStart: () => ((ranFrom = performance.now()), rep.start(s, i, undefined)),
              onProgress: (p) => rep.progress(s, p),
            })
          : pool.run(taskOf(s.spec), { timeoutMs, onProgress: (p) => rep.progress(s, p) });
        active.set(i, run);
        if (!opts.remote) rep.start(s, i, run.pid);
        void run.outcome.then((o) => {
          active.delete(i);
          const seconds = (performance.now() - ranFrom) / 1000;
          if (o.status === "done") {
            try {
              replaceDirAtomic(join(out, s.folder), doneRunFiles(s.spec, batch, o.result.files ?? [], startedAt, seconds));
            } catch (e) {
              finishRun(i, seconds, { status: "failed", error: `cannot write the run's folder: ${(e as Error).message}`, input: false });
              pump();
              return;
            }
          }
          finishRun(i, seconds, o);
          pump();
        });
      };

      const onSignal = (sig: NodeJS.Signals) => {
        if (stopping) {
          for (const c of active.values()) c.kill(); // a second signal: stop now
          return;
        }
        stopping = sig;
        rep.warn(`${sig}: stopping; ${active.size} running run(s) are stopped and will run again on the next batch`);
        for (const c of active.values()) c.kill("SIGTERM");
        pump();
      };
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        const h = () => onSignal(sig);
        process.on(sig, h);
        handlers.push([sig, h]);
      }
      pump();
    });
    for (const [sig, h] of handlers) process.off(sig, h);
    pool.close();

    writeResults(out, states);
    const failed = states.filter((s) => s.status === "failed").length;
    const pending = states.filter((s) => s.status === "pending").length;
    const summary: BatchSummary = {
      runs: states.length,
      done: states.filter((s) => s.status === "done").length,
      failed,
      pending,
      skipped,
      ran,
      seconds: (performance.now() - t0) / 1000,
      results: join(out, "results.csv"),
      exitCode: stopping ? 128 + (stopping === "SIGINT" ? 2 : stopping === "SIGHUP" ? 1 : 15) : failed > 0 ? 1 : 0,
      ...(stopping ? { interrupted: `interrupted by ${stopping}` } : {}),
    };
    rep.end(summary);
    return summary;
  } finally {
    unlock();
  }
}
