/**
 * The contract between the engine and a storage adapter. Every method is
 * asynchronous so that file systems, IndexedDB and remote stores fit alike.
 *
 * A database lives in memory (sql.js); an adapter keeps its durable image. The
 * engine reads the image once, then sends each commit as the set of pages that
 * changed. An adapter may store those pages incrementally (a page log) or write
 * the whole image, but a commit is atomic either way: after a crash, a reader
 * sees the image before it or after it, never a mix.
 *
 * @module
 */

/** What an adapter can promise; the engine decides from these, never from the runtime's name. */
export interface StorageCapabilities {
  /** Data survives the process (false for memory). */
  readonly durable: boolean;
  /**
   * Other processes, workers or tabs may commit to the same database, so
   * readers must check the version stamp and writers must hold the lock.
   */
  readonly sharedAcrossProcesses: boolean;
  /** A commit writes only the changed pages plus framing, not the whole image. */
  readonly incremental: boolean;
}

/**
 * A page number as SQLite counts them: the first page of the file is page 1.
 *
 * @example
 * ```ts
 * import type { PageNumber } from "./types.ts";
 * const header: PageNumber = 1;
 * ```
 */
export type PageNumber = number;

/**
 * One commit: the pages that changed since the version the engine last saw.
 * Pages past the stored page count that are not listed are zeros; when the
 * page size changes, every page is listed.
 */
export interface PageCommit {
  /** Page size in bytes (512 to 65536, a power of two). */
  readonly pageSize: number;
  /** Pages in the database after the commit; pages past it are truncated. */
  readonly pageCount: number;
  /** Changed pages, each exactly `pageSize` bytes, in ascending page order. */
  readonly pages: ReadonlyArray<readonly [PageNumber, Uint8Array]>;
  /**
   * The commit's note: opaque bytes that the engine attaches (today the rows
   * the commit changed, for `router.watch()`; see `watch/note.ts`). An adapter
   * that keeps notes stores it atomically with the pages (a torn commit loses
   * both) and returns it in {@linkcode PageChanges.notes}; one that does not
   * ignores it, and watchers of other processes then hear a resync. Absent
   * when the engine records nothing (no row changed, `DB_ROUTER_WATCH=off`).
   */
  readonly note?: Uint8Array;
}

/**
 * What was committed after a version: the pages whose bytes changed (a page
 * written several times appears once, with its last bytes) and the page count
 * at the end. Applied to the image at that version (pages written, then the
 * length set to `pageCount` pages, new pages from zeros), it gives the image
 * at {@linkcode PageChanges.version}.
 */
export interface PageChanges {
  /** The version stamp that the changes lead to. */
  readonly version: string;
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Pages in the database at `version`. */
  readonly pageCount: number;
  /** Changed pages, each exactly `pageSize` bytes, in ascending page order. */
  readonly pages: ReadonlyArray<readonly [PageNumber, Uint8Array]>;
  /**
   * The notes ({@linkcode PageCommit.note}) of the commits after `version`,
   * one per commit, oldest first; `null` for a commit stored without one (an
   * older writer, or a note the adapter no longer holds). Absent when the
   * adapter keeps no notes. The engine tells watchers a resync for every
   * `null` and when this is absent while pages changed.
   */
  readonly notes?: ReadonlyArray<Uint8Array | null>;
}

/** A durable image and the version it was read at. */
export interface LoadedImage {
  /** The standard SQLite file image, or `null` when the database does not exist yet. */
  readonly image: Uint8Array | null;
  /** Opaque stamp; equal stamps mean equal images. */
  readonly version: string;
  /**
   * True when the adapter proved every byte of `image` against its own
   * checksums as it read them (OPFS storage does); the engine then checks
   * the image's header only, not `verifyOnOpen`'s `PRAGMA quick_check`.
   */
  readonly verified?: boolean;
}

/** Size and cost figures of one database, for monitoring and benchmarks. */
export interface StorageStats {
  /** Commits made through this handle. */
  commits: number;
  /** Bytes written by those commits, framing and compaction included. */
  bytesWritten: number;
  /** Bytes written by the last commit. */
  lastCommitBytes: number;
  /** Milliseconds the last commit took. */
  lastCommitMs: number;
  /** Times the log was folded into the base image. */
  compactions: number;
  /**
   * The last fold by this handle, for adapters that fold: whether it wrote
   * the base in place (else whole), pages and bytes written, bytes of the
   * base it read, milliseconds.
   */
  lastFold?: {
    inPlace: boolean;
    pagesWritten: number;
    bytesWritten: number;
    bytesRead: number;
    ms: number;
  };
  /**
   * Set by the engine, not the adapter: how commits learn their pages.
   * `"page-capture"`: from SQLite's own writes to its in-memory file, and
   * catch-ups are written into it; `"export-diff"`: from `export()` and a
   * page diff, and catch-ups reload the database (an sql.js build the probe
   * does not recognise, or `DB_ROUTER_PAGE_CAPTURE=off`); `"pending"`: not
   * decided yet, since the probe that decides runs at the process's first
   * write or catch-up, not at open (it costs more than the rest of a cold
   * start).
   */
  commitPath?: "page-capture" | "export-diff" | "pending";
  /**
   * Set by the engine: catch-ups with other processes' commits, by how they
   * were made (`inPlace`: their pages written into the open database, or
   * into the shadow without the capture; `reloaded`: the whole image read
   * again, as after a fold).
   */
  catchUps?: { inPlace: number; reloaded: number };
}

/** Releases a lock; calling it twice is harmless. */
export type Release = () => Promise<void>;

/** One persisted database as an adapter exposes it. */
export interface StoredDatabase {
  /** The adapter's canonical key for this database (an absolute path for files). */
  readonly key: string;
  /**
   * Reads the current image. The image belongs to the caller from then on: the
   * engine gives it to SQLite as its in-memory file, which writes into it, so an
   * adapter that keeps an image in memory must return a copy of it.
   */
  load(): Promise<LoadedImage>;
  /**
   * What was committed after `version` (a stamp this handle returned from
   * {@linkcode load}, {@linkcode commit} or an earlier call), costing what
   * changed; `undefined` when the handle cannot tell (say, the log was folded
   * meanwhile), and the caller loads the whole image instead.
   */
  changesSince(version: string): Promise<PageChanges | undefined>;
  /** The current version stamp, cheaply (one small read or stat at most). */
  version(): Promise<string>;
  /**
   * Makes `commit` durable and atomic and returns the new version stamp. The
   * caller holds the lock when `capabilities.sharedAcrossProcesses` is true.
   */
  commit(commit: PageCommit): Promise<string>;
  /**
   * Takes the exclusive write lock for this database: across processes (or
   * tabs) when the adapter is shared, within the process otherwise. A holder
   * that died is recovered from within the adapter's documented bound. After
   * the release, an adapter may keep the lock for a few milliseconds for this
   * handle's next `lock()` (file storage, OPFS) as long as nobody else asks
   * for it; `close()` ends such a holding.
   */
  lock(): Promise<Release>;
  /** Folds any log into a standard SQLite file; the caller holds the lock. */
  compact(): Promise<void>;
  /** Figures for this handle since it was opened. */
  stats(): StorageStats;
  /** Releases resources; with `compact`, folds the log first (under the lock). */
  close(options?: { compact?: boolean }): Promise<void>;
  /**
   * Optional: calls `notify` when another process or tab may have committed
   * (a hint, such as a `BroadcastChannel` message), so that watchers hear it
   * before the engine's next poll of {@linkcode version}. Returns the
   * function that stops it.
   */
  onForeignCommit?(notify: () => void): () => void;
  /**
   * Optional: registers this handle as watching the database for other
   * processes (or tabs) to see in {@linkcode anyoneWatches}; resolves once
   * they can, with the function that withdraws it. `scoped` (the default)
   * when its listeners may tell rows apart by owner (`source_menace_id`),
   * false when none does. Adapters without it are taken as always watched:
   * every commit carries its note.
   */
  registerWatcher?(scoped?: boolean): Promise<() => Promise<void>>;
  /**
   * Optional: whether any process (or tab) watches the database now, asked
   * under the write lock at the start of each write, so it must be cheap:
   * `true` when a watcher may need the owners in the notes, `"unscoped"`
   * when none does (every watcher registered unscoped, or looks owners up
   * itself after its catch-up: the engine then looks no owners up and marks
   * its note so), false when none watches. When false, the engine records no rows
   * and writes no note; a watcher that registers meanwhile hears a resync
   * for such commits (a scoped one, too, for commits noted without owners).
   */
  anyoneWatches?(): Promise<boolean | "unscoped">;
}

/** A record log found by {@linkcode RecordLog.list}. */
export interface RecordLogEntry {
  /** Its name inside the folder that was listed. */
  readonly name: string;
  /** Its size in bytes. */
  readonly size: number;
}

/** Append-only line records: buffered write queues and audit logs. */
export interface RecordLog {
  /**
   * Appends whole lines (each without a newline) atomically with respect to
   * other appenders of the same log, in this and other processes: no line is
   * lost, torn or interleaved with another. An append that a concurrent
   * {@linkcode claim} moved away while it was being written is repeated in the
   * new log, so a claim never loses lines, but such lines may be found in
   * both logs: consumers of claimed logs must deduplicate.
   */
  append(name: string, lines: readonly string[]): Promise<void>;
  /** Reads every complete line of `name`, oldest first; a missing log is empty. */
  read(name: string): AsyncIterable<string>;
  /**
   * Checks that `name` can be appended to, creating its folder and an empty
   * log if need be, so that a bad location fails early (the audit log's
   * `ready()`). Rejects with the underlying error.
   */
  prepare?(name: string): Promise<void>;
  /** The logs (files) directly in `folder`, in no particular order; a missing folder has none. */
  list?(folder: string): Promise<RecordLogEntry[]>;
  /**
   * Atomically renames log `name` to `to` (creating its folder), so that later
   * appends to `name` start a new log; resolves `false` when `name` does not
   * exist. Of two claims of one log, one gets it and the other gets `false`.
   */
  claim?(name: string, to: string): Promise<boolean>;
  /** Deletes log `name`; a missing log is not an error. */
  remove?(name: string): Promise<void>;
  /**
   * Takes the exclusive lock of log `name`: across processes for files, within
   * the adapter for memory. Appends do not take it; writers that must not
   * interleave with each other's work on the log (rotating an audit log) do.
   * A holder that died is recovered from as the adapter's database locks are.
   */
  lock?(name: string): Promise<Release>;
  /** Size, first and last complete lines of log `name`; `undefined` when it does not exist. */
  ends?(name: string): Promise<RecordLogEnds | undefined>;
}

/** What {@linkcode RecordLog.ends} finds. */
export interface RecordLogEnds {
  /** Size in bytes. */
  readonly size: number;
  /** The first complete line, unless there is none or it is very long (over 64 KiB). */
  readonly first?: string;
  /** The last complete line, unless there is none or it is very long (over 64 KiB). */
  readonly last?: string;
}

/** A storage adapter: where database images and records are kept. */
export interface StorageAdapter {
  /** A short name for messages, such as `"node-fs"` or `"memory"`. */
  readonly name: string;
  /** What this adapter promises. */
  readonly capabilities: StorageCapabilities;
  /**
   * Turns a user-given location (a path, relative or absolute) into the
   * canonical key under which routers in one process share a database.
   * Synchronous: routers resolve their paths when they are constructed.
   */
  resolve(location: string): string;
  /** Opens (without creating anything yet) the database stored under `key`. */
  open(key: string): Promise<StoredDatabase>;
  /** Line records, when the adapter keeps them. */
  readonly records?: RecordLog;
}
