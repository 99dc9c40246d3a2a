/**
 * The `--db-path` / `--db-url` pair that commands opening the shared
 * database take.
 *
 * @module
 */
import { isLibsqlUrl } from "../remote/url.ts";
import { UsageError } from "./command.ts";

/**
 * Throws a {@linkcode UsageError} when both options are given, or when
 * `dbUrl` is not a libSQL URL; returns `dbUrl`.
 *
 * @example
 * ```ts
 * import { checkDbTarget } from "./db_target.ts";
 * checkDbTarget(undefined, "file:shared.db"); // "file:shared.db"
 * ```
 */
export function checkDbTarget(
  dbPath: string | undefined,
  dbUrl: string | undefined,
): string | undefined {
  if (dbUrl !== undefined && dbPath !== undefined) {
    throw new UsageError("--db-path and --db-url exclude each other");
  }
  if (dbUrl !== undefined && !isLibsqlUrl(dbUrl)) {
    throw new UsageError(
      `Invalid --db-url "${dbUrl}": expected a libsql://, http(s)://, ws(s):// or file: URL`,
    );
  }
  return dbUrl;
}
