/**
 * The audit log: one JSON line per table access, shared and local,
 *
 * ```json
 * {"menace_id":"alpha","table_name":"bots","operation":"write","timestamp":"2024-05-14T12:00:00.000Z"}
 * ```
 *
 * (with `chain`, a last field `"prev_hash"`: see `audit_chain.ts`), appended
 * through a {@linkcode RecordLog}, whose appends are atomic across processes:
 * lines from many processes never tear or interleave.
 *
 * `getConnection` only notes the access (menace, table, operation, time);
 * lines are built and appended in batches: when `batchLines` accesses wait,
 * `flushIntervalMs` after the first waiting one, and at `router.flush()` /
 * `close()`. The timer is armed only while accesses wait, so a process that
 * ends normally without `close()` still writes them (the timer keeps it alive
 * until then); `process.exit()`, a crash or a closed browser tab loses at
 * most the last interval.
 *
 * A failed append keeps its lines (up to `maxPendingLines`, the oldest are
 * dropped beyond) and is retried with the next batch; the failure is logged
 * at ERROR on `["db-router", "audit"]` and rejects the next `flush()`,
 * `close()` or `ready()` with `AUDIT_WRITE_FAILED`, so lines are never lost
 * in silence.
 *
 * The log rotates by size and age (`audit_rotation.ts`) wherever the
 * storage's records can lock, which file and memory storage can.
 *
 * @module
 */
import { RouterError } from "../errors.ts";
import type { RecordLog } from "../storage/types.ts";
import { AuditChain } from "./audit_chain.ts";
import {
  appendRotating,
  type AuditRotation,
  type AuditRotationOptions,
  canRotate,
  resolveAuditRotation,
  type RotatingLog,
} from "./audit_rotation.ts";
import type { AccessEvent, RouterObserver } from "./hooks.ts";

/** Options of {@linkcode AuditLogObserver}. */
export interface AuditLogOptions {
  /** Whether each line carries `prev_hash`, the hash of this writer's previous line. @default false */
  chain?: boolean;
  /** @default 100 */
  flushIntervalMs?: number;
  /** Waiting lines that start an append at once. @default 1000 */
  batchLines?: number;
  /** Lines kept while appends fail; older ones are dropped and reported. @default 100000 */
  maxPendingLines?: number;
  /**
   * When the log rotates (`audit_rotation.ts`); `false` never rotates. Storage
   * whose records cannot lock (IndexedDB) does not rotate, and refuses options.
   * @default rotation by 64 MiB or a day, every file kept, where the storage can
   */
  rotation?: AuditRotationOptions | false;
  /** Told about the first failure of a run of failed appends. */
  onError?(error: RouterError): void;
  /** Called once by {@linkcode AuditLogObserver.close} after the last flush (closing `records`). */
  release?(): Promise<void>;
}

/** Lines per append, so that one write stays a few megabytes at most. */
const MAX_APPEND_LINES = 16384;

/**
 * Audits every access of a router to the log `path` of `records`.
 *
 * @example
 * ```ts
 * import { AuditLogObserver } from "./audit.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * const records = memoryStorage().records!;
 * const audit = new AuditLogObserver(records, "audit.log");
 * audit.onAccess({ menaceId: "alpha", table: "bots", operation: "write", database: "shared" });
 * await audit.flush(); // one line in "audit.log"
 * ```
 */
export class AuditLogObserver implements RouterObserver {
  /** The log's name in `records` (an absolute path for files). */
  readonly path: string;
  readonly #records: RecordLog;
  readonly #intervalMs: number;
  readonly #batchLines: number;
  readonly #maxPending: number;
  readonly #onError?: (error: RouterError) => void;
  #release?: () => Promise<void>;
  readonly #chain: AuditChain | undefined;
  readonly #rotation: AuditRotation | undefined;
  // Waiting accesses, as parallel arrays: the line is built at append time,
  // so that getConnection pays for four array pushes and a clock read only.
  #menaces: string[] = [];
  #tables: string[] = [];
  #operations: string[] = [];
  #times: number[] = [];
  #lines: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | undefined;
  #again = false;
  #failure: unknown;
  #dropped = 0;
  #menaceId = "";
  #prefix = "";
  #millis = NaN;
  #stamp = "";

  /** Creates the observer; nothing is written until the first access. */
  constructor(records: RecordLog, path: string, options: AuditLogOptions = {}) {
    this.#records = records;
    this.path = path;
    this.#intervalMs = options.flushIntervalMs ?? 100;
    this.#batchLines = options.batchLines ?? 1000;
    this.#maxPending = options.maxPendingLines ?? 100_000;
    this.#onError = options.onError;
    this.#release = options.release;
    this.#chain = options.chain ? new AuditChain() : undefined;
    const rotation = options.rotation ?? (canRotate(records) ? {} : false);
    if (rotation !== false && !canRotate(records)) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot rotate audit log "${path}": its storage's records cannot be locked`,
      );
    }
    this.#rotation = rotation === false ? undefined : resolveAuditRotation(rotation);
  }

  /** Buffers the access; appends start from here only when a batch is full. */
  onAccess(event: AccessEvent): void {
    this.#menaces.push(event.menaceId);
    this.#tables.push(event.table);
    this.#operations.push(event.operation);
    const waiting = this.#times.push(Date.now());
    if (waiting >= this.#batchLines) this.#write();
    else this.#timer ??= setTimeout(this.#onTimer, this.#intervalMs);
  }

  /** Checks that the log can be written (creating it), then writes what waits. */
  async ready(): Promise<void> {
    try {
      await this.#records.prepare?.(this.path);
    } catch (cause) {
      throw this.#error(cause);
    }
    await this.flush();
  }

  /** Appends every waiting line; rejects with `AUDIT_WRITE_FAILED` if lines could not be written. */
  async flush(): Promise<void> {
    if (this.#times.length > 0 || this.#lines.length > 0) this.#write();
    while (this.#writing) await this.#writing;
    const dropped = this.#dropped;
    if (this.#failure === undefined && dropped === 0) return;
    const cause = this.#failure;
    this.#dropped = 0;
    throw this.#error(cause ?? new Error("appends failed earlier"), dropped);
  }

  /** Flushes, stops the timer and releases the records (`release`). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      const release = this.#release;
      this.#release = undefined;
      await release?.();
    }
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#write();
  };

  #write(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#writing) {
      this.#again = true;
      return;
    }
    this.#writing = this.#drain().finally(() => (this.#writing = undefined));
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      this.#buildLines();
      const batch = this.#lines.length <= MAX_APPEND_LINES
        ? this.#lines.splice(0)
        : this.#lines.splice(0, MAX_APPEND_LINES);
      try {
        if (this.#rotation === undefined) await this.#records.append(this.path, batch);
        else {
          const records = this.#records as RotatingLog;
          await appendRotating(records, this.path, batch, this.#rotation, Date.now());
        }
        this.#failure = undefined;
      } catch (cause) {
        this.#lines = batch.concat(this.#lines);
        const excess = this.#lines.length - this.#maxPending;
        if (excess > 0) {
          this.#lines.splice(0, excess);
          this.#dropped += excess;
        }
        if (this.#failure === undefined) this.#onError?.(this.#error(cause, this.#dropped));
        this.#failure = cause;
        return; // retried with the next batch or flush, not in a loop
      }
    } while (this.#lines.length > 0 || this.#times.length >= this.#batchLines || this.#again);
    if (this.#times.length > 0) this.#timer ??= setTimeout(this.#onTimer, this.#intervalMs);
  }

  /** Turns the waiting accesses into lines, chained with `chain`. */
  #buildLines(): void {
    const menaces = this.#menaces;
    const tables = this.#tables;
    const operations = this.#operations;
    const times = this.#times;
    this.#menaces = [];
    this.#tables = [];
    this.#operations = [];
    this.#times = [];
    for (let i = 0; i < times.length; i++) {
      if (menaces[i] !== this.#menaceId) {
        this.#menaceId = menaces[i];
        this.#prefix = `{"menace_id":${JSON.stringify(menaces[i])},"table_name":`;
      }
      if (times[i] !== this.#millis) {
        this.#millis = times[i];
        this.#stamp = new Date(times[i]).toISOString();
      }
      const body = `${this.#prefix}${JSON.stringify(tables[i])},"operation":${
        JSON.stringify(operations[i])
      },"timestamp":"${this.#stamp}"`;
      this.#lines.push(this.#chain ? this.#chain.link(body) : `${body}}`);
    }
  }

  #error(cause: unknown, dropped = 0): RouterError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const lost = dropped > 0 ? ` (${dropped} lines were dropped)` : "";
    const message = `Cannot write audit log "${this.path}": ${reason}${lost}`;
    return new RouterError("AUDIT_WRITE_FAILED", message, { cause });
  }
}
