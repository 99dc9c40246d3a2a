/**
 * Applies a batch of queued records to a shared database without interactive
 * transactions (Cloudflare D1), whose unit of atomicity is one `batch()`.
 *
 * The records' rows, their hashes in `_dbrouter_applied` and the file's new
 * progress in `_dbrouter_sync_progress` go into one `batch()`, so a sync that
 * dies leaves the batch wholly applied and counted or not at all, as the
 * transaction of `apply.ts` does. What a transaction checks before writing,
 * the batch makes its own statements check, by failing (and so rolling back
 * the whole batch) when the state it was built from has changed:
 *
 * - the progress upsert sets `lines` to NULL, which its NOT NULL constraint
 *   refuses, unless the recorded progress is still the batch's start and the
 *   file is not finished (another sync moved it);
 * - the hashes go in with a plain INSERT into `_dbrouter_applied`, whose
 *   primary key refuses a hash applied meanwhile (by another sync, from
 *   another file).
 *
 * Rows of consecutive records with the same table and columns go in one
 * `INSERT ... SELECT ... FROM json_each(?)`: each statement is a round trip
 * where the binding is a proxy (Miniflare, wrangler's platform proxy), and a
 * statement per record made a sync through Miniflare about 20 times slower.
 *
 * Hashes applied before are read first and skipped as duplicates. When the
 * batch fails, the state is read again: a moved progress is reported as in
 * `apply.ts`, a hash applied meanwhile makes the batch be built again without
 * it; otherwise a record was refused by SQLite (a constraint, a type), and the
 * batch is applied again one record per `batch()`, so that the refused ones
 * are found and reported with their reason while the others go in.
 *
 * @module
 */
import type { BatchStatement, Connection } from "../engine/connection.ts";
import { stampedInsertParts } from "../scope/insert.ts";
import { type BatchLine, type BatchResult, problemOf, type Refusal } from "./apply.ts";
import type { QueuedRecord } from "./record.ts";

/** A record that passed the checks, with its line's index in the batch. */
interface Candidate {
  index: number;
  record: QueuedRecord;
}

/**
 * `applyBatch()` of `apply.ts` for a database whose `batch()` is atomic and
 * which has no `transaction()`: same arguments, same results.
 *
 * @example
 * ```ts ignore
 * const result = await applyBatchAtomic(conn, "alpha.001-ab.jsonl", "alpha", 0, lines, now, report);
 * if (result.status === "applied") console.log(result.applied);
 * ```
 */
export async function applyBatchAtomic(
  conn: Connection,
  file: string,
  menaceId: string,
  start: number,
  lines: readonly BatchLine[],
  now: string,
  onRefused: (refused: readonly Refusal[]) => Promise<void>,
): Promise<BatchResult> {
  const end = start + lines.length;
  const reported = new Set<number>();
  /** Reports the refusals not reported yet, before the batch that passes over them commits. */
  const report = async (refused: readonly Refusal[]) => {
    const fresh = refused.filter((r) => !reported.has(r.index));
    for (const r of fresh) reported.add(r.index);
    if (fresh.length > 0) await onRefused(fresh);
  };
  for (;;) {
    const moved = await progressCheck(conn, file, start);
    if (moved) return moved;
    const columns = new Map<string, Set<string>>();
    const refused: Refusal[] = [];
    const candidates: Candidate[] = [];
    for (const [index, line] of lines.entries()) {
      const reason = "reason" in line
        ? line.reason
        : await problemOf(conn, line.record, menaceId, columns);
      if (reason !== undefined) refused.push({ index, reason });
      else candidates.push({ index, record: (line as { record: QueuedRecord }).record });
    }
    const { fresh, duplicates } = await splitApplied(conn, candidates);
    await report(refused);
    const statements: BatchStatement[] = [progressGuard(file, start, end, now)];
    statements.push(...recordStatements(fresh.map((c) => c.record), now));
    try {
      await conn.batch(statements);
      return { status: "applied", applied: fresh.length, duplicates, refused };
    } catch (error) {
      const again = await progressCheck(conn, file, start);
      if (again) return again;
      if ((await splitApplied(conn, fresh)).duplicates > 0) continue; // another sync applied some
      if (fresh.length === 0) throw error; // the progress alone failed: nothing to single out
      return await oneByOne(conn, file, start, end, fresh, refused, duplicates, now, report);
    }
  }
}

/**
 * Marks `file` finished if exactly `lines` of it are applied, in one
 * statement; resolves whether it is finished (by this call or an earlier one).
 *
 * @example
 * ```ts ignore
 * if (await finishFileAtomic(conn, "alpha.001-ab.jsonl", 1200, new Date().toISOString())) {
 *   await records.remove(path);
 * }
 * ```
 */
export async function finishFileAtomic(
  conn: Connection,
  file: string,
  lines: number,
  now: string,
): Promise<boolean> {
  await conn.run(
    `INSERT INTO _dbrouter_sync_progress (file, lines, done, updated_at) VALUES (?, ?, 1, ?)
     ON CONFLICT (file) DO UPDATE SET done = 1, updated_at = excluded.updated_at
     WHERE lines = excluded.lines`,
    [file, lines, now],
  );
  const row = await conn.get<{ done: number }>(
    "SELECT done FROM _dbrouter_sync_progress WHERE file = ?",
    [file],
  );
  return row?.done === 1;
}

/** `"done"` or `"moved"` when the recorded progress of `file` is not `start`; else `undefined`. */
async function progressCheck(
  conn: Connection,
  file: string,
  start: number,
): Promise<BatchResult | undefined> {
  const row = await conn.get<{ lines: number; done: number }>(
    "SELECT lines, done FROM _dbrouter_sync_progress WHERE file = ?",
    [file],
  );
  if (row?.done) return { status: "done" };
  const progress = row?.lines ?? 0;
  return progress === start ? undefined : { status: "moved", progress };
}

/**
 * Sets the progress of `file` from `start` to `end`; fails (NOT NULL), and so
 * rolls its batch back, when the progress is no longer `start` or the file is
 * finished. A missing row is only ever created from 0: progress rows are
 * deleted only a day after their file was finished and deleted.
 */
function progressGuard(file: string, start: number, end: number, now: string): BatchStatement {
  return {
    sql: `INSERT INTO _dbrouter_sync_progress (file, lines, done, updated_at) VALUES (?, ?, 0, ?)
          ON CONFLICT (file) DO UPDATE SET
            lines = CASE WHEN lines = ? AND done = 0 THEN excluded.lines END,
            updated_at = excluded.updated_at`,
    params: [file, end, now, start],
  };
}

/**
 * The hashes and rows of `records`, in few statements: each statement is one
 * round trip where the binding is a proxy (Miniflare, wrangler), so rows of
 * consecutive records with the same columns go in one `INSERT ... SELECT` over
 * `json_each(?)`, in order, and the hashes in one plain INSERT (a hash applied
 * meanwhile fails the batch). JSON keeps each value's type: a whole number is
 * an INTEGER, a fraction a REAL, a boolean 1 or 0, as bound values are.
 */
function recordStatements(records: readonly QueuedRecord[], now: string): BatchStatement[] {
  const statements: BatchStatement[] = [];
  for (const hashes of chunks(records.map((r) => r.hash))) {
    statements.push({
      sql: "INSERT INTO _dbrouter_applied (hash, applied_at) SELECT value, ? FROM json_each(?)",
      params: [now, JSON.stringify(hashes)],
    });
  }
  let group: { into: string; rows: unknown[][] } | undefined;
  const groups: Array<{ into: string; rows: unknown[][] }> = [];
  for (const record of records) {
    const { into, params } = stampedInsertParts(
      record.table,
      record.data,
      record.source_menace_id,
    );
    if (group?.into !== into) groups.push(group = { into, rows: [] });
    group.rows.push(params as unknown[]);
  }
  for (const { into, rows } of groups) {
    const picks = rows[0].map((_, i) => `json_extract(value, '$[${i}]')`).join(", ");
    for (const chunk of chunks(rows)) {
      statements.push({
        sql: `${into} SELECT ${picks} FROM json_each(?) ORDER BY key`,
        params: [JSON.stringify(chunk)],
      });
    }
  }
  return statements;
}

/** Splits `items` so that each part's JSON stays well under D1's 2 MB per value. */
function chunks<T>(items: readonly T[]): T[][] {
  const parts: T[][] = [];
  let part: T[] = [];
  let size = 0;
  for (const item of items) {
    const length = JSON.stringify(item).length;
    if (part.length > 0 && size + length > 512 * 1024) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(item);
    size += length + 1;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/**
 * Splits `candidates` into those to insert and the number already applied
 * (their hash is in `_dbrouter_applied`, or earlier in the batch).
 */
async function splitApplied(
  conn: Connection,
  candidates: readonly Candidate[],
): Promise<{ fresh: Candidate[]; duplicates: number }> {
  if (candidates.length === 0) return { fresh: [], duplicates: 0 };
  const rows = await conn.all<{ hash: string }>(
    "SELECT hash FROM _dbrouter_applied WHERE hash IN (SELECT value FROM json_each(?))",
    [JSON.stringify(candidates.map((c) => c.record.hash))],
  );
  const seen = new Set(rows.map((r) => r.hash));
  const fresh: Candidate[] = [];
  for (const candidate of candidates) {
    if (seen.has(candidate.record.hash)) continue;
    seen.add(candidate.record.hash);
    fresh.push(candidate);
  }
  return { fresh, duplicates: candidates.length - fresh.length };
}

/**
 * Applies `fresh` one record per `batch()`, each with the progress up to its
 * line, so that a record SQLite refuses is reported (before the progress
 * passes it) and the others are applied.
 */
async function oneByOne(
  conn: Connection,
  file: string,
  start: number,
  end: number,
  fresh: readonly Candidate[],
  refusedBefore: readonly Refusal[],
  duplicatesBefore: number,
  now: string,
  report: (refused: readonly Refusal[]) => Promise<void>,
): Promise<BatchResult> {
  const refused = [...refusedBefore];
  let applied = 0;
  let duplicates = duplicatesBefore;
  let progress = start;
  for (const candidate of fresh) {
    const upTo = start + candidate.index + 1;
    try {
      await conn.batch([
        progressGuard(file, progress, upTo, now),
        ...recordStatements([candidate.record], now),
      ]);
      applied++;
      progress = upTo;
      continue;
    } catch (error) {
      const moved = await progressCheck(conn, file, progress);
      if (moved) return moved; // another sync goes on with the file
      if ((await splitApplied(conn, [candidate])).duplicates > 0) duplicates++;
      else {
        const reason = error instanceof Error ? error.message : String(error);
        refused.push({ index: candidate.index, reason });
        await report([{ index: candidate.index, reason }]);
      }
    }
  }
  if (progress < end) {
    try {
      await conn.batch([progressGuard(file, progress, end, now)]);
    } catch (error) {
      const moved = await progressCheck(conn, file, progress);
      if (moved) return moved;
      throw error;
    }
  }
  refused.sort((a, b) => a.index - b.index);
  return { status: "applied", applied, duplicates, refused };
}
