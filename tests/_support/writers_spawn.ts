/**
 * Shared pieces of the many-writers, crash and queue tests and their child
 * processes (which start through `startChild` in `spawn.ts`).
 *
 * @module
 */

/** The shared table of the many-writers tests and their child processes. */
export const BOTS_SCHEMA =
  "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, payload BLOB, source_menace_id TEXT)";

/** Waits until `time` (milliseconds since the epoch), so that children start together. */
export function untilTime(time: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}
