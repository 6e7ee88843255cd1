/**
 * The RunQueue contract, on the in-process queue with real runner processes: bounded
 * concurrency, FIFO, per-job event order (started, progress…, one terminal event), cancelling
 * queued and running jobs, and close() interrupting what still runs. A Redis-backed queue would
 * have to pass the same checks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { ProcessRunQueue, QueueEvent, QueuedRun } from "@tollkit/api";

const long = (runId: number): QueuedRun => ({
  runId,
  task: { kind: "assign", network: "sioux-falls", settings: { algorithm: "fw", objective: "ue", gap: 1e-14, maxSeconds: 120 } },
});
const quick = (runId: number): QueuedRun => ({
  runId,
  task: { kind: "assign", network: "braess-builtin", settings: { algorithm: "fw", objective: "ue", gap: 1e-6 } },
});

function until(events: QueueEvent[], pred: (e: QueueEvent[]) => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pred(events)) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timed out; events: ${events.map((e) => `${e.runId}:${e.type}`).join(" ")}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

/** The pids of this process's children running the runner script (from /proc). */
function runnerChildren(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, "utf8").includes("child.js")) pids.push(Number(d));
    } catch {
      // the process ended while it was read
    }
  }
  return pids;
}

const terminal = (e: QueueEvent) => ["done", "failed", "cancelled", "interrupted"].includes(e.type);

describe("ProcessRunQueue", () => {
  it("runs at most `concurrency` jobs, in order, each with started → progress → one terminal event", async () => {
    const q = new ProcessRunQueue({ concurrency: 2 });
    const events: QueueEvent[] = [];
    q.subscribe((e) => events.push(e));
    q.enqueue(long(1));
    q.enqueue(long(2));
    q.enqueue(quick(3));
    expect(q.stats()).toEqual({ running: 2, queued: 1, concurrency: 2 });
    await until(
      events,
      (ev) => ev.some((e) => e.runId === 1 && e.type === "progress") && ev.some((e) => e.runId === 2 && e.type === "progress"),
    );
    expect(events.some((e) => e.runId === 3)).toBe(false); // waits for a slot

    // cancelling a running job frees its slot for the queued one
    expect(await q.cancel(1)).toBe(true);
    await until(events, (ev) => ev.some((e) => e.runId === 3 && e.type === "done"));
    expect(await q.cancel(99)).toBe(false);

    await q.close(0); // job 2 still runs: interrupted
    expect(q.stats().running).toBe(0);
    for (const id of [1, 2, 3]) {
      const mine = events.filter((e) => e.runId === id);
      expect(mine[0].type).toBe("started");
      expect(mine.filter(terminal)).toHaveLength(1);
      expect(terminal(mine[mine.length - 1])).toBe(true);
    }
    expect(events.find((e) => e.runId === 1 && terminal(e))!.type).toBe("cancelled");
    expect(events.find((e) => e.runId === 2 && terminal(e))!.type).toBe("interrupted");
    const done = events.find((e) => e.runId === 3 && e.type === "done") as Extract<QueueEvent, { type: "done" }>;
    expect(done.output.summary.tstt).toBeCloseTo(552, 2); // Braess UE
    expect(Array.from(done.output.links.columns.flow).map((x) => Math.round(x * 1e3) / 1e3)).toEqual([4, 2, 2, 2, 4]);
    expect(() => q.enqueue(quick(4))).toThrow(/closed/);
  });

  it("cancelling a queued job emits cancelled at once and it never starts", async () => {
    const q = new ProcessRunQueue({ concurrency: 1 });
    const events: QueueEvent[] = [];
    q.subscribe((e) => events.push(e));
    q.enqueue(long(1));
    q.enqueue(quick(2));
    expect(await q.cancel(2)).toBe(true);
    expect(events.filter((e) => e.runId === 2).map((e) => e.type)).toEqual(["cancelled"]);
    await q.cancel(1);
    await q.close(0);
    expect(events.filter((e) => e.runId === 2).map((e) => e.type)).toEqual(["cancelled"]);
  });

  it("a job that fails reports the runner's message (an unknown network is refused by id)", async () => {
    const q = new ProcessRunQueue();
    const events: QueueEvent[] = [];
    q.subscribe((e) => events.push(e));
    q.enqueue({ runId: 1, task: { kind: "assign", network: "../../etc/passwd", settings: { algorithm: "fw", gap: 1e-4 } } });
    await until(events, (ev) => ev.some(terminal));
    const f = events.find(terminal) as Extract<QueueEvent, { type: "failed" }>;
    expect(f.type).toBe("failed");
    expect(f.error).toMatch(/unknown network "\.\.\/\.\.\/etc\/passwd"/);
    await q.close(0);
  });

  it.runIf(process.platform === "linux")(
    "runs at niceness 10 by default (they yield the CPU to the server), or at the niceness given",
    async () => {
      for (const [opts, expected] of [
        [{}, 10],
        [{ niceness: 3 }, 3],
      ] as const) {
        const q = new ProcessRunQueue(opts);
        const events: QueueEvent[] = [];
        q.subscribe((e) => events.push(e));
        q.enqueue(long(1));
        await until(events, (ev) => ev.some((e) => e.type === "progress"));
        const pids = runnerChildren();
        expect(pids).toHaveLength(1);
        expect(getPriority(pids[0])).toBe(expected);
        await q.cancel(1);
        await q.close(0);
      }
      expect(() => new ProcessRunQueue({ niceness: 20 })).toThrow(/niceness 20 \(expected an integer in 0\.\.19\)/);
    },
  );

  it("refuses a concurrency outside 1..64", () => {
    expect(() => new ProcessRunQueue({ concurrency: 0 })).toThrow(/concurrency 0/);
    expect(() => new ProcessRunQueue({ concurrency: 1.5 })).toThrow(/concurrency/);
  });
});
