/**
 * Fixtures for the file storage tests: temporary folders, the adapter of the
 * runtime under test, and child processes of any runtime.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bunFileStorage, bunFileSystem } from "../../src/storage/bun/fs.ts";
import { denoFileStorage, denoFileSystem } from "../../src/storage/deno/fs.ts";
import type { FileStorageOptions } from "../../src/storage/file/adapter.ts";
import type { FileSystem } from "../../src/storage/file/file_system.ts";
import { nodeFileStorage, nodeFileSystem } from "../../src/storage/node/fs.ts";
import type { StorageAdapter } from "../../src/storage/types.ts";

/** A runtime that the tests run under and spawn. */
export type Runtime = "node" | "deno" | "bun";

/** The runtime running this process. */
export const RUNTIME: Runtime = detectRuntime();

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");

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

/** A spawned helper process (`tests/_support/storage_child.ts`). */
export interface Child {
  /** Resolves with the first stdout line that satisfies `match`. */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the process ends, with its exit code (null when killed) and output. */
  readonly exited: Promise<{ code: number | null; signal: string | null; output: string }>;
  kill(signal: "SIGKILL" | "SIGTERM"): void;
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
export function spawnChild(runtime: Runtime, args: string[]): Child {
  const script = join(ROOT, "tests", "_support", "storage_child.ts");
  const command = runtime === "node"
    ? [nodeBinary(), "--import", "tsx", script]
    : runtime === "deno"
    ? [join(BIN, "deno"), "run", "--allow-all", script]
    : [join(BIN, "bun"), script];
  const child = spawn(command[0], [...command.slice(1), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<(line: string) => void>();
  let buffered = "";
  child.stdout!.on("data", (chunk) => {
    output += chunk;
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null; output: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, output })),
  );
  return {
    exited,
    kill: (signal) => child.kill(signal),
    waitFor(match, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(
            new Error(
              `No matching line from the ${runtime} child after ${timeoutMs} ms:\n${output}`,
            ),
          );
        }, timeoutMs);
        const listener = (line: string) => {
          if (!match(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        exited.then(() => {
          clearTimeout(timer);
          if (listeners.delete(listener)) {
            reject(new Error(`The ${runtime} child exited:\n${output}`));
          }
        });
      });
    },
  };
}

/** The Node binary: this process's own under Node, else `node` on the PATH. */
function nodeBinary(): string {
  return RUNTIME === "node" ? process.execPath : "node";
}

function detectRuntime(): Runtime {
  const named = process.env.DB_ROUTER_TEST_RUNTIME;
  if (named === "node" || named === "deno" || named === "bun") return named;
  const globals = globalThis as { Deno?: unknown; Bun?: unknown };
  return globals.Deno ? "deno" : globals.Bun ? "bun" : "node";
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
