/**
 * Record logs (write queues, audit logs) in IndexedDB: each append is one
 * record `{ log, lines }` under an auto-increment key, written in its own
 * transaction, so a batch lands whole or not at all and batches from many
 * tabs never interleave. Reading walks the `log` index, which orders a log's
 * batches by their keys: the order they were appended in.
 *
 * A log exists while it has a record; `prepare` stores an empty batch so that
 * an audit log shows up (and a full quota fails) before its first line.
 * `claim` renames every batch of a log in one transaction, which IndexedDB
 * serialises with appends: a line is in the old log or the new one, never
 * both, never neither.
 *
 * @module
 */
import type { RecordLog, RecordLogEntry } from "../types.ts";
import { type RecordBatch, requestResult, transact } from "./idb.ts";

/** What the record log needs from its adapter. */
export interface IdbRecordsContext {
  /** The adapter's open IndexedDB connection. */
  connect(): Promise<IDBDatabase>;
  /** `IDBKeyRange` of the same implementation. */
  readonly keyRange: typeof IDBKeyRange;
  /** The durability hint of append transactions. */
  readonly durability: IDBTransactionDurability;
  /** Turns a log name into its canonical key. */
  resolve(name: string): string;
  /** The error to throw for `error` (a quota error becomes `STORAGE_QUOTA`). */
  fail(error: unknown, what: string): Promise<unknown>;
}

/**
 * The record log of an IndexedDB storage adapter.
 *
 * @example
 * ```ts ignore
 * const records = idbRecords(context);
 * await records.append("audit/alpha.log", ['{"table_name":"bots"}']);
 * ```
 */
export function idbRecords(context: IdbRecordsContext): RecordLog {
  const run = async <T>(
    mode: IDBTransactionMode,
    body: (store: IDBObjectStore) => Promise<T>,
  ): Promise<T> =>
    await transact(
      await context.connect(),
      ["records"],
      mode,
      (tx) => body(tx.objectStore("records")),
      mode === "readwrite" ? context.durability : "default",
    );
  const write = async (name: string, body: (store: IDBObjectStore) => Promise<void>) => {
    try {
      await run("readwrite", body);
    } catch (error) {
      throw await context.fail(error, `Cannot append to record log "${name}"`);
    }
  };
  return {
    async append(name, lines) {
      const log = context.resolve(name);
      for (const line of lines) {
        if (typeof line !== "string" || line.length === 0 || line.includes("\n")) {
          throw new TypeError(
            `Cannot append to "${log}": a line is empty, not a string, or holds a newline`,
          );
        }
      }
      if (lines.length === 0) return;
      const batch: RecordBatch = { log, lines: [...lines] };
      await write(log, async (store) => void await requestResult(store.add(batch)));
    },
    async *read(name) {
      const log = context.resolve(name);
      const batches = await run(
        "readonly",
        (store) => requestResult<RecordBatch[]>(store.index("log").getAll(log)),
      );
      for (const batch of batches) yield* batch.lines;
    },
    async prepare(name) {
      const log = context.resolve(name);
      await write(log, async (store) => {
        const found = await requestResult(store.index("log").getKey(log));
        if (found === undefined) store.add({ log, lines: [] } satisfies RecordBatch);
      });
    },
    async list(folder) {
      const prefix = `${context.resolve(folder)}/`;
      const range = context.keyRange.bound(prefix, `${prefix}\uffff`);
      const batches = await run(
        "readonly",
        (store) => requestResult<RecordBatch[]>(store.index("log").getAll(range)),
      );
      const sizes = new Map<string, number>();
      const encoder = new TextEncoder();
      for (const { log, lines } of batches) {
        const name = log.slice(prefix.length);
        if (name.includes("/")) continue;
        const bytes = lines.reduce((sum, line) => sum + encoder.encode(line).length + 1, 0);
        sizes.set(name, (sizes.get(name) ?? 0) + bytes);
      }
      return [...sizes].map(([name, size]): RecordLogEntry => ({ name, size }));
    },
    async claim(name, to) {
      const from = context.resolve(name);
      const target = context.resolve(to);
      let claimed = false;
      await write(from, async (store) => {
        const keys = await requestResult(store.index("log").getAllKeys(from));
        if (keys.length === 0) return;
        claimed = true;
        if (from === target) return;
        // Like a rename, the claim replaces a log already at the target.
        const replaced = await requestResult(store.index("log").getAllKeys(target));
        for (const key of replaced) store.delete(key);
        for (const key of keys) {
          const batch: RecordBatch = await requestResult(store.get(key));
          store.put({ ...batch, log: target }, key);
        }
      });
      return claimed;
    },
    async remove(name) {
      const log = context.resolve(name);
      await write(log, async (store) => {
        const keys = await requestResult(store.index("log").getAllKeys(log));
        for (const key of keys) store.delete(key);
      });
    },
  };
}
