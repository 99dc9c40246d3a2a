/**
 * A sql.js database for the scope tests, holding rows of two instances
 * ("alpha" and "beta") and one row without owner, and helpers to run the SQL
 * the scope layer builds against it.
 *
 * @module
 */
import type { BindParams, Database, SqlJsStatic } from "sql.js";
import type { SqlParam } from "../../src/scope/mod.ts";
import { loadSqlJs } from "../../wasm/mod.ts";

// Through the router's loader: sql.js keeps the first initialisation of a process, and one
// without the loader's hook would leave every engine in this test process without page capture.
const SQL = await loadSqlJs() as unknown as SqlJsStatic;

/** The current instance in every test. */
export const ALPHA = "alpha";
/** Another instance. */
export const BETA = "beta";

/**
 * `bots`: ids 1-3 belong to alpha, 4-6 to beta, 7 to nobody (NULL).
 * `code`: one row per bot (`bot_id` = bot id), owned like its bot.
 * `other`: rows 100 (alpha) and 101 (beta), with the same columns as `bots`.
 */
export function openDb(): Database {
  const db = new SQL.Database();
  db.run(`
    CREATE TABLE bots (
      id INTEGER PRIMARY KEY, name TEXT, a INTEGER, b INTEGER, grp TEXT,
      somewhere TEXT, "where" TEXT, source_menace_id TEXT
    );
    CREATE TABLE code (id INTEGER PRIMARY KEY, bot_id INTEGER, source_menace_id TEXT);
    CREATE TABLE other (id INTEGER PRIMARY KEY, a INTEGER, source_menace_id TEXT);
    CREATE TABLE "where" (id INTEGER PRIMARY KEY, source_menace_id TEXT);
    INSERT INTO bots VALUES
      (1, 'alpha-1', 1, 0, 'x', 'where', 'where', 'alpha'),
      (2, 'alpha-2', 0, 1, 'y', 'here', 'x', 'alpha'),
      (3, 'alpha-3', 0, 0, 'x', 'there', 'x', 'alpha'),
      (4, 'beta-1', 1, 0, 'x', 'where', 'where', 'beta'),
      (5, 'beta-2', 0, 1, 'y', 'here', 'x', 'beta'),
      (6, 'beta-3', 0, 0, 'x', 'there', 'x', 'beta'),
      (7, 'orphan', 1, 1, 'x', 'where', 'where', NULL);
    INSERT INTO code SELECT id + 10, id, source_menace_id FROM bots;
    INSERT INTO other VALUES (100, 1, 'alpha'), (101, 1, 'beta');
    INSERT INTO "where" VALUES (1, 'alpha'), (2, 'beta');
  `);
  return db;
}

/** Every row `sql` returns, as objects. */
export function rows(
  db: Database,
  sql: string,
  params: readonly SqlParam[] | Readonly<Record<string, SqlParam>> = [],
): Record<string, unknown>[] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params as BindParams);
    const out: Record<string, unknown>[] = [];
    while (statement.step()) out.push(statement.getAsObject());
    return out;
  } finally {
    statement.free();
  }
}

/** The `id` column of every row `sql` returns, in order. */
export function ids(
  db: Database,
  sql: string,
  params?: readonly SqlParam[] | Readonly<Record<string, SqlParam>>,
): unknown[] {
  return rows(db, sql, params).map((row) => row.id);
}

/** Runs a write and returns the number of rows it changed. */
export function changes(db: Database, sql: string, params: readonly SqlParam[]): number {
  db.run(sql, params as BindParams);
  return db.getRowsModified();
}

/** The error `fn` throws; fails the test when it returns. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error, got none");
}
