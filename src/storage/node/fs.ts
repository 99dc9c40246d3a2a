/**
 * File storage through `node:fs`, for Node. It works unchanged in Deno and Bun
 * too, which implement `node:fs`. Node's modules are reached through
 * `process.getBuiltinModule` when first used (Node 20.16 or later), so a
 * browser bundle that includes this file does not pull them in.
 *
 * @module
 */
import { fileStorage, type FileStorageOptions } from "../file/adapter.ts";
import type { FileHandle, FileInfo, FileSystem, OpenMode } from "../file/file_system.ts";
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

function createNodeFileSystem(): FileSystem {
  const process = nodeProcess();
  const fs = process.getBuiltinModule("node:fs") as NodeFs;
  const timers = process.getBuiltinModule("node:timers") as NodeTimers;
  const files = fs.promises;
  return {
    cwd: () => process.cwd(),
    open: async (path, mode) => wrapHandle(await files.open(path, FLAGS[mode]), mode),
    readFile: async (path) => await files.readFile(path),
    readChunks: (path) => readChunks(files, path),
    stat: async (path) => info(await files.stat(path)),
    realPath: (path) => fs.realpathSync(path),
    rename: (from, to) => files.rename(from, to),
    unlink: (path) => files.unlink(path),
    mkdir: async (path) => {
      await files.mkdir(path, { recursive: true });
    },
    readDir: (path) => files.readdir(path),
    setModified: (path, time) => files.utimes(path, time, time),
    setModifiedSync: (path, time) => fs.utimesSync(path, time, time),
    syncDirectory: async (path) => {
      let handle: NodeFileHandle | undefined;
      try {
        handle = await files.open(path, "r");
        await handle.sync();
      } catch {
        // Some systems (Windows) cannot open or sync a directory: nothing to do there.
      } finally {
        await handle?.close();
      }
    },
    onExit: (callback) => process.on("exit", callback),
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

function wrapHandle(handle: NodeFileHandle, mode: OpenMode): FileHandle {
  return {
    stat: async () => info(await handle.stat()),
    read: async (buffer, position) =>
      (await handle.read(buffer, 0, buffer.length, position)).bytesRead,
    // In append mode the position must be null: Linux ignores it for O_APPEND anyway.
    write: async (buffer, position) =>
      (await handle.write(buffer, 0, buffer.length, mode === "append" ? null : position))
        .bytesWritten,
    truncate: (length) => handle.truncate(length),
    datasync: () => handle.datasync(),
    sync: () => handle.sync(),
    close: () => handle.close(),
  };
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
  setInterval(callback: () => void, ms: number): { unref(): unknown };
  clearInterval(timer: unknown): void;
}

interface NodeFs {
  readonly promises: NodeFsPromises;
  utimesSync(path: string, atime: Date, mtime: Date): void;
  realpathSync(path: string): string;
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
