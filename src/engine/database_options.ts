/**
 * The options of one open database, and their defaults.
 *
 * @module
 */

/** When a write's changes reach storage. */
export type Durability = "commit" | "deferred";

/** How a database behaves; fixed by the first router that opens it in a process. */
export interface DatabaseOptions {
  /**
   * `"commit"`: a write's promise resolves once its pages are durable.
   * `"deferred"`: writes are persisted together within `flushIntervalMs`, or at
   * `flush()`/`close()`; while changes wait, this process holds the database's
   * write lock, so no other process can commit in between.
   * @default "commit"
   */
  durability: Durability;
  /**
   * Longest wait before deferred changes are persisted, in milliseconds.
   * @default 1000
   */
  flushIntervalMs: number;
  /**
   * How far, in milliseconds, reads may lag commits made by other processes.
   * Only storage shared across processes is checked at all.
   * @default 100
   */
  maxReadLagMs: number;
  /**
   * Prepared statements cached per database.
   * @default 200
   */
  statementCacheSize: number;
  /**
   * `"quick"` runs `PRAGMA quick_check` when a stored image is first opened;
   * `"header"` checks only the header and size, for very large databases.
   * Reloads that catch up with another process's commits check the header
   * only, whatever this says: their pages are checksummed on disk; so do
   * opens from storage that proves every byte it reads against its own
   * checksums (OPFS storage), where `quick_check` would find nothing new.
   * @default "quick"
   */
  verifyOnOpen: "quick" | "header";
}

/** The defaults of {@linkcode DatabaseOptions}. */
export const DEFAULT_DATABASE_OPTIONS: Readonly<DatabaseOptions> = Object.freeze({
  durability: "commit",
  flushIntervalMs: 1000,
  maxReadLagMs: 100,
  statementCacheSize: 200,
  verifyOnOpen: "quick",
});
