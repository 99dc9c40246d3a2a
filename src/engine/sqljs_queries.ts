/**
 * The statements behind a sql.js `Connection`: prepared queries
 * turned into rows, run results, batches in a savepoint, and scripts that
 * must not leave a transaction open. Shared by the connection and by the
 * connection a transaction body receives.
 *
 * @module
 */
import { RouterError } from "../errors.ts";
import type { BatchStatement, RunResult, ValuesResult } from "./connection_types.ts";
import type { EngineDatabase } from "./database.ts";
import { inTransaction } from "./sqljs_image.ts";
import { type CallKind, prepareBatch } from "./statement_checks.ts";
import { toBindParams, withIntegerCasts } from "./params.ts";
import type { SqlJsBindParams, SqlJsDatabase, SqlValue } from "./sqljs_types.ts";
import type { StatementCache } from "./statements.ts";

/** A batch statement with its parameters bound and its kind known. */
export interface PreparedBatchStatement {
  sql: string;
  bind: SqlJsBindParams | undefined;
  kind: CallKind;
}

/** Checks every statement of a batch and binds its parameters, before any runs. */
export function prepareSqlJsBatch(
  engine: EngineDatabase,
  statements: readonly BatchStatement[],
): PreparedBatchStatement[] {
  return prepareBatch(statements, engine.kinds, (statement, kind) => {
    const bind = toBindParams(statement.sql, statement.params);
    return { sql: withIntegerCasts(statement.sql, bind), bind, kind };
  });
}

/** Runs a prepared batch in a savepoint: all of it, or none. */
export function runBatch(
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

/** A statement run on the open database: what a connection method does. */
export type Query<T> = (
  db: SqlJsDatabase,
  statements: StatementCache,
  sql: string,
  bind: SqlJsBindParams | undefined,
) => T;

/** Every row of `sql`. */
export function queryAll<T>(
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

/** Every row of `sql` as an array of values, with the column names (duplicates kept). */
export function queryValues(
  _db: SqlJsDatabase,
  statements: StatementCache,
  sql: string,
  bind: SqlJsBindParams | undefined,
): ValuesResult {
  const statement = statements.get(sql);
  try {
    if (bind !== undefined) statement.bind(bind);
    const rows: SqlValue[][] = [];
    while (statement.step()) rows.push(statement.get());
    // Read after the first step: a schema change re-prepares the statement inside SQLite.
    return { columns: statement.getColumnNames(), rows };
  } catch (error) {
    throw asError(error);
  } finally {
    statement.reset();
  }
}

/** The first row of `sql`, if any. */
export function queryFirst<T>(
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

/** Runs `sql` to its end and reports its changes and the last row id. */
export function runStatement(
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

/** Runs a script; one that leaves a transaction open is rolled back and refused. */
export function execScript(db: SqlJsDatabase, script: string): void {
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
