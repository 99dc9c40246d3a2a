/**
 * The {@linkcode Host} for browsers and other runtimes without a file system:
 * no environment, no working directory. The default storage is
 * {@linkcode browserStorage}: OPFS where the page can use it, else IndexedDB
 * (so a page's databases survive reloads and are shared by its tabs); memory
 * where the runtime has neither. Default paths such as `./shared/global.db`
 * become keys such as `shared/global.db`.
 *
 * @module
 */
import type { Host } from "../host.ts";
import { memoryStorage } from "../memory.ts";
import type { StorageAdapter } from "../types.ts";
import { browserStorage } from "./choose.ts";

/**
 * The browser host.
 *
 * @example
 * ```ts
 * import { browserHost } from "./host.ts";
 * browserHost().defaultStorage().name; // "opfs" or "indexeddb" in a page, "memory" without indexedDB
 * ```
 */
export function browserHost(): Host {
  let storage: StorageAdapter | undefined;
  return {
    runtime: "browser",
    env: () => undefined,
    cwd: () => undefined,
    defaultStorage: () => storage ??= hasIndexedDb() ? browserStorage() : memoryStorage(),
  };
}

function hasIndexedDb(): boolean {
  const g = globalThis as { indexedDB?: unknown; IDBKeyRange?: unknown };
  return Boolean(g.indexedDB && g.IDBKeyRange);
}
