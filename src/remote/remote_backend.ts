/**
 * A {@linkcode SharedBackend} from a remote driver factory: each router that
 * connects gets its own driver (for libSQL, its own client) and a
 * `RemoteConnection` bound to the router's closed check. The driver and the
 * connection's code are imported at the router's first use of the database
 * (`ready()` or a first statement), so importing db-router does not parse them.
 *
 * @module
 */
import type { SharedBackend, SharedDatabase } from "../engine/backend.ts";
import type {
  BatchStatement,
  Connection,
  Guard,
  Params,
  Row,
  RunResult,
  ValuesResult,
} from "../engine/connection.ts";
import { RouterError } from "../errors.ts";
import { emptyStorageStats } from "../storage/common.ts";
import type { StorageStats } from "../storage/types.ts";
import type { RemoteDriver } from "./driver.ts";
import type { RemoteConnection } from "./remote_connection.ts";

/**
 * Builds a shared backend of `kind` at `location` whose routers each use a
 * driver from `makeDriver` (called, and awaited, at a router's first use of
 * the database); `transactions` says whether its drivers can `begin()`;
 * `engine` names the engine in messages.
 *
 * @example
 * ```ts ignore
 * const backend = remoteBackend("d1", "d1:DB", false, "D1", async () => new D1Driver(env.DB, "d1:DB"));
 * ```
 */
export function remoteBackend(
  kind: string,
  location: string,
  transactions: boolean,
  engine: string,
  makeDriver: () => Promise<RemoteDriver>,
): SharedBackend {
  return {
    kind,
    location,
    capabilities: { transactions, functions: false },
    connect(guard: Guard): SharedDatabase {
      const connection = new LazyRemoteConnection(guard, makeDriver);
      let closing: Promise<void> | undefined;
      return {
        connection,
        ready: async () => await (await connection.driver()).open(),
        flush: () => Promise.resolve(),
        close: () => closing ??= connection.close(),
        stats: () => connection.stats(),
        registerFunction(name: string): void {
          throw new RouterError(
            "UNSUPPORTED",
            `Cannot register SQL function "${name}" on ${engine} database "${location}": ` +
              "JavaScript functions run only inside sql.js, not on a remote engine",
          );
        },
      };
    },
  };
}

/**
 * A {@linkcode RemoteConnection} made at first use: until then, `stats()` is
 * empty and a statement waits for the import of the driver and connection.
 */
class LazyRemoteConnection implements Connection {
  readonly database: "shared" | "local" = "shared";
  readonly #guard: Guard;
  readonly #makeDriver: () => Promise<RemoteDriver>;
  #loading: Promise<{ driver: RemoteDriver; connection: RemoteConnection }> | undefined;
  #connection: RemoteConnection | undefined;

  constructor(guard: Guard, makeDriver: () => Promise<RemoteDriver>) {
    this.#guard = guard;
    this.#makeDriver = makeDriver;
  }

  #load(): Promise<{ driver: RemoteDriver; connection: RemoteConnection }> {
    return this.#loading ??= (async () => {
      const [driver, { RemoteConnection }] = await Promise.all([
        this.#makeDriver(),
        import("./remote_connection.ts"),
      ]);
      this.#connection = new RemoteConnection(driver, this.#guard);
      return { driver, connection: this.#connection };
    })();
  }

  /** The driver, made (imported) on the first call. */
  async driver(): Promise<RemoteDriver> {
    return (await this.#load()).driver;
  }

  /** Closes the driver if one was made. */
  async close(): Promise<void> {
    if (this.#loading === undefined) return;
    const loaded = await this.#loading.catch(() => undefined);
    await loaded?.driver.close();
  }

  stats(): StorageStats {
    return this.#connection?.stats() ?? emptyStorageStats();
  }

  async all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    this.#guard();
    return await (this.#connection ?? (await this.#load()).connection).all<T>(sql, params);
  }

  async get<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    this.#guard();
    return await (this.#connection ?? (await this.#load()).connection).get<T>(sql, params);
  }

  async values(sql: string, params?: Params): Promise<ValuesResult> {
    this.#guard();
    return await (this.#connection ?? (await this.#load()).connection).values(sql, params);
  }

  async run(sql: string, params?: Params): Promise<RunResult> {
    this.#guard();
    return await (this.#connection ?? (await this.#load()).connection).run(sql, params);
  }

  async exec(script: string): Promise<void> {
    this.#guard();
    await (this.#connection ?? (await this.#load()).connection).exec(script);
  }

  async batch(statements: readonly BatchStatement[]): Promise<RunResult[]> {
    this.#guard();
    return await (this.#connection ?? (await this.#load()).connection).batch(statements);
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    this.#guard();
    return await (this.#connection ?? (await this.#load()).connection).transaction(fn);
  }
}
