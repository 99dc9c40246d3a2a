/**
 * The write buffer of one router: `queueWrite()` records wait in memory for at
 * most one turn of the event loop, then go to the instance's queue file in one
 * append (one `write` call, `fdatasync`ed by default) through the storage
 * adapter's {@linkcode RecordLog}. Records queued while an append is running
 * go together in the next one, so a burst of writes costs a few appends.
 *
 * @module
 */
import { RouterError } from "../errors.ts";
import type { RecordLog, StorageAdapter } from "../storage/types.ts";
import { queueFile } from "./layout.ts";
import { encodeRecord, type QueuedValue } from "./record.ts";

/** Most records in one append. */
const MAX_BATCH = 1000;

interface Pending {
  table: string;
  data: Readonly<Record<string, QueuedValue>>;
  queuedAt: Date;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Buffers records and appends them to `<queueDir>/<menaceId>.jsonl`.
 *
 * @example
 * ```ts
 * import { memoryStorage } from "../storage/memory.ts";
 * import { QueueWriter } from "./writer.ts";
 * const writer = QueueWriter.open(memoryStorage(), "queue", "alpha");
 * await writer.push("bots", { name: "scraper" }); // durable in queue/alpha.jsonl
 * ```
 */
export class QueueWriter {
  /** The queue file this writer appends to. */
  readonly file: string;
  readonly #records: RecordLog;
  readonly #menaceId: string;
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #appending: Promise<void> = Promise.resolve();
  #failure: unknown;

  /**
   * A writer for `menaceId` in `queueDir` of `storage`; throws `UNSUPPORTED`
   * when the adapter keeps no records.
   */
  static open(storage: StorageAdapter, queueDir: string, menaceId: string): QueueWriter {
    if (!storage.records) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot queue writes in "${queueDir}": storage "${storage.name}" keeps no records`,
      );
    }
    return new QueueWriter(storage.records, queueFile(queueDir, menaceId), menaceId);
  }

  /** Creates a writer appending to `file` through `records`. */
  constructor(records: RecordLog, file: string, menaceId: string) {
    this.#records = records;
    this.file = file;
    this.#menaceId = menaceId;
  }

  /**
   * Queues one record (already checked by `checkQueuedData`). The promise
   * resolves once its line is durable in the queue file. It counts as
   * handled: a caller that does not wait for it learns of a failed append
   * from {@linkcode flush}.
   */
  push(table: string, data: Readonly<Record<string, QueuedValue>>): Promise<void> {
    const queuedAt = new Date();
    const promise = new Promise<void>((resolve, reject) => {
      this.#pending.push({ table, data, queuedAt, resolve, reject });
    });
    promise.catch(() => {});
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, 0);
    return promise;
  }

  /**
   * Appends everything queued so far and waits for it; rejects with
   * `PERSIST_FAILED` when an append failed since the last `flush()`.
   */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    await this.#drain();
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw failure;
    }
  }

  #drain(): Promise<void> {
    this.#appending = this.#appending.then(() => this.#appendPending());
    return this.#appending;
  }

  async #appendPending(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, MAX_BATCH);
      try {
        const lines = await Promise.all(
          batch.map((r) => encodeRecord(r.table, r.data, this.#menaceId, r.queuedAt)),
        );
        await this.#records.append(this.file, lines);
        for (const record of batch) record.resolve();
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        const error = new RouterError(
          "PERSIST_FAILED",
          `Cannot queue ${batch.length} record(s) in "${this.file}": ${reason}`,
          { cause },
        );
        this.#failure ??= error;
        for (const record of batch) record.reject(error);
      }
    }
  }
}
