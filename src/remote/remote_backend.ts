/**
 * A {@linkcode SharedBackend} from a remote driver factory: each router that
 * connects gets its own driver (for libSQL, its own client) and a
 * `RemoteConnection` bound to the router's closed check.
 *
 * @module
 */
import type { SharedBackend, SharedDatabase } from "../engine/backend.ts";
import type { Guard } from "../engine/connection.ts";
import { RouterError } from "../errors.ts";
import type { RemoteDriver } from "./driver.ts";
import { RemoteConnection } from "./remote_connection.ts";

/**
 * Builds a shared backend of `kind` at `location` whose routers each use a
 * driver from `makeDriver`; `transactions` says whether its drivers can `begin()`.
 *
 * @example
 * ```ts ignore
 * const backend = remoteBackend("d1", "d1:DB", false, () => new D1Driver(env.DB, "d1:DB"));
 * ```
 */
export function remoteBackend(
  kind: string,
  location: string,
  transactions: boolean,
  makeDriver: () => RemoteDriver,
): SharedBackend {
  return {
    kind,
    location,
    capabilities: { transactions, functions: false },
    connect(guard: Guard): SharedDatabase {
      const driver = makeDriver();
      const connection = new RemoteConnection(driver, guard);
      let closing: Promise<void> | undefined;
      return {
        connection,
        ready: () => driver.open(),
        flush: () => Promise.resolve(),
        close: () => closing ??= driver.close(),
        stats: () => connection.stats(),
        registerFunction(name: string): void {
          throw new RouterError(
            "UNSUPPORTED",
            `Cannot register SQL function "${name}" on ${driver.engine} database "${location}": ` +
              "JavaScript functions run only inside sql.js, not on a remote engine",
          );
        },
      };
    },
  };
}
