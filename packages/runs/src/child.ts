/**
 * The child process of one run, started by {@link startChildRun} (./executor.ts) for the API
 * queue and for `tollkit batch`. It executes one {@link RunTask} and reports over IPC
 * (structured-clone serialisation, so Float64Arrays pass as they are).
 *
 * Protocol. Parent → child: `{type: "start", task}`, then optionally `{type: "cancel"}`.
 * Child → parent: any number of `{type: "progress", progress}` (at most one per
 * {@link PROGRESS_INTERVAL_MS}, plus the last one), then exactly one of
 * `{type: "done", result, progress}`, `{type: "cancelled"}` or `{type: "failed", error, input}`;
 * then the child exits — or, when started with the argument `--reuse` (a {@link ChildPool}
 * child), waits for the next `start`. It exits as soon as it notices that its parent is gone (IPC
 * disconnected, or re-parented; checked on every progress report too, since a solver may not
 * yield for a while), so a killed server or batch leaves no orphan computing. The solver
 * modules are loaded only after these handlers are in place.
 */
import type { RunResult } from "./execute.js";
import { PROGRESS_INTERVAL_MS, RunProgress, RunTask } from "./task.js";

/** Messages from the parent. */
export type ToChild = { type: "start"; task: RunTask } | { type: "cancel" };

/** Messages to the parent. */
export type FromChild =
  | { type: "progress"; progress: RunProgress }
  | { type: "done"; result: RunResult; progress: RunProgress | null }
  | { type: "cancelled" }
  | { type: "failed"; error: string; input: boolean };

function send(msg: FromChild): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

function main(): void {
  if (!process.send) {
    process.stderr.write("tollkit run child: this script is started by tollkit (serve, batch), not by hand\n");
    process.exit(2);
  }
  const parent = process.ppid;
  const reuse = process.argv.includes("--reuse");
  let controller = new AbortController();
  const orphaned = () => process.ppid !== parent || !process.connected;
  process.on("disconnect", () => process.exit(0));
  let started = false;
  process.on("message", (msg: ToChild) => {
    if (msg.type === "cancel") {
      controller.abort();
      return;
    }
    if (msg.type !== "start" || started) return;
    started = true;
    controller = new AbortController();
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
    import("./execute.js")
      .then(({ executeTask }) => executeTask(msg.task, { onProgress, signal: controller.signal }))
      .then(async (outcome) => {
        if (pending) await send({ type: "progress", progress: pending });
        if (outcome.status === "cancelled") await send({ type: "cancelled" });
        else await send({ type: "done", result: outcome.result, progress: latest });
      })
      .catch(async (e: unknown) => {
        const input = e instanceof Error && e.name === "InputError"; // isInputError, without loading graph-core first
        await send({ type: "failed", error: e instanceof Error ? e.message : String(e), input });
        if (!input && process.env.TOLLKIT_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
      })
      .finally(() => {
        if (!reuse) process.exit(0);
        started = false; // ready for the next run
      });
  });
}

main();
