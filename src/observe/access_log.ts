/**
 * The structured access log: one INFO record on `["db-router", "access"]` for
 * each access to a shared table, with `menace_id`, `table_name`, `operation`,
 * `database` and the record's timestamp. Accesses to local tables are logged
 * too when the router's audit log is on (and are silent otherwise), as the
 * specification says.
 *
 * @module
 */
import type { AccessEvent, RouterObserver } from "./hooks.ts";
import type { RouterLog } from "./log.ts";

/** The message template of an access record. */
export const ACCESS_MESSAGE = "{menace_id} {operation} {table_name} ({database})";

/** Options of {@linkcode accessLogObserver}. */
export interface AccessLogOptions {
  /**
   * Whether local-table accesses are logged as well (the audit log is on).
   * @default false
   */
  includeLocal?: boolean;
}

/**
 * Creates the observer that logs accesses through `log`. With no sink
 * enabled at INFO for `["db-router", "access"]`, an access costs one cached
 * comparison.
 *
 * @example
 * ```ts
 * import { accessLogObserver } from "./access_log.ts";
 * import { RouterLog } from "./log.ts";
 * const observer = accessLogObserver(new RouterLog({ level: "info", format: "json" }));
 * observer.onAccess?.({ menaceId: "alpha", table: "bots", operation: "write", database: "shared" });
 * // prints {"timestamp":"...","level":"INFO","logger":"db-router.access",...} to standard error
 * ```
 */
export function accessLogObserver(log: RouterLog, options: AccessLogOptions = {}): RouterObserver {
  const includeLocal = options.includeLocal ?? false;
  return {
    onAccess(event: AccessEvent): void {
      if (event.database === "local" && !includeLocal) return;
      if (!log.enabled("access", "info")) return;
      log.emit("access", "info", ACCESS_MESSAGE, {
        menace_id: event.menaceId,
        table_name: event.table,
        operation: event.operation,
        database: event.database,
      });
    },
  };
}
