/**
 * Catch-up in place: another process's committed pages written into an open
 * database's in-memory file, and SQLite told to forget what it cached, so
 * that prepared statements and registered functions stay.
 *
 * The recipe was measured (DESIGN.md, "Page capture at the WASM boundary").
 * The engine's databases run in `locking_mode=EXCLUSIVE`, so SQLite never
 * rereads page 1 by itself:
 * - pages that leave page 1 and the page count alone are written, then
 *   `PRAGMA shrink_memory` drops the cached copies;
 * - otherwise (schema cookie, page count and freelist live on page 1), the
 *   lock is given up first (`locking_mode=NORMAL` and one statement), the
 *   pages are written, and the next statement takes the lock again, sees
 *   page 1's change counter differ and drops its cache, schema and page
 *   count; then `locking_mode=EXCLUSIVE` and one statement restore the mode.
 *
 * @module
 */
import type { SqlJsDatabase } from "../engine/sqljs_types.ts";
import type { PageChanges } from "../storage/types.ts";
import type { PageCapture } from "./capture.ts";
import type { CapturedFile } from "./captured_file.ts";

/** A statement that reads the database, so that SQLite takes (and in NORMAL mode drops) its lock. */
const TOUCH = "SELECT count(*) FROM sqlite_master";

/**
 * Writes `changes` into `file` (the in-memory file of `db`) and makes SQLite
 * see them. Returns whether page 1 changed, in which case the schema may have
 * changed too.
 *
 * @example
 * ```ts ignore
 * const schemaMayChange = applyInPlace(db, capture, file, await store.changesSince(version));
 * ```
 */
export function applyInPlace(
  db: SqlJsDatabase,
  capture: PageCapture,
  file: CapturedFile,
  changes: PageChanges,
): boolean {
  const { pageSize, pageCount, pages } = changes;
  const header = pages.some(([page]) => page === 1) || pageCount * pageSize !== file.size;
  if (!header) {
    capture.writePages(file, pageSize, pages, pageCount);
    db.exec("PRAGMA shrink_memory");
    return false;
  }
  db.exec(`PRAGMA locking_mode=NORMAL; ${TOUCH}`);
  try {
    capture.writePages(file, pageSize, pages, pageCount);
    db.exec(TOUCH);
  } finally {
    db.exec(`PRAGMA locking_mode=EXCLUSIVE; ${TOUCH}`);
  }
  return true;
}
