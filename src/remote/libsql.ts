/**
 * The shared database on libSQL (Turso, `sqld`, or a local file) through
 * `@libsql/client`: `libsql://`, `http(s)://`, `ws(s)://` and `file:` URLs.
 *
 * The client is imported when a router first uses the database, by a name
 * that bundlers do not follow, so importing db-router pulls neither the
 * client nor its native `libsql` binding into a Worker or browser bundle.
 * There, pass a client made with `@libsql/client/web` as `client` instead.
 * Only the small part of the client's API the router uses is declared here.
 *
 * libSQL runs interactive transactions (`client.transaction("write")`), so
 * `transaction()` works, nested calls as savepoints; `batch()` is one atomic
 * request. Bigints bind as exact 64-bit integers, and so do whole numbers
 * within 2^53 (the client binds a number as a REAL). Reading an integer beyond
 * 2^53 rejects with the client's `RangeError` (sql.js and D1 round it).
 *
 * @module
 */
import type { SharedBackend } from "../engine/backend.ts";
import { redactUrl } from "./url.ts";
import { remoteBackend } from "./remote_backend.ts";
import type { RemoteArg } from "./sql_args.ts";

/** The `kind` of {@linkcode libsqlBackend}. */
export const LIBSQL_BACKEND_KIND = "libsql";

/** What libSQL returns for a statement. */
export interface LibsqlResultSet {
  /** Column names, in order. */
  columns: string[];
  /** Rows, indexable by column position. */
  rows: ArrayLike<unknown>[];
  /** Rows changed by a write. */
  rowsAffected: number;
  /** Rowid of the last insert, where the engine reports it. */
  lastInsertRowid?: bigint | number;
}

/** Something that runs one statement: a client or a transaction. */
export interface LibsqlExecutor {
  /** Runs one statement. */
  execute(statement: { sql: string; args: RemoteArg[] }): Promise<LibsqlResultSet>;
}

/** An interactive transaction of a {@linkcode LibsqlClient}. */
export interface LibsqlTransaction extends LibsqlExecutor {
  /** Commits and closes it. */
  commit(): Promise<void>;
  /** Rolls back and closes it. */
  rollback(): Promise<void>;
  /** Closes it, rolling back what is uncommitted. */
  close(): void;
}

/** The part of an `@libsql/client` client the router uses. */
export interface LibsqlClient extends LibsqlExecutor {
  /** Runs statements in one atomic request. */
  batch(
    statements: { sql: string; args: RemoteArg[] }[],
    mode: "write" | "read",
  ): Promise<LibsqlResultSet[]>;
  /** Runs a script of statements. */
  executeMultiple(sql: string): Promise<void>;
  /** Begins an interactive transaction. */
  transaction(mode: "write"): Promise<LibsqlTransaction>;
  /** Releases the client. */
  close(): void;
}

/** Options of {@linkcode libsqlBackend}: a URL, or a client made elsewhere. */
export interface LibsqlBackendOptions {
  /** `libsql://`, `http(s)://`, `ws(s)://` or `file:` URL; required without `client`. */
  url?: string;
  /**
   * The token of a remote database.
   * @default none
   */
  authToken?: string;
  /**
   * A client to use instead of making one from `url` (e.g. from
   * `@libsql/client/web` in a Worker). Routers never close it.
   * @default a client per router, made from `url`, closed by `router.close()`
   */
  client?: LibsqlClient;
  /**
   * How long a write to a `file:` database waits for another process's lock, in milliseconds.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

/**
 * A shared backend on libSQL.
 *
 * @example
 * ```ts ignore
 * import { DBRouter, libsqlBackend } from "db-router";
 * const shared = libsqlBackend({ url: "libsql://menace.turso.io", authToken: process.env.TOKEN });
 * const router = new DBRouter("alpha", "local.db", shared);
 * ```
 */
export function libsqlBackend(options: LibsqlBackendOptions): SharedBackend {
  const { url, client } = options ?? {};
  if (client === undefined && (typeof url !== "string" || !/^[a-z][a-z0-9+.-]*:/i.test(url))) {
    throw new TypeError(
      `Invalid libSQL URL ${
        JSON.stringify(url)
      }: expected libsql://, http(s)://, ws(s):// or file:`,
    );
  }
  const location = url !== undefined ? redactUrl(url) : "libsql:client";
  return remoteBackend(
    LIBSQL_BACKEND_KIND,
    location,
    true,
    "libSQL",
    // The driver is imported when a router first uses the database: importing db-router parses less.
    async () => new (await import("./libsql_driver.ts")).LibsqlDriver(options, location),
  );
}
