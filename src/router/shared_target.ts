/**
 * Which backend holds a router's shared tables, from its third argument and
 * the environment, first match wins:
 *
 * 1. a backend object (`d1Backend(env.DB)`, `libsqlBackend({ url })`);
 * 2. a string: a libSQL URL (`libsql:`, `http(s):`, `ws(s):`, `file:`) or a path;
 * 3. `DB_ROUTER_SHARED_URL`, a libSQL URL, with `DB_ROUTER_SHARED_AUTH_TOKEN`;
 * 4. `MENACE_SHARED_DB_PATH`, else `./shared/global.db`, on sql.js.
 *
 * @module
 */
import { isSharedBackend, type SharedBackend } from "../engine/backend.ts";
import type { DatabaseOptions } from "../engine/database.ts";
import { sqlJsBackend } from "../engine/sqljs_backend.ts";
import { ConfigError } from "../errors.ts";
import { libsqlBackend } from "../remote/libsql.ts";
import { isLibsqlUrl } from "../remote/url.ts";
import type { Host } from "../storage/host.ts";
import type { StorageAdapter } from "../storage/types.ts";
import { assertLocation, defaultSharedPath } from "../menace.ts";

/** The variable that puts the shared tables on libSQL. */
export const SHARED_URL_ENV = "DB_ROUTER_SHARED_URL";
/** The token for {@linkcode SHARED_URL_ENV}'s database. */
export const SHARED_TOKEN_ENV = "DB_ROUTER_SHARED_AUTH_TOKEN";

/**
 * The shared backend for `shared` (the router's third argument). Throws a
 * `TypeError` for a bad argument and a `ConfigError` for a
 * `DB_ROUTER_SHARED_URL` that is not a libSQL URL.
 *
 * @example
 * ```ts
 * import { sharedBackendFor } from "./shared_target.ts";
 * import { DEFAULT_DATABASE_OPTIONS } from "../engine/database.ts";
 * import { getHost } from "../storage/detect.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * const backend = sharedBackendFor("s.db", getHost(), memoryStorage(), DEFAULT_DATABASE_OPTIONS);
 * backend.kind; // "sqljs"
 * ```
 */
export function sharedBackendFor(
  shared: string | SharedBackend | undefined,
  host: Host,
  storage: StorageAdapter,
  options: DatabaseOptions,
): SharedBackend {
  if (isSharedBackend(shared)) return shared;
  const authToken = host.env(SHARED_TOKEN_ENV) || undefined;
  if (shared === undefined) {
    const url = host.env(SHARED_URL_ENV)?.trim();
    if (url) {
      if (!isLibsqlUrl(url)) {
        throw new ConfigError(SHARED_URL_ENV, [{
          path: "",
          message: `expected a libsql://, http(s)://, ws(s):// or file: URL (got ${
            JSON.stringify(url)
          })`,
        }]);
      }
      return libsqlBackend({ url, authToken });
    }
  }
  const location = assertLocation(
    shared ?? defaultSharedPath(host),
    "shared database path",
  );
  if (isLibsqlUrl(location)) return libsqlBackend({ url: location, authToken });
  return sqlJsBackend(storage, storage.resolve(location), options);
}
