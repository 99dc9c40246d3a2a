/**
 * Opening a database image in sql.js, checked, with the engine's pragmas;
 * and two questions asked of an open database.
 *
 * @module
 */
import { DatabaseCorruptError, RouterError } from "../errors.ts";
import { readHeader } from "../persist/header.ts";
import type { DatabaseOptions } from "./database_options.ts";
import type { SqlJsDatabase, SqlJsStatic } from "./sqljs_types.ts";
import type { StatementCache } from "./statements.ts";

/**
 * Chosen by measurement on sql.js 1.16 (see DESIGN.md): an exclusive lock and
 * an in-memory rollback journal make autocommit inserts about 14x and point
 * selects about 5x faster than the defaults. The journal never needs to be on
 * disk: durability comes from the storage adapter, not from SQLite's files.
 */
const PRAGMAS = "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY;";

/**
 * Opens `image` (or a new, empty database for `null`) in sql.js: its header
 * checked, then `verifyOnOpen`'s check, then {@linkcode PRAGMAS}. A damaged
 * image throws {@linkcode DatabaseCorruptError} naming `key`.
 */
export function openImage(
  sql: SqlJsStatic,
  key: string,
  image: Uint8Array | null,
  verifyOnOpen: DatabaseOptions["verifyOnOpen"],
): SqlJsDatabase {
  let db: SqlJsDatabase | undefined;
  try {
    if (image) {
      const header = readHeader(image);
      if (typeof header === "string") throw new DatabaseCorruptError(key, header);
    }
    db = new sql.Database(image);
    if (image) verify(db, key, verifyOnOpen);
    db.exec(PRAGMAS);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof RouterError) throw error;
    throw new DatabaseCorruptError(key, errorMessage(error), { cause: error });
  }
}

function verify(
  db: SqlJsDatabase,
  key: string,
  verifyOnOpen: DatabaseOptions["verifyOnOpen"],
): void {
  if (verifyOnOpen === "header") {
    db.exec("SELECT count(*) FROM sqlite_master");
    return;
  }
  const result = db.exec("PRAGMA quick_check")[0]?.values.map((row) => String(row[0])) ?? [];
  if (result.length !== 1 || result[0] !== "ok") {
    throw new DatabaseCorruptError(key, `it is damaged (${result.slice(0, 3).join("; ")})`);
  }
}

/** Rows changed on this connection since it opened, by any statement or trigger. */
export function totalChanges(statements: StatementCache): number {
  const statement = statements.get("SELECT total_changes()");
  try {
    statement.step();
    return statement.get()[0] as number;
  } finally {
    statement.reset();
  }
}

/** Whether `db` is inside a transaction: `BEGIN` fails only then. */
export function inTransaction(db: SqlJsDatabase): boolean {
  try {
    db.exec("BEGIN");
  } catch {
    return true;
  }
  db.exec("ROLLBACK");
  return false;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
