/**
 * Redis connections of the queue: the URL check, the ioredis options BullMQ is given (commands
 * wait through a Redis restart instead of failing: `maxRetriesPerRequest: null`, reconnecting
 * every ≤ 1 s), and a one-off reachability check so that a wrong URL is one clear error at start.
 */
import { InputError } from "@tollkit/graph-core";
import type { RedisOptions as BullRedisOptions } from "bullmq";
import { Redis } from "ioredis";

const MOD = "runs/queue";

/** The Redis connection options of every queue object (a fresh object each call: BullMQ keeps them). */
export function connectionOptions(url: string): BullRedisOptions {
  return {
    url,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}

/**
 * Checks a Redis URL's form.
 * @param flag the flag that gave it (for the message)
 * @throws InputError when it is not a redis:// or rediss:// URL
 */
export function checkRedisUrl(url: string, flag: string): string {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || !/^rediss?:$/.test(u.protocol) || !u.hostname)
    throw new InputError(
      MOD,
      `got ${JSON.stringify(url)}`,
      { field: flag },
      "a Redis URL such as redis://127.0.0.1:6379 (rediss:// for TLS)",
    );
  return url;
}

/** A short form of a URL for logs (no password). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/**
 * Connects once and pings, so that an unreachable Redis fails at start with one line.
 * @throws InputError naming the flag, the URL and the reason
 */
export async function assertReachable(url: string, flag: string, timeoutMs = 5000): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  r.on("error", () => {}); // reported by connect() below
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw new InputError(
      MOD,
      `cannot reach Redis at ${redactUrl(url)}: ${(e as Error).message}`,
      { field: flag },
      "a running redis-server (see the README's Scaling out)",
    );
  } finally {
    r.disconnect();
  }
}
