/**
 * What travels through the BullMQ queue: a job's data ({@link RunJobData}: the run's
 * {@link RunTask} as plain JSON, the tollkit version, a time limit and the sha256 of the local
 * files it names) and its return value (the {@link RunResult}, in V8's serialisation — the same
 * structured clone the child-process IPC uses — so Float64Arrays, NaN and ±Infinity arrive as
 * they left; base64 text, since BullMQ stores JSON).
 *
 * Standard networks never travel: the task names them by catalogue id and every worker resolves
 * them itself (cache, `TOLLKIT_NETWORK_MIRROR`, download checked against the catalogue's
 * sha256). Inline networks and scenarios travel in the task, within {@link JOB_LIMITS}. Files
 * named by path (tolls, classes, TNTP/GMNS networks, a scenario's relative paths) travel as
 * absolute paths with their sha256: a worker that cannot read the same bytes at the same path
 * refuses the run as an input error rather than computing something else.
 *
 * A failed job's reason starts with a tag saying what kind of failure it was (BullMQ keeps only
 * the message): {@link FAILURE_TAGS}.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { deserialize, serialize } from "node:v8";
import { InputError } from "@tollkit/graph-core";
import type { RunResult } from "../execute.js";
import type { RunTask } from "../task.js";

const MOD = "runs/queue";

/** The version of tollkit that queues and runs jobs (this package's); a worker refuses another version's jobs. */
export const TOLLKIT_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** The default queue name. */
export const DEFAULT_QUEUE = "tollkit-runs";

/** Limits checked before a job is queued (the API's defaults: a 1 MB body, inline networks of 20000 links). */
export const JOB_LIMITS = { maxJobBytes: 1 << 20, maxInlineLinks: 20000 } as const;

/** A local file a run reads, as the coordinator saw it. */
export interface InputCheck {
  /** Absolute path. */
  path: string;
  sha256: string;
}

/** A job's data. */
export interface RunJobData {
  task: RunTask;
  /** tollkit version of the coordinator; a worker of another version refuses the run. */
  tollkit: string;
  /** Longest the run may take, ms (the run then fails, not retried). */
  timeoutMs?: number;
  /** Local files the run reads and their sha256. */
  inputs?: InputCheck[];
  /** What the run is, for log lines (e.g. the batch's run id or `run 7`). */
  label: string;
}

/** Prefixes of a failed job's reason. An untagged reason is a crash (attempts exhausted, stalled too often). */
export const FAILURE_TAGS = { input: "[input] ", failed: "[failed] ", cancelled: "[cancelled] ", timeout: "[timeout] " } as const;

/** How a failed job's reason reads. */
export function parseFailure(reason: string): { kind: keyof typeof FAILURE_TAGS | "crashed"; error: string } {
  for (const [k, tag] of Object.entries(FAILURE_TAGS))
    if (reason.startsWith(tag)) return { kind: k as keyof typeof FAILURE_TAGS, error: reason.slice(tag.length) };
  return { kind: "crashed", error: reason };
}

/** Encodes a run's result as a job's return value. */
export function encodeResult(r: RunResult): string {
  return serialize(r).toString("base64");
}

/** Decodes a job's return value. */
export function decodeResult(v: unknown): RunResult {
  if (typeof v !== "string")
    throw new Error(`${MOD}: a job returned ${typeof v}, not an encoded run result (a worker of another tollkit?)`);
  return deserialize(Buffer.from(v, "base64")) as RunResult;
}

/** sha256 of a file's bytes. */
export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * Checks a job before it is queued: its size and the size of an inline network.
 * @throws InputError naming the run and the limit
 */
export function checkJobLimits(data: RunJobData): void {
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes > JOB_LIMITS.maxJobBytes)
    throw new InputError(
      MOD,
      `the job of ${data.label} is ${bytes} bytes of JSON; a queued run carries at most ${JOB_LIMITS.maxJobBytes}`,
      { field: "task" },
      "a smaller inline network or scenario, or a network file in the catalogue",
    );
  const t = data.task;
  const net = (t.kind === "design" ? t.scenario : t.scenario?.body) as { network?: unknown } | undefined;
  const inline = net && typeof net.network === "object" && net.network ? (net.network as Record<string, unknown>) : undefined;
  for (const k of ["links", "nodes"])
    if (inline && Array.isArray(inline[k]) && (inline[k] as unknown[]).length > JOB_LIMITS.maxInlineLinks)
      throw new InputError(
        MOD,
        `the inline network of ${data.label} has ${(inline[k] as unknown[]).length} ${k}; a queued run carries at most ${JOB_LIMITS.maxInlineLinks}`,
        { field: `network.${k}` },
        "a smaller inline network, or a network file",
      );
}

/**
 * Checks, on the worker, that the local files a job names are the coordinator's.
 * @throws InputError naming the file that is missing or differs
 */
export function checkInputs(inputs: readonly InputCheck[] | undefined, host: string): void {
  for (const f of inputs ?? []) {
    if (!existsSync(f.path))
      throw new InputError(
        MOD,
        `not on the worker ${host}; files named by path travel as paths, not contents`,
        { file: f.path },
        "the same file at the same path on every worker (a shared folder), or a catalogue network",
      );
    const got = sha256File(f.path);
    if (got !== f.sha256)
      throw new InputError(
        MOD,
        `differs on the worker ${host} (sha256 ${got.slice(0, 12)}…)`,
        { file: f.path },
        `sha256 ${f.sha256.slice(0, 12)}…`,
      );
  }
}
