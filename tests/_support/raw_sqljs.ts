/**
 * A bare sql.js database, for benchmarks that compare the router's cost with
 * the engine's own.
 *
 * @module
 */
import { loadSqlJs } from "../../wasm/mod.ts";
import type { SqlJsDatabase } from "../../src/engine/sqljs_types.ts";

/**
 * A new in-memory sql.js database with the router's pragmas, after `schema`.
 *
 * @example
 * ```ts ignore
 * const db = await rawSqlJs("CREATE TABLE t (x)");
 * ```
 */
export async function rawSqlJs(schema: string): Promise<SqlJsDatabase> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY;");
  db.exec(schema);
  return db;
}
