/**
 * Prepared statements kept per database, so a query string is compiled once,
 * with the column names of each, so a row costs no name look-ups.
 *
 * @module
 */
import type { SqlJsDatabase, SqlJsStatement, SqlValue } from "./sqljs_types.ts";

/**
 * One prepared statement and its column names, read once. sql.js's
 * `getAsObject()` asks SQLite for every column's name on every row (a string
 * conversion each) and builds the row through `Object.fromEntries`; a point
 * select spends about a third of its time there.
 */
export class PreparedStatement {
  /** The sql.js statement. */
  readonly statement: SqlJsStatement;
  #columns: readonly string[] | undefined;
  /** Whether a column is named `__proto__`, which an assignment would not create. */
  #unusual = false;

  /** Wraps `statement`. */
  constructor(statement: SqlJsStatement) {
    this.statement = statement;
  }

  /** The current row (after a `step()` that returned `true`) as a plain object. */
  row(): Record<string, SqlValue> {
    const values = this.statement.get();
    let columns = this.#columns;
    // A schema change re-prepares the statement inside SQLite: forgetColumns() runs then.
    if (columns === undefined || columns.length !== values.length) {
      columns = this.#columns = this.statement.getColumnNames();
      this.#unusual = columns.includes("__proto__");
    }
    if (this.#unusual) return Object.fromEntries(columns.map((name, i) => [name, values[i]]));
    const row: Record<string, SqlValue> = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]] = values[i];
    return row;
  }

  /** Drops the remembered column names; the next row reads them again. */
  forgetColumns(): void {
    this.#columns = undefined;
  }
}

/**
 * A bounded cache of prepared statements for one sql.js database. When full,
 * it frees the statement prepared longest ago (first in, first out: cheaper on
 * the hot path than reordering on every hit, and as good for the handful of
 * query strings a DB module uses).
 */
export class StatementCache {
  #db: SqlJsDatabase;
  #limit: number;
  #statements = new Map<string, PreparedStatement>();

  /** Creates a cache of at most `limit` statements for `db`. */
  constructor(db: SqlJsDatabase, limit: number) {
    this.#db = db;
    this.#limit = limit;
  }

  /** Returns the prepared statement for `sql`, compiling it on first use. */
  get(sql: string): SqlJsStatement {
    return this.prepared(sql).statement;
  }

  /** Returns the prepared statement for `sql` with its column names, compiling it on first use. */
  prepared(sql: string): PreparedStatement {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      prepared = new PreparedStatement(this.#db.prepare(sql));
      if (this.#statements.size >= this.#limit) {
        const [oldest, evicted] = this.#statements.entries().next().value!;
        this.#statements.delete(oldest);
        evicted.statement.free();
      }
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  /**
   * Forgets every statement's column names: call it after anything that may
   * have changed the schema (DDL renames columns, `SELECT *` gains some).
   */
  forgetColumns(): void {
    for (const prepared of this.#statements.values()) prepared.forgetColumns();
  }

  /** Number of statements held. */
  get size(): number {
    return this.#statements.size;
  }

  /** Frees every statement; the database must still be open. */
  clear(): void {
    for (const prepared of this.#statements.values()) prepared.statement.free();
    this.#statements.clear();
  }
}
