/**
 * The runtime's native SQLite drivers, opened the way the benches compare
 * against them: WAL and `synchronous=FULL`.
 *
 * @module
 */

/** The drivers the benches try, in order; each runtime has some of them. */
export const NATIVE_DRIVERS = ["better-sqlite3", "node:sqlite", "bun:sqlite"] as const;

/**
 * Opens `file` with `driver` (better-sqlite3, `node:sqlite` or `bun:sqlite`)
 * in WAL mode with `synchronous=FULL`; rejects where this runtime lacks it.
 *
 * @example
 * ```ts ignore
 * const db = await openNative("better-sqlite3", "/tmp/bench.db");
 * db.prepare("SELECT 1").get();
 * ```
 */
// deno-lint-ignore no-explicit-any
export async function openNative(driver: string, file: string): Promise<any> {
  // deno-lint-ignore no-explicit-any
  let db: any;
  if (driver === "better-sqlite3") {
    const { default: Database } = await import(driver);
    db = new Database(file);
  } else if (driver === "node:sqlite") {
    const { DatabaseSync } = await import(driver);
    db = new DatabaseSync(file);
  } else {
    const { Database } = await import(driver);
    db = new Database(file);
  }
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  return db;
}
