/**
 * OPFS storage for browsers: databases in the Origin Private File System,
 * written through synchronous access handles by a dedicated Worker that the
 * adapter starts (`opfs_worker.ts`), as a base file plus a checksummed page
 * log each (`opfs_database.ts`). sql.js and the router stay on the page's
 * thread, so reads never leave memory; a commit sends only its changed pages
 * to the Worker and resolves once they are flushed.
 *
 * - Tabs of one origin share databases as with IndexedDB: the write lock is a
 *   Web Lock per database, readers compare the version stamp (one small read
 *   in the Worker) and catch up with the frames after theirs. A tab keeps the
 *   write lock between its commits while no other tab asks (`kept_lock.ts`):
 *   a commit under it reads no stamp and is one Worker round trip. Handles are
 *   opened in `"readwrite-unsafe"` mode where the browser has it (Chromium
 *   156 here), so every tab's Worker keeps its handles; elsewhere they are
 *   exclusive and file operations run under a Web Lock on the folder, which
 *   a tab hands over, its handles closed, when another tab asks or after a
 *   short idle time (slower, still correct).
 * - Record logs (write queues, audit lines) are kept in IndexedDB under the
 *   same name, as {@linkcode indexedDbStorage} keeps them: line batches, each
 *   one IndexedDB transaction.
 * - Opening a database starts the Worker; where there is no Worker, no OPFS
 *   or no synchronous access handle, `open()` rejects with
 *   `DATABASE_OPEN_FAILED` ({@linkcode browserStorage} falls back to
 *   IndexedDB instead).
 *
 * @module
 */
import type { StorageAdapter } from "../types.ts";
import { TabWatchers } from "./tab_watchers.ts";
import { CommitChannel, type CommitNotice } from "./commit_channel.ts";
import { indexedDbStorage, normalizeLocation } from "./indexeddb.ts";
import type { OpfsContext } from "./opfs_database.ts";
import type { OpfsFiles, WorkerFactory } from "./opfs_files.ts";
import { browserSetup, lockTimeoutOf, openedOrFailed, webLockCode } from "./browser_setup.ts";
import type { KeptLock } from "./kept_lock.ts";

export type { WorkerFactory } from "./opfs_files.ts";

/** The adapter's name, as reported in messages. */
export const OPFS_STORAGE_NAME = "opfs";

/** Options of {@linkcode opfsStorage}. */
export interface OpfsStorageOptions {
  /**
   * The OPFS folder (under the origin's root) that holds the databases, and
   * the name of the IndexedDB database that holds the record logs.
   * @default "db-router"
   */
  name?: string;
  /**
   * Milliseconds `lock()` waits for another tab before it rejects with code
   * `LOCK_TIMEOUT`.
   * @default 60000
   */
  lockTimeoutMs?: number;
  /**
   * Log bytes beyond which a commit folds the log into the base file (it
   * writes the changed pages once more, in place). Other tabs reload the
   * whole image after a fold, so larger values mean fewer reloads.
   * @default 4194304 (4 MiB)
   */
  compactThresholdBytes?: number;
  /**
   * `"shared"`: access handles in `"readwrite-unsafe"` mode where the browser
   * has it, exclusive otherwise. `"exclusive"`: always exclusive, file
   * operations under a Web Lock on the folder that tabs hand over.
   * @default "shared"
   */
  handles?: "shared" | "exclusive";
  /**
   * Whether the first `open()` asks the browser to keep this site's storage
   * under storage pressure (`navigator.storage.persist()`).
   * @default true
   */
  persist?: boolean;
  /**
   * Starts the Worker from its source code; give one where a Content
   * Security Policy forbids `blob:` workers (serve the source from a URL the
   * policy allows).
   * @default a Worker from a `blob:` URL of the source
   */
  startWorker?: WorkerFactory;
}

/** A storage adapter on OPFS, with the browser-only extras. */
export interface OpfsStorage extends StorageAdapter {
  /**
   * Starts the Worker if need be; resolves `true` when OPFS with synchronous
   * access handles works here, `false` otherwise. Never rejects.
   */
  available(): Promise<boolean>;
  /** Whether the browser granted persistent storage (see `IndexedDbStorage.persistence`). */
  persistence(): Promise<boolean | undefined>;
  /**
   * Calls `watcher` after every commit to this adapter's databases, in this
   * tab and in other tabs; returns the function that stops watching.
   */
  watch(watcher: (notice: CommitNotice) => void): () => void;
  /** Stops the Worker; a later call starts a new one. */
  terminate(): void;
}

/** The scope of the in-realm mutexes that stand in for Web Locks where there are none. */
const LOCK_SCOPE = {};

/**
 * Creates OPFS storage. Keys are paths without a working directory, as with
 * IndexedDB storage: `"./shared/global.db"` is stored as
 * `shared/global.db` (and `shared/global.db-dbrlog`) in the folder `name`.
 *
 * @example
 * ```ts
 * import { DBRouter } from "../../../mod.ts";
 * import { opfsStorage } from "./opfs.ts";
 * const storage = opfsStorage({ name: "my-app" });
 * if (await storage.available()) {
 *   const router = new DBRouter("alpha", undefined, undefined, { storage });
 *   await router.insert("bots", { name: "kept in OPFS" });
 * }
 * ```
 */
export function opfsStorage(options: OpfsStorageOptions = {}): OpfsStorage {
  const name = options.name ?? "db-router";
  if (typeof name !== "string" || name.length === 0 || /[/\\\0]/.test(name)) {
    throw new TypeError(
      `Invalid OPFS folder name ${JSON.stringify(name)}: expected a non-empty name without slashes`,
    );
  }
  const timeoutMs = lockTimeoutOf(options.lockTimeoutMs);
  const threshold = options.compactThresholdBytes ?? 4 * 1024 * 1024;
  if (typeof threshold !== "number" || !(threshold > 0)) {
    throw new RangeError(
      `Invalid compactThresholdBytes ${threshold}: expected a positive number`,
    );
  }
  const handles = options.handles ?? "shared";
  if (handles !== "shared" && handles !== "exclusive") {
    throw new TypeError(
      `Invalid handles ${JSON.stringify(handles)}: expected "shared" or "exclusive"`,
    );
  }
  const { locks, persistence, fail } = browserSetup(options.persist);
  // The Worker's side, the database class and the lock are imported at first use: importing
  // the package parses less (a file router never needs them).
  const lock = async (lockName: string) =>
    (await webLockCode()).acquireLock(locks, LOCK_SCOPE, lockName, timeoutMs);
  const channel = new CommitChannel(`db-router-opfs:${name}`);
  let files: OpfsFiles | undefined;
  let context: Promise<OpfsContext> | undefined;
  const load = () =>
    context ??= Promise.all([import("./opfs_files.ts"), import("./kept_lock.ts")]).then(
      ([{ OpfsFiles }, { KeptLock }]) => {
        files = new OpfsFiles({
          folder: name,
          exclusive: handles === "exclusive",
          lockFolder: () => lock(`db-router-opfs-files:${name}`),
          startWorker: options.startWorker,
        });
        // With Web Locks, a tab keeps a database's write lock between its commits while no other
        // tab asks.
        const keptLocks = new Map<string, KeptLock>();
        const kept = (key: string): KeptLock | undefined => {
          if (!locks) return undefined;
          let keptLock = keptLocks.get(key);
          if (!keptLock) {
            const lockName = `db-router-opfs:${name}:${key}`;
            keptLock = new KeptLock(() => lock(lockName), lockName, timeoutMs);
            keptLocks.set(key, keptLock);
          }
          return keptLock;
        };
        return {
          files,
          compactThresholdBytes: threshold,
          kept,
          lock: (key: string) => kept(key)?.lock() ?? lock(`db-router-opfs:${name}:${key}`),
          fail,
          announce: (notice: CommitNotice) => channel.announce(notice),
          watch: (watcher: (notice: CommitNotice) => void) => channel.watch(watcher),
          watchers: new TabWatchers(locks, `db-router-opfs-watch:${name}`),
        };
      },
    );
  const ready = async () => await (await load()).files.ready();
  const hasIndexedDb = Boolean((globalThis as { indexedDB?: unknown }).indexedDB);
  return {
    name: OPFS_STORAGE_NAME,
    capabilities: { durable: true, sharedAcrossProcesses: true, incremental: true },
    resolve: normalizeLocation,
    async open(location) {
      const key = normalizeLocation(location);
      void persistence();
      await openedOrFailed(key, "OPFS storage is not available here", ready());
      const { OpfsDatabase } = await import("./opfs_database.ts");
      return new OpfsDatabase(await load(), key);
    },
    records: hasIndexedDb
      ? indexedDbStorage({ name, persist: false, lockTimeoutMs: timeoutMs }).records
      : undefined,
    available: () => ready().then(() => true, () => false),
    persistence,
    watch: (watcher) => channel.watch(watcher),
    terminate: () => files?.terminate(),
  };
}
