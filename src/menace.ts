/**
 * Menace ids and the default database locations derived from them.
 *
 * @module
 */
import type { Host } from "./storage/host.ts";

const MENACE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Longest menace id accepted. */
export const MAX_MENACE_ID_LENGTH = 128;

/**
 * Throws a `TypeError` unless `menaceId` is safe to place in a file name and
 * in `source_menace_id`: letters, digits, `_`, `-` and `.`, not starting with
 * `.` or `-`, no `..`, at most {@linkcode MAX_MENACE_ID_LENGTH} characters. A
 * path separator or `..` could make the default local path escape its folder.
 *
 * @example
 * ```ts
 * import { assertMenaceId } from "./menace.ts";
 * assertMenaceId("alpha"); // "alpha"
 * ```
 */
export function assertMenaceId(menaceId: unknown): string {
  const problem = typeof menaceId !== "string"
    ? `expected a string, got ${typeof menaceId}`
    : menaceId.length === 0
    ? "it is empty"
    : menaceId.length > MAX_MENACE_ID_LENGTH
    ? `longer than ${MAX_MENACE_ID_LENGTH} characters`
    : menaceId.includes("..")
    ? 'it contains ".."'
    : !MENACE_ID.test(menaceId)
    ? "use letters, digits, _, - and . only, starting with a letter, digit or _"
    : undefined;
  if (problem) throw new TypeError(`Invalid menace id ${JSON.stringify(menaceId)}: ${problem}`);
  return menaceId as string;
}

/** `MENACE_LOCAL_DB_PATH`, else `./menace_<id>_local.db`. */
export function defaultLocalPath(menaceId: string, host: Host): string {
  return host.env("MENACE_LOCAL_DB_PATH") || `./menace_${menaceId}_local.db`;
}

/** `MENACE_SHARED_DB_PATH`, else `./shared/global.db`. */
export function defaultSharedPath(host: Host): string {
  return host.env("MENACE_SHARED_DB_PATH") || "./shared/global.db";
}

/** Throws a `TypeError` unless `path` is a usable location. */
export function assertLocation(path: unknown, what: string): string {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new TypeError(
      `Invalid ${what} ${JSON.stringify(path)}: expected a non-empty path without NUL characters`,
    );
  }
  return path;
}
