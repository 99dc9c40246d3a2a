/**
 * `syncSharedDb()`: applies queued records to the shared database.
 *
 * A pass (1) claims each non-empty `<queue dir>/<menace>.jsonl` by renaming
 * it to a unique name under `processing/` (with `replayFailed`, each
 * `failed/<menace>.jsonl` too), so that instances go on appending to a new
 * queue file; (2) applies every file under `processing/`, oldest claim
 * first, in batches, each batch one transaction that also records how many
 * lines of the file are applied (`apply.ts`); (3) marks a finished file done
 * in the database, then deletes it.
 *
 * A crash at any point is safe: a claimed file stays under `processing/`
 * and the next pass resumes it at the recorded line; a batch is applied and
 * counted together or not at all; a record applied already (its hash is in
 * `_dbrouter_applied`) is not inserted again. Two syncs at once may both work
 * on one file: each batch checks the recorded progress under the database's
 * write lock, so each line is applied by one of them only.
 *
 * Applied hashes (`_dbrouter_applied`) are kept `appliedRetentionDays`
 * (default 7) and then forgotten, so the table holds about that many days of
 * records. Forgetting is safe because of where a second copy of a line can
 * be: in the same claimed file, or in the instance's next queue file (an
 * append that raced the claim is repeated there, and the next pass claims
 * it). So a pass forgets only hashes applied before the pass began and older
 * than the retention, and only when no file it found under `processing/`
 * (after claiming the queue files, so any queue file that existed when the
 * pass began, claimed by it or by another sync) is left unfinished: whatever
 * copies of them could exist were claimed and applied (skipped) before. The bound is the retention only for failed records: an
 * entry of `failed/` whose record was applied after all (a sync that died
 * between writing the entry and committing its batch, whose retry then
 * succeeded) is recognised by `replayFailed` only within the retention.
 *
 * A refused record (bad JSON, a changed hash, a denied, unknown or local
 * table, a missing table or column, a name that is not a plain SQL name, a
 * value SQLite refuses) is appended to `failed/<menace>.jsonl` as
 * `{"reason", "line", "from", "failed_at"}`, at least once (twice if the
 * sync dies between writing it and committing its batch); nothing of it is
 * placed into SQL.
 *
 * @module
 */
import type { SharedBackend, SharedDatabase } from "../engine/backend.ts";
import type { Connection } from "../engine/connection.ts";
import { DEFAULT_DATABASE_OPTIONS } from "../engine/database.ts";
import { sqlJsBackend } from "../engine/sqljs_backend.ts";
import { RouterError } from "../errors.ts";
import { join } from "../path.ts";
import { defaultSharedPath } from "../menace.ts";
import { getHost } from "../storage/detect.ts";
import type { RecordLog, StorageAdapter } from "../storage/types.ts";
import type { ClaimedFileContext } from "./claimed_file.ts";
import {
  claimedName,
  defaultQueueDir,
  FAILED_FOLDER,
  menaceOfQueueFile,
  parseClaimedName,
  PROCESSING_FOLDER,
} from "./layout.ts";

/**
 * Options of {@linkcode syncSharedDb} and {@linkcode QueueSync}.
 *
 * @example
 * ```ts
 * import type { SyncOptions } from "./sync.ts";
 * const options: SyncOptions = { dbPath: "shared/global.db", batchSize: 1000, replayFailed: true };
 * ```
 */
export interface SyncOptions {
  /**
   * The shared database to apply records to.
   * @default `MENACE_SHARED_DB_PATH`, else `./shared/global.db`
   */
  dbPath?: string;
  /**
   * A shared database elsewhere, instead of `dbPath`: `libsqlBackend({ url })`,
   * `d1Backend(env.DB)`. On D1, which has no interactive transactions, each
   * batch is one atomic `batch()` with its hashes and progress
   * (`apply_atomic.ts`).
   * @default the sql.js database at `dbPath`
   */
  backend?: SharedBackend;
  /**
   * The queue folder.
   * @default `DB_ROUTER_QUEUE_DIR`, else `queue/` beside the database
   */
  queueDir?: string;
  /**
   * Where the database and queue files are kept.
   * @default the runtime's file storage
   */
  storage?: StorageAdapter;
  /**
   * Records per transaction.
   * @default 500
   */
  batchSize?: number;
  /**
   * Also claim `failed/<menace>.jsonl` files and try their records again.
   * @default false
   */
  replayFailed?: boolean;
  /**
   * Days an applied record's hash is kept in `_dbrouter_applied`, to recognise
   * a second copy of its line (see the module documentation for why this is
   * safe); then it is forgotten, so the table stays bounded. Any number above 0.
   * @default 7
   */
  appliedRetentionDays?: number;
  /**
   * Days a finished claimed file's row is kept in `_dbrouter_sync_progress`
   * (one row per file a pass finished), for syncs that may still be reading
   * that file; then it is forgotten, so the table holds about that many days
   * of passes. Any number above 0.
   * @default 1
   */
  progressRetentionDays?: number;
  /**
   * The clock, in milliseconds since 1970, that stamps applied records and
   * decides what is old enough to forget: for tests that cover days.
   * @default Date.now
   */
  clock?: () => number;
  /** Called after each batch, for progress displays. */
  onProgress?: (progress: SyncProgress) => void;
}

const DAY_MS = 86_400_000;
/**
 * A pass forgets applied hashes at most this often (or a quarter of the retention, when that is
 * shorter): each time is a scan of the table.
 */
const FORGET_INTERVAL_MS = 3_600_000;

/**
 * Counts of a pass.
 *
 * @example
 * ```ts
 * import type { SyncReport } from "./sync.ts";
 * const report: SyncReport = { files: 2, applied: 120, duplicates: 0, failed: 1 };
 * ```
 */
export interface SyncReport {
  /** Claimed files finished (and deleted) by this pass. */
  files: number;
  /** Records inserted. */
  applied: number;
  /** Records skipped because they were applied before. */
  duplicates: number;
  /** Records refused and written to a failed file. */
  failed: number;
}

/**
 * Progress of a pass, after each batch.
 *
 * @example
 * ```ts
 * import type { SyncProgress } from "./sync.ts";
 * const show = (p: SyncProgress) => `${Math.floor((100 * p.bytesDone) / p.bytesTotal)}%`;
 * ```
 */
export interface SyncProgress extends SyncReport {
  /** Bytes of claimed files read so far (approximately, for display). */
  bytesDone: number;
  /** Bytes of all claimed files at the start of the pass. */
  bytesTotal: number;
}

/**
 * Applies every queued record once: one pass, then closes the database.
 *
 * @example
 * ```ts ignore
 * import { syncSharedDb } from "db-router";
 * const report = await syncSharedDb({ dbPath: "shared/global.db", queueDir: "shared/queue" });
 * console.log(`${report.applied} applied, ${report.failed} failed`);
 * ```
 */
export async function syncSharedDb(options: SyncOptions = {}): Promise<SyncReport> {
  const sync = new QueueSync(options);
  try {
    return await sync.run();
  } finally {
    await sync.close();
  }
}

/**
 * A sync that keeps the shared database open between passes, for
 * `db-router sync --interval` and `--watch`.
 *
 * @example
 * ```ts ignore
 * const sync = new QueueSync({ dbPath: "shared/global.db" });
 * await sync.run();
 * await sync.run(); // catches up with other writers, applies what was queued since
 * await sync.close();
 * ```
 */
export class QueueSync {
  /** The shared database's storage key, or a backend's location (a URL). */
  readonly dbPath: string;
  /** The queue folder's storage key. */
  readonly queueDir: string;
  readonly #storage: StorageAdapter;
  readonly #records: Required<RecordLog>;
  readonly #database: SharedDatabase;
  readonly #conn: Connection;
  readonly #batchSize: number;
  readonly #replayFailed: boolean;
  readonly #onProgress: ((progress: SyncProgress) => void) | undefined;
  readonly #retentionMs: number;
  readonly #progressRetentionMs: number;
  readonly #clock: () => number;
  readonly #transactions: boolean;
  #closed = false;
  #prepared = false;
  #forgotAt = -Infinity;

  /** Binds the sync to its database and folder; nothing is opened until {@linkcode run}. */
  constructor(options: SyncOptions = {}) {
    const host = getHost();
    this.#storage = options.storage ?? host.defaultStorage();
    const backend = options.backend ??
      sqlJsBackend(
        this.#storage,
        this.#storage.resolve(options.dbPath ?? defaultSharedPath(host)),
        DEFAULT_DATABASE_OPTIONS,
      );
    this.#transactions = backend.capabilities.transactions;
    this.dbPath = backend.location;
    // A remote database has no folder: its queue defaults to the sql.js default's.
    const beside = options.backend ? this.#storage.resolve(defaultSharedPath(host)) : this.dbPath;
    this.queueDir = this.#storage.resolve(
      options.queueDir ?? (host.env("DB_ROUTER_QUEUE_DIR") || defaultQueueDir(beside)),
    );
    const records = this.#storage.records;
    if (!records?.list || !records.claim || !records.remove) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot sync "${this.queueDir}": storage "${this.#storage.name}" cannot list, claim and remove record logs`,
      );
    }
    this.#records = records as Required<RecordLog>;
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`Invalid batch size ${batchSize}: expected a whole number from 1`);
    }
    this.#batchSize = batchSize;
    this.#replayFailed = options.replayFailed ?? false;
    const retention = options.appliedRetentionDays ?? 7;
    if (typeof retention !== "number" || !(retention > 0) || !Number.isFinite(retention)) {
      throw new RangeError(
        `Invalid applied retention ${retention} days: expected a finite number above 0`,
      );
    }
    this.#retentionMs = retention * DAY_MS;
    const progressRetention = options.progressRetentionDays ?? 1;
    if (
      typeof progressRetention !== "number" || !(progressRetention > 0) ||
      !Number.isFinite(progressRetention)
    ) {
      throw new RangeError(
        `Invalid progress retention ${progressRetention} days: expected a finite number above 0`,
      );
    }
    this.#progressRetentionMs = progressRetention * DAY_MS;
    this.#clock = options.clock ?? Date.now;
    this.#onProgress = options.onProgress;
    this.#database = backend.connect(() => {
      if (this.#closed) {
        throw new RouterError("ROUTER_CLOSED", `Cannot sync "${this.dbPath}": closed`);
      }
    });
    this.#conn = this.#database.connection;
  }

  /**
   * One pass: claims queue files (and with `replayFailed`, which defaults to
   * the option of that name, failed files), applies every claimed file, and
   * deletes the finished ones.
   */
  async run(options: { replayFailed?: boolean } = {}): Promise<SyncReport> {
    const started = this.#clock();
    await this.#claim(this.queueDir, false);
    if (options.replayFailed ?? this.#replayFailed) {
      await this.#claim(join(this.queueDir, FAILED_FOLDER), true);
    }
    const folder = join(this.queueDir, PROCESSING_FOLDER);
    const claimed = (await this.#records.list(folder))
      .map((entry) => ({ ...entry, parsed: parseClaimedName(entry.name) }))
      .filter((entry) => entry.parsed !== undefined)
      .sort((a, b) => a.parsed!.claimedAt - b.parsed!.claimedAt || a.name.localeCompare(b.name));
    const progress: SyncProgress = {
      files: 0,
      applied: 0,
      duplicates: 0,
      failed: 0,
      bytesDone: 0,
      bytesTotal: claimed.reduce((sum, entry) => sum + entry.size, 0),
    };
    // A pass that finds nothing opens no database; one kept open goes on forgetting.
    if (claimed.length === 0 && !this.#prepared) return report(progress);
    await this.#prepare();
    const context: ClaimedFileContext = {
      conn: this.#conn,
      records: this.#records,
      queueDir: this.queueDir,
      batchSize: this.#batchSize,
      transactions: this.#transactions,
      clock: this.#clock,
      onBatch: () => this.#onProgress?.({ ...progress }),
    };
    const unfinished = new Set<string>();
    // The appliers are imported at the first pass with files: importing db-router parses less.
    const { applyClaimedFile } = await import("./claimed_file.ts");
    for (const entry of claimed) {
      const { menaceId, replay } = entry.parsed!;
      const finished = await applyClaimedFile(context, entry.name, menaceId, replay, progress);
      if (finished) {
        await this.#records.remove(join(folder, entry.name));
        progress.files++;
      } else unfinished.add(entry.name);
    }
    if (claimed.length > 0) await this.#forgetFinished();
    // Files another sync was applying may be finished (and deleted) by now.
    if (unfinished.size > 0) {
      const left = await this.#records.list(folder);
      if (!left.some((entry) => unfinished.has(entry.name))) unfinished.clear();
    }
    if (unfinished.size === 0) await this.#forgetApplied(started);
    return report(progress);
  }

  /** Closes the database (folding its log into a standard SQLite file). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#database.close();
  }

  /** Renames each non-empty queue file in `folder` to a new name under `processing/`. */
  async #claim(folder: string, replay: boolean): Promise<void> {
    for (const entry of await this.#records.list(folder)) {
      const menaceId = menaceOfQueueFile(entry.name);
      if (menaceId === undefined || entry.size === 0) continue;
      const to = join(
        this.queueDir,
        PROCESSING_FOLDER,
        claimedName(menaceId, replay, this.#clock()),
      );
      await this.#records.claim(join(folder, entry.name), to);
    }
  }

  async #prepare(): Promise<void> {
    if (!this.#prepared) await this.#conn.exec((await import("./apply.ts")).SYNC_SCHEMA);
    this.#prepared = true;
  }

  /**
   * Forgets files finished before the progress retention (a day by default): they are
   * remembered that long for syncs that may still be reading them. Only once this pass has deleted the finished files it found, so that
   * one left by a sync that died before deleting it is deleted, not applied again from line 0.
   * (A DELETE that matches nothing persists nothing, so this is cheap at every pass.)
   */
  async #forgetFinished(): Promise<void> {
    const before = new Date(this.#clock() - this.#progressRetentionMs).toISOString();
    await this.#conn.run(
      "DELETE FROM _dbrouter_sync_progress WHERE done = 1 AND updated_at < ?",
      [before],
    );
  }

  /**
   * Forgets the hashes applied before `started` (this pass's start, whose claims and applied
   * files saw any second copy of their lines) and before the retention, at most once an hour
   * (or a quarter of the retention).
   */
  async #forgetApplied(started: number): Promise<void> {
    const now = this.#clock();
    if (now - this.#forgotAt < Math.min(FORGET_INTERVAL_MS, this.#retentionMs / 4)) return;
    this.#forgotAt = now;
    const before = new Date(Math.min(started, now - this.#retentionMs)).toISOString();
    await this.#conn.run("DELETE FROM _dbrouter_applied WHERE applied_at < ?", [before]);
  }
}

function report({ files, applied, duplicates, failed }: SyncReport): SyncReport {
  return { files, applied, duplicates, failed };
}
