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
import { defaultSharedPath } from "../router/paths.ts";
import { getHost } from "../storage/detect.ts";
import type { RecordLog, StorageAdapter } from "../storage/types.ts";
import { SYNC_SCHEMA } from "./apply.ts";
import { applyClaimedFile, type ClaimedFileContext } from "./claimed_file.ts";
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
   * A shared database elsewhere, instead of `dbPath`: `libsqlBackend({ url })`.
   * It needs interactive transactions, so D1 is refused (`UNSUPPORTED`).
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
  /** Called after each batch, for progress displays. */
  onProgress?: (progress: SyncProgress) => void;
}

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
  #closed = false;
  #prepared = false;

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
    if (!backend.capabilities.transactions) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot sync into ${backend.kind} database "${backend.location}": a batch is applied ` +
          "with its progress in one interactive transaction, which it does not have",
      );
    }
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
    if (claimed.length === 0) return report(progress);
    await this.#prepare();
    const context: ClaimedFileContext = {
      conn: this.#conn,
      records: this.#records,
      queueDir: this.queueDir,
      batchSize: this.#batchSize,
      onBatch: () => this.#onProgress?.({ ...progress }),
    };
    for (const entry of claimed) {
      const { menaceId, replay } = entry.parsed!;
      const finished = await applyClaimedFile(context, entry.name, menaceId, replay, progress);
      if (finished) {
        await this.#records.remove(join(folder, entry.name));
        progress.files++;
      }
    }
    await this.#forgetFinished();
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
      const to = join(this.queueDir, PROCESSING_FOLDER, claimedName(menaceId, replay));
      await this.#records.claim(join(folder, entry.name), to);
    }
  }

  async #prepare(): Promise<void> {
    if (!this.#prepared) await this.#conn.exec(SYNC_SCHEMA);
    this.#prepared = true;
  }

  /**
   * Forgets files finished over a day ago: they are remembered that long for syncs that may
   * still be reading them. Only once this pass has deleted the finished files it found, so that
   * one left by a sync that died before deleting it is deleted, not applied again from line 0.
   * (A DELETE that matches nothing persists nothing, so this is cheap at every pass.)
   */
  async #forgetFinished(): Promise<void> {
    const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
    await this.#conn.run(
      "DELETE FROM _dbrouter_sync_progress WHERE done = 1 AND updated_at < ?",
      [dayAgo],
    );
  }
}

function report({ files, applied, duplicates, failed }: SyncReport): SyncReport {
  return { files, applied, duplicates, failed };
}
