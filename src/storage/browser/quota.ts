/**
 * Browser storage limits: asking once for persistent storage, and turning a
 * `QuotaExceededError` into a {@linkcode RouterError} with code
 * `STORAGE_QUOTA` that says how full the origin's storage is.
 *
 * @module
 */
import { RouterError } from "../../errors.ts";

/** The part of `navigator.storage` used here. */
export interface StorageManagerLike {
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
  estimate?(): Promise<{ usage?: number; quota?: number }>;
}

/**
 * Asks the browser to keep this origin's storage under storage pressure
 * (`navigator.storage.persist()`). Resolves `true` or `false` with the
 * browser's answer, `undefined` where the API does not exist; never rejects.
 *
 * @example
 * ```ts ignore
 * await requestPersistence(navigator.storage); // false in most tabs of most browsers
 * ```
 */
export async function requestPersistence(
  manager: StorageManagerLike | undefined,
): Promise<boolean | undefined> {
  if (typeof manager?.persist !== "function") return undefined;
  try {
    if (await manager.persisted?.()) return true;
    return await manager.persist();
  } catch {
    return undefined;
  }
}

/**
 * Whether `error` is the browser's out-of-quota error.
 *
 * @example
 * ```ts
 * import { isQuotaError } from "./quota.ts";
 * isQuotaError(new DOMException("full", "QuotaExceededError")); // true
 * ```
 */
export function isQuotaError(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { name?: unknown }).name === "QuotaExceededError";
}

/**
 * `error` itself, or for a quota error a `STORAGE_QUOTA` {@linkcode RouterError}
 * that names `what` failed and keeps `error` as its cause.
 *
 * @example
 * ```ts ignore
 * throw await storageError(error, 'Cannot save database "shared/global.db"', navigator.storage);
 * ```
 */
export async function storageError(
  error: unknown,
  what: string,
  manager: StorageManagerLike | undefined,
): Promise<unknown> {
  if (!isQuotaError(error)) return error;
  let usage = "";
  try {
    const estimate = await manager?.estimate?.();
    if (estimate?.quota !== undefined) {
      usage = ` (the browser estimates ${megabytes(estimate.usage ?? 0)} used of ${
        megabytes(estimate.quota)
      })`;
    }
  } catch {
    // The estimate only decorates the message.
  }
  return new RouterError(
    "STORAGE_QUOTA",
    `${what}: the browser's storage quota for this site is exhausted${usage}; nothing of this write was stored`,
    { cause: error },
  );
}

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}
