/**
 * File storage through Deno's own file API (`Deno.open`, `Deno.rename`, ...).
 * Needs `--allow-read` and `--allow-write` for the database folders.
 *
 * @module
 */
import { fileStorage, type FileStorageOptions } from "../file/adapter.ts";
import {
  blockingWhileFast,
  type FileHandle,
  type FileInfo,
  type FileSystem,
  isNotFound,
  type OpenMode,
  settlesWithoutStarving,
} from "../file/file_system.ts";
import type { StorageAdapter } from "../types.ts";

/** The adapter's name, as reported in messages. */
export const DENO_FILE_STORAGE_NAME = "deno-fs";

/** Options of {@linkcode denoFileStorage}; see {@linkcode FileStorageOptions} for the defaults. */
export type DenoFileStorageOptions = FileStorageOptions;

/**
 * Creates file storage on Deno's file API. Relative locations resolve against
 * the working directory; opening a database creates its parent folders.
 *
 * @example
 * ```ts ignore
 * import { denoFileStorage } from "./fs.ts";
 * const storage = denoFileStorage();
 * const db = await storage.open(storage.resolve("shared/global.db"));
 * const { image } = await db.load();
 * ```
 */
export function denoFileStorage(options: DenoFileStorageOptions = {}): StorageAdapter {
  return fileStorage(denoFileSystem(), DENO_FILE_STORAGE_NAME, options);
}

/**
 * The {@linkcode FileSystem} of Deno's file API.
 *
 * @example
 * ```ts ignore
 * import { denoFileSystem } from "./fs.ts";
 * const bytes = await denoFileSystem().readFile("/etc/hostname");
 * ```
 */
export function denoFileSystem(): FileSystem {
  // One per process: it holds no state, and lock exit hooks are registered per file system.
  return cachedDenoFileSystem ??= createDenoFileSystem();
}

let cachedDenoFileSystem: FileSystem | undefined;

function createDenoFileSystem(): FileSystem {
  const deno = denoApi();
  const exists = nodeExists();
  return {
    cwd: () => deno.cwd(),
    // As in ../node/fs.ts: the calls a commit makes are local metadata calls of a few µs,
    // made synchronously; large reads and writes and renames stay asynchronous, and `fdatasync`
    // is made here while it is fast (`blockingWhileFast`).
    open: (path, mode) => attempt(() => wrapFile(deno.openSync(path, OPTIONS[mode]), mode)),
    readFile: (path) => deno.readFile(path),
    readChunks: (path) => readChunks(deno, path),
    stat: (path) => attempt(() => info(deno.statSync(path))),
    // A missing path is the usual answer here (the watchers' folder of a database nobody
    // watches, asked at each write): Deno's `statSync` throws for it, about 7 µs, where
    // Node's `existsSync` (Deno's Node layer, if there) answers in under 0.5 µs.
    statIfPresent: (path) =>
      attempt(() => {
        if (exists?.(path) === false) return null;
        try {
          return info(deno.statSync(path));
        } catch (error) {
          if (isNotFound(error)) return null;
          throw error;
        }
      }),
    realPath: (path) => deno.realPathSync(path),
    rename: (from, to) => deno.rename(from, to),
    unlink: (path) => attempt(() => deno.removeSync(path)),
    mkdir: (path) => attempt(() => deno.mkdirSync(path, { recursive: true })),
    readDir: (path) => attempt(() => [...deno.readDirSync(path)].map((entry) => entry.name)),
    setModified: (path, time) => attempt(() => deno.utimeSync(path, time, time)),
    setModifiedSync: (path, time) => deno.utimeSync(path, time, time),
    syncDirectory: async (path) => {
      let file: DenoFsFile | undefined;
      try {
        file = await deno.open(path, { read: true });
        await file.sync();
      } catch {
        // Windows cannot open a directory as a file: nothing to do there.
      } finally {
        file?.close();
      }
    },
    onExit: (callback) => globalThis.addEventListener("unload", callback),
    repeat: (intervalMs, callback) => {
      // Deno's timers are numbers (Node's types, if loaded, say otherwise).
      const timer = setInterval(callback, intervalMs) as unknown as number;
      deno.unrefTimer(timer);
      return () => clearInterval(timer);
    },
    processLabel: () => `deno pid ${deno.pid}`,
  };
}

const OPTIONS: Record<OpenMode, DenoOpenOptions> = {
  read: { read: true },
  readWrite: { read: true, write: true },
  createNew: { read: true, write: true, createNew: true },
  append: { read: true, append: true, create: true },
};

/** Deno files read and write at a cursor: each positional call seeks first, one at a time. */
function wrapFile(file: DenoFsFile, mode: OpenMode): FileHandle {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };
  const datasync = blockingWhileFast(attempt, () => file.syncDataSync(), () => file.syncData());
  return {
    stat: () => serial(() => attempt(() => info(file.statSync()))),
    read: (buffer, position) =>
      serial(async () => {
        if (buffer.length <= SYNC_BYTES) {
          file.seekSync(position, SEEK_START);
          return file.readSync(buffer) ?? 0;
        }
        await file.seek(position, SEEK_START);
        return (await file.read(buffer)) ?? 0;
      }),
    write: (buffer, position) =>
      serial(async () => {
        // In append mode every write goes to the end; seeking would be ignored.
        if (buffer.length <= SYNC_BYTES) {
          if (mode !== "append") file.seekSync(position, SEEK_START);
          return file.writeSync(buffer);
        }
        if (mode !== "append") await file.seek(position, SEEK_START);
        return await file.write(buffer);
      }),
    truncate: (length) => serial(() => file.truncate(length)),
    datasync: () => serial(datasync),
    sync: () => serial(() => file.sync()),
    close: () => serial(() => Promise.resolve(file.close())),
  };
}

async function* readChunks(deno: DenoApi, path: string): AsyncGenerator<Uint8Array> {
  const file = await deno.open(path, { read: true });
  const reader = file.readable.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      yield chunk.value;
    }
  } finally {
    // Cancelling the stream closes the file.
    await reader.cancel();
  }
}

function info(stat: DenoFileInfo): FileInfo {
  return {
    size: stat.size,
    ino: stat.ino ?? 0,
    // A missing time must not make a lock look abandoned: treat it as now.
    mtimeMs: stat.mtime?.getTime() ?? Date.now(),
    isDirectory: stat.isDirectory,
  };
}

/** Node's `fs.existsSync` through Deno's Node layer, when there (Deno 2). */
function nodeExists(): ((path: string) => boolean) | undefined {
  const process = (globalThis as {
    process?: { getBuiltinModule?: (name: string) => unknown };
  }).process;
  try {
    const fs = process?.getBuiltinModule?.("node:fs") as
      | { existsSync?: (path: string) => boolean }
      | undefined;
    return typeof fs?.existsSync === "function" ? fs.existsSync.bind(fs) : undefined;
  } catch {
    return undefined;
  }
}

function denoApi(): DenoApi {
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  if (typeof deno?.open !== "function") {
    throw new Error("Cannot use deno file storage: the Deno namespace is missing");
  }
  return deno;
}

const SEEK_START = 0;
/**
 * Deno 2 has Node's `setImmediate` as a global (a turn costs a few µs, where a
 * chain of `setTimeout(0)` is held to 4 ms per call after five).
 */
const attempt = settlesWithoutStarving((callback) => {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown })
    .setImmediate;
  if (typeof immediate === "function") immediate(callback);
  else setTimeout(callback, 0);
});
/** Reads and writes up to this size are made synchronously (see `createDenoFileSystem`). */
const SYNC_BYTES = 64 * 1024;

// The part of Deno's API used here, declared so that tsc checks this file too.

interface DenoOpenOptions {
  read?: boolean;
  write?: boolean;
  append?: boolean;
  create?: boolean;
  createNew?: boolean;
}

interface DenoFileInfo {
  readonly size: number;
  readonly ino: number | null;
  readonly mtime: Date | null;
  readonly isDirectory: boolean;
}

interface DenoFsFile {
  syncDataSync(): void;
  readonly readable: ReadableStream<Uint8Array>;
  read(buffer: Uint8Array): Promise<number | null>;
  write(buffer: Uint8Array): Promise<number>;
  seek(offset: number, whence: number): Promise<number>;
  readSync(buffer: Uint8Array): number | null;
  writeSync(buffer: Uint8Array): number;
  seekSync(offset: number, whence: number): number;
  stat(): Promise<DenoFileInfo>;
  statSync(): DenoFileInfo;
  truncate(length: number): Promise<void>;
  syncData(): Promise<void>;
  sync(): Promise<void>;
  close(): void;
}

interface DenoApi {
  readonly pid: number;
  cwd(): string;
  open(path: string, options: DenoOpenOptions): Promise<DenoFsFile>;
  openSync(path: string, options: DenoOpenOptions): DenoFsFile;
  statSync(path: string): DenoFileInfo;
  removeSync(path: string): void;
  mkdirSync(path: string, options: { recursive: boolean }): void;
  readDirSync(path: string): Iterable<{ readonly name: string }>;
  readFile(path: string): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  utimeSync(path: string, atime: Date, mtime: Date): void;
  realPathSync(path: string): string;
  unrefTimer(id: number): void;
}
