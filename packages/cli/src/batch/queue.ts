/**
 * `tollkit batch … --queue redis://…`: the batch's runs go to `tollkit worker` processes
 * through a BullMQ queue instead of local child processes. Everything else is the local batch:
 * the same plan, run folders, results.csv, resuming and progress; the batch stays the only
 * writer of OUT (a worker returns the run's files, `RunTask.files`).
 *
 * What travels in a job: the run's task (a design's scenario JSON, inline networks included;
 * an assignment's settings), with every path made absolute, and the sha256 of each local file
 * the run reads (tolls, classes, a TNTP or GMNS network): a worker on the same machine, or one
 * that sees the same files at the same paths, runs it; any other refuses it as an input error.
 * Catalogue networks travel as ids. Job ids are `batch-<hash of host and OUT>-<run id>`, so a batch
 * interrupted and started again on the same OUT adopts the jobs still in the queue (and the
 * results of runs that finished meanwhile) rather than running them twice.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { isInputError, isNetworkId } from "@tollkit/graph-core";
import type { ChildOutcome, ChildRun, RunProgress, RunTask } from "@tollkit/runs";
import type { InputCheck, QueueClient } from "@tollkit/runs/queue";
import { RunSpec } from "./types.js";

/** Starts runs somewhere other than a local child process. */
export interface RemoteRunner {
  /** Starts one run; `onStart` is called when a worker takes it (again, after a retry). */
  start(spec: RunSpec, task: RunTask, hooks: { onStart: () => void; onProgress: (p: RunProgress) => void; timeoutMs?: number }): ChildRun;
  close(): Promise<void>;
}

const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));

/** The task with every path absolute (a worker's working folder is not the batch's). */
export function absoluteTask(task: RunTask): RunTask {
  if (task.kind === "design") return { ...task, label: abs(task.label) };
  const s = task.settings;
  const file = (f: unknown) => (f && typeof f === "object" && !Array.isArray(f) ? { file: abs((f as { file: string }).file) } : f);
  return {
    ...task,
    network: isNetworkId(task.network) ? task.network : abs(task.network),
    settings: { ...s, tolls: file(s.tolls) as typeof s.tolls, classes: file(s.classes) as typeof s.classes },
  };
}

/** The local files a run reads, with the sha256 the plan recorded. */
export function inputChecks(spec: RunSpec): InputCheck[] {
  const out: InputCheck[] = [];
  for (const i of spec.inputs) {
    if ((i.role === "tolls" || i.role === "classes") && typeof i.sha256 === "string") out.push({ path: abs(i.name), sha256: i.sha256 });
    if (i.role === "network" && i.files && !isNetworkId(i.name)) {
      const p = abs(i.name);
      const dir = existsSync(p) && statSync(p).isDirectory() ? p : dirname(p);
      for (const f of i.files) if (f.sha256) out.push({ path: join(dir, f.name), sha256: f.sha256 });
    }
  }
  return out;
}

/**
 * Connects a batch to a queue.
 * @param out the batch's output folder (names its jobs)
 * @throws InputError when the URL is malformed or Redis cannot be reached
 */
export async function queueRunner(url: string, queueName: string, out: string): Promise<RemoteRunner> {
  const { assertReachable, checkRedisUrl, QueueClient: Client } = await import("@tollkit/runs/queue");
  checkRedisUrl(url, "--queue");
  await assertReachable(url, "--queue");
  const client: QueueClient = await Client.open({ redis: url, queue: queueName });
  const seen = await client.snapshot().catch(() => undefined);
  if (seen && seen.workers === 0)
    process.stderr.write(
      `tollkit batch: no worker is connected to queue "${queueName}" yet; runs wait until one starts (tollkit worker --redis ${url})\n`,
    );
  const prefix = `batch-${createHash("sha256")
    .update(`${hostname()}:${resolve(out)}`)
    .digest("hex")
    .slice(0, 10)}`;
  return {
    start(spec, task, hooks) {
      let job;
      try {
        job = client.submit(
          `${prefix}-${spec.id.replace(/:/g, "_")}`,
          {
            task: absoluteTask(task),
            label: spec.id,
            inputs: inputChecks(spec),
            ...(hooks.timeoutMs !== undefined ? { timeoutMs: hooks.timeoutMs } : {}),
          },
          { onStart: hooks.onStart, onProgress: hooks.onProgress },
        );
      } catch (e) {
        // over the limits of a queued run: this run fails, the others go on
        const outcome = Promise.resolve<ChildOutcome>({ status: "failed", error: (e as Error).message, input: isInputError(e) });
        return { pid: undefined, outcome, cancel() {}, kill() {} };
      }
      const j = job;
      return { pid: undefined, outcome: j.outcome, cancel: () => j.cancel(), kill: () => j.abandon() };
    },
    close: () => client.close(),
  };
}
