/**
 * The runner: a child process (forked by {@link ProcessRunQueue}) that executes one run and
 * reports over IPC (structured-clone serialisation, so Float64Arrays pass as they are).
 *
 * Protocol. Parent → child: `{type: "start", job}`, then optionally `{type: "cancel"}`.
 * Child → parent: any number of `{type: "progress", progress}` (at most one per
 * {@link PROGRESS_INTERVAL_MS}, plus the last one), then exactly one of
 * `{type: "done", output}`, `{type: "cancelled"}` or `{type: "failed", error, input}`; then
 * the child exits. The child exits as soon as it notices that its parent is gone (IPC
 * disconnected, or re-parented), so a killed server leaves no orphan computing.
 */
import { isInputError } from "@tollkit/graph-core";
import { executeJob, RunJob, RunProgress } from "./jobs.js";

/** Least time between two progress messages. */
export const PROGRESS_INTERVAL_MS = 100;

/** Messages from the parent. */
export type ToRunner = { type: "start"; job: RunJob } | { type: "cancel" };

/** Messages to the parent. */
export type FromRunner =
  | { type: "progress"; progress: RunProgress }
  | { type: "done"; output: import("./store.js").RunOutput; progress: RunProgress | null }
  | { type: "cancelled" }
  | { type: "failed"; error: string; input: boolean };

function send(msg: FromRunner): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

function main(): void {
  if (!process.send) {
    process.stderr.write("tollkit runner: this script is started by `tollkit serve`, not by hand\n");
    process.exit(2);
  }
  const parent = process.ppid;
  const controller = new AbortController();
  let started = false;
  // The solver may not yield to the event loop between iterations: check for a lost parent
  // from the progress callback too (process.ppid is read live).
  const orphaned = () => process.ppid !== parent || !process.connected;
  process.on("disconnect", () => process.exit(0));

  process.on("message", (msg: ToRunner) => {
    if (msg.type === "cancel") {
      controller.abort();
      return;
    }
    if (msg.type !== "start" || started) return;
    started = true;
    let last = 0;
    let pending: RunProgress | null = null;
    let latest: RunProgress | null = null;
    const onProgress = (p: RunProgress) => {
      if (orphaned()) process.exit(0);
      latest = p;
      const t = performance.now();
      if (t - last >= PROGRESS_INTERVAL_MS) {
        last = t;
        pending = null;
        void send({ type: "progress", progress: p });
      } else pending = p;
    };
    executeJob(msg.job, { onProgress, signal: controller.signal })
      .then(async (outcome) => {
        if (pending) await send({ type: "progress", progress: pending });
        if (outcome.status === "cancelled") await send({ type: "cancelled" });
        else await send({ type: "done", output: outcome.output, progress: latest });
      })
      .catch(async (e: unknown) => {
        const input = isInputError(e);
        await send({ type: "failed", error: e instanceof Error ? e.message : String(e), input });
        if (!input && process.env.TOLLKIT_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
      })
      .finally(() => process.exit(0));
  });
}

main();
