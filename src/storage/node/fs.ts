/**
 * File storage through `node:fs`, for Node. It works unchanged in Deno and Bun
 * too, which implement `node:fs`. Node's modules are reached through
 * `process.getBuiltinModule` when first used (Node 20.16 or later), so a
 * browser bundle that includes this file does not pull them in.
 *
 * @module
 */
import { fileStorage, type FileStorageOptions } from "../file/adapter.ts";
import {
  blockingWhileFast,
  type FileHandle,
  type FileInfo,
  type FileSystem,
  type OpenMode,
  settlesWithoutStarving,
} from "../file/file_system.ts";
import type { StorageAdapter } from "../types.ts";

/** The adapter's name, as reported in messages. */
export const NODE_FILE_STORAGE_NAME = "node-fs";

/** Options of {@linkcode nodeFileStorage}; see {@linkcode FileStorageOptions} for the defaults. */
export type NodeFileStorageOptions = FileStorageOptions;

/**
 * Creates file storage on `node:fs`. Relative locations resolve against the
 * working directory; opening a database creates its parent folders.
 *
 * @example
 * ```ts ignore
 * import { nodeFileStorage } from "./fs.ts";
 * const storage = nodeFileStorage({ lockStaleMs: 2000 });
 * const db = await storage.open(storage.resolve("shared/global.db"));
 * const release = await db.lock();
 * await release();
 * ```
 */
export function nodeFileStorage(options: NodeFileStorageOptions = {}): StorageAdapter {
  return fileStorage(nodeFileSystem(), NODE_FILE_STORAGE_NAME, options);
}

/**
 * The {@linkcode FileSystem} of `node:fs`, for adapters that build on it.
 *
 * @example
 * ```ts ignore
 * import { nodeFileSystem } from "./fs.ts";
 * const bytes = await nodeFileSystem().readFile("/etc/hostname");
 * ```
 */
export function nodeFileSystem(): FileSystem {
  // One per process: it holds no state, and lock exit hooks are registered per file system.
  return cachedNodeFileSystem ??= createNodeFileSystem();
}

let cachedNodeFileSystem: FileSystem | undefined;

/** The exit hooks of every file system of this process, run by one `exit` listener. */
let exitHooks: Array<() => void> | undefined;

/**
 * Runs `callback` when the process exits. One `exit` listener runs them all,
 * in order, however many file systems (and wrappers of them, as tests make)
 * register hooks: a listener each made Node warn of a leak past ten. A hook
 * that throws does not keep the later ones from running; the first error is
 * thrown after them, as a listener's would have been.
 */
function onProcessExit(process: NodeProcess, callback: () => void): void {
  if (!exitHooks) {
    const hooks: Array<() => void> = exitHooks = [];
    process.on("exit", () => {
      let failure: { error: unknown } | undefined;
      for (const hook of hooks) {
        try {
          hook();
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure) throw failure.error;
    });
  }
  exitHooks.push(callback);
}

function createNodeFileSystem(): FileSystem {
  const process = nodeProcess();
  const fs = process.getBuiltinModule("node:fs") as NodeFs;
  const timers = process.getBuiltinModule("node:timers") as NodeTimers;
  // `fs.promises` is a getter that loads Node's promise API on first access: not at import.
  const files = () => fs.promises;
  const attempt = settlesWithoutStarving((callback) => timers.setImmediate(callback));
  // The calls a commit makes (open, stat, a small read or write, close, the lock folder's
  // listing, creation and removal) are local metadata calls of a few µs: made synchronously
  // (`settlesWithoutStarving`), each saves the thread-pool round trip of an async call, 50 to
  // 200 µs. Large reads and writes and renames stay asynchronous; `fdatasync` is made here while
  // it is fast (`blockingWhileFast`).
  return {
    cwd: () => process.cwd(),
    open: (path, mode) => attempt(() => wrapFd(fs, attempt, fs.openSync(path, FLAGS[mode]), mode)),
    readFile: async (path) => await files().readFile(path),
    readChunks: (path) => readChunks(files(), path),
    stat: (path) => attempt(() => info(fs.statSync(path))),
    statIfPresent: (path) =>
      attempt(() => {
        const stats = fs.statSync(path, { throwIfNoEntry: false });
        return stats === undefined ? null : info(stats);
      }),
    realPath: (path) => fs.realpathSync(path),
    rename: (from, to) => files().rename(from, to),
    unlink: (path) => attempt(() => fs.unlinkSync(path)),
    mkdir: (path) =>
      attempt(() => {
        fs.mkdirSync(path, { recursive: true });
      }),
    readDir: (path) => attempt(() => fs.readdirSync(path)),
    setModified: (path, time) => attempt(() => fs.utimesSync(path, time, time)),
    setModifiedSync: (path, time) => fs.utimesSync(path, time, time),
    syncDirectory: async (path) => {
      let handle: NodeFileHandle | undefined;
      try {
        handle = await files().open(path, "r");
        await handle.sync();
      } catch {
        // Some systems (Windows) cannot open or sync a directory: nothing to do there.
      } finally {
        await handle?.close();
      }
    },
    onExit: (callback) => onProcessExit(process, callback),
    repeat: (intervalMs, callback) => {
      const timer = timers.setInterval(callback, intervalMs);
      timer.unref();
      return () => timers.clearInterval(timer);
    },
    processLabel: () => `pid ${process.pid}`,
  };
}

const FLAGS: Record<OpenMode, string> = {
  read: "r",
  readWrite: "r+",
  createNew: "wx+",
  append: "a+",
};

const CHUNK_BYTES = 64 * 1024;
/** Reads and writes up to this size are made synchronously (see `createNodeFileSystem`). */
const SYNC_BYTES = 64 * 1024;

function wrapFd(
  fs: NodeFs,
  attempt: <T>(work: () => T) => Promise<T>,
  fd: number,
  mode: OpenMode,
): FileHandle {
  // In append mode the position must be null: Linux ignores it for O_APPEND anyway.
  const at = (position: number) => mode === "append" ? null : position;
  return {
    stat: () => attempt(() => info(fs.fstatSync(fd))),
    read: (buffer, position) =>
      buffer.length <= SYNC_BYTES
        ? attempt(() => fs.readSync(fd, buffer, 0, buffer.length, position))
        : callback<number>((done) => fs.read(fd, buffer, 0, buffer.length, position, done)),
    write: (buffer, position) =>
      buffer.length <= SYNC_BYTES
        ? attempt(() => fs.writeSync(fd, buffer, 0, buffer.length, at(position)))
        : callback<number>((done) => fs.write(fd, buffer, 0, buffer.length, at(position), done)),
    datasync: blockingWhileFast(
      attempt,
      () => fs.fdatasyncSync(fd),
      () => callback<void>((done) => fs.fdatasync(fd, done)),
    ),
    sync: () => callback<void>((done) => fs.fsync(fd, done)),
    truncate: (length) => callback<void>((done) => fs.ftruncate(fd, length, done)),
    close: () => attempt(() => fs.closeSync(fd)),
  };
}

/** A promise for a Node callback call. */
function callback<T>(call: (done: (error: unknown, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    call((error, result) => error ? reject(error) : resolve(result as T));
  });
}

async function* readChunks(files: NodeFsPromises, path: string): AsyncGenerator<Uint8Array> {
  const handle = await files.open(path, "r");
  try {
    for (let position = 0;;) {
      const chunk = new Uint8Array(CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

function info(stats: NodeStats): FileInfo {
  return {
    size: stats.size,
    ino: stats.ino,
    mtimeMs: stats.mtimeMs,
    isDirectory: stats.isDirectory(),
  };
}

function nodeProcess(): NodeProcess {
  const process = (globalThis as { process?: Partial<NodeProcess> }).process;
  if (typeof process?.getBuiltinModule !== "function") {
    throw new Error(
      "Cannot use node file storage: process.getBuiltinModule is missing (Node 20.16 or later)",
    );
  }
  return process as NodeProcess;
}

// The small part of Node's API used here (STYLE #5: no @types/node in the library).

interface NodeProcess {
  readonly pid: number;
  getBuiltinModule(id: string): unknown;
  cwd(): string;
  on(event: "exit", listener: () => void): unknown;
}

interface NodeTimers {
  setImmediate(callback: () => void): unknown;
  setInterval(callback: () => void, ms: number): { unref(): unknown };
  clearInterval(timer: unknown): void;
}

interface NodeFs {
  readonly promises: NodeFsPromises;
  utimesSync(path: string, atime: Date, mtime: Date): void;
  realpathSync(path: string): string;
  openSync(path: string, flags: string): number;
  statSync(path: string): NodeStats;
  statSync(path: string, options: { throwIfNoEntry: false }): NodeStats | undefined;
  fstatSync(fd: number): NodeStats;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { recursive: true }): unknown;
  readdirSync(path: string): string[];
  closeSync(fd: number): void;
  readSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number;
  writeSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): number;
  read(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
    done: (error: unknown, bytesRead: number) => void,
  ): void;
  write(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
    done: (error: unknown, bytesWritten: number) => void,
  ): void;
  ftruncate(fd: number, length: number, done: (error: unknown) => void): void;
  fdatasync(fd: number, done: (error: unknown) => void): void;
  fdatasyncSync(fd: number): void;
  fsync(fd: number, done: (error: unknown) => void): void;
}

interface NodeFsPromises {
  open(path: string, flags: string): Promise<NodeFileHandle>;
  readFile(path: string): Promise<Uint8Array>;
  stat(path: string): Promise<NodeStats>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
  utimes(path: string, atime: Date, mtime: Date): Promise<void>;
}

interface NodeFileHandle {
  stat(): Promise<NodeStats>;
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

interface NodeStats {
  readonly size: number;
  readonly ino: number;
  readonly mtimeMs: number;
  isDirectory(): boolean;
}
