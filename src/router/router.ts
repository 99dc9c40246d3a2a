/**
 * `DBRouter`: sends each table to the shared database or to this instance's
 * local database, counts and reports every access, and owns both connections.
 *
 * @module
 */
import { RouterClosedError, RouterError, TableRoutingError } from "../errors.ts";
import {
  type Connection,
  type Row,
  type RunResult,
  SqlJsConnection,
} from "../engine/connection.ts";
import type { Params } from "../sql/params.ts";
import {
  type Scope,
  scopedDelete,
  scopedUpdate,
  stampedInsert,
  stampedUpsert,
} from "../scope/mod.ts";
import type { ColumnValues as Values } from "../scope/values.ts";
import type { SharedBackend, SharedDatabase } from "../engine/backend.ts";
import type { EngineDatabase } from "../engine/database.ts";
import { assertSqlFunction, type SqlFunction } from "../engine/functions.ts";
import { acquireDatabase, releaseDatabase } from "../engine/registry.ts";
import { SQLJS_BACKEND_KIND } from "../engine/sqljs_backend.ts";
import {
  checkMigrationName,
  type MigrateOptions,
  type Migration,
  type MigrationReport,
} from "../migrate/migration.ts";
import { D1_BACKEND_KIND } from "../remote/d1.ts";
import { defaultObservers } from "../observe/defaults.ts";
import type { AccessEvent, RouterObserver } from "../observe/hooks.ts";
import { explainRoute, type RouteExplanation } from "../routing/explain.ts";
import { routeTable } from "../routing/tables.ts";
import { defaultQueueDir } from "../queue/layout.ts";
import { checkQueuedData } from "../queue/record.ts";
import { QueueWriter } from "../queue/writer.ts";
import { getHost } from "../storage/detect.ts";
import type { StorageAdapter, StorageStats } from "../storage/types.ts";
import { AccessCounter, type AccessCounts } from "./access_counts.ts";
import { type DBRouterOptions, resolveRouterOptions } from "./options.ts";
import { assertLocation, assertMenaceId, defaultLocalPath, defaultSharedPath } from "../menace.ts";
import { otherSharedTables, refuseHiddenReads } from "./scope_tables.ts";
import { scopedQueryWith } from "../scope/query.ts";
import { type ParsedSelect, parseSelect } from "../scope/statement.ts";
import { sharedBackendFor } from "./shared_target.ts";
import { DATABASE_CONNECTION } from "./hidden.ts";
import { TableChanges } from "../watch/iterator.ts";
import { type ChangeListener, Subscription, type WatchScope } from "../watch/subscription.ts";

/** Options of {@linkcode DBRouter.watch}. */
export interface WatchOptions {
  /**
   * Which rows to hear about, by `source_menace_id`: `"local"` this
   * instance's, `"global"` other instances', `"all"` every row (rows of a
   * table without that column, or whose owner is unknown, only with `"all"`).
   * @default "all"
   */
  scope?: WatchScope;
}

const ENGINE_NAMES: Record<string, string> = { sqljs: "sql.js", d1: "D1", libsql: "libSQL" };
const OPERATION = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Called whenever a router closes; `global.ts` uses it to forget a closed `GLOBAL_ROUTER`. */
export const routerClosedListeners: Set<(router: DBRouter) => void> = new Set();

/**
 * Routes tables between a per-instance local database and a shared database.
 * Construction is synchronous and touches no storage; databases open on first
 * use, or at `await router.ready()`, which surfaces errors such as a corrupt file.
 *
 * @example
 * ```ts
 * import { DBRouter } from "../../mod.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * await using router = new DBRouter("alpha", "local.db", "shared/global.db", {
 *   storage: memoryStorage(),
 * });
 * const bots = router.getConnection("bots", "write"); // the shared database
 * await bots.exec("CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT)");
 * router.getAccessCounts(); // { shared: { bots: 1 }, local: {} }
 * ```
 */
export class DBRouter implements AsyncDisposable {
  /** This instance's id, stamped on the rows it writes to shared tables. */
  readonly menaceId: string;
  /** The local database's storage key (an absolute path for files). */
  readonly localPath: string;
  /** The shared database's storage key, or a remote backend's location (`d1:DB`, a URL). */
  readonly sharedPath: string;
  /** The folder of this instance's `queueWrite()` queue file (a storage key). */
  readonly queueDir: string;
  readonly #storage: StorageAdapter;
  readonly #observers: readonly RouterObserver[];
  readonly #local: EngineDatabase;
  readonly #shared: SharedDatabase;
  readonly #localConnection: Connection;
  readonly #sharedConnection: Connection;
  readonly #sharedBackend: SharedBackend;
  readonly #counts = new AccessCounter();
  #queue: QueueWriter | undefined;
  /** Active watches, each ended by its function: on unsubscribe or `close()`. */
  readonly #watches = new Set<() => void>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Creates a router for `menaceId`. Paths default to `MENACE_LOCAL_DB_PATH` /
   * `MENACE_SHARED_DB_PATH`, then `./menace_<id>_local.db` / `./shared/global.db`;
   * relative paths resolve against the working directory now. The shared
   * database may instead be a backend (`d1Backend(env.DB)`,
   * `libsqlBackend({ url })`) or a libSQL URL, here or in `DB_ROUTER_SHARED_URL`
   * (see `shared_target.ts`); local tables always stay on sql.js.
   */
  constructor(
    menaceId: string,
    localDbPath?: string,
    sharedDbPath?: string | SharedBackend,
    options?: DBRouterOptions,
  ) {
    this.menaceId = assertMenaceId(menaceId);
    const resolved = resolveRouterOptions(options);
    const host = getHost();
    this.#storage = resolved.storage ?? host.defaultStorage();
    const local = assertLocation(
      localDbPath ?? defaultLocalPath(this.menaceId, host),
      "local database path",
    );
    const backend = sharedBackendFor(sharedDbPath, host, this.#storage, resolved.database);
    this.#observers = [
      ...defaultObservers({
        host,
        storage: this.#storage,
        sharedBackend: backend,
        auditLog: resolved.auditLog,
        auditChain: resolved.auditChain,
        auditRotation: resolved.auditRotation,
      }),
      ...resolved.observers,
    ];
    const onSqlJs = backend.kind === SQLJS_BACKEND_KIND;
    this.localPath = this.#storage.resolve(local);
    this.sharedPath = backend.location;
    if (onSqlJs && this.localPath === this.sharedPath) {
      throw new TypeError(
        `Invalid database paths: local and shared are both "${this.localPath}"; local tables would be shared`,
      );
    }
    // A remote shared database has no folder: its queue defaults to the sql.js default's.
    const queueBeside = onSqlJs ? this.sharedPath : this.#storage.resolve(defaultSharedPath(host));
    this.queueDir = this.#storage.resolve(
      resolved.queueDir ?? (host.env("DB_ROUTER_QUEUE_DIR") || defaultQueueDir(queueBeside)),
    );
    const guard = () => {
      if (this.#closed) throw new RouterClosedError(this.menaceId);
    };
    this.#local = acquireDatabase(this.#storage, this.localPath, resolved.database);
    this.#shared = backend.connect(guard);
    this.#localConnection = new SqlJsConnection(this.#local, "local", guard);
    this.#sharedConnection = this.#shared.connection;
    this.#sharedBackend = backend;
    // Not a method, so that it stays out of the public type: see hidden.ts.
    Object.defineProperty(this, DATABASE_CONNECTION, {
      value: (database: "shared" | "local"): Connection => {
        this.#assertOpen();
        return database === "local" ? this.#localConnection : this.#sharedConnection;
      },
    });
  }

  /**
   * Opens both databases now and checks that the audit log (if on) can be
   * written; rejects with the first error (such as `DATABASE_CORRUPT` or
   * `AUDIT_WRITE_FAILED`).
   */
  async ready(): Promise<void> {
    this.#assertOpen();
    await Promise.all([
      this.#local.ready(),
      this.#shared.ready(),
      ...this.#observers.map((o) => o.ready?.()),
    ]);
  }

  /**
   * Returns the connection for `table`: the shared database for a table in
   * `SHARED_TABLES`, the local one for `LOCAL_TABLES`. Throws synchronously a
   * `TableRoutingError` (`TABLE_DENIED`, `TABLE_UNKNOWN`, `TABLE_AMBIGUOUS`)
   * otherwise, or `ROUTER_CLOSED` after `close()`. `operation` is recorded in
   * counts, logs and the audit log.
   */
  getConnection(table: string, operation = "read"): Connection {
    this.#assertOpen();
    const database = routeTable(table);
    // The two usual words skip the pattern: this runs on every query.
    if (
      operation !== "read" && operation !== "write" &&
      (typeof operation !== "string" || !OPERATION.test(operation))
    ) {
      throw new TypeError(
        `Invalid operation ${JSON.stringify(operation)}: expected a word such as "read" or "write"`,
      );
    }
    this.#counts.add(database, table);
    if (this.#observers.length > 0) {
      const event: AccessEvent = { menaceId: this.menaceId, table, operation, database };
      for (const observer of this.#observers) observer.onAccess?.(event);
    }
    return database === "shared" ? this.#sharedConnection : this.#localConnection;
  }

  /**
   * Runs a SELECT on `table` that sees only the rows `scope` allows (`"local"`:
   * this instance's, `"global"`: other instances', `"all"`: every row), with
   * the menace id bound in its place among `params`. Every reference to
   * `table` is filtered, in subqueries, derived tables and CTE bodies too, and
   * so is every other shared table the statement reads (all carry
   * `source_menace_id`). A statement that cannot be filtered completely
   * throws a `RouterError` `SCOPE_REFUSED` and is not run. See `scopedQuery`.
   *
   * @example
   * ```ts
   * import { DBRouter, memoryStorage } from "../../mod.ts";
   * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
   * await router.getConnection("bots", "write").exec("CREATE TABLE bots (name TEXT, source_menace_id TEXT)");
   * await router.insert("bots", { name: "scraper" });
   * await router.query("bots", "SELECT name FROM bots LIMIT ?", [10], { scope: "local" }); // [{ name: "scraper" }]
   * ```
   */
  query<T = Row>(
    table: string,
    sql: string,
    params?: Params,
    options: { scope?: Scope } = {},
  ): Promise<T[]> {
    const conn = this.getConnection(table, "read");
    let parsed: ParsedSelect | undefined;
    const scoped = scopedQueryWith(sql, params, {
      table,
      scope: options.scope,
      menaceId: this.menaceId,
      alsoScope: conn.database === "shared" ? otherSharedTables(table, sql) : [],
    }, (text) => (parsed = parseSelect(text)));
    if (options.scope === "all" || parsed === undefined) {
      return conn.all<T>(scoped.sql, scoped.params);
    }
    return refuseHiddenReads(conn, table, sql, parsed).then(() =>
      conn.all<T>(scoped.sql, scoped.params)
    );
  }

  /** Inserts `row` into `table`, stamped with this router's menace id in `source_menace_id`. */
  insert(table: string, row: Values): Promise<RunResult> {
    const { sql, params } = stampedInsert(table, row, this.menaceId);
    return this.getConnection(table, "write").run(sql, params);
  }

  /**
   * Inserts `row` stamped with this menace id, or on a conflict on
   * `conflictColumns` updates the existing row only if this instance owns it;
   * another instance's row is left untouched (`changes` is 0).
   */
  upsert(table: string, row: Values, conflictColumns: readonly string[]): Promise<RunResult> {
    const { sql, params } = stampedUpsert(table, row, conflictColumns, this.menaceId);
    return this.getConnection(table, "write").run(sql, params);
  }

  /** Updates rows of `table` matching `where`, only this instance's unless `scope` says otherwise. */
  update(
    table: string,
    set: Values,
    where: Values,
    options: { scope?: Scope } = {},
  ): Promise<RunResult> {
    const { sql, params } = scopedUpdate(table, set, where, {
      scope: options.scope,
      menaceId: this.menaceId,
    });
    return this.getConnection(table, "write").run(sql, params);
  }

  /** Deletes rows of `table` matching `where`, only this instance's unless `scope` says otherwise. */
  delete(table: string, where: Values, options: { scope?: Scope } = {}): Promise<RunResult> {
    const { sql, params } = scopedDelete(table, where, {
      scope: options.scope,
      menaceId: this.menaceId,
    });
    return this.getConnection(table, "write").run(sql, params);
  }

  /**
   * Queues `record` for the shared table `table` instead of writing it now:
   * appends one JSON line, stamped with this instance's id and a content hash,
   * to `<queueDir>/<menaceId>.jsonl`, where `syncSharedDb()` or
   * `db-router sync` applies it later, once. Records queued in one turn of
   * the event loop share one append. The promise resolves when the line is
   * durable; not waiting for it is fine, and `flush()`/`close()` then report
   * a failed append. Throws at once a `TableRoutingError` for a denied or
   * unknown table (`TABLE_DENIED`, `TABLE_UNKNOWN`) and for a local one
   * (`TABLE_NOT_SHARED`), and a `TypeError` for a bad column name or a value
   * JSON cannot hold exactly (bigint, `Uint8Array`, `NaN`). Two calls with the
   * same data queue two records, and insert two rows.
   *
   * @example
   * ```ts
   * import { DBRouter, memoryStorage } from "../../mod.ts";
   * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
   * await router.queueWrite("telemetry", { event: "started" }); // in queue/alpha.jsonl
   * ```
   */
  queueWrite(table: string, record: Values): Promise<void> {
    this.#assertOpen();
    if (routeTable(table) === "local") {
      throw new TableRoutingError(
        "TABLE_NOT_SHARED",
        table,
        "it is a local table; queueWrite() takes shared tables only",
      );
    }
    const data = checkQueuedData(record, this.menaceId);
    this.getConnection(table, "queue");
    this.#queue ??= QueueWriter.open(this.#storage, this.queueDir, this.menaceId);
    return this.#queue.push(table, data);
  }

  /**
   * Applies the migrations the shared (or, with `{ database: "local" }`, the
   * local) database lacks, in order, each exactly once even when many
   * processes call this at once: each runs in a transaction that re-reads
   * the database's version under its write lock (D1: an atomic batch guarded
   * by the version's record). A list's version is the number of its
   * migrations applied, recorded in the table `_dbrouter_migrations`
   * (namespace, version, name, time, menace id); `PRAGMA user_version` holds
   * the number of every namespace's (not on D1). Lists of different
   * `namespace`s (default `"main"`) are versioned apart. Rejects with a
   * `MigrationError`: `MIGRATION_FAILED` naming the migration that failed
   * (rolled back whole; those before it stay applied), `MIGRATION_AHEAD` when
   * the database has migrations this code does not know, `MIGRATION_MISMATCH`
   * when a recorded name differs from the code's. Migrations run on the
   * database's connection, not routed per table.
   *
   * @example
   * ```ts
   * import { DBRouter, memoryStorage } from "../../mod.ts";
   * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
   * await router.migrate([
   *   { name: "create_bots", up: "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)" },
   *   { name: "bots_owner", up: "ALTER TABLE bots ADD COLUMN source_menace_id TEXT" },
   * ]); // { database: "shared", namespace: "main", from: 0, to: 2, applied: [...] }
   * ```
   */
  migrate(
    migrations: readonly Migration[],
    options: MigrateOptions = {},
  ): Promise<MigrationReport> {
    try {
      this.#assertOpen();
      const database = options?.database ?? "shared";
      if (database !== "shared" && database !== "local") {
        throw new TypeError(
          `Invalid option database ${JSON.stringify(database)}: expected "shared" or "local"`,
        );
      }
      const namespace = checkMigrationName(options?.namespace ?? "main", "namespace");
      const local = database === "local";
      const backend = this.#sharedBackend;
      const target = {
        connection: local ? this.#localConnection : this.#sharedConnection,
        database,
        namespace,
        menaceId: this.menaceId,
        transactions: local || backend.capabilities.transactions,
        userVersion: local || backend.kind !== D1_BACKEND_KIND,
        engine: local ? "sql.js" : ENGINE_NAMES[backend.kind] ?? backend.kind,
        key: local ? `local:${this.localPath}` : `${backend.kind}:${this.sharedPath}`,
      } as const;
      // The runner is imported at the first migrate(): importing db-router parses less.
      return import("../migrate/run.ts").then(({ runMigrations }) =>
        runMigrations(target, migrations)
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Hears every commit that changes `table`, whichever process, worker or tab
   * of this database made it: its inserted, updated and deleted rowids, in
   * commit order, once per commit (see `TableChange`). With a
   * listener, returns the function that unsubscribes; without one, an async
   * iterator of the changes (leaving the loop unsubscribes). `close()` ends
   * every watch. Listeners are called asynchronously, one change at a time
   * each, so a slow one never slows commits; one that throws is logged and
   * kept. Other processes' commits are heard within `maxReadLagMs`. Throws a
   * `TableRoutingError` for a denied or unknown table, and `UNSUPPORTED`
   * when the table is on D1 or libSQL. See README, "Watching changes".
   *
   * @example
   * ```ts
   * import { DBRouter, memoryStorage } from "../../mod.ts";
   * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
   * await router.getConnection("bots", "write").exec("CREATE TABLE bots (name TEXT, source_menace_id TEXT)");
   * const stop = router.watch("bots", (change) => console.log(change.kind, change.inserted));
   * await router.insert("bots", { name: "scraper" }); // later logs: rows [1]
   * stop();
   * ```
   */
  watch(table: string, listener: ChangeListener, options?: WatchOptions): () => void;
  /** The async iterator form: `for await (const change of router.watch("bots")) ...`. */
  watch(table: string, options?: WatchOptions): TableChanges;
  watch(
    table: string,
    listenerOrOptions?: ChangeListener | WatchOptions,
    maybeOptions?: WatchOptions,
  ): (() => void) | TableChanges {
    this.#assertOpen();
    const listener = typeof listenerOrOptions === "function" ? listenerOrOptions : undefined;
    const options = (listener ? maybeOptions : listenerOrOptions as WatchOptions) ?? {};
    if (typeof options !== "object") {
      throw new TypeError(`Invalid watch options ${JSON.stringify(options)}: expected an object`);
    }
    const scope = options.scope ?? "all";
    if (scope !== "local" && scope !== "global" && scope !== "all") {
      throw new TypeError(
        `Invalid scope ${JSON.stringify(scope)}: expected "local", "global" or "all"`,
      );
    }
    const database = routeTable(table);
    const watchOn = database === "local"
      ? (sink: Subscription) => this.#local.watch(sink)
      : this.#shared.watch?.bind(this.#shared);
    if (!watchOn) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot watch table "${table}": the shared database is on ${
          ENGINE_NAMES[this.#sharedBackend.kind] ?? this.#sharedBackend.kind
        }, which does not tell which rows a commit changed; see README, "Watching changes"`,
      );
    }
    const iterator = listener ? undefined : new TableChanges();
    let stopped = false;
    let stopEngine = () => {};
    const stop = () => {
      if (stopped) return;
      stopped = true;
      subscription.close();
      stopEngine();
      this.#watches.delete(end);
    };
    const end = () => (iterator ? iterator.end() : stop());
    const subscription = new Subscription(
      table,
      scope,
      this.menaceId,
      listener ?? iterator!.attach(stop),
    );
    stopEngine = watchOn(subscription);
    this.#watches.add(end);
    this.getConnection(table, "watch");
    return iterator ?? stop;
  }

  /** Accesses per table since this router was created. */
  getAccessCounts(): AccessCounts {
    return this.#counts.snapshot();
  }

  /** Where `table` goes and which layer decided it; see the function `explainRoute`. */
  explainRoute(table: string): RouteExplanation {
    return explainRoute(table);
  }

  /**
   * Registers the scalar SQL function `name` on both of this router's
   * databases, for queries such as `SELECT cosine_similarity(embedding, ?)`.
   * Its arity in SQL is `fn.length`; BLOB arguments arrive as `Uint8Array`.
   * The function belongs to the in-memory database, so routers of this process
   * that share a file share it too; the engine installs it again whenever it
   * reloads a database from storage. See {@linkcode SqlFunction}.
   *
   * A remote shared database (D1, libSQL) cannot run JavaScript functions: the
   * call then throws `UNSUPPORTED` and registers nothing, unless `only:
   * "local"` asks for the local database alone (`only: "shared"` is the other
   * half). Failing loudly beats a later "no such function" on a shared table.
   *
   * @example
   * ```ts
   * import { DBRouter, memoryStorage } from "../../mod.ts";
   * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
   * router.registerFunction("halve", (x) => (typeof x === "number" ? x / 2 : null));
   * await router.getConnection("bots").get("SELECT halve(3) AS h"); // { h: 1.5 }
   * ```
   */
  registerFunction(
    name: string,
    fn: SqlFunction,
    options: { only?: "local" | "shared" } = {},
  ): void {
    this.#assertOpen();
    assertSqlFunction(name, fn);
    const only = options?.only;
    if (only !== undefined && only !== "local" && only !== "shared") {
      throw new TypeError(
        `Invalid option only ${JSON.stringify(only)}: expected "local" or "shared"`,
      );
    }
    // Shared first: when it refuses (a remote engine), nothing is registered.
    if (only !== "local") this.#shared.registerFunction(name, fn);
    if (only !== "shared") this.#local.registerFunction(name, fn);
  }

  /** Storage figures of each database (commits, bytes written, last commit cost). */
  storageStats(): { local: StorageStats; shared: StorageStats } {
    return { local: this.#local.stats(), shared: this.#shared.stats() };
  }

  /** Persists deferred writes, appends queued records and flushes observers (audit lines). */
  async flush(): Promise<void> {
    this.#assertOpen();
    await Promise.all([this.#local.flush(), this.#shared.flush(), this.#queue?.flush()]);
    await Promise.all(this.#observers.map((o) => o.flush?.()));
  }

  /**
   * Persists what is pending and releases both databases (the last router in
   * the process to release a database folds its log into a standard SQLite
   * file). Idempotent; afterwards every call throws `ROUTER_CLOSED`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** `await using router = new DBRouter(...)` closes the router at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const listener of routerClosedListeners) listener(this);
    for (const end of [...this.#watches]) end();
    const results = await Promise.allSettled([
      this.#queue?.flush(),
      releaseDatabase(this.#storage, this.#local),
      this.#shared.close(),
      ...this.#observers.map(async (o) => {
        await o.flush?.();
        await o.close?.();
      }),
    ]);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) throw failure.reason;
  }

  #assertOpen(): void {
    if (this.#closed) throw new RouterClosedError(this.menaceId);
  }
}
