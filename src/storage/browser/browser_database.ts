/**
 * What a database of the browser stores (IndexedDB, OPFS) does the same way
 * whatever keeps its pages: the stamp a handle last saw, its figures, the
 * write lock, commit notices to and from other tabs, and the bookkeeping
 * around a commit. Each store subclasses it with how pages are read and
 * written (`idb_database.ts`, `opfs_database.ts`).
 *
 * @module
 */
import { checkCommit, emptyStorageStats } from "../common.ts";
import type {
  LoadedImage,
  PageChanges,
  PageCommit,
  Release,
  StorageStats,
  StoredDatabase,
} from "../types.ts";
import type { CommitNotice } from "./commit_channel.ts";
import type { TabWatchers } from "./tab_watchers.ts";

/** What a {@linkcode BrowserDatabase} needs from its adapter. */
export interface BrowserContext {
  /** Takes the write lock of `key`. */
  lock(key: string): Promise<Release>;
  /** The error to throw for `error` (a quota error becomes `STORAGE_QUOTA`). */
  fail(error: unknown, what: string): Promise<unknown>;
  /** Tells watchers about a commit. */
  announce(notice: CommitNotice): void;
  /** Calls `watcher` on every commit announced, here or in another tab. */
  watch(watcher: (notice: CommitNotice) => void): () => void;
  /** Which tabs watch the store's databases (none: every commit is taken as watched). */
  watchers?: TabWatchers;
}

/** What a store's {@linkcode BrowserDatabase.write} did. */
export interface Written {
  /** The version stamp after the commit. */
  readonly stamp: string;
  /** Bytes written, framing and any fold included. */
  readonly bytes: number;
}

/**
 * A database of a browser store; subclasses say how it is read and written.
 *
 * @example
 * ```ts ignore
 * class MyDatabase extends BrowserDatabase {
 *   // load, changesSince, version, compact and write
 * }
 * ```
 */
export abstract class BrowserDatabase implements StoredDatabase {
  /** The database's key, such as `"shared/global.db"`. */
  readonly key: string;
  /**
   * The stamp this handle last read or wrote; a subclass refuses a commit
   * when the stored stamp is another (another tab committed meanwhile).
   */
  protected known: string | undefined;
  /** This handle's figures; subclasses count their compactions. */
  protected readonly figures: StorageStats = emptyStorageStats();
  readonly #context: BrowserContext;

  /** Binds the database under `key`; nothing is read until a call needs it. */
  constructor(context: BrowserContext, key: string) {
    this.#context = context;
    this.key = key;
  }

  /** Reads the whole image. */
  abstract load(): Promise<LoadedImage>;
  /** The pages committed after `version`. */
  abstract changesSince(version: string): Promise<PageChanges | undefined>;
  /** The version stamp, cheaply. */
  abstract version(): Promise<string>;
  /** Folds what the store keeps apart into the base; the caller holds the lock. */
  abstract compact(): Promise<void>;
  /** Stores `commit` durably and atomically (checked, timed and announced by {@linkcode commit}). */
  protected abstract write(commit: PageCommit): Promise<Written>;

  /** Writes the commit; counts, times and announces it. */
  async commit(commit: PageCommit): Promise<string> {
    checkCommit(this.key, commit);
    const started = performance.now();
    let written: Written;
    try {
      written = await this.write(commit);
    } catch (error) {
      throw await this.#context.fail(error, `Cannot save database "${this.key}"`);
    }
    this.known = written.stamp;
    this.figures.commits++;
    this.figures.bytesWritten += written.bytes;
    this.figures.lastCommitBytes = written.bytes;
    this.figures.lastCommitMs = performance.now() - started;
    this.#context.announce({ key: this.key, version: written.stamp });
    return written.stamp;
  }

  /** Takes the write lock, across tabs with Web Locks. */
  lock(): Promise<Release> {
    return this.#context.lock(this.key);
  }

  /** A copy of this handle's figures. */
  stats(): StorageStats {
    return { ...this.figures };
  }

  /** Calls `notify` when another tab announces a commit to this database. */
  onForeignCommit(notify: () => void): () => void {
    return this.#context.watch((notice) => {
      if (notice.key === this.key && notice.version !== this.known) notify();
    });
  }

  /** Registers a watcher in this tab, for other tabs to see (see `tab_watchers.ts`). */
  registerWatcher(scoped = true): Promise<() => Promise<void>> {
    return this.#context.watchers?.register(this.key, scoped) ??
      Promise.resolve(() => Promise.resolve());
  }

  /** Whether any tab watches this database: true where Web Locks cannot tell. */
  anyoneWatches(): Promise<boolean | "unscoped"> {
    return this.#context.watchers?.anyone(this.key) ?? Promise.resolve(true);
  }

  /** With `compact`, folds under the lock, so the base is a standard SQLite file. */
  async close(options: { compact?: boolean } = {}): Promise<void> {
    if (!options.compact) return;
    const release = await this.lock();
    try {
      await this.compact();
    } finally {
      await release();
    }
  }
}
