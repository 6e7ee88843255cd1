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
  /** How long running runs may take to finish at shutdown, ms. Default 10000. */
  graceMs?: number;
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
  const store = openStore(opts.dbPath ?? defaultDbPath());
  let tk: TollkitApp;
  try {
    tk = createApp({ ...opts, store, log });
  } catch (e) {
    store.close();
    throw e;
  }
  const server = createServer(tk.app);
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
    log(`tollkit serve: ${sig}: shutting down (running runs get ${(opts.graceMs ?? 10000) / 1000} s to finish)`);
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      server.closeIdleConnections();
      await tk.close(opts.graceMs ?? 10000);
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
