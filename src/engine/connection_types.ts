/**
 * The types that the query API shares: rows, results, batch statements and
 * {@linkcode Connection} itself. One file that the connection classes, the
 * sql.js query helpers and the statement checks import, so that none of them
 * imports another for its types (no import cycle in `src/engine`).
 *
 * @module
 */
import type { Params } from "./params.ts";
import type { SqlValue } from "./sqljs_types.ts";

/** A result row: column names to values. */
export type Row = Record<string, SqlValue>;

/**
 * Rows as arrays of values, with the column names in order: what
 * {@linkcode Connection.values} returns. Unlike row objects, two columns of
 * the same name (`SELECT a.id, b.id FROM a JOIN b ...`) both stay, in order.
 */
export interface ValuesResult {
  /** Column names in the order of the values of each row; duplicates kept. */
  columns: string[];
  /** One array per row, its values in the order of `columns`. */
  rows: SqlValue[][];
}

/** What a write statement did. */
export interface RunResult {
  /** Rows inserted, updated or deleted by the statement. */
  changes: number;
  /** Rowid of the last row inserted on this database. */
  lastInsertRowid: number;
}

/** One statement of a {@linkcode Connection.batch}. */
export interface BatchStatement {
  /** The SQL text of one statement. */
  sql: string;
  /** Its parameters. */
  params?: Params;
}

/**
 * The query API of a routed database. Every method is asynchronous, so the same
 * code runs on sql.js, IndexedDB-backed and remote databases.
 *
 * @example
 * ```ts
 * import { DBRouter } from "../../mod.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * await using router = new DBRouter("alpha", "local.db", "shared.db", { storage: memoryStorage() });
 * const conn = router.getConnection("bots", "write");
 * await conn.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)");
 * await conn.run("INSERT INTO bots (name, source_menace_id) VALUES (?, ?)", ["b1", "alpha"]);
 * await conn.all("SELECT name FROM bots"); // [{ name: "b1" }]
 * ```
 */
export interface Connection {
  /** Which of the router's databases this is. */
  readonly database: "shared" | "local";
  /** Runs a query and returns every row as a plain object. */
  all<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /** Runs a query and returns its first row, or `undefined` when there is none. */
  get<T = Row>(sql: string, params?: Params): Promise<T | undefined>;
  /**
   * Runs a statement and returns its rows as arrays of values with the column
   * names, duplicate names kept in order (better-sqlite3's `raw()`, libSQL's
   * `columns`/`rows`): what query builders need for joins. A write with
   * `RETURNING` works too. `columns` is given even when there are no rows.
   */
  values(sql: string, params?: Params): Promise<ValuesResult>;
  /** Runs one statement and reports the rows it changed. */
  run(sql: string, params?: Params): Promise<RunResult>;
  /** Runs a script of statements without parameters (schema set-up, mostly). */
  exec(script: string): Promise<void>;
  /** Runs statements atomically: all of them, or none when one fails. */
  batch(statements: readonly BatchStatement[]): Promise<RunResult[]>;
  /**
   * Runs `fn` in a transaction, serialised with every other use of this
   * database; a throw rolls it back. Inside `fn`, use only `tx`: another call
   * on this database would wait for the transaction, which waits for `fn`.
   */
  transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T>;
}

/**
 * Called before every operation of a connection: the router's closed check,
 * which throws `ROUTER_CLOSED` once the router is closed.
 *
 * @example
 * ```ts
 * import type { Guard } from "./connection.ts";
 * let closed = false;
 * const guard: Guard = () => {
 *   if (closed) throw new Error("closed");
 * };
 * ```
 */
export type Guard = () => void;
