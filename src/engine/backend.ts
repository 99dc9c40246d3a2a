/**
 * The seam between the router and its shared database: a
 * {@linkcode SharedBackend} says where the shared tables live (a sql.js file,
 * Cloudflare D1, libSQL) and opens a {@linkcode SharedDatabase} for one
 * router: a {@linkcode Connection} plus the hooks the router calls around it
 * (`ready`, `flush`, `close`, `stats`, `registerFunction`). The router keeps
 * the connection in a field, so the seam adds nothing to `getConnection()` or
 * to a query.
 *
 * @module
 */
import type { StorageStats } from "../storage/types.ts";
import type { Connection, Guard } from "./connection.ts";
import type { SqlFunction } from "./functions.ts";
import type { CommitSink } from "../watch/subscription.ts";

/** What a shared database can do beyond the `Connection` methods every backend has. */
export interface BackendCapabilities {
  /** `Connection.transaction()` works (otherwise it rejects with `UNSUPPORTED`). */
  readonly transactions: boolean;
  /** `registerFunction()` works (JavaScript functions inside the engine). */
  readonly functions: boolean;
}

/**
 * The shared database of one router, opened by {@linkcode SharedBackend.connect}.
 *
 * @example
 * ```ts ignore
 * const shared = backend.connect(() => {});
 * await shared.ready();
 * await shared.connection.all("SELECT 1 AS one"); // [{ one: 1 }]
 * await shared.close();
 * ```
 */
export interface SharedDatabase {
  /** The connection that `getConnection()` returns for shared tables. */
  readonly connection: Connection;
  /** Opens the database now and surfaces errors (a bad URL, a corrupt file). */
  ready(): Promise<void>;
  /** Makes deferred writes durable (remote writes are durable when they resolve). */
  flush(): Promise<void>;
  /** Persists what is pending and releases the database; idempotent. */
  close(): Promise<void>;
  /** Commit figures; remote backends count their writes and time the last one. */
  stats(): StorageStats;
  /** Registers a scalar SQL function, or throws `UNSUPPORTED` where the engine is remote. */
  registerFunction(name: string, fn: SqlFunction): void;
  /**
   * Tells `sink` about every commit (see `EngineDatabase.watch`); absent
   * where the engine cannot tell which rows a commit changed (D1, libSQL).
   */
  watch?(sink: CommitSink): () => void;
}

/**
 * Where a router's shared tables live. Pass one as the third argument of
 * `new DBRouter(...)` instead of a path; `d1Backend()` and `libsqlBackend()`
 * make them. One backend may serve several routers: each `connect()` opens
 * the database for one router, whose closed check is `guard`.
 *
 * @example
 * ```ts ignore
 * import { d1Backend, DBRouter, memoryStorage } from "db-router";
 * const router = new DBRouter("alpha", "local.db", d1Backend(env.DB), { storage: memoryStorage() });
 * ```
 */
export interface SharedBackend {
  /** The engine: `"sqljs"`, `"d1"`, `"libsql"`. */
  readonly kind: string;
  /** Where the data is, for `router.sharedPath`, messages and logs (never a secret). */
  readonly location: string;
  /** What the engine supports. */
  readonly capabilities: BackendCapabilities;
  /** Opens the database for one router; synchronous, so no I/O happens yet. */
  connect(guard: Guard): SharedDatabase;
}

/**
 * Whether `value` is a {@linkcode SharedBackend} rather than a path.
 *
 * @example
 * ```ts
 * import { isSharedBackend } from "./backend.ts";
 * isSharedBackend("shared/global.db"); // false
 * ```
 */
export function isSharedBackend(value: unknown): value is SharedBackend {
  return typeof value === "object" && value !== null &&
    typeof (value as SharedBackend).connect === "function" &&
    typeof (value as SharedBackend).kind === "string" &&
    typeof (value as SharedBackend).location === "string";
}
