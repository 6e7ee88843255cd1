/**
 * The child process of one batch run (forked by ./run-batch.ts). Protocol: the batch sends
 * `{type: "start", spec, runDir, batch}`; the child answers with any number of
 * `{type: "progress"}` (at most one per {@link PROGRESS_INTERVAL_MS}), then exactly one of
 * `{type: "done"}` (the run's folder is in place) or `{type: "failed", error, input}`, and exits.
 *
 * A child never outlives its batch: it exits as soon as the IPC channel closes or it is
 * re-parented (checked on every progress report too, since a solver may not yield for a
 * while), so a batch killed with SIGKILL leaves no orphan computing. The solver modules are
 * loaded only after these handlers are in place (loading them takes a while). Only the folder rename
 * makes a run complete, so a child killed at any point leaves no half-written run.
 */
import type { FromChild, RunProgress, ToChild } from "./types.js";

/** Least time between two progress messages, ms. */
export const PROGRESS_INTERVAL_MS = 100;

function send(msg: FromChild): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

function main(): void {
  if (!process.send) {
    process.stderr.write("tollkit batch child: this script is started by `tollkit batch`, not by hand\n");
    process.exit(2);
  }
  const parent = process.ppid;
  const orphaned = () => process.ppid !== parent || !process.connected;
  process.on("disconnect", () => process.exit(0));
  let started = false;
  process.on("message", (msg: ToChild) => {
    if (msg.type !== "start" || started) return;
    started = true;
    const t0 = performance.now();
    let last = 0;
    const onProgress = (p: RunProgress) => {
      if (orphaned()) process.exit(0);
      const t = performance.now();
      if (t - last < PROGRESS_INTERVAL_MS) return;
      last = t;
      void send({ type: "progress", progress: p });
    };
    import("./execute.js")
      .then(({ executeRun }) => executeRun(msg.spec, msg.runDir, msg.batch, { onProgress }))
      .then(() => send({ type: "done", seconds: (performance.now() - t0) / 1000 }))
      .catch(async (e: unknown) => {
        const input = e instanceof Error && e.name === "InputError"; // isInputError, without loading graph-core first
        await send({ type: "failed", error: e instanceof Error ? e.message : String(e), input });
        if (!input && process.env.TOLLKIT_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
      })
      .finally(() => process.exit(0));
  });
}

main();
