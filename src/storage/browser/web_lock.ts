/**
 * The exclusive write lock of an IndexedDB database, across tabs and workers
 * of one origin: the Web Locks API (`navigator.locks`). The lock is held for
 * as long as a promise inside `locks.request` is pending, and the browser
 * releases it by itself when the tab or worker that holds it goes away
 * (closed, reloaded, crashed), so an abandoned lock is recovered at once.
 *
 * Where Web Locks do not exist (pages not served over HTTPS or localhost,
 * Node, Deno and Bun with fake-indexeddb), the lock is a mutex within this
 * JavaScript realm. Another tab could then commit in between, and the
 * commit's version check turns that race into a failed write, never a lost one.
 *
 * @module
 */
import { Mutex, withTimeout } from "async-mutex";
import { RouterError } from "../../errors.ts";
import { releaseOnce } from "../common.ts";
import type { Release } from "../types.ts";

/** The part of the Web Locks API used here. */
export interface LockManagerLike {
  request(
    name: string,
    options: { mode: "exclusive"; signal: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

/** Mutexes standing in for Web Locks, per IndexedDB implementation, by lock name. */
const realmLocks = new WeakMap<object, Map<string, Mutex>>();

/**
 * Takes the exclusive lock `name` with `locks`, or within this realm (scoped
 * to `scope`) when `locks` is `undefined`; rejects with `LOCK_TIMEOUT` after
 * `timeoutMs`.
 *
 * @example
 * ```ts ignore
 * const release = await acquireLock(navigator.locks, indexedDB, "db-router:shared/global.db", 60000);
 * try { ... } finally { await release(); }
 * ```
 */
export async function acquireLock(
  locks: LockManagerLike | undefined,
  scope: object,
  name: string,
  timeoutMs: number,
): Promise<Release> {
  if (locks) return await webLock(locks, name, timeoutMs);
  let byName = realmLocks.get(scope);
  if (!byName) realmLocks.set(scope, byName = new Map());
  let mutex = byName.get(name);
  if (!mutex) byName.set(name, mutex = new Mutex());
  return releaseOnce(await withTimeout(mutex, timeoutMs, timeoutError(name, timeoutMs)).acquire());
}

function webLock(locks: LockManagerLike, name: string, timeoutMs: number): Promise<Release> {
  return new Promise((resolve, reject) => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let letGo!: () => void;
    const held = new Promise<void>((settle) => (letGo = settle));
    const request = locks.request(name, { mode: "exclusive", signal: abort.signal }, () => {
      clearTimeout(timer);
      resolve(() => {
        letGo();
        // Settles once the browser has released the lock, so a later request finds it free.
        return request.then(() => undefined, () => undefined);
      });
      return held;
    });
    request.catch((error: unknown) => {
      clearTimeout(timer);
      const aborted = (error as { name?: string })?.name === "AbortError";
      reject(aborted ? timeoutError(name, timeoutMs) : error);
    });
  });
}

function timeoutError(name: string, timeoutMs: number): RouterError {
  return new RouterError(
    "LOCK_TIMEOUT",
    `Cannot lock "${name}": another tab held it for ${timeoutMs} ms`,
  );
}
