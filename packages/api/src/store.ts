/**
 * The SQLite store of the API: networks, scenarios, runs and results, through better-sqlite3
 * in WAL mode.
 *
 * Schema versions live in {@link MIGRATIONS}, applied in order inside one transaction each,
 * with `PRAGMA user_version` recording the version reached. A database written by a newer
 * tollkit (user_version above the newest migration) is refused rather than guessed at.
 *
 * Invariants:
 * - A run's status moves queued → running → done | failed | cancelled, or to `interrupted`
 *   when the server stopped while it ran. A `done` run always has its `results` row: both are
 *   written in one transaction ({@link Store.finishRun}), so a crash can never leave a done run
 *   without results. The only other runs with results are `failed` designs that stopped early
 *   on an error and kept their best design so far (partial results).
 * - Per-link results are one BLOB: `columns.length` little-endian Float64 columns of
 *   `link_count` values each, column-major (column j occupies values j·m … j·m + m − 1).
 *   Link id = index + 1.
 * - A run's convergence report (or a design's search history) is one `convergence_rows` row per
 *   iteration (`k` = 0, 1, …, JSON object per row), its column names in `results.convergence`, so
 *   that pages are read without parsing the whole report.
 * - A deleted run (schema version 5) keeps its `runs` row with `deleted_at` set and loses its
 *   `results` and `od_results` rows. Every read skips it, and because its row stays, SQLite never
 *   gives its id to a new run (an INTEGER PRIMARY KEY without AUTOINCREMENT reuses the largest
 *   id once that row is gone). Only finished (terminal) runs can be deleted.
 * - Times are ISO 8601 strings in UTC.
 * - Every write goes through {@link Store.write}: a storage failure (a full disk, an I/O error)
 *   marks the store `degraded` with its reason ({@link Store.storage}) and is rethrown; the next
 *   write that succeeds marks it `ok`.
 */
import Database from "better-sqlite3";
import { existsSync, statSync } from "node:fs";
import { InputError } from "@tollkit/graph-core";
import type { KeptBushes, LinkColumns, RunOutput, SkimTable } from "@tollkit/runs";
import { packBushes, packSkims, unpackBushes, unpackSkims } from "./od-store.js";

const MOD = "api/store";

/** Run statuses; the last four are terminal. */
export const RUN_STATUSES = ["queued", "running", "done", "failed", "cancelled", "interrupted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses after which a run never changes again. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ["done", "failed", "cancelled", "interrupted"];

/** Run kinds: a follower equilibrium (`assign`) or a leader toll design (`design`). */
export const RUN_KINDS = ["assign", "design"] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** A schema migration: applied once, in a transaction, when user_version < version. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Every schema version, oldest first. Append only: never edit a migration that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "networks, scenarios, runs, results",
    sql: `
      CREATE TABLE networks (
        id         TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('catalogue', 'builtin')),
        name       TEXT NOT NULL,
        info       TEXT,             -- JSON summary once the network has been loaded
        updated_at TEXT NOT NULL
      );
      CREATE TABLE scenarios (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        network_id TEXT NOT NULL,
        body       TEXT NOT NULL,    -- the scenario JSON as validated
        created_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('assign', 'design')),
        network_id  TEXT NOT NULL,
        scenario_id INTEGER REFERENCES scenarios(id),
        settings    TEXT NOT NULL,   -- JSON, the effective settings
        status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
        progress    TEXT,            -- JSON of the last progress event
        error       TEXT,
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT
      );
      CREATE INDEX runs_status ON runs(status);
      CREATE TABLE results (
        run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        summary     TEXT NOT NULL,   -- JSON
        convergence TEXT NOT NULL,   -- JSON, columnar
        link_count  INTEGER NOT NULL,
        columns     TEXT NOT NULL,   -- JSON array of column names
        data        BLOB NOT NULL    -- Float64 little-endian, column-major
      );
    `,
  },
  {
    version: 2,
    description: "OD results: skims and bushes of a run (./od-store.ts)",
    sql: `
      CREATE TABLE od_results (
        run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        skims_meta  TEXT,            -- JSON, see od-store.ts
        skims       BLOB,
        bushes_meta TEXT,
        bushes      BLOB
      );
    `,
  },
  {
    version: 3,
    description: "run names (set by planners: PATCH /api/runs/:id)",
    sql: `ALTER TABLE runs ADD COLUMN name TEXT;`,
  },
  {
    version: 4,
    description: "convergence reports and search histories one row per iteration (paged reads); the storage probe of GET /api/health",
    sql: `
      CREATE TABLE convergence_rows (
        run_id INTEGER NOT NULL REFERENCES results(run_id) ON DELETE CASCADE,
        k      INTEGER NOT NULL,     -- 0-based row (iteration or evaluated design) number
        row    TEXT NOT NULL,        -- JSON object {column: value}
        PRIMARY KEY (run_id, k)
      ) WITHOUT ROWID;
      -- the columnar reports of earlier versions, one row per index of their first column (values
      -- copied as JSON: json_extract would turn true/false into 1/0)
      INSERT INTO convergence_rows (run_id, k, row)
        SELECT r.run_id, CAST(it.key AS INTEGER),
               (SELECT json_group_object(c.key, json(c.value -> ('$[' || it.key || ']'))) FROM json_each(r.convergence) c)
        FROM results r, json_each(r.convergence, '$.' || (SELECT key FROM json_each(r.convergence) LIMIT 1)) it
        WHERE json_valid(r.convergence) AND r.convergence <> '{}';
      UPDATE results SET convergence = (SELECT json_group_array(key) FROM json_each(results.convergence))
        WHERE json_valid(convergence) AND json_type(convergence) = 'object';
      CREATE TABLE storage_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL);
    `,
  },
  {
    version: 5,
    description: "deleted runs (DELETE /api/runs/:id): the run's row stays as a tombstone so that its id is never given again",
    sql: `ALTER TABLE runs ADD COLUMN deleted_at TEXT;`,
  },
];

/** A stored scenario. */
export interface ScenarioRow {
  id: number;
  name: string;
  network: string;
  body: unknown;
  createdAt: string;
}

/** A stored run (without its per-link results). */
export interface RunRow {
  id: number;
  kind: RunKind;
  network: string;
  scenario: number | null;
  settings: Record<string, unknown>;
  status: RunStatus;
  progress: Record<string, unknown> | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** A planner's name for the run (null: none given). */
  name: string | null;
}

export type { LinkColumns, RunOutput } from "@tollkit/runs";

interface RawRun {
  id: number;
  kind: RunKind;
  network_id: string;
  scenario_id: number | null;
  settings: string;
  status: RunStatus;
  progress: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  name?: string | null;
}

function now(): string {
  return new Date().toISOString();
}

function toRun(r: RawRun): RunRow {
  return {
    id: r.id,
    kind: r.kind,
    network: r.network_id,
    scenario: r.scenario_id,
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    status: r.status,
    progress: r.progress ? (JSON.parse(r.progress) as Record<string, unknown>) : null,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    name: r.name ?? null,
  };
}

/** Packs named Float64 columns into one BLOB (column-major, little-endian). */
export function packColumns(links: LinkColumns): { columns: string[]; data: Buffer } {
  const names = Object.keys(links.columns);
  const m = links.linkCount;
  const all = new Float64Array(names.length * m);
  names.forEach((n, j) => {
    const col = links.columns[n];
    if (col.length !== m) throw new Error(`${MOD}: column "${n}" has ${col.length} values, expected ${m}`);
    all.set(col, j * m);
  });
  return { columns: names, data: Buffer.from(all.buffer, all.byteOffset, all.byteLength) };
}

/** The inverse of {@link packColumns}. Copies the bytes (a Buffer need not be 8-byte aligned). */
export function unpackColumns(linkCount: number, columns: string[], data: Buffer): LinkColumns {
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  const all = new Float64Array(copy.buffer);
  if (all.length !== columns.length * linkCount)
    throw new Error(`${MOD}: result data has ${all.length} values, expected ${columns.length * linkCount}`);
  const out: Record<string, Float64Array> = {};
  columns.forEach((n, j) => (out[n] = all.subarray(j * linkCount, (j + 1) * linkCount)));
  return { linkCount, columns: out };
}

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** Open read-only (no migrations). */
  readonly?: boolean;
  /**
   * A test hook: while it returns true, every write throws SQLite's own SQLITE_FULL error, as a
   * full disk would. Default: while the file named by `TOLLKIT_TEST_STORE_FULL` exists (unset:
   * never), so that a test can fill and free the "disk" of a real server process.
   */
  failWrites?: () => boolean;
}

/** SQLite result codes that mean the storage under the database failed (not the request). */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|PROTOCOL|NOLFS)/;

/**
 * Whether an error is a failure of the storage (disk full, I/O error, read-only or locked
 * database) rather than of the request; with the HTTP status to answer: 507 (Insufficient
 * Storage) for a full disk, 503 for the others.
 */
export function storageFailure(e: unknown): { code: string; message: string; status: 503 | 507 } | undefined {
  const code = (e as { code?: unknown })?.code;
  if (!(e instanceof Database.SqliteError) || typeof code !== "string" || !STORAGE_CODES.test(code)) return undefined;
  return { code, message: e.message, status: code.startsWith("SQLITE_FULL") ? 507 : 503 };
}

/** The state of the storage as the last write found it (`GET /api/health`). */
export type StorageState = { status: "ok" } | { status: "degraded"; code: string; reason: string; since: string; failedWrites: number };

function fileHook(): (() => boolean) | undefined {
  const f = process.env.TOLLKIT_TEST_STORE_FULL;
  return f ? () => existsSync(f) : undefined;
}

/**
 * The API's database. All methods are synchronous (better-sqlite3); each write is one
 * statement or one transaction.
 */
export class Store {
  readonly db: Database.Database;
  readonly path: string;
  readonly schemaVersion: number;
  private readonly failWrites: (() => boolean) | undefined;
  private state: StorageState = { status: "ok" };

  constructor(path: string, opts: StoreOptions = {}) {
    this.path = path;
    this.failWrites = opts.failWrites ?? fileHook();
    if (path !== ":memory:" && existsSync(path) && statSync(path).isDirectory())
      throw new InputError(MOD, "is a directory", { file: path }, "a database file path (it is created when missing)");
    try {
      this.db = new Database(path, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
      this.db.pragma("busy_timeout = 5000");
      if (!opts.readonly) {
        this.db.pragma("journal_mode = WAL");
        // FULL: a committed result survives a power cut as well as a crash of the server.
        this.db.pragma("synchronous = FULL");
      }
      this.db.pragma("foreign_keys = ON");
    } catch (e) {
      throw new InputError(MOD, `cannot open the database: ${(e as Error).message}`, { file: path }, "a writable SQLite database file");
    }
    this.schemaVersion = opts.readonly ? (this.db.pragma("user_version", { simple: true }) as number) : this.migrate();
  }

  /** Applies pending migrations; returns the schema version reached. */
  private migrate(): number {
    let version: number;
    try {
      version = this.db.pragma("user_version", { simple: true }) as number;
    } catch (e) {
      throw new InputError(MOD, `not a SQLite database: ${(e as Error).message}`, { file: this.path }, "a tollkit database file");
    }
    const newest = MIGRATIONS[MIGRATIONS.length - 1].version;
    if (version > newest)
      throw new InputError(
        MOD,
        `the database has schema version ${version}, written by a newer tollkit`,
        { file: this.path },
        `schema version ≤ ${newest}`,
      );
    for (const m of MIGRATIONS) {
      if (m.version <= version) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.pragma(`user_version = ${m.version}`);
      })();
      version = m.version;
    }
    return version;
  }

  /** The storage as the last write found it. */
  get storage(): StorageState {
    return this.state;
  }

  /**
   * Runs one write (a statement or a transaction). A storage failure (see
   * {@link storageFailure}) marks the store `degraded` with its reason and is rethrown; a write
   * that succeeds marks it `ok` again.
   */
  private write<T>(f: () => T): T {
    try {
      if (this.failWrites?.()) throw new Database.SqliteError("database or disk is full", "SQLITE_FULL");
      const out = f();
      if (this.state.status !== "ok") this.state = { status: "ok" };
      return out;
    } catch (e) {
      const s = storageFailure(e);
      if (s)
        this.state =
          this.state.status === "degraded"
            ? { ...this.state, code: s.code, reason: s.message, failedWrites: this.state.failedWrites + 1 }
            : { status: "degraded", code: s.code, reason: s.message, since: now(), failedWrites: 1 };
      throw e;
    }
  }

  /**
   * Writes one row to probe whether the storage takes writes again (health checks of a
   * degraded store); returns the state afterwards.
   */
  probeStorage(): StorageState {
    try {
      this.write(() =>
        this.stmt("INSERT INTO storage_probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at").run(now()),
      );
    } catch (e) {
      if (!storageFailure(e)) throw e;
    }
    return this.state;
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, prepared once per SQL text. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  /** Closes the database (checkpointing the WAL). */
  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- networks -------------------------------------------------------------------------

  /** Records the networks the server knows (catalogue and built-in), keeping cached info. */
  syncNetworks(rows: { id: string; kind: "catalogue" | "builtin"; name: string }[]): void {
    const up = this.stmt(
      `INSERT INTO networks (id, kind, name, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name`,
    );
    this.write(() =>
      this.db.transaction(() => {
        for (const r of rows) up.run(r.id, r.kind, r.name, now());
      })(),
    );
  }

  /** The cached summary of a loaded network, if any. */
  networkInfo(id: string): Record<string, unknown> | undefined {
    const r = this.stmt("SELECT info FROM networks WHERE id = ?").get(id) as { info: string | null } | undefined;
    return r?.info ? (JSON.parse(r.info) as Record<string, unknown>) : undefined;
  }

  /** Caches the summary of a loaded network. */
  setNetworkInfo(id: string, info: unknown): void {
    this.write(() => this.stmt("UPDATE networks SET info = ?, updated_at = ? WHERE id = ?").run(JSON.stringify(info), now(), id));
  }

  // ---- scenarios ------------------------------------------------------------------------

  /**
   * Stores a scenario and returns it. `network` null: the scenario carries its own network,
   * named `scenario:<id>` after the scenario (set in the same transaction).
   */
  createScenario(name: string, network: string | null, body: unknown): ScenarioRow {
    return this.write(() =>
      this.db.transaction(() => {
        const createdAt = now();
        const r = this.stmt("INSERT INTO scenarios (name, network_id, body, created_at) VALUES (?, ?, ?, ?)").run(
          name,
          network ?? "scenario:pending",
          JSON.stringify(body),
          createdAt,
        );
        const id = Number(r.lastInsertRowid);
        const net = network ?? `scenario:${id}`;
        if (network === null) this.stmt("UPDATE scenarios SET network_id = ? WHERE id = ?").run(net, id);
        return { id, name, network: net, body, createdAt };
      })(),
    );
  }

  /** One scenario, or undefined. */
  getScenario(id: number): ScenarioRow | undefined {
    const r = this.stmt("SELECT * FROM scenarios WHERE id = ?").get(id) as
      { id: number; name: string; network_id: string; body: string; created_at: string } | undefined;
    return r && { id: r.id, name: r.name, network: r.network_id, body: JSON.parse(r.body), createdAt: r.created_at };
  }

  /** Scenarios, newest first. */
  listScenarios(limit: number, offset: number): { total: number; items: Omit<ScenarioRow, "body">[] } {
    const total = (this.stmt("SELECT count(*) AS n FROM scenarios").get() as { n: number }).n;
    const items = (
      this.stmt("SELECT id, name, network_id, created_at FROM scenarios ORDER BY id DESC LIMIT ? OFFSET ?").all(limit, offset) as {
        id: number;
        name: string;
        network_id: string;
        created_at: string;
      }[]
    ).map((r) => ({ id: r.id, name: r.name, network: r.network_id, createdAt: r.created_at }));
    return { total, items };
  }

  // ---- runs -----------------------------------------------------------------------------

  /** Inserts a queued run. */
  createRun(kind: RunKind, network: string, scenario: number | null, settings: Record<string, unknown>): RunRow {
    const r = this.write(() =>
      this.stmt("INSERT INTO runs (kind, network_id, scenario_id, settings, status, created_at) VALUES (?, ?, ?, ?, 'queued', ?)").run(
        kind,
        network,
        scenario,
        JSON.stringify(settings),
        now(),
      ),
    );
    return this.getRun(Number(r.lastInsertRowid))!;
  }

  /** One run, or undefined. */
  getRun(id: number): RunRow | undefined {
    const r = this.stmt("SELECT * FROM runs WHERE id = ? AND deleted_at IS NULL").get(id) as RawRun | undefined;
    return r && toRun(r);
  }

  /** A run's status and name, or undefined (a cheap read: no settings, no JSON). */
  runState(id: number): { status: RunStatus; name: string | null } | undefined {
    return this.stmt("SELECT status, name FROM runs WHERE id = ? AND deleted_at IS NULL").get(id) as
      { status: RunStatus; name: string | null } | undefined;
  }

  /**
   * Deletes a finished run: its results and OD results go, its row stays as a tombstone (so its
   * id is never reused) and every read skips it. One transaction.
   * @returns "deleted"; "missing" when there is no such run (or it was deleted before); "live"
   *   when the run is queued or running (cancel it first) — in both cases nothing changes
   */
  deleteRun(id: number): "deleted" | "missing" | "live" {
    return this.write(() =>
      this.db.transaction(() => {
        const r = this.stmt(
          "UPDATE runs SET deleted_at = ?, progress = NULL WHERE id = ? AND deleted_at IS NULL AND status NOT IN ('queued', 'running')",
        ).run(now(), id);
        if (r.changes !== 1) return this.getRun(id) ? ("live" as const) : ("missing" as const);
        this.stmt("DELETE FROM convergence_rows WHERE run_id = ?").run(id);
        this.stmt("DELETE FROM results WHERE run_id = ?").run(id);
        this.stmt("DELETE FROM od_results WHERE run_id = ?").run(id);
        return "deleted" as const;
      })(),
    );
  }

  /** Names a run (null clears the name); false when there is no such run. */
  setRunName(id: number, name: string | null): boolean {
    return this.write(() => this.stmt("UPDATE runs SET name = ? WHERE id = ? AND deleted_at IS NULL").run(name, id)).changes === 1;
  }

  /** Runs, newest first, optionally of one status (deleted runs are not listed). */
  listRuns(limit: number, offset: number, status?: RunStatus): { total: number; items: RunRow[] } {
    const where = status ? "WHERE deleted_at IS NULL AND status = ?" : "WHERE deleted_at IS NULL";
    const args: unknown[] = status ? [status] : [];
    const total = (this.stmt(`SELECT count(*) AS n FROM runs ${where}`).get(...args) as { n: number }).n;
    const rows = this.stmt(`SELECT * FROM runs ${where} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as RawRun[];
    return { total, items: rows.map(toRun) };
  }

  /** Ids of runs with a status, oldest first. */
  runIdsWithStatus(status: RunStatus): number[] {
    return (this.stmt("SELECT id FROM runs WHERE status = ? ORDER BY id").all(status) as { id: number }[]).map((r) => r.id);
  }

  /** queued → running. Returns false when the run was not queued (e.g. cancelled meanwhile). */
  markRunning(id: number): boolean {
    return (
      this.write(() => this.stmt("UPDATE runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'").run(now(), id))
        .changes === 1
    );
  }

  /** Records the latest progress of a running run. */
  setProgress(id: number, progress: Record<string, unknown>): void {
    this.write(() => this.stmt("UPDATE runs SET progress = ? WHERE id = ? AND status = 'running'").run(JSON.stringify(progress), id));
  }

  /**
   * Writes a run's results and marks it done, in one transaction; with `failure`, marks it
   * failed with that message and keeps the results (a design that stopped early on an error:
   * its best design so far). Returns false (and writes nothing) when the run is no longer running.
   */
  finishRun(id: number, out: RunOutput, progress?: Record<string, unknown>, failure?: string): boolean {
    const { columns, data } = packColumns(out.links);
    const names = Object.keys(out.convergence);
    const rows = names.length ? (out.convergence[names[0]] as unknown[]).length : 0;
    return this.write(() =>
      this.db.transaction(() => {
        const r = this.stmt(
          "UPDATE runs SET status = ?, error = ?, finished_at = ?, progress = coalesce(?, progress) WHERE id = ? AND status = 'running'",
        ).run(failure === undefined ? "done" : "failed", failure ?? null, now(), progress ? JSON.stringify(progress) : null, id);
        if (r.changes !== 1) return false;
        this.stmt("INSERT INTO results (run_id, summary, convergence, link_count, columns, data) VALUES (?, ?, ?, ?, ?, ?)").run(
          id,
          JSON.stringify(out.summary),
          JSON.stringify(names),
          out.links.linkCount,
          JSON.stringify(columns),
          data,
        );
        const row = this.stmt("INSERT INTO convergence_rows (run_id, k, row) VALUES (?, ?, ?)");
        const o: Record<string, unknown> = {};
        for (let k = 0; k < rows; k++) {
          for (const n of names) o[n] = (out.convergence[n] as unknown[])[k];
          row.run(id, k, JSON.stringify(o));
        }
        if (out.skims || out.bushes) {
          const sk = out.skims ? packSkims(out.skims) : undefined;
          const bu = out.bushes ? packBushes(out.bushes) : undefined;
          this.stmt("INSERT INTO od_results (run_id, skims_meta, skims, bushes_meta, bushes) VALUES (?, ?, ?, ?, ?)").run(
            id,
            sk?.meta ?? null,
            sk?.data ?? null,
            bu?.meta ?? null,
            bu?.data ?? null,
          );
        }
        return true;
      })(),
    );
  }

  /**
   * Moves a non-terminal run to a terminal status other than done (failed, cancelled,
   * interrupted). Returns false when the run had already finished.
   */
  endRun(id: number, status: Exclude<RunStatus, "queued" | "running" | "done">, error: string | null = null): boolean {
    return (
      this.write(() =>
        this.stmt("UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'running')").run(
          status,
          error,
          now(),
          id,
        ),
      ).changes === 1
    );
  }

  /** Marks every `running` run `interrupted` (called at start-up); returns their ids. */
  interruptRunning(reason: string): number[] {
    return this.write(() =>
      this.db.transaction(() => {
        const ids = this.runIdsWithStatus("running");
        for (const id of ids) this.endRun(id, "interrupted", reason);
        return ids;
      })(),
    );
  }

  // ---- results --------------------------------------------------------------------------

  /** The summary of a done run. */
  getSummary(id: number): Record<string, unknown> | undefined {
    const r = this.stmt("SELECT summary FROM results WHERE run_id = ?").get(id) as { summary: string } | undefined;
    return r && (JSON.parse(r.summary) as Record<string, unknown>);
  }

  /** The whole columnar convergence report (or search history) of a done run; the API reads it in pages ({@link getConvergencePage}). */
  getConvergence(id: number): Record<string, unknown[]> | undefined {
    const p = this.getConvergencePage(id, 0, Number.MAX_SAFE_INTEGER);
    return p?.columns;
  }

  /**
   * Rows `offset … offset + limit − 1` of a done run's convergence report (an assignment's
   * iterations, a design's evaluated designs), columnar, with the number of rows in all.
   */
  getConvergencePage(id: number, offset: number, limit: number): { total: number; columns: Record<string, unknown[]> } | undefined {
    const r = this.stmt("SELECT convergence FROM results WHERE run_id = ?").get(id) as { convergence: string } | undefined;
    if (!r) return undefined;
    const names = JSON.parse(r.convergence) as string[];
    const total = (this.stmt("SELECT count(*) AS n FROM convergence_rows WHERE run_id = ?").get(id) as { n: number }).n;
    const rows = this.stmt("SELECT row FROM convergence_rows WHERE run_id = ? AND k >= ? ORDER BY k LIMIT ?").all(id, offset, limit) as {
      row: string;
    }[];
    const columns: Record<string, unknown[]> = {};
    for (const n of names) columns[n] = new Array<unknown>(rows.length);
    rows.forEach((x, i) => {
      const o = JSON.parse(x.row) as Record<string, unknown>;
      for (const n of names) columns[n][i] = o[n] ?? null;
    });
    return { total, columns };
  }

  /** The per-link results of a done run. */
  /** Whether a run has stored results (done runs, and failed designs that kept their best design so far). */
  hasResults(id: number): boolean {
    return this.stmt("SELECT 1 FROM results WHERE run_id = ?").get(id) !== undefined;
  }

  /** The skims of a done run (undefined when it has none). */
  getSkims(id: number): SkimTable | undefined {
    const r = this.stmt("SELECT skims_meta, skims FROM od_results WHERE run_id = ?").get(id) as
      { skims_meta: string | null; skims: Buffer | null } | undefined;
    return r?.skims_meta && r.skims ? unpackSkims({ meta: r.skims_meta, data: r.skims }) : undefined;
  }

  /** The bushes kept of a done bush run (undefined when none were kept). */
  getBushes(id: number): KeptBushes | undefined {
    const r = this.stmt("SELECT bushes_meta, bushes FROM od_results WHERE run_id = ?").get(id) as
      { bushes_meta: string | null; bushes: Buffer | null } | undefined;
    return r?.bushes_meta && r.bushes ? unpackBushes({ meta: r.bushes_meta, data: r.bushes }) : undefined;
  }

  getLinks(id: number): LinkColumns | undefined {
    const r = this.stmt("SELECT link_count, columns, data FROM results WHERE run_id = ?").get(id) as
      { link_count: number; columns: string; data: Buffer } | undefined;
    return r && unpackColumns(r.link_count, JSON.parse(r.columns) as string[], r.data);
  }
}

/**
 * Opens (creating when missing) the API database at `path`, in WAL mode, and applies pending
 * schema migrations.
 * @throws InputError when the path is a directory, not a database, or from a newer tollkit
 */
export function openStore(path: string, opts: StoreOptions = {}): Store {
  return new Store(path, opts);
}
