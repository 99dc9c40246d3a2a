/**
 * The shared database on Cloudflare D1, through a Worker's `D1Database`
 * binding. Only the small part of the binding's API the router uses is
 * declared here, so the core needs no Cloudflare types and this file pulls
 * nothing into a bundle.
 *
 * D1 has no interactive transactions (it refuses `BEGIN` and `SAVEPOINT`):
 * `batch()` is atomic, `transaction()` rejects with `UNSUPPORTED`. It binds
 * integers as JavaScript numbers, so a bigint beyond 2^53 is refused rather
 * than rounded; it binds every number as a REAL, so a whole one reaches it in
 * `CAST(? AS INTEGER)`; and it returns BLOBs as byte arrays, which become
 * `Uint8Array`.
 *
 * @module
 */
import type { SharedBackend } from "../engine/backend.ts";
import { remoteBackend } from "./remote_backend.ts";

/** The `kind` of {@linkcode d1Backend}. */
export const D1_BACKEND_KIND = "d1";

/** What D1 reports about a statement. */
export interface D1Result {
  /** Rows of a query. */
  results?: Record<string, unknown>[];
  /** `changes` and `last_row_id` of a write. */
  meta?: { changes?: number; last_row_id?: number };
}

/** A statement of a {@linkcode D1Database}. */
export interface D1PreparedStatement {
  /** Binds positional values. */
  bind(...values: unknown[]): D1PreparedStatement;
  /** Runs the statement and returns its rows. */
  all(): Promise<D1Result>;
  /** Runs the statement and returns its first row, or `null`. */
  first(): Promise<Record<string, unknown> | null>;
  /** Runs the statement. */
  run(): Promise<D1Result>;
  /** Runs the statement and returns its rows as arrays, the column names first. */
  raw(options: { columnNames: true }): Promise<unknown[][]>;
}

/** The part of a Worker's D1 binding (`env.DB`) the router uses. */
export interface D1Database {
  /** Prepares a statement (no round trip). */
  prepare(sql: string): D1PreparedStatement;
  /** Runs statements atomically, in one round trip. */
  batch(statements: D1PreparedStatement[]): Promise<D1Result[]>;
}

/** Options of {@linkcode d1Backend}. */
export interface D1BackendOptions {
  /**
   * The binding's name, shown in `router.sharedPath` (`d1:<name>`) and messages.
   * @default "DB"
   */
  name?: string;
}

/**
 * A shared backend on the D1 database `db` (a Worker binding such as
 * `env.DB`, or Miniflare's `getD1Database()`).
 *
 * @example
 * ```ts ignore
 * import { d1Backend, DBRouter, memoryStorage } from "db-router";
 * export default {
 *   async fetch(request: Request, env: { DB: D1Database }) {
 *     await using router = new DBRouter("edge", "local.db", d1Backend(env.DB), {
 *       storage: memoryStorage(),
 *     });
 *     return Response.json(await router.query("bots", "SELECT * FROM bots", [], { scope: "all" }));
 *   },
 * };
 * ```
 */
export function d1Backend(db: D1Database, options: D1BackendOptions = {}): SharedBackend {
  if (typeof db?.prepare !== "function" || typeof db.batch !== "function") {
    throw new TypeError(
      `Invalid D1 database ${String(db)}: expected a D1Database binding (prepare, batch)`,
    );
  }
  const name = options.name ?? "DB";
  // The driver is imported when a router first uses the database: importing db-router parses less.
  return remoteBackend(D1_BACKEND_KIND, `d1:${name}`, false, "D1", async () => {
    const { D1Driver } = await import("./d1_driver.ts");
    return new D1Driver(db, `d1:${name}`);
  });
}
