/**
 * Shared pieces of the many-writers, crash and queue tests and their child
 * processes (which start through `startChild` in `spawn.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { ROOT, type RunningChild, type Runtime, startChild } from "./spawn.ts";

/** The shared table of the many-writers tests and their child processes. */
export const BOTS_SCHEMA =
  "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, payload BLOB, source_menace_id TEXT)";

/** Waits until `time` (milliseconds since the epoch), so that children start together. */
export function untilTime(time: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}

/** What `startInserter` starts: see the `insert` mode of `writers_child.ts`. */
export interface Inserter {
  /** The child's menace id. */
  readonly menace: string;
  /** The shared database's path. */
  readonly shared: string;
  /** The child's local database's path. */
  readonly local: string;
  /** How many rows it inserts. */
  readonly count: number;
  /** When it starts: a time (ms since the epoch; default now) or a file's path to wait for. */
  readonly start?: number | string;
  /** Its file storage's `lockStaleMs` (default 5000). */
  readonly staleMs?: number;
  /** Random bytes per row (default none). */
  readonly payload?: number;
}

/**
 * Starts a child process of `runtime` that inserts rows into the shared `bots`
 * table and prints `ready`, `ok i` per row and `closed`.
 *
 * @example
 * ```ts ignore
 * const child = startInserter("deno", { menace: "d", shared, local, count: 10 });
 * await child.waitFor((line) => line === "closed");
 * ```
 */
export function startInserter(runtime: Runtime, inserter: Inserter): RunningChild {
  const { menace, shared, local, count, start = 0, staleMs = 5000, payload } = inserter;
  const args = ["insert", menace, shared, local, String(count), String(start), String(staleMs)];
  return startChild(
    runtime,
    WRITERS_CHILD,
    payload === undefined ? args : [...args, String(payload)],
  );
}

const WRITERS_CHILD = join(ROOT, "tests/_support/writers_child.ts");
