/**
 * What the two browser adapters (`indexeddb.ts`, `opfs.ts`) set up alike:
 * the lock timeout option, the page's lock and storage managers, the one
 * request for persistent storage, the error a failed write becomes, and the
 * error a store that cannot open becomes.
 *
 * @module
 */
import { RouterError } from "../../errors.ts";
import { requestPersistence, storageError, type StorageManagerLike } from "./quota.ts";
import type { LockManagerLike } from "./web_lock.ts";

/** The page's managers and what both adapters derive from them. */
export interface BrowserSetup {
  /** `navigator.locks`, where there is one. */
  readonly locks: LockManagerLike | undefined;
  /** Asks for persistent storage once (unless `persist` is false); later calls share the answer. */
  persistence(): Promise<boolean | undefined>;
  /** The error to throw for a failed write (a quota error becomes `STORAGE_QUOTA`). */
  fail(error: unknown, what: string): Promise<unknown>;
}

/**
 * The page's managers, with persistence asked at most once.
 *
 * @example
 * ```ts
 * import { browserSetup } from "./browser_setup.ts";
 * const setup = browserSetup(false);
 * await setup.persistence(); // undefined: not asked
 * ```
 */
export function browserSetup(persist: boolean | undefined): BrowserSetup {
  const nav = (globalThis as { navigator?: { storage?: StorageManagerLike; locks?: unknown } })
    .navigator;
  let persisted: Promise<boolean | undefined> | undefined;
  return {
    locks: nav?.locks as LockManagerLike | undefined,
    persistence: () =>
      persisted ??= persist === false
        ? Promise.resolve(undefined)
        : requestPersistence(nav?.storage),
    fail: (error, what) => storageError(error, what, nav?.storage),
  };
}

/**
 * The `lockTimeoutMs` option, checked: 60 000 when absent.
 *
 * @example
 * ```ts
 * import { lockTimeoutOf } from "./browser_setup.ts";
 * lockTimeoutOf(undefined); // 60000
 * ```
 */
export function lockTimeoutOf(value: number | undefined): number {
  const timeoutMs = value ?? 60000;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) {
    throw new RangeError(`Invalid lockTimeoutMs ${timeoutMs}: expected a positive number`);
  }
  return timeoutMs;
}

/**
 * Waits for `started` (the store's connection or Worker); when it fails,
 * rejects with `DATABASE_OPEN_FAILED` naming `key` and `reason`, then the cause.
 *
 * @example
 * ```ts ignore
 * await openedOrFailed("shared/global.db", "OPFS storage is not available here", files.ready());
 * ```
 */
export async function openedOrFailed(
  key: string,
  reason: string,
  started: Promise<unknown>,
): Promise<void> {
  try {
    await started;
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new RouterError(
      "DATABASE_OPEN_FAILED",
      `Cannot open database "${key}": ${reason}: ${why}`,
      { cause },
    );
  }
}

let webLockModule: Promise<typeof import("./web_lock.ts")> | undefined;

/**
 * `web_lock.ts`, imported once, at a tab's first write lock (a page that
 * only reads never loads it); an `import()` per commit cost 100+ µs.
 *
 * @example
 * ```ts ignore
 * const { acquireLock } = await webLockCode();
 * ```
 */
export function webLockCode(): Promise<typeof import("./web_lock.ts")> {
  return webLockModule ??= import("./web_lock.ts");
}
