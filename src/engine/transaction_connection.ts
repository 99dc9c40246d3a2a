/**
 * The connection a sql.js transaction body receives.
 *
 * @module
 */
import { RouterError } from "../errors.ts";
import type {
  BatchStatement,
  Connection,
  Guard,
  Row,
  RunResult,
  ValuesResult,
} from "./connection_types.ts";
import type { EngineDatabase } from "./database.ts";
import { checkSql } from "./statement_checks.ts";
import { type Params, toBindParams, withIntegerCasts } from "./params.ts";
import type { SqlJsDatabase } from "./sqljs_types.ts";
import type { StatementCache } from "./statements.ts";
import {
  prepareSqlJsBatch,
  type Query,
  queryAll,
  queryFirst,
  queryValues,
  runBatch,
  runStatement,
} from "./sqljs_queries.ts";

/**
 * The connection handed to a transaction body: it runs directly on the
 * database the transaction holds, and stops working when the body settles.
 * Nested `transaction()` calls become savepoints.
 */
export class TransactionConnection implements Connection {
  readonly database: "shared" | "local";
  readonly #db: SqlJsDatabase;
  readonly #statements: StatementCache;
  readonly #engine: EngineDatabase;
  readonly #guard: Guard;
  #ended = false;
  #depth = 0;

  /** Runs on `db`, which the transaction holds, until {@linkcode end}. */
  constructor(
    database: "shared" | "local",
    db: SqlJsDatabase,
    statements: StatementCache,
    engine: EngineDatabase,
    guard: Guard,
  ) {
    this.database = database;
    this.#db = db;
    this.#statements = statements;
    this.#engine = engine;
    this.#guard = guard;
  }

  /** Stops this connection: the transaction body settled. */
  end(): void {
    this.#ended = true;
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

  exec(script: string): Promise<void> {
    return this.#do(() => {
      checkSql(script, "script");
      this.#engine.beginStatement(false);
      try {
        this.#db.exec(script);
      } finally {
        this.#statements.forgetColumns();
      }
    });
  }

  batch(statements: readonly BatchStatement[]): Promise<RunResult[]> {
    return this.#do(() => {
      this.#engine.beginStatement(false);
      try {
        return runBatch(this.#db, this.#statements, prepareSqlJsBatch(this.#engine, statements));
      } finally {
        this.#statements.forgetColumns();
      }
    });
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    this.#check();
    const name = `dbr_savepoint_${++this.#depth}`;
    this.#db.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      this.#db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      this.#statements.forgetColumns();
      throw error;
    } finally {
      this.#depth--;
    }
  }

  #statement<T>(sql: string, params: Params | undefined, query: Query<T>): Promise<T> {
    return this.#do(() => {
      const kind = this.#engine.kinds.forCall(sql);
      this.#engine.beginStatement(kind === "change");
      try {
        const bind = toBindParams(sql, params);
        return query(this.#db, this.#statements, withIntegerCasts(sql, bind), bind);
      } finally {
        // DDL inside the transaction: later reads in it must not use the old column names.
        if (kind === "write") this.#statements.forgetColumns();
      }
    });
  }

  #check(): void {
    this.#guard();
    if (this.#ended) {
      throw new RouterError(
        "TRANSACTION_CLOSED",
        "Cannot use a transaction connection after its transaction ended",
      );
    }
  }

  #do<T>(work: () => T): Promise<T> {
    try {
      this.#check();
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
