/**
 * IndexedDB storage for browsers: every database of a router, one record per
 * page, and its record logs (write queues, the audit log) in one IndexedDB
 * database of the page's origin. The browser host uses it by default.
 *
 * - A commit writes only the changed pages, in one transaction (atomic), with
 *   `durability: "strict"` unless told otherwise (`idb_database.ts`).
 * - `version()` is one `get`; the engine compares it before reads, at most
 *   every `maxReadLagMs`, so a tab sees another tab's commit within that bound.
 * - The write lock is a Web Lock (`web_lock.ts`), released by the browser
 *   when the tab that holds it closes or crashes.
 * - The first `open()` asks for persistent storage (`navigator.storage.persist()`);
 *   a full quota fails the write with code `STORAGE_QUOTA` (`quota.ts`).
 *
 * @module
 */
import { normalize } from "../../path.ts";
import type { StorageAdapter } from "../types.ts";
import { TabWatchers } from "./tab_watchers.ts";
import { CommitChannel, type CommitNotice } from "./commit_channel.ts";
import { type IdbImplementation, openIdb } from "./idb.ts";
import { idbRecords } from "./idb_records.ts";
import { browserSetup, lockTimeoutOf, openedOrFailed, webLockCode } from "./browser_setup.ts";

export type { CommitNotice } from "./commit_channel.ts";
export type { IdbImplementation } from "./idb.ts";

/** The adapter's name, as reported in messages. */
export const INDEXEDDB_STORAGE_NAME = "indexeddb";

/** Options of {@linkcode indexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /**
   * The IndexedDB database that holds this adapter's databases and record logs.
   * @default "db-router"
   */
  name?: string;
  /**
   * `"strict"`: a commit or append resolves once the browser has flushed it
   * to disk. `"relaxed"`: once the operating system has it, which is faster;
   * a power loss may then lose the last commits, but never tears one.
   * @default "strict"
   */
  durability?: "strict" | "relaxed";
  /**
   * Milliseconds `lock()` waits for another tab before it rejects with code
   * `LOCK_TIMEOUT`.
   * @default 60000
   */
  lockTimeoutMs?: number;
  /**
   * Whether the first `open()` asks the browser to keep this site's storage
   * under storage pressure; the answer is {@linkcode IndexedDbStorage.persistence}.
   * Chromium decides by itself; Firefox asks the user.
   * @default true
   */
  persist?: boolean;
  /**
   * The IndexedDB to use, for runtimes without one (fake-indexeddb in tests).
   * @default globalThis.indexedDB and globalThis.IDBKeyRange
   */
  implementation?: IdbImplementation;
}

/** A storage adapter on IndexedDB, with the browser-only extras. */
export interface IndexedDbStorage extends StorageAdapter {
  /**
   * Whether the browser granted persistent storage: `true`, `false`, or
   * `undefined` where the API does not exist or `persist` is off. Asks now
   * if no `open()` has asked yet; never asks twice.
   */
  persistence(): Promise<boolean | undefined>;
  /**
   * Calls `watcher` after every commit to this adapter's databases, in this
   * tab at once and in other tabs through a `BroadcastChannel`: a cue to
   * re-render. Returns the function that stops watching.
   */
  watch(watcher: (notice: CommitNotice) => void): () => void;
}

/**
 * Creates IndexedDB storage. Keys are paths without a working directory:
 * `"./shared/global.db"`, `"/shared/global.db"` and `"shared//global.db"` all
 * name `"shared/global.db"`.
 *
 * @example
 * ```ts
 * import { DBRouter } from "../../../mod.ts";
 * import { indexedDbStorage } from "./indexeddb.ts";
 * if ("indexedDB" in globalThis) {
 *   const storage = indexedDbStorage({ name: "my-app" });
 *   const router = new DBRouter("alpha", undefined, undefined, { storage });
 *   router.sharedPath; // "shared/global.db"
 *   await storage.persistence(); // true once the browser grants persistent storage
 * }
 * ```
 */
export function indexedDbStorage(options: IndexedDbStorageOptions = {}): IndexedDbStorage {
  const name = options.name ?? "db-router";
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(
      `Invalid IndexedDB name ${JSON.stringify(name)}: expected a non-empty string`,
    );
  }
  const timeoutMs = lockTimeoutOf(options.lockTimeoutMs);
  const implementation = options.implementation ?? globalImplementation();
  const { locks, persistence, fail } = browserSetup(options.persist);
  const durability = options.durability ?? "strict";
  const channel = new CommitChannel(`db-router:${name}`);
  let connection: Promise<IDBDatabase> | undefined;
  const connect = () =>
    connection ??= openConnection(implementation.indexedDB, name, () => {
      connection = undefined;
    });
  const context = {
    connect,
    keyRange: implementation.IDBKeyRange,
    durability,
    fail,
    // The lock and the database class are imported at first use (start-up parses less).
    lock: async (key: string) =>
      (await webLockCode()).acquireLock(
        locks,
        implementation.indexedDB,
        `db-router:${name}:${key}`,
        timeoutMs,
      ),
    announce: (notice: CommitNotice) => channel.announce(notice),
    watch: (watcher: (notice: CommitNotice) => void) => channel.watch(watcher),
    watchers: new TabWatchers(locks, `db-router-watch:${name}`),
    resolve: normalizeLocation,
  };
  return {
    name: INDEXEDDB_STORAGE_NAME,
    capabilities: { durable: true, sharedAcrossProcesses: true, incremental: true },
    resolve: normalizeLocation,
    async open(location) {
      const key = normalizeLocation(location);
      void persistence();
      const [{ IdbDatabase }] = await Promise.all([
        import("./idb_database.ts"),
        openedOrFailed(key, `IndexedDB "${name}" did not open`, connect()),
      ]);
      return new IdbDatabase(context, key);
    },
    records: idbRecords(context),
    persistence,
    watch: (watcher) => channel.watch(watcher),
  };
}

function globalImplementation(): IdbImplementation {
  const g = globalThis as { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange };
  if (!g.indexedDB || !g.IDBKeyRange) {
    throw new TypeError("Cannot use IndexedDB storage: this runtime has no indexedDB");
  }
  return { indexedDB: g.indexedDB, IDBKeyRange: g.IDBKeyRange };
}

/** Opens the connection; `onGone` forgets it when another tab upgrades or deletes the database. */
async function openConnection(
  factory: IDBFactory,
  name: string,
  onGone: () => void,
): Promise<IDBDatabase> {
  try {
    const db = await openIdb(factory, name);
    db.onversionchange = () => {
      db.close();
      onGone();
    };
    db.onclose = onGone;
    return db;
  } catch (error) {
    onGone();
    throw error;
  }
}

/**
 * A location as a key: a normalised path with no leading `./` or `/` (the
 * keys of IndexedDB and OPFS storage).
 *
 * @example
 * ```ts
 * import { normalizeLocation } from "./indexeddb.ts";
 * normalizeLocation("./shared//global.db"); // "shared/global.db"
 * ```
 */
export function normalizeLocation(location: string): string {
  if (typeof location !== "string" || location.length === 0 || location.includes("\0")) {
    throw new TypeError(
      `Invalid database location ${
        JSON.stringify(location)
      }: expected a non-empty path without NUL characters`,
    );
  }
  const key = normalize(`/${location.replace(/\\/g, "/")}`).replace(/^\/+|\/+$/g, "");
  if (key.length === 0) {
    throw new TypeError(`Invalid database location ${JSON.stringify(location)}: it names no file`);
  }
  return key;
}
