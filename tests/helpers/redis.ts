/**
 * A real Redis for tests: Debian's `redis-server` (CI installs it: .ci/run) on a free port, in a
 * temporary folder, with append-only persistence so that a restart keeps the queue (as a
 * production Redis would be configured). {@link TestRedis.restart} stops it (SIGTERM: it writes
 * its data) and starts it again on the same port; {@link TestRedis.stop} stops it and removes
 * the folder. {@link startWorker} starts a `tollkit worker` on it.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnTollkit } from "./cli.js";

/** The redis-server binary (override with REDIS_SERVER). */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? "redis-server";

/** True when redis-server can be run here. */
export function hasRedis(): boolean {
  return spawnSync(REDIS_SERVER, ["--version"], { encoding: "utf8" }).status === 0;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running test Redis. */
export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** Stops it (SIGTERM, waits for the exit), waits `downMs`, starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const p = spawn(
    REDIS_SERVER,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--save",
      "",
      "--daemonize",
      "no",
      "--protected-mode",
      "no",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}: ${out}`)), 10000);
    p.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
  p.stdout!.resume();
  p.stderr!.resume();
  return p;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", () => r()));
}

/** Starts a Redis on a free port in a fresh temporary folder. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tollkit-redis-"));
  let proc = await launch(port, dir);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart(downMs = 1000) {
      proc.kill("SIGTERM");
      await exited(proc);
      await new Promise((r) => setTimeout(r, downMs));
      proc = await launch(port, dir);
    },
    async stop() {
      proc.kill("SIGTERM");
      await exited(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A `tollkit worker` subprocess. */
export interface TestWorker {
  proc: ChildProcess;
  /** Its stderr so far (one line per run). */
  log: () => string;
}

/** Starts `tollkit worker --redis url` (runs of a killed worker are retried after 2 s) and waits until it takes runs. */
export async function startWorker(url: string, args: string[] = []): Promise<TestWorker> {
  const proc = spawnTollkit(["worker", "--redis", url, "--stalled-seconds", "2", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const t0 = Date.now();
  while (!/taking runs/.test(log)) {
    if (proc.exitCode !== null) throw new Error(`worker exited: ${log}`);
    if (Date.now() - t0 > 20000) throw new Error(`worker did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, log: () => log };
}

/** Kills a worker (SIGKILL) and waits for its exit. */
export function stopWorker(w: TestWorker): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    w.proc.once("exit", () => r());
    w.proc.kill("SIGKILL");
  });
}
