/**
 * One database kept in files: a base SQLite file plus a page log (the format
 * is in `log_format.ts`). A commit writes the changed pages as checksummed
 * frames into the log's allocated space, then its end record, and
 * `fdatasync`s them; once the log grows past the threshold the
 * commit folds it into the base in place (`fold.ts`), writing only the pages
 * the log changed. A base without a log gets a new log naming it, unwritten;
 * only a database's first image or a new page size is written whole.
 *
 * @module
 */
import { RouterError } from "../../errors.ts";
import { checkCommit, emptyStorageStats } from "../common.ts";
import type {
  LoadedImage,
  PageChanges,
  PageCommit,
  Release,
  StorageStats,
  StoredDatabase,
} from "../types.ts";
import { patchImage } from "../../persist/patch_image.ts";
import { readHeader } from "../../persist/header.ts";
import {
  type FileHandle,
  type FileSystem,
  openIfPresent,
  readFully,
  statIfPresent,
  writeFully,
} from "./file_system.ts";
import type { FoldResult } from "./fold.ts";
import {
  assertNoForeignJournal,
  type BaseRecord,
  foreignWriteError,
  matchesHeader,
  readBaseRecord,
  sameBase,
  sameStat,
} from "./foreign.ts";
import type { FileLock, FileLockOptions } from "./lock.ts";
import {
  databaseFiles,
  decodeLogEnd,
  decodeLogHeader,
  encodeCommit,
  encodeLogEnd,
  END_RECORD_BYTES,
  firstFrame,
  FRAME_HEADER_BYTES,
  LOG_FORMAT,
  LOG_HEADER_BYTES,
  type LogHeader,
  scanCommits,
} from "./log_format.ts";
import { logStamp, type LogState, readChangesSince, readSnapshot, readStamp } from "./snapshot.ts";
import { WatcherRegistry } from "./watchers.ts";

/**
 * The fold's and the lock's code, imported once, at a process's first fold,
 * commit or lock: a reader never needs them. The promise is kept, since an
 * `import()` per commit cost 130-165 µs even with the module loaded.
 */
let foldModule: Promise<typeof import("./fold.ts")> | undefined;
let lockModule: Promise<typeof import("./lock.ts")> | undefined;
const foldCode = () => foldModule ??= import("./fold.ts");
const lockCode = () => lockModule ??= import("./lock.ts");

/** How a {@linkcode FileDatabase} behaves. */
export interface FileDatabaseOptions extends FileLockOptions {
  /**
   * Log bytes (frames, past the header) beyond which a commit folds; `undefined`
   * means 4 MiB (a fold in place costs what the log holds, so a fixed bound
   * also bounds how long a fold holds the lock).
   */
  readonly compactThresholdBytes: number | undefined;
  /**
   * Milliseconds without a commit to the log (by any process) after which a
   * process that committed folds it, so that other programs read a current
   * file; `undefined` never folds for idleness.
   */
  readonly foldIdleMs: number | undefined;
  /**
   * Milliseconds this handle keeps the lock after a commit for its next one
   * (`FileLock.keep`); 0 releases it at once.
   */
  readonly keepMs: number;
}

const DEFAULT_FOLD_THRESHOLD = 4 * 1024 * 1024;
/** The most a log grows by at once: it doubles from its first allocation up to this step. */
const MAX_GROWTH = 1024 * 1024;
const REMEMBERED_STATES = 8;
const MIN_WATCHER_STALE_MS = 30_000;

/**
 * A database stored as a base file and a page log.
 *
 * @example
 * ```ts ignore
 * const db = new FileDatabase(fs, "/data/global.db", options);
 * const release = await db.lock();
 * const loaded = await db.load();
 * ```
 */
export class FileDatabase implements StoredDatabase {
  /** The absolute path of the base file. */
  readonly key: string;
  readonly #fs: FileSystem;
  readonly #files;
  readonly #options: FileDatabaseOptions;
  /** States this handle read or wrote, by stamp, for incremental loads. */
  readonly #states = new Map<string, LogState>();
  #current: LogState | undefined;
  #lock: FileLock | undefined;
  /**
   * The holding kept between commits (see `FileLock.keep`), and the stamp
   * that was current under it: a resumed holding is the same holding, so no
   * other process committed meanwhile.
   */
  #kept: { lock: FileLock; stamp: string | undefined } | undefined;
  /**
   * The log, open for writing, while this handle holds or keeps the lock
   * without a break, with its size (allocated bytes): closed when the holding
   * ends and before any fold, which replaces the file.
   */
  #logHandle: { handle: FileHandle; allocated: number } | undefined;
  /**
   * Set when this handle's holding began by breaking a stale one: `lock()`
   * folds at once, so that the log is a new file, never one that the stalled
   * holder may still write to (and, should that fail, the next commit does).
   */
  #rotate = false;
  /**
   * The stamp last read from the files (or written) while this handle held
   * `#lock`: a commit at that stamp need not read it again, since no other
   * holder can have committed meanwhile (a lost lock is caught by
   * `assertHeld` and by the append's size check).
   */
  #stampUnderLock: string | undefined;
  readonly #stats: StorageStats = emptyStorageStats();
  /** Set when the base changed under a state this handle knew: the next load reads it whole. */
  #drifted = false;
  #stopIdleFold: (() => void) | undefined;
  #closed = false;
  readonly #watchers: WatcherRegistry;

  /** Binds the database at `key`; nothing is read until a call needs it. */
  constructor(fs: FileSystem, key: string, options: FileDatabaseOptions) {
    this.#fs = fs;
    this.key = key;
    this.#files = databaseFiles(key);
    this.#options = options;
    // A watcher taken for dead misses rows (resyncs), one kept too long costs recording only:
    // 30 s at least, whatever a short lock stale time says.
    this.#watchers = new WatcherRegistry(
      fs,
      this.#files.watchDir,
      Math.max(options.staleMs, MIN_WATCHER_STALE_MS),
    );
  }

  /** Registers a watcher of this process (see `watchers.ts`). */
  registerWatcher(scoped = true): Promise<() => Promise<void>> {
    return this.#watchers.register(scoped);
  }

  /** Whether any process watches: one `stat` of the registry folder when nothing changed. */
  anyoneWatches(): Promise<boolean | "unscoped"> {
    return this.#watchers.anyone();
  }

  /** Reads the whole image: the base with the log's commits applied. */
  async load(): Promise<LoadedImage> {
    const snapshot = await readSnapshot(this.#fs, this.#files);
    this.#drifted = false;
    this.#remember(snapshot.state);
    this.#finishFoldIfLeft(snapshot.state);
    return { image: snapshot.image, version: snapshot.state.stamp };
  }

  /** The pages committed after `version`, from the new part of the log only. */
  async changesSince(version: string): Promise<PageChanges | undefined> {
    const state = !this.#drifted && this.#states.get(version);
    const pageSize = state ? state.header?.pageSize : undefined;
    if (!state || !pageSize) return undefined;
    const changes = await readChangesSince(this.#fs, this.#files, state);
    if (!changes) return undefined;
    this.#remember(changes.state);
    this.#finishFoldIfLeft(changes.state);
    if (this.#lock) this.#stampUnderLock = changes.state.stamp;
    return {
      version: changes.state.stamp,
      pageSize,
      pageCount: changes.state.imageLength / pageSize,
      pages: changes.pages,
      notes: changes.notes,
    };
  }

  /** The version stamp: one small read of the log's header and a `stat` of the base. */
  async version(): Promise<string> {
    // Under the lock, the state this handle last read or wrote is current: only a holder commits.
    const known = this.#stampUnderLock;
    if (this.#lock && !this.#drifted && known !== undefined && known === this.#current?.stamp) {
      return known;
    }
    const stamp = await readStamp(this.#fs, this.#files);
    const version = this.#drifted ? `${stamp}-drifted` : stamp;
    if (this.#lock) this.#stampUnderLock = version;
    return version;
  }

  /** Appends the commit's pages to the log, or folds; durable when it resolves. */
  async commit(commit: PageCommit): Promise<string> {
    checkCommit(this.key, commit);
    const started = performance.now();
    await this.#lock?.assertHeld();
    const current = this.#current;
    if (current) await this.#assertBase(current, false);
    const verified = this.#lock !== undefined && this.#stampUnderLock === current?.stamp;
    if (current && !verified && (await this.version()) !== current.stamp) {
      throw new Error("another process committed since this one read it");
    }
    const pages = commit.pages;
    if (
      current?.mode === "log" && pages.length === 0 &&
      commit.pageSize === current.header?.pageSize &&
      commit.pageCount * commit.pageSize === current.imageLength
    ) {
      // Nothing changed: nothing to write.
      this.#stats.commits++;
      this.#stats.lastCommitBytes = 0;
      this.#stats.lastCommitMs = performance.now() - started;
      return current.stamp;
    }
    const threshold = this.#options.compactThresholdBytes ?? DEFAULT_FOLD_THRESHOLD;
    let written = 0;
    if (current && pages.length > 0 && canLog(current, commit.pageSize)) {
      const appended = pages.length * (FRAME_HEADER_BYTES + commit.pageSize);
      if (current.mode !== "log") {
        // A base alone (or with a log that is not its own): a log names it, unwritten.
        written += await this.#startLog(current);
      } else if (
        current.marker || current.size !== current.validEnd || this.#rotate ||
        current.header!.version !== LOG_FORMAT ||
        current.validEnd - firstFrame(current.header!) + appended > threshold
      ) {
        // A fold that did not finish, a torn commit after the last whole one, a
        // holding taken from a stalled holder, a log of the older format, or a
        // full log: folded before this commit, whose frames start the next log,
        // so that readers that had read the log follow the fold without a reload.
        written += await this.#foldInPlace(current);
      }
      const state = this.#current!;
      const header = state.header!;
      const { bytes, sums } = encodeCommit(
        header,
        state.sums,
        pages,
        commit.pageCount,
        commit.note,
      );
      const size = state.validEnd + bytes.length;
      this.#stampUnderLock = undefined;
      await this.#writeCommit(state.validEnd, header, bytes, sums);
      this.#remember({
        ...state,
        stamp: logStamp(header, size),
        size,
        validEnd: size,
        sums,
        imageLength: commit.pageCount * commit.pageSize,
      });
      written += bytes.length;
      this.#scheduleIdleFold();
    } else {
      written = await this.#fold(await this.#imageAfter(commit), commit.pageSize, current?.base);
    }
    if (this.#lock) this.#stampUnderLock = this.#current!.stamp;
    this.#stats.commits++;
    this.#stats.bytesWritten += written;
    this.#stats.lastCommitBytes = written;
    this.#stats.lastCommitMs = performance.now() - started;
    return this.#current!.stamp;
  }

  /** Takes the cross-process write lock (see `lock.ts` for the recovery bound). */
  async lock(): Promise<Release> {
    const kept = this.#kept;
    this.#kept = undefined;
    const resumed = kept !== undefined && await kept.lock.resume();
    if (!resumed) await this.#closeLog();
    const lock = resumed ? kept.lock : await (await lockCode()).acquireFileLock(
      this.#fs,
      this.#files.lockDir,
      this.key,
      this.#options,
    );
    this.#lock = lock;
    this.#stampUnderLock = undefined;
    if (!resumed && lock.brokeStale) this.#rotate = true;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      const stamp = this.#stampUnderLock;
      if (this.#lock === lock) {
        this.#lock = undefined;
        this.#stampUnderLock = undefined;
      }
      const held = { lock, stamp };
      const kept = !this.#closed && lock.keep(this.#options.keepMs, () => {
        if (this.#kept !== held) return;
        this.#kept = undefined;
        void this.#closeLog();
      });
      if (kept) {
        this.#kept = held;
        return;
      }
      await this.#closeLog();
      await lock.release();
    };
    try {
      // Another program's journal refuses the write before it runs; a base it
      // changed makes the holder's catch-up read the base whole (and adopt it,
      // or refuse with FOREIGN_WRITE when the log holds commits).
      await assertNoForeignJournal(this.#fs, this.#files);
      const current = this.#current;
      if (resumed && current && sameStat(current.base, await statIfPresent(this.#fs, this.key))) {
        // The same holding as at the last commit and the base as it was: the stamp still holds.
        if (!this.#drifted) this.#stampUnderLock = kept.stamp;
      } else {
        const base = current ? await readBaseRecord(this.#fs, this.key) : null;
        if (current && !sameBase(current.base, base) && !await this.#foldedBy(base)) {
          this.#drifted = true;
        }
      }
      if (this.#rotate) {
        // A holder that stalled past `staleMs` may still write to the log it checked: a new log
        // file now, before this or any later holding writes in place (see `#writeCommit`).
        const state = await this.#latest();
        if (state.mode === "log") this.#stats.bytesWritten += await this.#foldInPlace(state);
      }
    } catch (error) {
      if (this.#lock === lock) {
        this.#lock = undefined;
        this.#stampUnderLock = undefined;
      }
      await this.#closeLog();
      await lock.release();
      throw error;
    }
    return release;
  }

  /** Closes the log handle kept for appends, if any. */
  async #closeLog(): Promise<void> {
    const log = this.#logHandle;
    this.#logHandle = undefined;
    await log?.handle.close().catch(() => {});
  }

  /** Ends a holding kept between commits, if any. */
  async #letGoKept(): Promise<void> {
    const kept = this.#kept;
    this.#kept = undefined;
    await this.#closeLog();
    await kept?.lock.letGo();
  }

  /**
   * Whether `base` is the file that the current log's header names: a router's
   * fold in place changed it, which a catch-up through the log can follow.
   */
  async #foldedBy(base: BaseRecord | null): Promise<boolean> {
    if (base === null) return false;
    const handle = await openIfPresent(this.#fs, this.#files.log);
    if (handle === null) return false;
    try {
      const bytes = new Uint8Array(LOG_HEADER_BYTES);
      const header = decodeLogHeader(bytes.subarray(0, await readFully(handle, bytes, 0)));
      return header !== undefined && matchesHeader(header, base);
    } finally {
      await handle.close();
    }
  }

  /**
   * Folds the log into the base, when it has anything to fold, in place: it
   * reads the log (or only what was appended since this handle last read it)
   * and the pages it replaces, never the whole base. The caller holds the lock.
   */
  async compact(): Promise<void> {
    await this.#lock?.assertHeld();
    if (!await (await foldCode()).needsFold(this.#fs, this.#files)) return;
    const state = await this.#latest();
    if (state.mode === "empty") return;
    if (state.mode === "log") {
      const first = firstFrame(state.header!);
      if (state.size === first && state.validEnd === first && !state.marker) return;
      this.#stats.bytesWritten += await this.#foldInPlace(state);
      return;
    }
    if (state.baseSum && state.basePageSize) {
      this.#stats.bytesWritten += await this.#startLog(state);
      return;
    }
    // Not a SQLite file, or damaged: written whole, as before.
    const snapshot = await readSnapshot(this.#fs, this.#files);
    this.#remember(snapshot.state);
    const { image } = snapshot;
    if (!image || image.length === 0 || snapshot.state.mode !== "detached") return;
    this.#stats.bytesWritten += await this.#fold(image, sqlitePageSize(image), snapshot.state.base);
  }

  /**
   * The files' current state: this handle's, caught up through the new part of
   * the log when it can be, else read whole.
   */
  async #latest(): Promise<LogState> {
    const current = this.#current;
    if (current && !this.#drifted) {
      if (await this.version() === current.stamp) return current;
      const changes = await readChangesSince(this.#fs, this.#files, current);
      if (changes) {
        this.#remember(changes.state);
        return changes.state;
      }
    }
    const snapshot = await readSnapshot(this.#fs, this.#files);
    this.#drifted = false;
    this.#remember(snapshot.state);
    return snapshot.state;
  }

  /** A copy of this handle's figures. */
  stats(): StorageStats {
    return { ...this.#stats };
  }

  /**
   * With `compact`, folds under the lock (taking it unless this handle holds
   * it); a database whose log is already empty costs a few `stat`s and no lock.
   */
  async close(options?: { compact?: boolean }): Promise<void> {
    this.#closed = true;
    this.#stopIdleFold?.();
    this.#stopIdleFold = undefined;
    try {
      await this.#letGoKept();
      if (!options?.compact || !await (await foldCode()).needsFold(this.#fs, this.#files)) return;
      if (this.#lock) return await this.compact();
      const release = await this.lock();
      try {
        await this.compact();
      } finally {
        await release();
      }
    } catch (error) {
      // Every commit is safe in the log: the fold waits for the other program to finish.
      if (error instanceof RouterError && error.code.startsWith("FOREIGN_")) return;
      throw error;
    }
  }

  /**
   * Writes one commit's frames at `at` (where the log's last commit ends),
   * then the end record, and `fdatasync`s both: overwrites of allocated space,
   * so the file's size rarely changes. When the frames pass the allocation,
   * the same write carries zeros up to the next one (double the log so far, at
   * most {@linkcode MAX_GROWTH} more).
   *
   * Before it writes, the end record must still say `at`: a commit by another
   * holder (this one lost the lock while paused) or its fold changes it, and
   * this commit fails instead of writing over it. A holder that stalls between
   * that check and the write writes to the log it checked; a holding that
   * broke a stale one folds as soon as it is taken (`#rotate`), so such a
   * write lands in a log file that is no longer read.
   */
  async #writeCommit(
    at: number,
    header: LogHeader,
    bytes: Uint8Array,
    sums: readonly [number, number],
  ): Promise<void> {
    let log = this.#logHandle;
    this.#logHandle = undefined;
    if (!log) {
      const handle = await this.#fs.open(this.#files.log, "readWrite");
      try {
        log = { handle, allocated: (await handle.stat()).size };
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    let keep = false;
    try {
      const record = new Uint8Array(END_RECORD_BYTES);
      const got = await readFully(log.handle, record, LOG_HEADER_BYTES);
      const end = decodeLogEnd(record.subarray(0, got), header);
      if (end?.validEnd !== at) {
        throw new Error(
          `the log's commits end at ${
            end?.validEnd ?? "an unreadable offset"
          }, not ${at}: another process wrote to it`,
        );
      }
      const validEnd = at + bytes.length;
      let data = bytes;
      if (validEnd > log.allocated) {
        const grown = validEnd +
          Math.min(MAX_GROWTH, Math.max(validEnd - firstFrame(header), END_RECORD_BYTES));
        data = new Uint8Array(grown - at);
        data.set(bytes);
      }
      await writeFully(log.handle, data, at);
      log.allocated = Math.max(log.allocated, at + data.length);
      await writeFully(log.handle, encodeLogEnd(header, { validEnd, sums }), LOG_HEADER_BYTES);
      await log.handle.datasync();
      keep = this.#lock !== undefined && !this.#closed;
    } finally {
      if (keep) this.#logHandle = log;
      else await log.handle.close();
    }
  }

  /**
   * Throws unless the base is as `state` saw it: a base that another program
   * changed is never written over or extended by a log. `lock()` checked the
   * journals and SQLite's change counter; a commit checks the base again with
   * one `stat` (a program that wrote it since changed its time), a fold with
   * the journals and the counter too, just before it replaces the base.
   */
  async #assertBase(state: LogState, thorough: boolean): Promise<void> {
    let same: boolean;
    if (thorough) {
      await assertNoForeignJournal(this.#fs, this.#files);
      same = sameBase(state.base, await readBaseRecord(this.#fs, this.key));
    } else {
      same = sameStat(state.base, await statIfPresent(this.#fs, this.key));
    }
    if (same) return;
    this.#drifted = true;
    if (state.mode === "log" && state.validEnd > firstFrame(state.header!)) {
      throw foreignWriteError(this.key, "it changed since db-router last read or folded it");
    }
    throw new RouterError(
      "FOREIGN_WRITE",
      `Cannot save database "${this.key}": another program wrote the file while this write ran; nothing was written, and the next write reads the file first`,
    );
  }

  /**
   * The whole image after `commit`, for a fold: the stored image (read from
   * the files, which hold what this handle last saw) with the commit applied.
   * A commit to an empty database, or with a new page size, lists every page.
   */
  async #imageAfter(commit: PageCommit): Promise<Uint8Array> {
    const current = this.#current;
    let image: Uint8Array | null = null;
    if (current && current.mode !== "empty") {
      const snapshot = await readSnapshot(this.#fs, this.#files);
      if (snapshot.state.stamp !== current.stamp) {
        throw new Error("another process committed since this one read it");
      }
      const base = snapshot.image;
      // A base without a log is read at the page size its header names, when it is a SQLite file.
      const header = current.header ?? (base && readHeader(base));
      const stored = typeof header === "object" && header ? header.pageSize : commit.pageSize;
      if (base && stored === commit.pageSize && base.length % stored === 0) image = base;
    }
    return patchImage(image, commit.pageSize, commit.pages, commit.pageCount);
  }

  /** Folds `image`, refusing if the base is no longer `base` just before the renames. */
  async #fold(image: Uint8Array, pageSize: number, base?: BaseRecord | null): Promise<number> {
    const started = performance.now();
    await this.#closeLog();
    const generation = (this.#current?.header?.generation ?? 0) + 1;
    const lock = this.#lock;
    const state = this.#current;
    const result = await (await foldCode()).fold(
      this.#fs,
      this.#files,
      image,
      pageSize,
      generation,
      async () => {
        await lock?.assertHeld();
        if (base !== undefined && state) await this.#assertBase({ ...state, base }, true);
      },
    );
    const { header } = result;
    this.#rotate = false;
    this.#remember({
      stamp: logStamp(header, firstFrame(header)),
      mode: "log",
      header,
      size: firstFrame(header),
      validEnd: firstFrame(header),
      sums: result.sums,
      imageLength: image.length,
      base: result.base,
    });
    this.#noteFold(result, performance.now() - started);
    return result.bytesWritten;
  }

  /**
   * Folds the log of `state` (this handle's current state, in mode `"log"`)
   * into the base in place: reads its frames, then `foldInPlace`. Resolves the
   * bytes written.
   */
  async #foldInPlace(state: LogState): Promise<number> {
    const started = performance.now();
    await this.#closeLog();
    const header = state.header!;
    const handle = await this.#fs.open(this.#files.log, "read");
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(state.validEnd);
      bytes = bytes.subarray(0, await readFully(handle, bytes, 0));
    } finally {
      await handle.close();
    }
    const found = decodeLogHeader(bytes);
    const first = firstFrame(header);
    const scan = found && found.salt1 === header.salt1 && found.salt2 === header.salt2
      ? scanCommits(bytes.subarray(first), header, header.checksum)
      : undefined;
    if (!scan || first + scan.length !== state.validEnd) {
      throw new Error("another process changed the log since this one read it");
    }
    const lock = this.#lock;
    const baseInfo = await this.#fs.stat(this.key);
    let checked = false;
    const result = await (await foldCode()).foldInPlace(this.#fs, this.#files, {
      header,
      frames: scan.frames,
      validEnd: state.validEnd,
      sums: scan.sums,
      marker: state.marker,
      baseSize: baseInfo.size,
    }, async () => {
      await lock?.assertHeld();
      // Before anything is written: the base must be the one this state read.
      if (!checked) await this.#assertBase(state, true);
      checked = true;
    });
    return this.#startedLog(result, result.base.size, started);
  }

  /** Starts a log naming the base of `state` (modes `"base"`, `"detached"`); resolves the bytes written. */
  async #startLog(state: LogState): Promise<number> {
    const started = performance.now();
    await this.#closeLog();
    const lock = this.#lock;
    await this.#assertBase(state, true);
    const result = await (await foldCode()).startLog(
      this.#fs,
      this.#files,
      state.base!,
      state.baseSum!,
      state.basePageSize!,
      1,
      async () => {
        await lock?.assertHeld();
        await this.#assertBase(state, true);
      },
    );
    return this.#startedLog(result, state.imageLength, started);
  }

  /** Remembers the empty log that `result` (a fold, begun at `started`) left; resolves its bytes written. */
  #startedLog(result: FoldResult, imageLength: number, started: number): number {
    this.#rotate = false;
    const first = firstFrame(result.header);
    this.#remember({
      stamp: logStamp(result.header, first),
      mode: "log",
      header: result.header,
      size: first,
      validEnd: first,
      sums: result.sums,
      imageLength,
      base: result.base,
    });
    this.#noteFold(result, performance.now() - started);
    return result.bytesWritten;
  }

  #noteFold(result: FoldResult, ms: number): void {
    this.#stats.compactions++;
    this.#stats.lastFold = {
      inPlace: result.inPlace,
      pagesWritten: result.pagesWritten,
      bytesWritten: result.bytesWritten,
      bytesRead: result.bytesRead,
      ms,
    };
  }

  /**
   * Folds the log once no process has appended to it for `foldIdleMs`, so
   * that other programs find a current base. Checks every `foldIdleMs`
   * (timers that do not keep the process alive); a failure is left for the
   * next write to report.
   */
  #scheduleIdleFold(): void {
    const idleMs = this.#options.foldIdleMs;
    if (idleMs === undefined || this.#stopIdleFold || this.#closed) return;
    let running = false;
    const stop = this.#stopIdleFold = this.#fs.repeat(idleMs, () => {
      if (running) return;
      running = true;
      this.#foldIfIdle(idleMs).then((done) => {
        running = false;
        if (done && this.#stopIdleFold === stop) {
          stop();
          this.#stopIdleFold = undefined;
        }
      });
    });
  }

  /**
   * A log read with a fold marker is a fold under way, or one whose process
   * died: `PATH` may be part-written until someone finishes it. The next
   * writer would, but a process that only reads never writes: it folds once
   * the log has been idle for `foldIdleMs`, which a live folder's fold ends
   * first (then there is nothing left to do).
   */
  #finishFoldIfLeft(state: LogState): void {
    if (state.marker && !this.#lock) this.#scheduleIdleFold();
  }

  /** Folds when the log has been idle for `idleMs`; resolves whether nothing is left to do. */
  async #foldIfIdle(idleMs: number): Promise<boolean> {
    try {
      if (this.#closed) return true;
      const log = await this.#fs.stat(this.#files.log);
      if (Date.now() - log.mtimeMs < idleMs) return false;
      if (!await (await foldCode()).needsFold(this.#fs, this.#files)) return true;
      const release = await this.lock();
      try {
        if (!this.#closed) await this.compact();
      } finally {
        await release();
      }
      return true;
    } catch {
      // Gone, locked for too long, or another program's file: the next write reports it.
      return true;
    }
  }

  #remember(state: LogState): void {
    this.#current = state;
    this.#states.delete(state.stamp);
    this.#states.set(state.stamp, state);
    if (this.#states.size > REMEMBERED_STATES) {
      this.#states.delete(this.#states.keys().next().value!);
    }
  }
}

/** Whether a commit can go to the log of `state` (or to a new log naming its base). */
function canLog(state: LogState, pageSize: number): boolean {
  if (state.mode === "log") return state.header!.pageSize === pageSize;
  return (state.mode === "base" || state.mode === "detached") && state.base !== null &&
    state.basePageSize === pageSize && state.baseSum !== undefined;
}

function sqlitePageSize(image: Uint8Array): number {
  const raw = image.length >= 18 ? (image[16] << 8) | image[17] : 0;
  return raw === 1 ? 65536 : raw >= 512 ? raw : 4096;
}
