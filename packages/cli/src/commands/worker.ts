/**
 * `tollkit worker --redis URL [--concurrency N] [--queue NAME]`: takes runs (assignments,
 * designs, batch items) from a BullMQ queue on Redis and runs each in its own child process;
 * see @tollkit/runs/queue for what travels and how faults are handled.
 */
import { Command, Option } from "commander";
import { InputError } from "@tollkit/graph-core";

const MOD = "cli/worker";

function integer(flag: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^[0-9]+$/.test(v.trim()) || !(n >= min && n <= max))
      throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: flag }, `an integer in ${min}..${max}`);
    return n;
  };
}

function positiveSeconds(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new InputError(MOD, `got ${JSON.stringify(v)}`, { field: flag }, "seconds > 0");
    return n;
  };
}

const HELP = `
A worker resolves standard networks from its own cache (networks/.cache) or
$TOLLKIT_NETWORK_MIRROR, or downloads them (checked against the catalogue's sha256). Files a run
names by path (tolls, classes, TNTP or GMNS networks) must be at the same path on the worker,
with the same bytes (their sha256 travels with the job).
One log line per run on stderr. SIGTERM or SIGINT: finish the running runs, then exit; a
second signal stops them now (the queue gives them to another worker).

Examples:
  tollkit worker --redis redis://queue.example.org:6379
  tollkit worker --redis redis://127.0.0.1:6379 --concurrency 2 --queue city-studies`;

/** Adds `tollkit worker` to the program. */
export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("Run runs from a BullMQ queue on Redis (for tollkit batch --queue and tollkit serve --redis)")
    .requiredOption("--redis <url>", "Redis URL, e.g. redis://127.0.0.1:6379")
    .addOption(
      new Option("--concurrency <n>", "runs at once, each in its own process").default(1).argParser(integer("--concurrency", 1, 64)),
    )
    .option("--queue <name>", "queue name", "tollkit-runs")
    .addOption(
      new Option("--stalled-seconds <s>", "how soon the run of a worker that died is given to another worker (lock duration)")
        .default(30)
        .argParser(positiveSeconds("--stalled-seconds")),
    )
    .addHelpText("after", HELP)
    .action(async (opts: { redis: string; concurrency: number; queue: string; stalledSeconds: number }) => {
      const { assertReachable, checkRedisUrl, startRunWorker } = await import("@tollkit/runs/queue");
      checkRedisUrl(opts.redis, "--redis");
      if (!/^[A-Za-z0-9_.-]+$/.test(opts.queue))
        throw new InputError(MOD, `got ${JSON.stringify(opts.queue)}`, { field: "--queue" }, "letters, digits, _ . -");
      await assertReachable(opts.redis, "--redis");
      const w = await startRunWorker({
        redis: opts.redis,
        queue: opts.queue,
        concurrency: opts.concurrency,
        lockMs: Math.round(opts.stalledSeconds * 1000),
      });
      await new Promise<void>((resolveStop) => {
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) {
            process.stderr.write(`tollkit worker: ${sig} again: stopping the running runs (they go to another worker)\n`);
            process.exit(128 + (sig === "SIGINT" ? 2 : 15));
          }
          stopping = true;
          process.stderr.write(`tollkit worker: ${sig}: finishing the running runs, then exiting\n`);
          void w.close().then(resolveStop);
        };
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
      });
      process.stderr.write("tollkit worker: stopped\n");
    });
}
