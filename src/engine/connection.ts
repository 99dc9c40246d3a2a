/**
 * `Connection`: the asynchronous query API that every backend offers, and its
 * implementation on an in-memory sql.js database.
 *
 * @module
 */
import type { EngineDatabase } from "./database.ts";
import { checkSql } from "./statement_checks.ts";
import { type Params, toBindParams, withIntegerCasts } from "./params.ts";
import type { SqlJsDatabase } from "./sqljs_types.ts";
import type { StatementCache } from "./statements.ts";
import {
  execScript,
  prepareSqlJsBatch,
  type Query,
  queryAll,
  queryFirst,
  queryValues,
  runBatch,
  runStatement,
} from "./sqljs_queries.ts";
import { TransactionConnection } from "./transaction_connection.ts";

export type { Params, SqlParam } from "./params.ts";
export type { SqlValue } from "./sqljs_types.ts";

export type {
  BatchStatement,
  Connection,
  Guard,
  Row,
  RunResult,
  ValuesResult,
} from "./connection_types.ts";
import type {
  BatchStatement,
  Connection,
  Guard,
  Row,
  RunResult,
  ValuesResult,
} from "./connection_types.ts";

/** A {@linkcode Connection} to an {@linkcode EngineDatabase}. */
export class SqlJsConnection implements Connection {
  readonly database: "shared" | "local";
  readonly #engine: EngineDatabase;
  readonly #guard: Guard;

  /** Creates a connection to `engine` that calls `guard` before every operation. */
  constructor(engine: EngineDatabase, database: "shared" | "local", guard: Guard) {
    this.#engine = engine;
    this.database = database;
    this.#guard = guard;
  }

  all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    return this.#statement(sql, params, queryAll<T>);
  }

  get<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return this.#statement(sql, params, queryFirst<T>);
  }

  values(sql: string, params?: Params): Promise<ValuesResult> {
    return this.#statement(sql, params, queryValues);
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.#statement(sql, params, runStatement);
  }

  async exec(script: string): Promise<void> {
    this.#guard();
    checkSql(script, "script");
    await this.#engine.write((db) => execScript(db, script), true);
  }

  async batch(statements: readonly BatchStatement[]): Promise<RunResult[]> {
    this.#guard();
    const prepared = prepareSqlJsBatch(this.#engine, statements);
    const readOnly = prepared.every((s) => s.kind === "read");
    const work = (db: SqlJsDatabase, cache: StatementCache) => runBatch(db, cache, prepared);
    return readOnly ? await this.#engine.read(work) : await this.#engine.write(work);
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    this.#guard();
    if (typeof fn !== "function") {
      throw new TypeError(`Invalid transaction body ${String(fn)}: expected a function`);
    }
    return await this.#engine.transaction(async (db, statements) => {
      const tx = new TransactionConnection(
        this.database,
        db,
        statements,
        this.#engine,
        this.#guard,
      );
      try {
        return await fn(tx);
      } finally {
        tx.end();
      }
    });
  }

  /**
   * The hot path: no `async` frames and no closure on a read, so a point
   * select costs one promise over the sql.js calls it makes.
   */
  #statement<T>(sql: string, params: Params | undefined, query: Query<T>): Promise<T> {
    try {
      this.#guard();
      const kind = this.#engine.kinds.forCall(sql);
      const bind = toBindParams(sql, params);
      const text = withIntegerCasts(sql, bind);
      if (kind === "read") return this.#engine.read(query, text, bind);
      return this.#engine.write(
        (db, statements) => query(db, statements, text, bind),
        false,
        kind === "change",
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
