/**
 * One database open in memory (sql.js) and kept durable by a storage adapter.
 * Routers in a process that name the same database share one of these (see
 * `registry.ts`), so they see each other's writes at once.
 *
 * Reads run on the in-memory copy. When other processes may commit to the same
 * storage, a read first checks the adapter's version stamp if the last check
 * is older than `maxReadLagMs`, and reloads when it changed: a read never costs
 * a file-system call of its own, and lags other processes by at most that bound.
 *
 * A write takes this database's mutex and, for shared storage, the adapter's
 * cross-process lock; catches up with other processes; runs; then persists the
 * pages that changed before it resolves (durability `"commit"`), or marks the
 * database dirty and persists within `flushIntervalMs` (durability `"deferred"`).
 *
 * A read waits for this process's writes and transactions issued before it,
 * so it sees them, except while the write that holds the database is waiting
 * for the cross-process lock (another process's long transaction, or a dead
 * holder until `lockStaleMs`): then reads run at once on the committed data,
 * catching up with other processes as usual, and see neither that write nor
 * the ones queued behind it (so a read issued without awaiting a write before
 * it may miss that write on shared storage, even when the lock is free).
 * They never run while a write runs its statements and persists them, or
 * inside a transaction, where the in-memory database may hold rows that are
 * not committed.
 *
 * @module
 */
import { Mutex } from "./mutex.ts";
import { DatabaseCorruptError, RouterError } from "../errors.ts";
import { diffPages } from "../persist/page_diff.ts";
import { readHeader } from "../persist/header.ts";
import { applyInPlace } from "../persist/apply.ts";
import type { PageCapture } from "../persist/capture.ts";
import type { CapturedSqlJs } from "../persist/capture_load.ts";
import type { CapturedFile } from "../persist/captured_file.ts";
import { capturedCommit, pageSizeOf } from "../persist/captured_commit.ts";
import { pageCaptureWanted } from "../persist/capture_switch.ts";
import { handOver } from "../persist/hand_over.ts";
import { patchImage } from "../persist/patch_image.ts";
import { getHost } from "../storage/detect.ts";
import type {
  LoadedImage,
  PageChanges,
  PageCommit,
  Release,
  StorageAdapter,
  StorageStats,
  StoredDatabase,
} from "../storage/types.ts";
import { loadCapturedSqlJs } from "../../wasm/mod.ts";
import type { DatabaseOptions } from "./database_options.ts";
import { inTransaction, openImage, totalChanges } from "./sqljs_image.ts";
import { StatementKinds } from "./statement_checks.ts";
import { installFunctions, type SqlFunction } from "./functions.ts";
import type { SqlJsDatabase, SqlJsStatic } from "./sqljs_types.ts";
import { StatementCache } from "./statements.ts";
import { WatchHub, watchWanted } from "../watch/hub.ts";
import type { CommitSink } from "../watch/subscription.ts";

export {
  type DatabaseOptions,
  DEFAULT_DATABASE_OPTIONS,
  type Durability,
} from "./database_options.ts";

/**
 * Work to do against the open sql.js database; `a` and `b` are what the
 * caller hands to {@linkcode EngineDatabase.read} with it, so that a hot
 * path can pass a module-level function instead of a new closure per call.
 */
export type DatabaseWork<T, A = undefined, B = undefined> = (
  db: SqlJsDatabase,
  statements: StatementCache,
  a: A,
  b: B,
) => T;

/** An in-memory database bound to its durable storage. */
export class EngineDatabase {
  /** The storage key (an absolute path for file storage). */
  readonly key: string;
  readonly #adapter: StorageAdapter;
  readonly #shared: boolean;
  #sql: SqlJsStatic | undefined;
  #store: StoredDatabase | undefined;
  readonly #options: DatabaseOptions;
  readonly #mutex = new Mutex();
  /** SQL functions to install on every database this one loads, by SQLite's key: name and arity. */
  readonly #functions = new Map<string, [string, SqlFunction]>();
  #db: SqlJsDatabase | undefined;
  #statements: StatementCache | undefined;
  #opening: Promise<void> | undefined;
  /**
   * The page capture, when this database uses it: commits are the pages
   * SQLite wrote to {@linkcode #file}, catch-ups are written into that file.
   */
  #capture: PageCapture | undefined;
  #file: CapturedFile | undefined;
  /**
   * Set while this database waits for the process's probe (see
   * {@linkcode #settleCapture}): it was opened before the probe ran, so its
   * file is not watched and no image is kept; the first write or catch-up
   * runs the probe and reloads it from storage, watched or with a shadow.
   */
  #captured: CapturedSqlJs | undefined;
  readonly #catchUps = { inPlace: 0, reloaded: 0 };
  /** Page size and count in storage, as last committed or loaded. */
  #pageSize = 0;
  #pageCount = 0;
  /**
   * Without the capture only: the image as last persisted or loaded, which
   * page diffs are taken against (with it, the only full copy of the
   * database is SQLite's in-memory file).
   */
  #shadow: Uint8Array | null = null;
  /** The export that becomes the shadow once its commit is durable. */
  #pendingShadow: Uint8Array | null = null;
  #version = "";
  #checkedAt = -Infinity;
  #refreshing: Promise<void> | undefined;
  #dirty = false;
  #heldLock: Release | undefined;
  /** The mutex holder is waiting for the cross-process lock and has not touched the database yet. */
  #awaitingLock = false;
  /** A catch-up that reads run while the mutex holder waits for the cross-process lock. */
  #sideRefresh: Promise<void> | undefined;
  /** Settles when a mutex holder next starts waiting for the cross-process lock. */
  #lockWaitStarted!: Promise<void>;
  #startLockWait!: () => void;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #backgroundError: unknown;
  #closed = false;
  #loaded = false;
  /** Row changes for `router.watch()`: recorded here, told to sinks, carried in commit notes. */
  readonly #watch: WatchHub;
  /**
   * While anyone watches shared storage: stops the poll of the version stamp
   * and the adapter's hint, and withdraws this process from the adapter's
   * watchers (settles when it is withdrawn).
   */
  #stopWatching: (() => Promise<void>) | undefined;
  /** This process's registration as a watcher while it is under way: reads and writes wait for it. */
  #registering: Promise<void> | undefined;

  /** Binds the database under `key` in `adapter`; nothing is read until {@linkcode ready} or the first query. */
  constructor(adapter: StorageAdapter, key: string, options: DatabaseOptions) {
    this.#adapter = adapter;
    this.#shared = adapter.capabilities.sharedAcrossProcesses;
    this.#watch = new WatchHub(watchWanted(getHost().env("DB_ROUTER_WATCH")), this.#shared);
    this.#options = options;
    this.key = key;
    this.#newLockWait();
  }

  #newLockWait(): void {
    this.#lockWaitStarted = new Promise((resolve) => (this.#startLockWait = resolve));
  }

  /** Loads and checks the stored image; rejects with `DATABASE_CORRUPT` for a damaged one. */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#opening ??= this.#load();
    return this.#opening;
  }

  /**
   * Figures from the storage adapter (zeros before the database is opened),
   * and how commits learn their pages (`commitPath`).
   */
  stats(): StorageStats {
    const stats = this.#store?.stats() ??
      { commits: 0, bytesWritten: 0, lastCommitBytes: 0, lastCommitMs: 0, compactions: 0 };
    if (this.#sql) {
      stats.commitPath = this.#file
        ? "page-capture"
        : this.#captured === undefined
        ? "export-diff"
        : "pending";
      stats.catchUps = { ...this.#catchUps };
    }
    return stats;
  }

  async #load(): Promise<void> {
    // Compiling sql.js's wasm (tens of ms on a first open) overlaps reading the image.
    const [captured, loaded] = await Promise.all([loadCapturedSqlJs(), this.#openStore()]);
    this.#sql = captured.sql;
    if (pageCaptureWanted(getHost().env("DB_ROUTER_PAGE_CAPTURE"))) {
      // The probe costs more than the rest of a cold start: it runs at the first write or catch-up.
      if (captured.probed) this.#useCapture(captured.capture);
      else this.#captured = captured;
    }
    this.#install(loaded);
    this.#loaded = true;
  }

  #useCapture(capture: PageCapture | string): void {
    if (typeof capture === "string") warnOnce(capture);
    else this.#capture = capture;
  }

  /**
   * Before the first write or catch-up of a database opened before the
   * process's probe ran: runs the probe (once per process), then reloads the
   * database from storage, so that it is opened with its file watched (or,
   * where the probe failed, with the shadow that export + diff needs).
   * Memory holds nothing storage lacks here (no write has run), and the
   * caller holds the database, and for shared storage the cross-process lock
   * or a catch-up's turn. False when there was nothing to settle.
   */
  /** Runs the process's page-capture probe now, if a later #settleCapture will need it. */
  async #probeBeforeLock(): Promise<void> {
    if (this.#captured !== undefined && !this.#captured.probed) await this.#captured.probe();
  }

  async #settleCapture(): Promise<boolean> {
    const captured = this.#captured;
    if (captured === undefined || this.#db === undefined) return false;
    const loaded = await this.#store!.load();
    this.#useCapture(await captured.probe());
    this.#captured = undefined;
    try {
      this.#install(loaded, "header");
    } catch (error) {
      this.#capture = undefined;
      this.#captured = captured;
      throw error;
    }
    return true;
  }

  async #openStore(): Promise<LoadedImage> {
    this.#store = await this.#adapter.open(this.key);
    return await this.#store.load();
  }

  /**
   * Registers the scalar SQL function `name`: on the open database now, and on
   * every database loaded later, since a reload from storage (catching up
   * with another process) replaces the sql.js database and its functions.
   * As in SQLite, a name with another arity (`fn.length`) is another
   * function; the same name (in any letter case) and arity replaces it.
   */
  registerFunction(name: string, fn: SqlFunction): void {
    if (this.#closed) throw this.#closedError();
    this.#functions.set(`${name.toLowerCase()}/${fn.length}`, [name, fn]);
    if (this.#db !== undefined) installFunctions(this.#db, [[name, fn]]);
  }

  /** This database's remembered statement classifications. */
  readonly kinds: StatementKinds = new StatementKinds();

  /**
   * Runs `work(db, statements, a, b)` on the current data, after catching up
   * if the last check is too old. The common case (open, fresh, not inside a
   * write) runs at once, and costs no file-system call: only storage shared
   * across processes is checked, at most every `maxReadLagMs`. A write that
   * is waiting for another process's lock does not hold a read up.
   */
  read<T, A = undefined, B = undefined>(work: DatabaseWork<T, A, B>, a?: A, b?: B): Promise<T> {
    if (this.#registering) return this.#registering.then(() => this.read(work, a, b));
    const db = this.#db;
    if (
      db !== undefined && (!this.#mutex.isLocked() || this.#awaitingLock) &&
      (!this.#shared || performance.now() - this.#checkedAt < this.#options.maxReadLagMs)
    ) {
      try {
        return Promise.resolve(work(db, this.#statements!, a as A, b as B));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#readSlowly((db, statements) => work(db, statements, a as A, b as B));
  }

  async #readSlowly<T>(work: DatabaseWork<T>): Promise<T> {
    if (this.#db === undefined) await this.ready();
    // This read's place in the mutex queue, behind the writes issued before it, once taken.
    let turn: Promise<() => void> | undefined;
    let release: (() => void) | undefined;
    let caughtUp = false;
    try {
      for (;;) {
        if (release === undefined && this.#mutex.isLocked() && !this.#awaitingLock) {
          turn ??= this.#mutex.acquire().then((granted) => (release = granted));
          // A write that starts waiting for the cross-process lock lets the read go ahead.
          await Promise.race([turn, this.#lockWaitStarted]);
        }
        if (release !== undefined) {
          if (this.#isStale()) await this.#refresh();
          return this.#run(work);
        }
        if (!caughtUp && this.#isStale()) {
          // While the write holding the mutex only waits for the lock, catching up cannot race it.
          if (this.#awaitingLock) {
            await (this.#sideRefresh ??= this.#refresh().finally(() => {
              this.#sideRefresh = undefined;
            }));
          } else if (!this.#mutex.isLocked()) {
            await (this.#refreshing ??= this.#refreshExclusive());
          } else {
            // A write took the mutex since: wait for this read's turn or that write's lock wait,
            // not at the end of the queue, behind writes issued after this read.
            continue;
          }
          caughtUp = true;
          continue; // a write may have got the lock meanwhile, and be running
        }
        return this.#run(work);
      }
    } finally {
      void turn?.then((granted) => granted());
    }
  }

  #isStale(): boolean {
    return this.#shared && performance.now() - this.#checkedAt >= this.#options.maxReadLagMs;
  }

  /**
   * Runs `work` as a write: exclusive in this process and, for shared storage,
   * across processes; on current data; persisted per the durability setting.
   * With `persistOnError`, what `work` committed before throwing is persisted
   * too (a script whose third statement fails has committed the first two).
   * With `rowChangesOnly` (the work is one INSERT, UPDATE, DELETE or REPLACE,
   * whose every effect SQLite counts in `total_changes()`, triggers included),
   * a work that changed no row persists nothing: export and page diff cost
   * about 3 ms per MB, for nothing.
   */
  async write<T>(
    work: DatabaseWork<T>,
    persistOnError = false,
    rowChangesOnly = false,
  ): Promise<T> {
    if (this.#db === undefined) await this.ready();
    if (this.#registering) await this.#registering;
    const release = await this.#mutex.acquire();
    try {
      // The probe (hundreds of ms of synchronous CPU in a cold process) runs before the
      // cross-process lock is taken: run under it, it would starve the lock's heartbeat.
      await this.#probeBeforeLock();
      const unlock = await this.#lockForWrite();
      let result: T;
      try {
        await this.#settleCapture();
        // Deferred durability keeps its lock until the flush that #afterWrite schedules.
        const changes = rowChangesOnly && this.#options.durability === "commit"
          ? totalChanges(this.#statements!)
          : undefined;
        const mark = this.#watch.mark(this.#open(), rowChangesOnly);
        try {
          result = this.#run(work);
        } catch (error) {
          if (persistOnError) await this.#afterWrite();
          else this.#watch.rollBack(mark);
          throw error;
        } finally {
          // Only a row change is sure to leave the schema, and so every statement's columns, as they were.
          if (!rowChangesOnly) {
            this.#statements?.forgetColumns();
            if (this.#db && !inTransaction(this.#db)) this.#watch.schemaMayHaveChanged(this.#db);
          }
        }
        if (changes === undefined || totalChanges(this.#statements!) !== changes) {
          await this.#afterWrite();
        }
      } finally {
        await unlock();
      }
      return result;
    } finally {
      release();
    }
  }

  /**
   * Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`, holding this database (and
   * for shared storage, its cross-process lock) until it settles. A throw rolls
   * back. `body` must use only the database it is given, since any other call on
   * this database waits for the transaction to end.
   */
  async transaction<T>(
    body: (db: SqlJsDatabase, statements: StatementCache) => Promise<T>,
  ): Promise<T> {
    if (this.#db === undefined) await this.ready();
    const release = await this.#mutex.acquire();
    try {
      // The probe (hundreds of ms of synchronous CPU in a cold process) runs before the
      // cross-process lock is taken: run under it, it would starve the lock's heartbeat.
      await this.#probeBeforeLock();
      const unlock = await this.#lockForWrite();
      try {
        await this.#settleCapture();
        const db = this.#open();
        const mark = this.#watch.mark(db);
        db.exec("BEGIN IMMEDIATE");
        let result: T;
        try {
          result = await body(db, this.#statements!);
          db.exec("COMMIT");
        } catch (error) {
          if (inTransaction(db)) db.exec("ROLLBACK");
          this.#watch.rollBack(mark);
          throw error;
        } finally {
          this.#statements?.forgetColumns();
          if (!inTransaction(db)) this.#watch.schemaMayHaveChanged(db);
        }
        await this.#afterWrite();
        return result;
      } finally {
        await unlock();
      }
    } finally {
      release();
    }
  }

  /** Persists deferred changes now; rethrows a failure of an earlier background flush. */
  async flush(): Promise<void> {
    if (this.#db === undefined) return;
    await this.#mutex.runExclusive(() => this.#flushLocked());
  }

  /**
   * Persists what is pending, folds the storage's log into a standard SQLite
   * file, and frees the in-memory database. Later calls reject with `ROUTER_CLOSED`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      const withdrawn = this.#stopWatching?.();
      this.#stopWatching = undefined;
      await withdrawn?.catch(() => {});
      this.#watch.clear();
      await this.#mutex.runExclusive(async () => {
        this.#statements?.clear();
        this.#unwatch();
        this.#db?.close();
        this.#db = undefined;
        // A store whose image failed its checks is never written, not even folded.
        await this.#store?.close({ compact: this.#loaded });
      });
    }
  }

  /**
   * A statement of a transaction body starts: `rowChangesOnly` when it is
   * one statement that changes rows (no DDL), which lets the recorder of
   * row changes read each table's name once in it instead of once a row.
   */
  beginStatement(rowChangesOnly: boolean): void {
    this.#watch.beginStatement(rowChangesOnly);
  }

  /**
   * Tells `sink` about every commit from now on: this process's, once
   * durable, and other processes', once caught up with. While anyone watches
   * storage shared across processes, the version stamp is polled every
   * `maxReadLagMs` (25 ms at least), and on the adapter's hint (another tab's
   * notice), so that commits are heard without a read. Returns the function
   * that stops it.
   */
  watch(sink: CommitSink): () => void {
    if (this.#closed) throw this.#closedError();
    if (this.#watch.add(sink, this.#db) && this.#shared) this.#startWatching(!!sink.scoped);
    else if (sink.scoped && this.#shared) this.#registerScoped?.();
    return () => {
      if (this.#watch.remove(sink)) {
        // A failed withdrawal leaves a file that goes stale: commits record rows meanwhile.
        void this.#stopWatching?.().catch(() => {});
        this.#stopWatching = undefined;
      }
    };
  }

  /**
   * While watching with unscoped sinks only: registers this process again as
   * a scoped watcher (a scoped sink came), kept until watching stops.
   */
  #registerScoped: (() => void) | undefined;

  #startWatching(scoped: boolean): void {
    const poll = () => {
      if (this.#closed || this.#db === undefined || this.#mutex.isLocked()) return;
      // A failed catch-up is the next read's or write's to report.
      (this.#refreshing ??= this.#refreshExclusive()).catch(() => {});
    };
    // maxReadLagMs 0 (check before every read) would poll without pause: 25 ms at least.
    const every = Math.max(this.#options.maxReadLagMs, MIN_WATCH_POLL_MS);
    // A stamp read (or a commit made) here within the interval leaves nothing to learn yet.
    const timer = setInterval(() => {
      if (performance.now() - this.#checkedAt >= every) poll();
    }, every);
    let stopHint: (() => void) | undefined;
    let stopped = false;
    this.ready().then(() => {
      if (!stopped) stopHint = this.#store?.onForeignCommit?.(poll);
    }, () => {});
    // Other processes record rows for their commits only while someone is registered, and
    // look owners up only while a registered watcher may be scoped.
    const registrations: Array<Promise<(() => Promise<void>) | undefined>> = [];
    const register = (scoped: boolean) => {
      const registered = (this.#registering ?? this.ready())
        .then(
          () => (stopped ? undefined : this.#store?.registerWatcher?.(scoped)),
          () => undefined, // a database that cannot open: its reads and writes say why
        )
        .catch((error) => {
          warnOnce(
            `cannot register as a watcher, other processes' commits may be heard as resyncs: ${
              error instanceof Error ? error.message : error
            }`,
          );
          return undefined;
        });
      registrations.push(registered);
      const registering: Promise<void> = registered.then(() => {
        if (this.#registering === registering) this.#registering = undefined;
      });
      this.#registering = registering;
    };
    register(scoped);
    this.#registerScoped = scoped ? undefined : () => {
      this.#registerScoped = undefined;
      register(true);
    };
    this.#stopWatching = async () => {
      stopped = true;
      this.#registerScoped = undefined;
      clearInterval(timer);
      stopHint?.();
      for (const registered of registrations) await (await registered)?.();
    };
  }

  /**
   * At the start of a write, under the cross-process lock: whether any
   * process watches, so that rows are recorded (and notes written) only then.
   */
  async #askWatchers(): Promise<void> {
    const db = this.#db;
    // DB_ROUTER_WATCH=off records nothing whoever watches: no registry check either.
    if (!this.#watch.enabled || !this.#store?.anyoneWatches || db === undefined) return;
    let watching: boolean | "unscoped" = true;
    try {
      watching = await this.#store.anyoneWatches();
    } catch {
      // Cannot tell: record, so that no watcher misses rows.
    }
    if (this.#db === db) this.#watch.othersWatch(db, watching);
  }

  #run<T>(work: DatabaseWork<T>): T {
    return work(this.#open(), this.#statements!, undefined, undefined);
  }

  #open(): SqlJsDatabase {
    if (this.#closed || this.#db === undefined) throw this.#closedError();
    return this.#db;
  }

  #closedError(): RouterError {
    return new RouterError("ROUTER_CLOSED", `Cannot use database "${this.key}": it is closed`);
  }

  /** Takes the cross-process lock when needed and returns its release. */
  async #lockForWrite(): Promise<Release> {
    if (this.#backgroundError !== undefined) {
      const error = this.#backgroundError;
      this.#backgroundError = undefined;
      throw error;
    }
    if (!this.#shared || this.#heldLock) return noop;
    let unlock: Release;
    this.#awaitingLock = true;
    this.#startLockWait();
    this.#newLockWait();
    try {
      unlock = await this.#store!.lock();
    } finally {
      this.#awaitingLock = false;
      // A reader's failed catch-up is its own error; ours follows below.
      await this.#sideRefresh?.catch(() => {});
    }
    try {
      await this.#refresh();
      await this.#askWatchers();
    } catch (error) {
      await unlock();
      throw error;
    }
    if (this.#options.durability === "deferred") {
      // Kept until the deferred flush, so nobody commits between our writes and it.
      this.#heldLock = unlock;
      return noop;
    }
    return unlock;
  }

  async #afterWrite(): Promise<void> {
    if (this.#options.durability === "commit") {
      await this.#persist();
      return;
    }
    this.#dirty = true;
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      this.flush().catch((error) => {
        this.#backgroundError = error;
      });
    }, this.#options.flushIntervalMs);
  }

  async #flushLocked(): Promise<void> {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    try {
      if (this.#dirty) {
        this.#dirty = false;
        await this.#persist();
      }
    } finally {
      const held = this.#heldLock;
      this.#heldLock = undefined;
      await held?.();
    }
    if (this.#backgroundError !== undefined) {
      const error = this.#backgroundError;
      this.#backgroundError = undefined;
      throw error;
    }
  }

  /** Commits the pages that changed: those SQLite wrote, or export() + a diff against the shadow. */
  async #persist(): Promise<void> {
    const db = this.#open();
    const file = this.#file;
    // Taken first: a transaction left open is rolled back below, and its rows with it.
    const rows = this.#watch.take(db, this.#shared);
    let commit: PageCommit | undefined;
    if (file) {
      if (inTransaction(db)) this.#rollBackLeftOpen(db);
      commit = capturedCommit(this.#capture!, file, {
        pageSize: this.#pageSize,
        pageCount: this.#pageCount,
      });
    } else {
      commit = this.#diffCommit(db);
    }
    if (!commit) return;
    // Only other processes read notes: storage that no other process shares gets none.
    const note = this.#shared ? this.#watch.note(rows) : undefined;
    if (note) {
      // Built field by field: a spread (`{ ...commit, note }`) cost a one-row commit about 8 µs
      // in Node (BENCHMARKS.md, issue 18, sixth pass).
      commit = {
        pageSize: commit.pageSize,
        pageCount: commit.pageCount,
        pages: commit.pages,
        note,
      };
    }
    try {
      this.#version = await this.#store!.commit(commit);
      if (this.#pendingShadow) this.#shadow = this.#pendingShadow;
      this.#pendingShadow = null;
      this.#pageSize = commit.pageSize;
      this.#pageCount = commit.pageCount;
      this.#checkedAt = performance.now();
      this.#watch.committed(rows);
    } catch (cause) {
      // Memory now holds a change that storage does not: return to what storage has.
      await this.#restore();
      // A full quota keeps its own code: callers may free space and retry; so do
      // another program's writes to a database file (see storage/file/foreign.ts).
      if (cause instanceof RouterError && KEPT_CODES.has(cause.code)) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new RouterError("PERSIST_FAILED", `Cannot save database "${this.key}": ${reason}`, {
        cause,
      });
    }
  }

  /** Without the capture: exports, and diffs against the shadow, which becomes the export. */
  #diffCommit(db: SqlJsDatabase): PageCommit | undefined {
    let image: Uint8Array;
    try {
      image = db.export();
    } catch (cause) {
      if (!inTransaction(db)) throw cause;
      this.#rollBackLeftOpen(db, cause);
    }
    if (image.length === 0) return undefined;
    const header = readHeader(image);
    if (typeof header === "string") throw new DatabaseCorruptError(this.key, header);
    const previous = header.pageSize === this.#pageSize ? this.#shadow : null;
    const pages = diffPages(previous, image, header.pageSize);
    if (pages.length === 0 && this.#shadow?.length === image.length) return undefined;
    this.#pendingShadow = image;
    return { pageSize: header.pageSize, pageCount: header.pageCount, pages };
  }

  #rollBackLeftOpen(db: SqlJsDatabase, cause?: unknown): never {
    db.exec("ROLLBACK");
    throw new RouterError(
      "TRANSACTION_LEFT_OPEN",
      `Cannot save database "${this.key}": a statement left a transaction open, so it was rolled back; use transaction() instead`,
      { cause },
    );
  }

  /** After a failed commit: the shadow without the capture, else a reload from storage. */
  async #restore(): Promise<void> {
    this.#pendingShadow = null;
    if (!this.#file) {
      this.#install({ image: this.#shadow, version: this.#version }, "header");
      return;
    }
    try {
      const version = this.#version;
      this.#install(await this.#store!.load(), "header");
      if (this.#version !== version) this.#watch.resync();
    } catch {
      // Storage cannot be read either: drop the database, so that the next call opens it again.
      this.#statements?.clear();
      this.#unwatch();
      this.#db?.close();
      this.#db = undefined;
      this.#opening = undefined;
    }
  }

  #refreshExclusive(): Promise<void> {
    return this.#mutex
      .runExclusive(() => this.#refresh())
      .finally(() => {
        this.#refreshing = undefined;
      });
  }

  /**
   * Catches up when another process committed since our version: the pages
   * it changed, written into the open database where that can be done (see
   * `persist/apply.ts`), else a reload of the whole image. Caller holds the
   * mutex, or runs while its holder waits for the cross-process lock.
   */
  async #refresh(): Promise<void> {
    if (!this.#shared || this.#heldLock) return;
    const version = await this.#store!.version();
    this.#checkedAt = performance.now();
    if (version === this.#version) return;
    // Opened before the probe ran: settling reloads the database, which catches it up, so the
    // rows that changed cannot be told to listeners (they hear a resync, once per process).
    if (await this.#settleCapture()) {
      this.#catchUps.reloaded++;
      this.#watch.resync();
      return;
    }
    const changes = this.#version === ""
      ? undefined
      : await this.#store!.changesSince(this.#version);
    if (changes && this.#catchUp(changes)) {
      this.#catchUps.inPlace++;
      this.#watch.schemaMayHaveChanged(this.#db!);
      this.#watch.caughtUp(changes);
      return;
    }
    this.#catchUps.reloaded++;
    // A catch-up checks the header only: the new pages come in checksummed frames or a base
    // that a writer folded from its own checked image, and quick_check would cost about
    // 0.6 ms per MB on every reload of a database that another process writes.
    this.#install(await this.#store!.load(), "header");
    this.#watch.resync();
  }

  /** Applies `changes` to the open database; false when they need a reload instead. */
  #catchUp(changes: PageChanges): boolean {
    const db = this.#open();
    const { pageSize, pageCount, pages } = changes;
    if (pageSize !== this.#pageSize || this.#pageSize === 0) return false;
    if (this.#file && !this.#file.closed) {
      try {
        if (applyInPlace(db, this.#capture!, this.#file, changes)) {
          this.#statements?.forgetColumns();
        }
      } catch {
        return false;
      }
    } else if (this.#shadow) {
      const image = patchImage(this.#shadow, pageSize, pages, pageCount);
      this.#install({ image, version: changes.version }, "header");
    } else {
      return false;
    }
    this.#version = changes.version;
    this.#pageCount = pageCount;
    this.#checkedAt = performance.now();
    return true;
  }

  /** Replaces the in-memory database with `loaded`, after checking it. */
  #install(
    loaded: LoadedImage,
    verify: DatabaseOptions["verifyOnOpen"] = this.#options.verifyOnOpen,
  ): void {
    // Bytes the storage proved against its checksums need no quick_check (see LoadedImage).
    if (loaded.verified) verify = "header";
    const image = loaded.image && loaded.image.length > 0 ? loaded.image : null;
    const pageSize = image ? pageSizeOf(image) : 0;
    const length = image?.length ?? 0;
    // The image becomes SQLite's in-memory file (no copy, see persist/hand_over.ts) unless it
    // is kept as the shadow that export + diff diffs against: none is kept with the capture,
    // nor while the probe has not run (#settleCapture reloads from storage).
    const keepsShadow = this.#capture === undefined && this.#captured === undefined;
    const handedOver = !keepsShadow && image !== null;
    const db = openImage(this.#sql!, this.key, handedOver ? handOver(image) : image, verify);
    const file = this.#capture?.watch(db.filename, length);
    installFunctions(db, this.#functions.values());
    this.#statements?.clear();
    this.#unwatch();
    this.#db?.close();
    this.#db = db;
    this.#file = file;
    this.#watch.attach(db, this.#sql);
    this.#statements = new StatementCache(db, this.#options.statementCacheSize);
    // With the capture, SQLite's file is the only copy: the image is not kept; nor while the
    // probe has not run, since #settleCapture reloads from storage. (A file the capture did not
    // see opened falls back to a shadow, a copy.)
    this.#shadow = !handedOver ? image : file || this.#captured ? null : db.export();
    this.#pageSize = pageSize;
    this.#pageCount = image ? length / pageSize : 0;
    this.#version = loaded.version;
    this.#checkedAt = performance.now();
  }

  #unwatch(): void {
    if (this.#file) this.#capture?.unwatch(this.#file);
    this.#file = undefined;
  }
}

let warned = false;

/** Says once per process that commits use export + diff, and why. */
function warnOnce(reason: string): void {
  if (warned) return;
  warned = true;
  console.warn(
    `db-router: page capture is off (${reason}); commits use export() and a page diff, catch-ups reload the database`,
  );
}

const noop: Release = () => Promise.resolve();
/** The shortest interval at which watchers poll the version stamp of shared storage. */
const MIN_WATCH_POLL_MS = 25;
const KEPT_CODES: ReadonlySet<string> = new Set([
  "STORAGE_QUOTA",
  "FOREIGN_WRITE",
  "FOREIGN_JOURNAL",
]);
