/**
 * Starting and stopping the HTTP server: the store is opened (migrated, crash-recovered), the
 * app built, the port bound. Shutdown (SIGTERM, SIGINT or {@link RunningServer.close}) stops
 * accepting connections, gives running runs `graceMs` to finish (then stops them and marks
 * them `interrupted`), ends open event streams and closes the database.
 */
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { InputError } from "@tollkit/graph-core";
import { AppOptions, createApp, TollkitApp } from "./app.js";
import { openStore, Store } from "./store.js";

/** Options of {@link startServer}. */
export interface ServeOptions extends Omit<AppOptions, "store"> {
  /** Port (0: any free port). Default 8080. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** SQLite database file. Default `$TOLLKIT_DB` or ./tollkit.db. */
  dbPath?: string;
  /** How long running runs may take to finish at shutdown before they are interrupted, ms. Default 1000. */
  graceMs?: number;
  /** Listen on a non-loopback interface with no token (open writes to anyone who reaches it). Default false: refused. */
  allowAnonymousWrites?: boolean;
  /** Shut down on SIGTERM / SIGINT (default true). */
  handleSignals?: boolean;
}

/** A listening server. */
export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  store: Store;
  app: TollkitApp;
  /** Graceful shutdown (idempotent); resolves when the database is closed. */
  close(): Promise<void>;
  /** Resolves when the server has shut down. */
  closed: Promise<void>;
}

/** Whether a listen address is loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The default database path: `$TOLLKIT_DB`, else ./tollkit.db. */
export function defaultDbPath(): string {
  return process.env.TOLLKIT_DB || "tollkit.db";
}

/**
 * Opens the database and starts listening.
 * @throws InputError when the port is invalid or in use, or the database cannot be opened
 */
export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const port = opts.port ?? 8080;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new InputError("api/server", `port ${port}`, { field: "--port" }, "an integer in 0..65535");
  const host = opts.host ?? "127.0.0.1";
  const loopbackOnly = isLoopback(host);
  if (!loopbackOnly && !opts.token && !opts.allowAnonymousWrites)
    throw new InputError(
      "api/server",
      `listening on ${host} without a token would let anyone who reaches this machine start runs`,
      { field: "--host" },
      "a token (--token or TOLLKIT_API_TOKEN), or --allow-anonymous-writes to accept that on purpose",
    );
  if (!loopbackOnly && !opts.token)
    log(`tollkit serve: WARNING: listening on ${host} with no token: anyone who reaches it can start and cancel runs`);
  const store = openStore(opts.dbPath ?? defaultDbPath());
  let tk: TollkitApp;
  try {
    tk = createApp({ ...opts, store, log, loopbackOnly });
  } catch (e) {
    store.close();
    throw e;
  }
  const server = createServer(tk.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    await tk.close(0);
    store.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new InputError("api/server", `port ${port} on ${host} is already in use`, { field: "--port" }, "a free port (or 0 for any)");
    if (code === "EACCES")
      throw new InputError("api/server", `not allowed to listen on port ${port}`, { field: "--port" }, "a port above 1023");
    throw e;
  }
  const actual = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${actual}`;

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const onSignal = (sig: NodeJS.Signals) => {
    if (closing) {
      log(`tollkit serve: ${sig} again, exiting now`);
      process.exit(1);
    }
    log(`tollkit serve: ${sig}: shutting down (running runs get ${(opts.graceMs ?? 1000) / 1000} s to finish)`);
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      server.closeIdleConnections();
      await tk.close(opts.graceMs ?? 1000);
      server.closeAllConnections();
      store.close();
      if (opts.handleSignals !== false) {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
      log("tollkit serve: stopped; database closed");
      resolveClosed();
    })();
    return closing;
  };
  if (opts.handleSignals !== false) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  return { url, port: actual, server, store, app: tk, close, closed };
}
