/**
 * The {@linkcode Host} for browsers and other runtimes without a file system:
 * no environment, no working directory. The default storage is IndexedDB when
 * the runtime has it (so a page's databases survive reloads and are shared
 * by its tabs), memory otherwise. Default paths such as `./shared/global.db`
 * become keys such as `shared/global.db`.
 *
 * @module
 */
import type { Host } from "../host.ts";
import { memoryStorage } from "../memory.ts";
import type { StorageAdapter } from "../types.ts";
import { indexedDbStorage } from "./indexeddb.ts";

/**
 * The browser host.
 *
 * @example
 * ```ts
 * import { browserHost } from "./host.ts";
 * browserHost().defaultStorage().name; // "indexeddb" in a page, "memory" without indexedDB
 * ```
 */
export function browserHost(): Host {
  let storage: StorageAdapter | undefined;
  return {
    runtime: "browser",
    env: () => undefined,
    cwd: () => undefined,
    defaultStorage: () => storage ??= hasIndexedDb() ? indexedDbStorage() : memoryStorage(),
  };
}

function hasIndexedDb(): boolean {
  const g = globalThis as { indexedDB?: unknown; IDBKeyRange?: unknown };
  return Boolean(g.indexedDB && g.IDBKeyRange);
}
