/**
 * `Connection`: the asynchronous query API that every backend offers, and its
 * implementation on an in-memory sql.js database.
 *
 * @module
 */
import { RouterError } from "../errors.ts";
import { type EngineDatabase, inTransaction } from "./database.ts";
import { type CallKind, checkSql, prepareBatch } from "./statement_checks.ts";
import { type Params, toBindParams } from "./params.ts";
import type { SqlJsBindParams, SqlJsDatabase, SqlValue } from "./sqljs_types.ts";
import type { StatementCache } from "./statements.ts";

export type { Params, SqlParam } from "./params.ts";
export type { SqlValue } from "./sqljs_types.ts";

/** A result row: column names to values. */
export type Row = Record<string, SqlValue>;

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

/** Where an operation is allowed to run; the router's closed check. */
export type Guard = () => void;

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
      const bind = params === undefined ? undefined : toBindParams(sql, params);
      if (kind === "read") return this.#engine.read(query, sql, bind);
      return this.#engine.write(
        (db, statements) => query(db, statements, sql, bind),
        false,
        kind === "change",
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * The connection handed to a transaction body: it runs directly on the
 * database the transaction holds, and stops working when the body settles.
 * Nested `transaction()` calls become savepoints.
 */
class TransactionConnection implements Connection {
  readonly database: "shared" | "local";
  readonly #db: SqlJsDatabase;
  readonly #statements: StatementCache;
  readonly #engine: EngineDatabase;
  readonly #guard: Guard;
  #ended = false;
  #depth = 0;

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

  end(): void {
    this.#ended = true;
  }

  all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    return this.#statement(sql, params, queryAll<T>);
  }

  get<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return this.#statement(sql, params, queryFirst<T>);
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.#statement(sql, params, runStatement);
  }

  exec(script: string): Promise<void> {
    return this.#do(() => {
      checkSql(script, "script");
      try {
        this.#db.exec(script);
      } finally {
        this.#statements.forgetColumns();
      }
    });
  }

  batch(statements: readonly BatchStatement[]): Promise<RunResult[]> {
    return this.#do(() => {
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
      try {
        return query(this.#db, this.#statements, sql, toBindParams(sql, params));
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

interface PreparedBatchStatement {
  sql: string;
  bind: SqlJsBindParams | undefined;
  kind: CallKind;
}

function prepareSqlJsBatch(
  engine: EngineDatabase,
  statements: readonly BatchStatement[],
): PreparedBatchStatement[] {
  return prepareBatch(statements, engine.kinds, (statement, kind) => ({
    sql: statement.sql,
    bind: toBindParams(statement.sql, statement.params),
    kind,
  }));
}

function runBatch(
  db: SqlJsDatabase,
  statements: StatementCache,
  batch: readonly PreparedBatchStatement[],
): RunResult[] {
  db.exec("SAVEPOINT dbr_batch");
  try {
    const results = batch.map((s) => runStatement(db, statements, s.sql, s.bind));
    db.exec("RELEASE dbr_batch");
    return results;
  } catch (error) {
    db.exec("ROLLBACK TO dbr_batch; RELEASE dbr_batch");
    throw error;
  }
}

type Query<T> = (
  db: SqlJsDatabase,
  statements: StatementCache,
  sql: string,
  bind: SqlJsBindParams | undefined,
) => T;

function queryAll<T>(
  _db: SqlJsDatabase,
  statements: StatementCache,
  sql: string,
  bind: SqlJsBindParams | undefined,
): T[] {
  const prepared = statements.prepared(sql);
  const statement = prepared.statement;
  try {
    if (bind !== undefined) statement.bind(bind);
    const rows: T[] = [];
    while (statement.step()) rows.push(prepared.row() as T);
    return rows;
  } catch (error) {
    throw asError(error);
  } finally {
    statement.reset();
  }
}

function queryFirst<T>(
  _db: SqlJsDatabase,
  statements: StatementCache,
  sql: string,
  bind: SqlJsBindParams | undefined,
): T | undefined {
  const prepared = statements.prepared(sql);
  const statement = prepared.statement;
  try {
    if (bind !== undefined) statement.bind(bind);
    return statement.step() ? (prepared.row() as T) : undefined;
  } catch (error) {
    throw asError(error);
  } finally {
    statement.reset();
  }
}

function runStatement(
  db: SqlJsDatabase,
  statements: StatementCache,
  sql: string,
  bind: SqlJsBindParams | undefined,
): RunResult {
  const statement = statements.get(sql);
  try {
    if (bind !== undefined) statement.bind(bind);
    while (statement.step()) { /* drain RETURNING rows */ }
  } catch (error) {
    throw asError(error);
  } finally {
    statement.reset();
  }
  const changes = db.getRowsModified();
  const last = statements.get("SELECT last_insert_rowid()");
  try {
    last.step();
    return { changes, lastInsertRowid: last.get()[0] as number };
  } finally {
    last.reset();
  }
}

function execScript(db: SqlJsDatabase, script: string): void {
  try {
    db.exec(script);
  } catch (error) {
    if (inTransaction(db)) db.exec("ROLLBACK");
    throw asError(error);
  }
  if (inTransaction(db)) {
    db.exec("ROLLBACK");
    throw new RouterError(
      "TRANSACTION_LEFT_OPEN",
      "Cannot run a script that leaves a transaction open: it was rolled back; use transaction() instead",
    );
  }
}

/** sql.js throws plain strings for API misuse; give callers real errors. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
