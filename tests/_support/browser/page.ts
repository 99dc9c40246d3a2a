/**
 * The page that browser tests drive: it exposes, as `globalThis.t`, the
 * storage conformance suite and small router operations, so that the tests'
 * `page.evaluate` calls stay one-liners. Bundled by esbuild like the demo.
 *
 * @module
 */
import { printed } from "./uvu_capture.ts";
import { exec } from "uvu";
import {
  browserStorage,
  copyIndexedDbToOpfs,
  DBRouter,
  type DBRouterOptions,
  indexedDbStorage,
  opfsStorage,
  RouterError,
  type Scope,
  setWasmUrl,
} from "../../../mod.ts";
import { OpfsFiles } from "../../../src/storage/browser/opfs_files.ts";
import type { StorageAdapter } from "../../../src/storage/types.ts";
import { getHost } from "../../../src/storage/detect.ts";
import type { Release, StorageStats } from "../../../src/storage/types.ts";
import { commitOf, makeImage, testStorageAdapter } from "../storage_conformance.ts";

/** uvu's totals from one run in the page. */
export interface ConformanceReport {
  total: number;
  passed: number;
  skipped: number;
  output: string;
}

// Served by the test server (chromium.ts): with the URL known, the loader reads the binary itself
// and wraps sql.js's imports, so the page runs on the page capture as an application would.
setWasmUrl("/sql-wasm-browser.wasm");

const routers = new Map<string, DBRouter>();
const held: Release[] = [];
const notices: string[] = [];
/** What each router's watch of `bots` heard: kind, inserted rowids, whether from this tab. */
const heard = new Map<string, Array<{ kind: string; inserted: number[]; here: boolean }>>();
/** How to stop each router's watch of `bots`. */
const unwatch = new Map<string, () => void>();

const api = {
  /**
   * Runs the shared storage cases on `store`, each case on its own IndexedDB
   * database or OPFS folder (run it once per page).
   */
  async conformance(store: Store = "indexeddb"): Promise<ConformanceReport> {
    let cases = 0;
    const run = Date.now().toString(36);
    (globalThis as { UVU_QUEUE?: unknown[][] }).UVU_QUEUE!.push(["chromium"]);
    testStorageAdapter(
      `${store} (chromium)`,
      () => storageOf(store, `conformance-${run}-${++cases}`),
    );
    printed.length = 0;
    await exec(false);
    // deno-lint-ignore no-control-regex
    const output = printed.join("").replace(/\x1b\[[0-9;]*m/g, "");
    const count = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1]);
    return { total: count("Total"), passed: count("Passed"), skipped: count("Skipped"), output };
  },

  /** The name of the storage routers get when given none. */
  defaultStorageName(): string {
    return getHost().defaultStorage().name;
  },

  /**
   * Opens (once) the router of `menaceId` on default paths, with the `bots`
   * table, on the default storage or on `store` (under the name "db-router").
   */
  async open(menaceId: string, options: DBRouterOptions = {}, store?: Store): Promise<void> {
    if (routers.has(menaceId)) return;
    const storage = store ? storageOf(store, "db-router") : undefined;
    const router = new DBRouter(menaceId, undefined, undefined, { ...options, storage });
    routers.set(menaceId, router);
    await router.getConnection("bots", "write").exec(
      "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)",
    );
  },

  /** The paths the router of `menaceId` resolved. */
  paths(menaceId: string): { local: string; shared: string } {
    const router = routers.get(menaceId)!;
    return { local: router.localPath, shared: router.sharedPath };
  },

  /** Inserts `count` bots named `<prefix>-<i>`, one autocommit write each. */
  async insertBots(menaceId: string, count: number, prefix: string): Promise<void> {
    const router = routers.get(menaceId)!;
    for (let i = 0; i < count; i++) await router.insert("bots", { name: `${prefix}-${i}` });
  },

  /**
   * Inserts one bot, then lists the Web Locks of this origin held right after
   * the insert resolved (no other work in between).
   */
  async insertThenHeldLocks(menaceId: string, name: string): Promise<string[]> {
    await routers.get(menaceId)!.insert("bots", { name });
    const state = await navigator.locks.query();
    return (state.held ?? []).map((lock) => lock.name ?? "");
  },

  /** The names of the Web Locks of this origin held now. */
  async heldLocks(): Promise<string[]> {
    const state = await navigator.locks.query();
    return (state.held ?? []).map((lock) => lock.name ?? "");
  },

  /** The storage figures of the shared database of `menaceId`'s router. */
  sharedStats(menaceId: string): StorageStats {
    return routers.get(menaceId)!.storageStats().shared;
  },

  /** The names of the bots `menaceId` sees in `scope`, by id. */
  async bots(menaceId: string, scope: Scope): Promise<string[]> {
    const rows = await routers.get(menaceId)!.query(
      "bots",
      "SELECT name FROM bots ORDER BY id",
      [],
      { scope },
    );
    return rows.map((row) => String(row.name));
  },

  /** Closes every router of the page. */
  async closeAll(): Promise<void> {
    for (const router of routers.values()) await router.close();
    routers.clear();
  },

  /**
   * Writes a small row, then one of `bytes` bytes, to a local table of a
   * router on the IndexedDB database `name`; reports how the big one failed
   * and which rows are there afterwards.
   */
  async overQuota(
    name: string,
    bytes: number,
  ): Promise<{ code?: string; message?: string; rows: number[]; persisted?: boolean }> {
    const storage = indexedDbStorage({ name });
    const router = new DBRouter("quota", undefined, undefined, { storage });
    const models = router.getConnection("models", "write");
    await models.exec("CREATE TABLE IF NOT EXISTS models (id INTEGER PRIMARY KEY, data BLOB)");
    await models.run("INSERT INTO models (data) VALUES (?)", [new Uint8Array(1000)]);
    let code: string | undefined;
    let message: string | undefined;
    try {
      await models.run("INSERT INTO models (data) VALUES (?)", [randomBytes(bytes)]);
    } catch (error) {
      code = error instanceof RouterError ? error.code : String(error);
      message = (error as Error).message;
    }
    const rows = await models.all("SELECT length(data) AS size FROM models ORDER BY id");
    const persisted = await storage.persistence();
    await router.close();
    return { code, message, rows: rows.map((row) => Number(row.size)), persisted };
  },

  /**
   * Counts calls of `navigator.storage.persist()`: after creating an adapter,
   * after opening three databases, and after asking `persistence()` twice.
   */
  async persistCalls(name: string): Promise<{ counts: number[]; answer: unknown }> {
    const manager = navigator.storage as { persist: () => Promise<boolean> };
    const persist = manager.persist.bind(manager);
    let calls = 0;
    manager.persist = () => (calls++, persist());
    try {
      const storage = indexedDbStorage({ name });
      const counts = [calls];
      for (const key of ["a.db", "b.db", "c.db"]) await storage.open(key);
      counts.push(calls);
      const answer = await storage.persistence();
      await storage.persistence();
      counts.push(calls);
      return { counts, answer };
    } finally {
      manager.persist = persist;
    }
  },

  /** Starts collecting the commit notices of the IndexedDB database `name`. */
  watch(name: string): void {
    indexedDbStorage({ name }).watch((notice) => notices.push(notice.key));
  },

  /** Starts `menaceId`'s router (opened) watching `bots`, every row. */
  watchBots(menaceId: string): void {
    const list: Array<{ kind: string; inserted: number[]; here: boolean }> = [];
    heard.set(menaceId, list);
    const stop = routers.get(menaceId)!.watch("bots", (change) => {
      list.push({
        kind: change.kind,
        inserted: [...change.inserted],
        here: change.fromThisProcess,
      });
    });
    unwatch.set(menaceId, stop);
  },

  /** Stops `menaceId`'s watch of `bots` (started by `watchBots`). */
  unwatchBots(menaceId: string): void {
    unwatch.get(menaceId)?.();
    unwatch.delete(menaceId);
  },

  /**
   * The shared database of `menaceId`'s router on `store`, through a handle of
   * its own: its version now, and for each commit after `since`, whether it
   * carries a note (`null`: the store cannot tell).
   */
  async sharedNotes(
    store: Store,
    menaceId: string,
    since?: string,
  ): Promise<{ version: string; notes: boolean[] | null }> {
    const db = await storageOf(store, "db-router").open(routers.get(menaceId)!.sharedPath);
    const version = await db.version();
    if (since === undefined) return { version, notes: null };
    const changes = await db.changesSince(since);
    return { version, notes: changes?.notes?.map((note) => note !== null) ?? null };
  },

  /** What `menaceId`'s watch has heard so far. */
  heard(menaceId: string): Array<{ kind: string; inserted: number[]; here: boolean }> {
    return [...(heard.get(menaceId) ?? [])];
  },

  /** Every bot's id and owner, by id. */
  async owners(menaceId: string): Promise<Array<{ id: number; owner: string }>> {
    return await routers.get(menaceId)!.getConnection("bots").all<{ id: number; owner: string }>(
      "SELECT id, source_menace_id AS owner FROM bots ORDER BY id",
    );
  },

  /** The keys of the commits noticed since `watch()`. */
  notices(): string[] {
    return [...notices];
  },

  /**
   * Times `count` one-row inserts into the shared table of a router on the
   * IndexedDB database `name`: milliseconds per insert and per storage commit.
   */
  async timeInserts(
    name: string,
    count: number,
    durability: "strict" | "relaxed",
  ): Promise<
    { insertMs: number; commitMs: number; commitBytes: number; versionMs: number; lockMs: number }
  > {
    const storage = indexedDbStorage({ name, durability });
    const router = new DBRouter("timer", undefined, undefined, { storage });
    const bots = router.getConnection("bots", "write");
    await bots.exec("CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT)");
    let commitMs = 0;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      await bots.run("INSERT INTO bots (name) VALUES (?)", [`bot-${i}`]);
      commitMs += router.storageStats().shared.lastCommitMs;
    }
    const insertMs = (performance.now() - started) / count;
    const commitBytes = router.storageStats().shared.lastCommitBytes;
    const db = await storage.open("shared/global.db");
    const before = performance.now();
    for (let i = 0; i < count; i++) await db.version();
    const versionMs = (performance.now() - before) / count;
    const locking = performance.now();
    for (let i = 0; i < count; i++) await (await db.lock())();
    const lockMs = (performance.now() - locking) / count;
    await router.close();
    return { insertMs, commitMs: commitMs / count, commitBytes, versionMs, lockMs };
  },

  /** Takes the write lock of `key` and keeps it until the page goes away. */
  async holdLock(name: string, key: string): Promise<void> {
    const db = await indexedDbStorage({ name }).open(key);
    held.push(await db.lock());
  },

  /** Whether the lock of `key` can be taken within `ms` (released again at once). */
  async canLock(name: string, key: string, ms: number): Promise<boolean> {
    const db = await indexedDbStorage({ name, lockTimeoutMs: ms }).open(key);
    try {
      await (await db.lock())();
      return true;
    } catch (error) {
      if (error instanceof RouterError && error.code === "LOCK_TIMEOUT") return false;
      throw error;
    }
  },

  /** Starts a commit of `pages` pages of `seed` without waiting for it (the test closes the page). */
  async startBigCommit(name: string, key: string, pages: number, seed: number): Promise<void> {
    const db = await indexedDbStorage({ name }).open(key);
    held.push(await db.lock());
    void db.commit(commitOf(null, makeImage(4096, pages, seed), 4096)).catch(() => {});
  },

  /** Commits an image of `pages` pages of `seed`, under the lock. */
  async commitImage(name: string, key: string, pages: number, seed: number): Promise<string> {
    const db = await indexedDbStorage({ name }).open(key);
    const release = await db.lock();
    try {
      await db.load();
      return await db.commit(commitOf(null, makeImage(4096, pages, seed), 4096));
    } finally {
      await release();
    }
  },

  /** Which seed's image of `pages` pages the database holds (0 for none, -1 for neither). */
  async storedSeed(name: string, key: string, seeds: number[]): Promise<number> {
    const { image } = await (await indexedDbStorage({ name }).open(key)).load();
    if (!image) return 0;
    const pages = image.length / 4096;
    const match = seeds.find((seed) => equal(image, makeImage(4096, pages, seed)));
    return match ?? -1;
  },

  /** The storage name of the router of `menaceId`'s shared database, and its commit path. */
  storageName(store: Store, name: string): string {
    return storageOf(store, name).name;
  },

  /**
   * Commits images of seeds 1 then 2 to `key` on OPFS folder `name`, cuts
   * `cut` bytes off the end of the log (a torn last commit), and reports
   * which seed a new handle loads, then whether a later commit (seed 3)
   * lands after the torn bytes and reads back.
   */
  async opfsTornTail(
    name: string,
    key: string,
    cut: number,
  ): Promise<{ afterTear: number; afterNext: number; logSize: number; logSizeAfter: number }> {
    const storage = opfsStorage({ name });
    const writer = await storage.open(key);
    await writer.load();
    await writer.commit(commitOf(null, makeImage(4096, 4, 1), 4096));
    await writer.commit(commitOf(makeImage(4096, 4, 1), makeImage(4096, 4, 2), 4096));
    const files = new OpfsFiles({
      folder: name,
      exclusive: false,
      lockFolder: () => Promise.resolve(() => Promise.resolve()),
    });
    const [size] = await files.batch([{ op: "size", path: `${key}-dbrlog` }]) as [number];
    await files.batch([{ op: "truncate", path: `${key}-dbrlog`, size: size - cut }]);
    const seeds = [1, 2, 3];
    const seedOf = (image: Uint8Array | null) =>
      image ? seeds.find((seed) => equal(image, makeImage(4096, 4, seed))) ?? -1 : 0;
    const reader = await storage.open(key);
    const torn = await reader.load();
    const afterTear = seedOf(torn.image);
    const release = await reader.lock();
    await reader.commit(commitOf(torn.image, makeImage(4096, 4, 3), 4096));
    await release();
    const afterNext = seedOf((await (await storage.open(key)).load()).image);
    const [logSizeAfter] = await files.batch([{ op: "size", path: `${key}-dbrlog` }]) as [number];
    files.terminate();
    storage.terminate();
    return { afterTear, afterNext, logSize: size, logSizeAfter };
  },

  /**
   * Commits images to `key` on OPFS folder `name`, folding after each commit
   * when `fold` (a threshold of 1 byte), and reports after each step whether a
   * new handle's `load()` proved its bytes and read the right image: growth
   * to 8 pages, a shrink to 5, growth to 12 with a page left unwritten, then
   * a byte of the base flipped behind the adapter's back, then one more commit.
   */
  async opfsProof(name: string, key: string, fold: boolean) {
    const storage = opfsStorage({ name, compactThresholdBytes: fold ? 1 : 4194304 });
    const files = new OpfsFiles({
      folder: name,
      exclusive: false,
      lockFolder: () => Promise.resolve(() => Promise.resolve()),
    });
    const steps: Array<{ verified: boolean | undefined; same: boolean }> = [];
    let current: Uint8Array | null = null;
    const check = async (expected: Uint8Array) => {
      const loaded = await (await storage.open(key)).load();
      steps.push({
        verified: loaded.verified,
        same: loaded.image !== null && equal(loaded.image, expected),
      });
    };
    const commit = async (next: Uint8Array) => {
      const db = await storage.open(key);
      await db.load();
      await db.commit(commitOf(current, next, 4096));
      current = next;
      await check(next);
    };
    await commit(makeImage(4096, 8, 1));
    await commit(makeImage(4096, 5, 2));
    const grown = makeImage(4096, 12, 3);
    grown.fill(0, 9 * 4096, 10 * 4096); // page 10 stays zeros: a commit need not write it
    await commit(grown);
    const [baseSize] = await files.batch([{ op: "size", path: key }]) as [number];
    if (baseSize >= 4096) {
      const [byte] = await files.batch([{ op: "read", path: key, at: 4096 + 7, length: 1 }]) as [
        Uint8Array,
      ];
      await files.batch([{ op: "write", path: key, at: 4096 + 7, data: byte.map((b) => b ^ 1) }]);
      const flipped = grown.slice();
      flipped[4096 + 7] ^= 1;
      await check(flipped);
      current = flipped;
    }
    await commit(makeImage(4096, 6, 4));
    files.terminate();
    storage.terminate();
    return { steps, baseSize };
  },

  /** Commits an image of `pages` pages of `seed` on `store`, under the lock. */
  async commitOn(store: Store, name: string, key: string, pages: number, seed: number) {
    const db = await storageOf(store, name).open(key);
    const release = await db.lock();
    try {
      await db.load();
      return await db.commit(commitOf(null, makeImage(4096, pages, seed), 4096));
    } finally {
      await release();
    }
  },

  /** Starts a commit of `pages` pages of `seed` on `store` without waiting for it. */
  async startBigCommitOn(store: Store, name: string, key: string, pages: number, seed: number) {
    const db = await storageOf(store, name).open(key);
    held.push(await db.lock());
    await db.load();
    void db.commit(commitOf(null, makeImage(4096, pages, seed), 4096)).catch(() => {});
  },

  /** Which seed's image of `pages` pages `key` on `store` holds (0 for none, -1 for neither). */
  async storedSeedOn(store: Store, name: string, key: string, seeds: number[]): Promise<number> {
    const { image } = await (await storageOf(store, name).open(key)).load();
    if (!image) return 0;
    const pages = image.length / 4096;
    return seeds.find((seed) => equal(image, makeImage(4096, pages, seed))) ?? -1;
  },

  /** Copies IndexedDB databases of `name` to OPFS and reports what happened. */
  async copyToOpfs(name: string) {
    return await copyIndexedDbToOpfs({ from: name });
  },
};

/**
 * The stores the tests run on; `opfs-exclusive` forces exclusive access
 * handles; `opfs-unshared` asks for shared ones in a Worker that lacks them,
 * as in browsers without `"readwrite-unsafe"`.
 */
export type Store = "indexeddb" | "opfs" | "opfs-exclusive" | "opfs-unshared" | "auto";

/** A Worker whose sync access handles have no `mode` (no `"readwrite-unsafe"`). */
function withoutSharedHandles(source: string): Worker {
  const hide = "delete FileSystemSyncAccessHandle.prototype.mode;\n";
  const url = URL.createObjectURL(new Blob([hide + source], { type: "text/javascript" }));
  return new Worker(url);
}

/** The adapters of the current page, by store and name, so that routers of one page share one. */
const adapters = new Map<string, StorageAdapter>();

function storageOf(store: Store, name: string): StorageAdapter {
  const id = `${store}:${name}`;
  let adapter = adapters.get(id);
  if (!adapter) {
    adapter = store === "opfs-exclusive"
      ? opfsStorage({ name, handles: "exclusive" })
      : store === "opfs-unshared"
      ? opfsStorage({ name, startWorker: withoutSharedHandles })
      : store === "opfs"
      ? opfsStorage({ name })
      : browserStorage({ name, store });
    adapters.set(id, adapter);
  }
  return adapter;
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The page's API, as the tests see it. */
export type PageApi = typeof api;

(globalThis as { t?: PageApi }).t = api;
