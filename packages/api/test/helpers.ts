/**
 * Helpers of the API tests: start the built `tollkit serve` as a real subprocess on 127.0.0.1
 * with a database in a temp folder (or the app in this process, {@link startApp}), call it, and
 * follow Server-Sent Events.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON responses are untyped here; tests assert their fields */
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { createApp, openStore, type AppOptions, type Store, type TollkitApp } from "@tollkit/api";

export const ROOT = resolve(import.meta.dirname, "..", "..", "..");
export const CLI = join(ROOT, "packages", "cli", "dist", "main.js");

/** A fresh temp folder. */
export function tempDir(prefix = "tollkit-api-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The API app listening on 127.0.0.1 in this process, with its own database in a temp folder. */
export interface InProcessApp {
  store: Store;
  tk: TollkitApp;
  base: string;
  /** Closes the app (giving its running runs `graceMs`), its connections and its database. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Opens a fresh database and serves `createApp({ store, webDir: null, log: silent, ...opts })` on a
 * free port, through the same request listener as `tollkit serve` (`tk.handle`).
 */
export async function startApp(opts: Omit<AppOptions, "store"> = {}): Promise<InProcessApp> {
  const store = openStore(join(tempDir(), "api.db"));
  const tk = createApp({ store, webDir: null, log: () => {}, ...opts });
  const server: Server = createServer(tk.handle).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store,
    tk,
    base,
    async stop(graceMs = 2000) {
      await tk.close(graceMs);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      store.close();
    },
  };
}

/** A `tollkit serve` subprocess. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node packages/cli/dist/main.js serve --port 0 --db <db> …args` and waits for its URL. */
export async function startServe(db: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run pnpm build first`);
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--db", db, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("exit", (code, signal) => r({ code, signal })),
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    const t = setTimeout(() => reject(new Error(`tollkit serve did not start in 60 s: ${err}`)), 60_000);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolveUrl(m[1]);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(t);
      reject(new Error(`tollkit serve exited (${code ?? signal}) before listening: ${err}`));
    });
  });
  return { url, child, stderr: () => err, exited };
}

/** Sends SIGTERM and waits for the exit. */
export async function stopServe(s: ServeProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGTERM");
  return s.exited;
}

/** A JSON response. */
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Calls the API and parses JSON (when the body is JSON). */
export async function call<T = any>(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown; token?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(base + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  data: any;
}

/** Reads a run's event stream until the server ends it (or `timeoutMs`). */
export async function readEvents(base: string, runId: number, timeoutMs = 120_000): Promise<SseEvent[]> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), timeoutMs);
  const res = await fetch(`${base}/api/runs/${runId}/events`, { signal: ac.signal, headers: { accept: "text/event-stream" } });
  if (res.status !== 200) throw new Error(`events: HTTP ${res.status}`);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let k: number;
      while ((k = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, k);
        buf = buf.slice(k + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length) events.push({ event, data: JSON.parse(data.join("\n")) });
      }
    }
  } finally {
    clearTimeout(t);
  }
  return events;
}

/** Polls a run until its status is terminal. */
export async function waitForRun(base: string, id: number, timeoutMs = 120_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const r = await call(base, `/api/runs/${id}`);
    if (["done", "failed", "cancelled", "interrupted"].includes(r.body?.status)) return r.body;
    if (Date.now() - t0 > timeoutMs) throw new Error(`run ${id} still ${r.body?.status} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Parses CSV text with a header into rows of numbers/strings. */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.trim().split("\n");
  return { header: lines[0].split(","), rows: lines.slice(1).map((l) => l.split(",")) };
}
