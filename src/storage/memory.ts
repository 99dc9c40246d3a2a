/**
 * Memory storage: databases and records that live as long as the adapter.
 * Useful for tests, for short-lived tools, and as the fallback where no
 * durable storage exists. Routers that share one adapter instance share its
 * databases, like routers that share a file.
 *
 * @module
 */
import { Mutex } from "../engine/mutex.ts";
import { checkCommit, emptyStorageStats, mergeCommits, releaseOnce } from "./common.ts";
import { patchImage } from "../persist/patch_image.ts";
import type {
  LoadedImage,
  PageCommit,
  Release,
  StorageAdapter,
  StorageStats,
  StoredDatabase,
} from "./types.ts";

/** The adapter's name, as reported in messages. */
export const MEMORY_STORAGE_NAME = "memory";

/** Options of {@linkcode memoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Images to start with, by key; each is copied.
   * @default {}
   */
  initial?: Record<string, Uint8Array>;
}

/**
 * Creates an isolated in-memory store.
 *
 * @example
 * ```ts
 * import { memoryStorage } from "./memory.ts";
 * const storage = memoryStorage();
 * const db = await storage.open(storage.resolve("shared/global.db"));
 * (await db.load()).image; // null: nothing stored yet
 * ```
 */
export function memoryStorage(options: MemoryStorageOptions = {}): StorageAdapter {
  const images = new Map<string, StoredImage>();
  const locks = new Map<string, Mutex>();
  const logs = new Map<string, string[]>();
  const logLocks = new Map<string, Mutex>();
  for (const [key, image] of Object.entries(options.initial ?? {})) {
    images.set(normalizeKey(key), storedImage(image.slice()));
  }
  return {
    name: MEMORY_STORAGE_NAME,
    capabilities: { durable: false, sharedAcrossProcesses: false, incremental: false },
    resolve: normalizeKey,
    open(key) {
      let mutex = locks.get(key);
      if (!mutex) locks.set(key, mutex = new Mutex());
      return Promise.resolve(openMemoryDatabase(key, images, mutex));
    },
    records: {
      append(name, lines) {
        let log = logs.get(name);
        if (!log) logs.set(name, log = []);
        log.push(...lines);
        return Promise.resolve();
      },
      async *read(name) {
        yield* logs.get(name) ?? [];
      },
      list(folder) {
        const prefix = `${normalizeKey(folder).replace(/\/$/, "")}/`;
        const entries = [...logs]
          .filter(([name]) => name.startsWith(prefix) && !name.includes("/", prefix.length))
          .map(([name, lines]) => ({
            name: name.slice(prefix.length),
            size: lines.reduce((sum, line) => sum + line.length + 1, 0),
          }));
        return Promise.resolve(entries);
      },
      claim(name, to) {
        const log = logs.get(name);
        if (!log) return Promise.resolve(false);
        logs.delete(name);
        logs.set(to, log);
        return Promise.resolve(true);
      },
      remove(name) {
        logs.delete(name);
        return Promise.resolve();
      },
      async lock(name) {
        let mutex = logLocks.get(name);
        if (!mutex) logLocks.set(name, mutex = new Mutex());
        return releaseOnce(await mutex.acquire());
      },
      ends(name) {
        const log = logs.get(name);
        if (!log) return Promise.resolve(undefined);
        const size = log.reduce((sum, line) => sum + line.length + 1, 0);
        return Promise.resolve({ size, first: log[0], last: log.at(-1) });
      },
    },
  };
}

function openMemoryDatabase(
  key: string,
  images: Map<string, StoredImage>,
  mutex: Mutex,
): StoredDatabase {
  const stats: StorageStats = emptyStorageStats();
  const current = (): LoadedImage => {
    const entry = images.get(key);
    return entry
      ? { image: entry.bytes.slice(0, entry.length), version: String(entry.version) }
      : { image: null, version: "0" };
  };
  return {
    key,
    load: () => Promise.resolve(current()),
    version: () => Promise.resolve(String(images.get(key)?.version ?? 0)),
    changesSince(version) {
      const entry = images.get(key);
      const from = entry?.history.findIndex((commit) => String(commit.version) === version) ?? -1;
      if (!entry || from < 0) return Promise.resolve(undefined);
      const start = entry.history[from];
      const later = entry.history.slice(from + 1);
      return Promise.resolve({
        version: String(entry.version),
        pageSize: entry.pageSize,
        pageCount: entry.length / entry.pageSize,
        pages: start.pageSize === entry.pageSize
          ? mergeCommits(start.pageCount, later, entry.pageSize)
          : [],
        notes: later.map((commit) => commit.note ?? null),
      });
    },
    commit(commit: PageCommit) {
      checkCommit(key, commit);
      const started = performance.now();
      const entry = images.get(key);
      const version = (entry?.version ?? 0) + 1;
      const pageSize = commit.pageSize;
      const pages = commit.pages.map(([page, bytes]) => [page, bytes.slice()] as const);
      const { bytes: image, length } = patchInPlace(
        entry && entry.pageSize === pageSize ? entry : null,
        pageSize,
        pages,
        commit.pageCount,
      );
      const history = [
        ...(entry?.history ?? []),
        { version, pageSize, pageCount: commit.pageCount, pages, note: commit.note?.slice() },
      ].slice(-HISTORY);
      images.set(key, { bytes: image, length, version, pageSize, history });
      const bytes = commit.pages.reduce((sum, [, page]) => sum + page.length, 0);
      stats.commits++;
      stats.bytesWritten += bytes;
      stats.lastCommitBytes = bytes;
      stats.lastCommitMs = performance.now() - started;
      return Promise.resolve(String(version));
    },
    async lock(): Promise<Release> {
      return releaseOnce(await mutex.acquire());
    },
    compact: () => Promise.resolve(),
    stats: () => ({ ...stats }),
    close: () => Promise.resolve(),
  };
}

/** Commits remembered per database, for {@linkcode StoredDatabase.changesSince}. */
const HISTORY = 32;

/**
 * One database in memory, with its last commits: its image is the first
 * `length` bytes of `bytes`, which has room to grow (so that a commit costs
 * the pages it wrote, not a copy of the database; past `length` all zeros).
 */
interface StoredImage {
  bytes: Uint8Array;
  length: number;
  version: number;
  pageSize: number;
  history: Array<{
    version: number;
    pageSize: number;
    pageCount: number;
    pages: ReadonlyArray<readonly [number, Uint8Array]>;
    note?: Uint8Array;
  }>;
}

function storedImage(image: Uint8Array): StoredImage {
  const raw = image.length >= 18 ? (image[16] << 8) | image[17] : 0;
  const pageSize = raw === 1 ? 65536 : raw || 4096;
  const pageCount = Math.floor(image.length / pageSize);
  return {
    bytes: image,
    length: image.length,
    version: 1,
    pageSize,
    history: [{ version: 1, pageSize, pageCount, pages: [] }],
  };
}

/**
 * Writes `pages` into `stored`'s buffer and sets its length to `pageCount`
 * pages, in place while the buffer has room; a larger buffer (half again the
 * size needed, so that a growing database is copied a logarithmic number of
 * times) otherwise. Bytes past the new length are zeroed, so that pages a
 * later commit brings back without writing them read as zeros, as in a file.
 * The adapter owns the buffer: `load()` hands out copies.
 */
function patchInPlace(
  stored: { bytes: Uint8Array; length: number } | null,
  pageSize: number,
  pages: ReadonlyArray<readonly [number, Uint8Array]>,
  pageCount: number,
): { bytes: Uint8Array; length: number } {
  const length = pageSize * pageCount;
  if (stored === null) return { bytes: patchImage(null, pageSize, pages, pageCount), length };
  let bytes = stored.bytes;
  if (length > bytes.length) {
    const grown = new Uint8Array(Math.max(length, Math.floor(bytes.length * 1.5)));
    grown.set(bytes.subarray(0, stored.length));
    bytes = grown;
  } else if (length < stored.length) {
    bytes.fill(0, length, stored.length);
  }
  for (const [page, data] of pages) {
    if (page <= pageCount) bytes.set(data, (page - 1) * pageSize);
  }
  return { bytes, length };
}

function normalizeKey(location: string): string {
  if (typeof location !== "string" || location.length === 0) {
    throw new TypeError(
      `Invalid database location ${JSON.stringify(location)}: expected a non-empty string`,
    );
  }
  return location.replace(/\\/g, "/").replace(/\/{2,}/g, "/").replace(/^\.\//, "");
}
