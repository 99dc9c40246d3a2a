/**
 * One {@linkcode EngineDatabase} per stored database per process: routers that
 * name the same file share its in-memory copy and see each other's writes at
 * once. The first router to open a database fixes its options.
 *
 * @module
 */
import type { StorageAdapter } from "../storage/types.ts";
import { type DatabaseOptions, EngineDatabase } from "./database.ts";

interface Entry {
  database: EngineDatabase;
  users: number;
}

const open = new WeakMap<StorageAdapter, Map<string, Entry>>();

/**
 * Returns the process's database for `key` in `adapter`, creating it (lazily
 * opened) on first use. Pair every call with {@linkcode releaseDatabase}.
 */
export function acquireDatabase(
  adapter: StorageAdapter,
  key: string,
  options: DatabaseOptions,
): EngineDatabase {
  let byKey = open.get(adapter);
  if (!byKey) open.set(adapter, byKey = new Map());
  let entry = byKey.get(key);
  if (!entry) {
    byKey.set(key, entry = { database: new EngineDatabase(adapter, key, options), users: 0 });
  }
  entry.users++;
  return entry.database;
}

/** Drops one use of `database`; the last one closes it (persisting what is pending). */
export async function releaseDatabase(
  adapter: StorageAdapter,
  database: EngineDatabase,
): Promise<void> {
  const byKey = open.get(adapter);
  const entry = byKey?.get(database.key);
  if (!byKey || !entry || entry.database !== database) return;
  if (--entry.users > 0) {
    await database.flush();
    return;
  }
  byKey.delete(database.key);
  await database.close();
}
