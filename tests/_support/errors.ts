/**
 * Catching what a test expects to fail, in one place.
 *
 * @module
 */

/** An error as tests inspect it: a message, and a `code` for the `RouterError` family. */
export type CaughtError = Error & { code?: string };

/**
 * The error that `work` (a promise, or a function returning one) rejects
 * with; throws when it resolves instead.
 */
export async function rejection(
  work: Promise<unknown> | (() => Promise<unknown>),
): Promise<CaughtError> {
  try {
    await (typeof work === "function" ? work() : work);
  } catch (error) {
    return error as CaughtError;
  }
  throw new Error("Expected a rejection, but the promise resolved");
}

/** The error that `work` throws synchronously; throws when it returns instead. */
export function thrown(work: () => unknown): CaughtError {
  try {
    work();
  } catch (error) {
    return error as CaughtError;
  }
  throw new Error("Expected a synchronous throw");
}

/** The `code` of what `work` throws synchronously, or `undefined` when it does not throw. */
export function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    return (error as CaughtError).code;
  }
  return undefined;
}
