/**
 * Prepared statements kept per database, so a query string is compiled once.
 *
 * @module
 */
import type { SqlJsDatabase, SqlJsStatement } from "./sqljs_types.ts";

/**
 * A bounded cache of prepared statements for one sql.js database. When full,
 * it frees the statement prepared longest ago (first in, first out: cheaper on
 * the hot path than reordering on every hit, and as good for the handful of
 * query strings a DB module uses).
 */
export class StatementCache {
  #db: SqlJsDatabase;
  #limit: number;
  #statements = new Map<string, SqlJsStatement>();

  /** Creates a cache of at most `limit` statements for `db`. */
  constructor(db: SqlJsDatabase, limit: number) {
    this.#db = db;
    this.#limit = limit;
  }

  /** Returns the prepared statement for `sql`, compiling it on first use. */
  get(sql: string): SqlJsStatement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= this.#limit) {
        const [oldest, evicted] = this.#statements.entries().next().value!;
        this.#statements.delete(oldest);
        evicted.free();
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Number of statements held. */
  get size(): number {
    return this.#statements.size;
  }

  /** Frees every statement; the database must still be open. */
  clear(): void {
    for (const statement of this.#statements.values()) statement.free();
    this.#statements.clear();
  }
}
