/**
 * The browser's default storage, chosen by capability: OPFS where the page
 * can use it (a secure context with Workers and `navigator.storage.getDirectory`,
 * and a Worker that finds `FileSystemSyncAccessHandle`), IndexedDB otherwise.
 *
 * Databases already kept in IndexedDB (by db-router before OPFS was the
 * default) keep working where they are: a database that has no OPFS files
 * but has IndexedDB pages under the same name is opened from IndexedDB.
 * Nothing is migrated silently; {@linkcode copyIndexedDbToOpfs} moves one on
 * request.
 *
 * @module
 */
import { normalizeLocation } from "./indexeddb.ts";
import { type IndexedDbStorage, indexedDbStorage } from "./indexeddb.ts";
import { type OpfsStorage, opfsStorage } from "./opfs.ts";
import type { StorageAdapter } from "../types.ts";
import type { CommitNotice } from "./commit_channel.ts";

/** Options of {@linkcode browserStorage}. */
export interface BrowserStorageOptions {
  /**
   * `"auto"`: OPFS where it works, IndexedDB otherwise (and for databases
   * that exist only in IndexedDB). `"opfs"` or `"indexeddb"`: that one only.
   * @default "auto"
   */
  store?: "auto" | "opfs" | "indexeddb";
  /**
   * The OPFS folder and the IndexedDB database that hold the databases and
   * record logs.
   * @default "db-router"
   */
  name?: string;
  /**
   * Milliseconds `lock()` waits for another tab before it rejects with code
   * `LOCK_TIMEOUT`.
   * @default 60000
   */
  lockTimeoutMs?: number;
}

/** Browser storage, with the extras both browser adapters have. */
export interface BrowserStorage extends StorageAdapter {
  /** Whether the browser granted persistent storage. */
  persistence(): Promise<boolean | undefined>;
  /** Calls `watcher` after every commit, here or in another tab; returns the unsubscribe function. */
  watch(watcher: (notice: CommitNotice) => void): () => void;
}

/**
 * Whether this page could use OPFS storage, by what the page itself can see;
 * the Worker confirms synchronous access handles on the first `open()`.
 *
 * @example
 * ```ts
 * import { opfsLikely } from "./choose.ts";
 * opfsLikely(); // true in a Chromium, Firefox or Safari page over HTTPS or localhost
 * ```
 */
export function opfsLikely(): boolean {
  const g = globalThis as {
    isSecureContext?: boolean;
    Worker?: unknown;
    navigator?: { storage?: { getDirectory?: unknown } };
  };
  return g.isSecureContext === true && typeof g.Worker === "function" &&
    typeof g.navigator?.storage?.getDirectory === "function";
}

/**
 * Creates the browser's storage: by default OPFS where it works, else
 * IndexedDB; `store` forces one. The browser host's default storage is
 * `browserStorage()`.
 *
 * @example
 * ```ts ignore
 * import { browserStorage, DBRouter } from "db-router";
 * const storage = browserStorage({ store: new URL(location.href).searchParams.get("store") ?? "auto" });
 * const router = new DBRouter("alpha", undefined, undefined, { storage });
 * storage.name; // "opfs" or "indexeddb"
 * ```
 */
export function browserStorage(options: BrowserStorageOptions = {}): BrowserStorage {
  const store = options.store ?? "auto";
  const common = { name: options.name, lockTimeoutMs: options.lockTimeoutMs };
  if (store === "indexeddb") return indexedDbStorage(common);
  if (store === "opfs") return opfsStorage(common);
  if (store !== "auto") {
    throw new TypeError(
      `Invalid store ${JSON.stringify(store)}: expected "auto", "opfs" or "indexeddb"`,
    );
  }
  if (!opfsLikely()) return indexedDbStorage(common);
  return autoStorage(
    opfsStorage(common),
    common.name ?? "db-router",
    () => indexedDbStorage(common),
  );
}

/** OPFS, with IndexedDB for databases that exist only there and where OPFS fails. */
function autoStorage(
  opfs: OpfsStorage,
  name: string,
  makeIdb: () => IndexedDbStorage,
): BrowserStorage {
  let idb: IndexedDbStorage | undefined;
  const indexedDb = () => idb ??= makeIdb();
  let fellBack = false;
  const inIndexedDb = async (key: string): Promise<boolean> => {
    const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) return false;
    if (typeof factory.databases === "function") {
      const existing = await factory.databases();
      if (!existing.some((info) => info.name === name)) return false;
    }
    return (await (await indexedDb().open(key)).version()) !== "0";
  };
  return {
    get name() {
      return fellBack ? indexedDb().name : opfs.name;
    },
    capabilities: opfs.capabilities,
    resolve: normalizeLocation,
    async open(location) {
      const key = normalizeLocation(location);
      if (!await opfs.available()) {
        fellBack = true;
        return await indexedDb().open(key);
      }
      const db = await opfs.open(key);
      if ((await db.version()) !== "0" || !await inIndexedDb(key)) return db;
      return await indexedDb().open(key);
    },
    records: opfs.records,
    persistence: () => opfs.persistence(),
    watch(watcher) {
      const stops = [opfs.watch(watcher), indexedDb().watch(watcher)];
      return () => stops.forEach((stop) => stop());
    },
  };
}
