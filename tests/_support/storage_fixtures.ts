/**
 * Fixtures for the file storage tests: temporary folders, the adapter of the
 * runtime under test, and child processes of any runtime.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunFileStorage, bunFileSystem } from "../../src/storage/bun/fs.ts";
import { denoFileStorage, denoFileSystem } from "../../src/storage/deno/fs.ts";
import type { FileStorageOptions } from "../../src/storage/file/adapter.ts";
import type { FileSystem } from "../../src/storage/file/file_system.ts";
import { nodeFileStorage, nodeFileSystem } from "../../src/storage/node/fs.ts";
import type { StorageAdapter } from "../../src/storage/types.ts";
import { currentRuntime, ROOT, type RunningChild, type Runtime, startChild } from "./spawn.ts";

export type { Runtime } from "./spawn.ts";

/** The runtime running this process. */
export const RUNTIME: Runtime = currentRuntime();

/**
 * The file storage adapter native to `runtime`.
 *
 * @example
 * ```ts ignore
 * const storage = fileStorageFor("node", { lockStaleMs: 1000 });
 * ```
 */
export function fileStorageFor(runtime: Runtime, options: FileStorageOptions = {}): StorageAdapter {
  if (runtime === "deno") return denoFileStorage(options);
  if (runtime === "bun") return bunFileStorage(options);
  return nodeFileStorage(options);
}

/**
 * The file system that `runtime`'s adapter uses.
 *
 * @example
 * ```ts ignore
 * const fs = fileSystemFor("deno");
 * ```
 */
export function fileSystemFor(runtime: Runtime): FileSystem {
  if (runtime === "deno") return denoFileSystem();
  if (runtime === "bun") return bunFileSystem();
  return nodeFileSystem();
}

/**
 * `fs` with a count of the bytes read through its handles.
 *
 * @example
 * ```ts ignore
 * const spy = countingReads(fileSystemFor("node"));
 * spy.bytesRead; // 0
 * ```
 */
export function countingReads(fs: FileSystem): FileSystem & { bytesRead: number } {
  const counting = {
    ...fs,
    bytesRead: 0,
    async open(path: string, mode: Parameters<FileSystem["open"]>[1]) {
      const handle = await fs.open(path, mode);
      return {
        ...handle,
        async read(buffer: Uint8Array, position: number) {
          const read = await handle.read(buffer, position);
          counting.bytesRead += read;
          return read;
        },
      };
    },
  };
  return counting;
}

/**
 * A new temporary folder and a function that removes it.
 *
 * @example
 * ```ts ignore
 * const { dir, remove } = temporaryFolder("storage-");
 * ```
 */
export function temporaryFolder(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `db-router-${prefix}`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts `tests/_support/storage_child.ts` under `runtime` with `args`.
 *
 * @example
 * ```ts ignore
 * const child = spawnChild("node", ["hold-lock", "node", "/tmp/x.db", "1000"]);
 * await child.waitFor((line) => line === "locked");
 * ```
 */
export function spawnChild(runtime: Runtime, args: string[]): RunningChild {
  return startChild(runtime, join(ROOT, "tests", "_support", "storage_child.ts"), args);
}

/**
 * The image after `count` commits of the crash test: 8 pages of 1 KiB; commit
 * `i` fills page `i % 7 + 2` with `i` and writes `i` at the start of page 1.
 *
 * @example
 * ```ts ignore
 * crashCount(crashImage(12)); // 12
 * ```
 */
export function crashImage(count: number): Uint8Array {
  const image = new Uint8Array(8 * 1024);
  for (let i = 1; i <= count; i++) {
    image.fill(i & 0xff, ((i % 7) + 1) * 1024, ((i % 7) + 2) * 1024);
  }
  new DataView(image.buffer).setUint32(0, count);
  return image;
}

/**
 * The commit count an image of the crash test records (0 for none).
 *
 * @example
 * ```ts ignore
 * crashCount(null); // 0
 * ```
 */
export function crashCount(image: Uint8Array | null): number {
  return image ? new DataView(image.buffer, image.byteOffset).getUint32(0) : 0;
}
