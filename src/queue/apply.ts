/**
 * Applies one batch of queued records to the shared database in one
 * transaction, together with the progress that says the batch is done.
 *
 * Two tables of the shared database keep the sync's state:
 * - `_dbrouter_sync_progress(file, lines, done, updated_at)`: how many lines
 *   of each claimed file are applied, and whether the file is finished. The
 *   batch's rows and its progress commit atomically, so a crash leaves a batch
 *   either wholly applied and counted, or neither. A batch whose start is not
 *   the recorded progress was (or is being) applied by another sync and is
 *   skipped, which makes two syncs at once safe.
 * - `_dbrouter_applied(hash, applied_at)`: the hash of every applied record.
 *   A record whose hash is there is not inserted again, so a line that
 *   reaches the queue twice (see `RecordLog.append`) inserts once. Hashes are
 *   forgotten after a retention (`sync.ts`, `appliedRetentionDays`).
 *
 * Each record is inserted in a savepoint: one that SQLite refuses (a
 * constraint, a type) is rolled back alone and reported with its reason.
 *
 * @module
 */
import type { Connection } from "../engine/connection.ts";
import { RouterError } from "../errors.ts";
import { routeTable } from "../routing/tables.ts";
import { MENACE_COLUMN } from "../scope/clause.ts";
import { stampedInsert } from "../scope/insert.ts";
import type { QueuedRecord } from "./record.ts";

/** Creates the sync's tables when they are missing. */
export const SYNC_SCHEMA = `
CREATE TABLE IF NOT EXISTS _dbrouter_applied (
  hash TEXT PRIMARY KEY, applied_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _dbrouter_sync_progress (
  file TEXT PRIMARY KEY, lines INTEGER NOT NULL, done INTEGER NOT NULL, updated_at TEXT NOT NULL
);`;

/** A line of a batch: its decoded record, or why it was refused before any SQL. */
export type BatchLine = { record: QueuedRecord } | { reason: string };

/** A refused line and why. */
export interface Refusal {
  /** Index of the line in its batch. */
  index: number;
  /** Why it was not applied. */
  reason: string;
}

/** What {@linkcode applyBatch} did. */
export type BatchResult =
  | { status: "applied"; applied: number; duplicates: number; refused: Refusal[] }
  | { status: "moved"; progress: number }
  | { status: "done" };

/**
 * Applies `lines` (the lines `start` to `start + lines.length - 1` of the
 * claimed file `file`, whose records must come from `menaceId`) in one
 * transaction, stamped `now` (an ISO time). `onRefused` runs inside it, before
 * the commit, so refused lines are recorded at least once. Returns `"moved"`
 * with the recorded progress when it is not `start`, and `"done"` when the file
 * is finished already.
 *
 * @example
 * ```ts ignore
 * const now = new Date().toISOString();
 * const result = await applyBatch(conn, "alpha.001-ab.jsonl", "alpha", 0, lines, now, async () => {});
 * if (result.status === "applied") console.log(result.applied);
 * ```
 */
export function applyBatch(
  conn: Connection,
  file: string,
  menaceId: string,
  start: number,
  lines: readonly BatchLine[],
  now: string,
  onRefused: (refused: readonly Refusal[]) => Promise<void>,
): Promise<BatchResult> {
  return conn.transaction(async (tx) => {
    const row = await tx.get<{ lines: number; done: number }>(
      "SELECT lines, done FROM _dbrouter_sync_progress WHERE file = ?",
      [file],
    );
    if (row?.done) return { status: "done" };
    if ((row?.lines ?? 0) !== start) return { status: "moved", progress: row?.lines ?? 0 };
    const columns = new Map<string, Set<string>>();
    let applied = 0;
    let duplicates = 0;
    const refused: Refusal[] = [];
    for (const [index, line] of lines.entries()) {
      const reason = "reason" in line
        ? line.reason
        : await problemOf(tx, line.record, menaceId, columns);
      if (reason !== undefined) {
        refused.push({ index, reason });
        continue;
      }
      const record = (line as { record: QueuedRecord }).record;
      try {
        const inserted = await tx.transaction(async (savepoint) => {
          const mark = await savepoint.run(
            "INSERT INTO _dbrouter_applied (hash, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [record.hash, now],
          );
          if (mark.changes === 0) return false;
          const { sql, params } = stampedInsert(record.table, record.data, record.source_menace_id);
          await savepoint.run(sql, params);
          return true;
        });
        if (inserted) applied++;
        else duplicates++;
      } catch (error) {
        refused.push({ index, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    await tx.run(
      `INSERT INTO _dbrouter_sync_progress (file, lines, done, updated_at) VALUES (?, ?, 0, ?)
       ON CONFLICT (file) DO UPDATE SET lines = excluded.lines, updated_at = excluded.updated_at`,
      [file, start + lines.length, now],
    );
    if (refused.length > 0) await onRefused(refused);
    return { status: "applied", applied, duplicates, refused };
  });
}

/**
 * Marks `file` finished, at `now` (an ISO time), if exactly `lines` of it are
 * applied; resolves whether it is finished (by this call or an earlier one).
 *
 * @example
 * ```ts ignore
 * if (await finishFile(conn, "alpha.001-ab.jsonl", 1200, new Date().toISOString())) {
 *   await records.remove(path);
 * }
 * ```
 */
export function finishFile(
  conn: Connection,
  file: string,
  lines: number,
  now: string,
): Promise<boolean> {
  return conn.transaction(async (tx) => {
    const row = await tx.get<{ lines: number; done: number }>(
      "SELECT lines, done FROM _dbrouter_sync_progress WHERE file = ?",
      [file],
    );
    if (row?.done) return true;
    if ((row?.lines ?? 0) !== lines) return false;
    await tx.run(
      `INSERT INTO _dbrouter_sync_progress (file, lines, done, updated_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (file) DO UPDATE SET done = 1, updated_at = excluded.updated_at`,
      [file, lines, now],
    );
    return true;
  });
}

/**
 * Why `record` cannot go into the shared database (a denied, unknown or local
 * table, a missing table or column, another instance's record), or
 * `undefined` when it can. `cache` keeps each table's columns for a batch.
 *
 * @example
 * ```ts ignore
 * const reason = await problemOf(conn, record, "alpha", new Map());
 * ```
 */
export async function problemOf(
  tx: Connection,
  record: QueuedRecord,
  menaceId: string,
  cache: Map<string, Set<string>>,
): Promise<string | undefined> {
  if (record.source_menace_id !== menaceId) {
    return `source_menace_id "${record.source_menace_id}" is not the queue file's instance "${menaceId}"`;
  }
  let route: string;
  try {
    route = routeTable(record.table);
  } catch (error) {
    if (error instanceof RouterError) return error.message;
    throw error;
  }
  if (route !== "shared") return `table "${record.table}" is a local table, not a shared one`;
  let columns = cache.get(record.table);
  if (!columns) {
    const rows = await tx.all<{ name: string }>("SELECT name FROM pragma_table_info(?)", [
      record.table,
    ]);
    columns = new Set(rows.map((r) => r.name));
    cache.set(record.table, columns);
  }
  if (columns.size === 0) return `table "${record.table}" does not exist in the shared database`;
  if (!columns.has(MENACE_COLUMN)) return `table "${record.table}" has no ${MENACE_COLUMN} column`;
  for (const column of Object.keys(record.data)) {
    if (!columns.has(column)) return `column "${column}" does not exist in table "${record.table}"`;
  }
  return undefined;
}
