/**
 * Applies one claimed queue file, batch by batch, from the line that the
 * shared database records as the file's progress (see `apply.ts`).
 *
 * Lines are counted as `RecordLog.read` yields them (complete, non-empty
 * lines), which stays a stable prefix of a file that only grows by whole
 * appends. A batch whose start is not the recorded progress was applied by
 * another sync, perhaps with another batch size: the lines up to the recorded
 * progress are skipped, and the rest of the batch is kept. A progress behind
 * the batch means the file is another sync's to go on with.
 *
 * @module
 */
import type { Connection } from "../engine/connection.ts";
import { join } from "../path.ts";
import type { RecordLog } from "../storage/types.ts";
import { applyBatch, type BatchLine, finishFile } from "./apply.ts";
import { applyBatchAtomic, finishFileAtomic } from "./apply_atomic.ts";
import { failedFile, PROCESSING_FOLDER } from "./layout.ts";
import { decodeRecord } from "./record.ts";

/** Running counts of a sync pass, updated in place. */
export interface PassCounts {
  /** Records inserted. */
  applied: number;
  /** Records skipped because they were applied before. */
  duplicates: number;
  /** Records refused and written to a failed file. */
  failed: number;
  /** Bytes of claimed files read so far (approximately). */
  bytesDone: number;
}

/** What {@linkcode applyClaimedFile} works with. */
export interface ClaimedFileContext {
  /** The shared database. */
  readonly conn: Connection;
  /** The queue folder's record logs. */
  readonly records: RecordLog;
  /** The queue folder. */
  readonly queueDir: string;
  /** Records per transaction. */
  readonly batchSize: number;
  /**
   * Whether `conn` has interactive transactions; without them (D1) each batch
   * is one atomic `batch()` (`apply_atomic.ts`).
   */
  readonly transactions: boolean;
  /** The time, in milliseconds since 1970, that stamps applied records and failures. */
  readonly clock: () => number;
  /** Called after each applied batch. */
  readonly onBatch?: () => void;
}

/**
 * Applies `processing/<name>` (records of `menaceId`; with `replay`, entries
 * of a failed file) and resolves whether the file is finished, by this call
 * or an earlier one, so that it can be deleted.
 *
 * @example
 * ```ts ignore
 * const counts = { applied: 0, duplicates: 0, failed: 0, bytesDone: 0 };
 * const done = await applyClaimedFile(context, "alpha.001700000000000-0a1b2c3d.jsonl", "alpha", false, counts);
 * ```
 */
export async function applyClaimedFile(
  context: ClaimedFileContext,
  name: string,
  menaceId: string,
  replay: boolean,
  counts: PassCounts,
): Promise<boolean> {
  const { conn, records, queueDir, batchSize } = context;
  const apply = context.transactions ? applyBatch : applyBatchAtomic;
  const finish = context.transactions ? finishFile : finishFileAtomic;
  const failed = failedFile(queueDir, menaceId);
  let index = 0;
  let next = 0;
  let finished = false;
  let batch: { raw: string; line: BatchLine }[] = [];
  /** Applies the batch; resolves whether to go on reading. */
  const flush = async (): Promise<boolean> => {
    const sent = batch;
    batch = [];
    const start = index - sent.length;
    const result = await apply(
      conn,
      name,
      menaceId,
      start,
      sent.map((b) => b.line),
      new Date(context.clock()).toISOString(),
      (refused) =>
        records.append(
          failed,
          refused.map(({ index, reason }) =>
            JSON.stringify({
              reason,
              line: sent[index].raw,
              from: name,
              failed_at: new Date(context.clock()).toISOString(),
            })
          ),
        ),
    );
    if (result.status === "done") {
      // Finished by another sync, or by one that died before it could delete the file.
      finished = true;
      return false;
    }
    if (result.status === "moved") {
      if (result.progress < start) return false;
      next = result.progress;
      if (next < index) batch = sent.slice(next - start);
      return true;
    }
    next = index;
    counts.applied += result.applied;
    counts.duplicates += result.duplicates;
    counts.failed += result.refused.length;
    context.onBatch?.();
    return true;
  };
  for await (const raw of records.read(join(queueDir, PROCESSING_FOLDER, name))) {
    counts.bytesDone += raw.length + 1;
    if (index++ < next) continue;
    const original = replay ? unwrapFailed(raw) : raw;
    batch.push({ raw: original, line: await decodeRecord(original) });
    if (batch.length >= batchSize && !await flush()) return finished;
  }
  // A flush that finds the progress inside its batch keeps the batch's unapplied tail: flush that too.
  while (batch.length > 0) if (!await flush()) return finished;
  // Another sync read lines this one did not (appends that raced the claim): its file to finish.
  if (next > index) return false;
  return await finish(conn, name, index, new Date(context.clock()).toISOString());
}

/** The original line of a failed-file entry (or the entry itself when it is not one). */
function unwrapFailed(raw: string): string {
  try {
    const entry = JSON.parse(raw);
    if (typeof entry?.line === "string") return entry.line;
  } catch {
    // Not a failed entry: decoding the raw line reports why.
  }
  return raw;
}
