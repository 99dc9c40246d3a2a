/**
 * Shared-database URLs: which strings name a libSQL database rather than a
 * sql.js file, and how to show one without its secrets.
 *
 * @module
 */

const LIBSQL_URL = /^(?:libsql|https?|wss?|file):/i;

/**
 * Whether `location` is a libSQL URL (`libsql:`, `http(s):`, `ws(s):`,
 * `file:`) rather than a path for the sql.js engine.
 *
 * @example
 * ```ts
 * import { isLibsqlUrl } from "./url.ts";
 * isLibsqlUrl("libsql://menace.turso.io"); // true
 * isLibsqlUrl("file:shared/global.db"); // true
 * isLibsqlUrl("shared/global.db"); // false
 * ```
 */
export function isLibsqlUrl(location: string): boolean {
  return LIBSQL_URL.test(location);
}

/**
 * `url` without credentials: no user or password and no `authToken` query
 * parameter, for `router.sharedPath`, logs and messages.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./url.ts";
 * redactUrl("libsql://db.example?authToken=secret"); // "libsql://db.example"
 * ```
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/[?#].*$/, "");
  }
  parsed.username = "";
  parsed.password = "";
  for (const key of [...parsed.searchParams.keys()]) {
    if (/token|key|secret|password/i.test(key)) parsed.searchParams.delete(key);
  }
  return parsed.toString().replace(/\?$/, "");
}
