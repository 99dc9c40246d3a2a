/**
 * The default shared backend: a sql.js database kept by a storage adapter
 * (a file, IndexedDB, memory), exactly what the router used before backends
 * existed. Routers of one process that name the same database share its
 * in-memory copy (see `registry.ts`).
 *
 * @module
 */
import type { StorageAdapter } from "../storage/types.ts";
import type { SharedBackend, SharedDatabase } from "./backend.ts";
import { type Guard, SqlJsConnection } from "./connection.ts";
import type { DatabaseOptions } from "./database.ts";
import { acquireDatabase, releaseDatabase } from "./registry.ts";

/** The `kind` of {@linkcode sqlJsBackend}. */
export const SQLJS_BACKEND_KIND = "sqljs";

/**
 * A shared backend on sql.js: the database `key` (a resolved path) in
 * `storage`, with `options` (fixed by the first user in the process).
 *
 * @example
 * ```ts
 * import { sqlJsBackend } from "./sqljs_backend.ts";
 * import { DEFAULT_DATABASE_OPTIONS } from "./database.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * const backend = sqlJsBackend(memoryStorage(), "shared.db", DEFAULT_DATABASE_OPTIONS);
 * const shared = backend.connect(() => {});
 * await shared.connection.all("SELECT 1 AS one"); // [{ one: 1 }]
 * await shared.close();
 * ```
 */
export function sqlJsBackend(
  storage: StorageAdapter,
  key: string,
  options: DatabaseOptions,
): SharedBackend {
  return {
    kind: SQLJS_BACKEND_KIND,
    location: key,
    capabilities: { transactions: true, functions: true },
    connect(guard: Guard): SharedDatabase {
      const engine = acquireDatabase(storage, key, options);
      let closing: Promise<void> | undefined;
      return {
        connection: new SqlJsConnection(engine, "shared", guard),
        ready: () => engine.ready(),
        flush: () => engine.flush(),
        close: () => closing ??= releaseDatabase(storage, engine),
        stats: () => engine.stats(),
        registerFunction: (name, fn) => engine.registerFunction(name, fn),
        watch: (sink) => engine.watch(sink),
      };
    },
  };
}
