/**
 * File storage for Bun: Bun's own `Bun.file` for whole small-file reads (lock
 * owners), `node:fs` for everything else. Bun's native file API has no
 * positional writes, `fsync`, `rename`, `utimes` or directory listing, and
 * `Bun.file` reads by path, so it cannot tell which inode it read; Bun
 * implements `node:fs` natively (in Zig), so those calls lose nothing.
 *
 * Record logs are streamed with `node:fs` positional reads, not
 * `Bun.file().stream()`: Bun's file streams have ended before the end of a
 * file in the past (oven-sh/bun#1939, #1940), and a sync that read a queue
 * file short would have taken it as finished. A positional read loop stops
 * only at a read of 0 bytes.
 *
 * @module
 */
import { fileStorage, type FileStorageOptions } from "../file/adapter.ts";
import type { FileSystem } from "../file/file_system.ts";
import { nodeFileSystem } from "../node/fs.ts";
import type { StorageAdapter } from "../types.ts";

/** The adapter's name, as reported in messages. */
export const BUN_FILE_STORAGE_NAME = "bun-fs";

/** Options of {@linkcode bunFileStorage}; see {@linkcode FileStorageOptions} for the defaults. */
export type BunFileStorageOptions = FileStorageOptions;

/**
 * Creates file storage for Bun. Relative locations resolve against the working
 * directory; opening a database creates its parent folders.
 *
 * @example
 * ```ts ignore
 * import { bunFileStorage } from "./fs.ts";
 * const storage = bunFileStorage();
 * await storage.records?.append(storage.resolve("queue/alpha.jsonl"), ['{"n":1}']);
 * ```
 */
export function bunFileStorage(options: BunFileStorageOptions = {}): StorageAdapter {
  return fileStorage(bunFileSystem(), BUN_FILE_STORAGE_NAME, options);
}

/**
 * The {@linkcode FileSystem} used by {@linkcode bunFileStorage}.
 *
 * @example
 * ```ts ignore
 * import { bunFileSystem } from "./fs.ts";
 * for await (const chunk of bunFileSystem().readChunks("/var/log/syslog")) console.log(chunk.length);
 * ```
 */
export function bunFileSystem(): FileSystem {
  // One per process: it holds no state, and lock exit hooks are registered per file system.
  return cachedBunFileSystem ??= createBunFileSystem();
}

let cachedBunFileSystem: FileSystem | undefined;

function createBunFileSystem(): FileSystem {
  const bun = bunApi();
  const pid = (globalThis as { process?: { pid: number } }).process?.pid;
  return {
    ...nodeFileSystem(),
    readFile: (path) => bun.file(path).bytes(),
    processLabel: () => `bun pid ${pid}`,
  };
}

function bunApi(): BunApi {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (typeof bun?.file !== "function") {
    throw new Error("Cannot use bun file storage: the Bun namespace is missing");
  }
  return bun;
}

// The part of Bun's API used here, declared so that no Bun types are needed.

interface BunFile {
  bytes(): Promise<Uint8Array>;
}

interface BunApi {
  file(path: string): BunFile;
}
