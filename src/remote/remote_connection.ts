/**
 * `RemoteConnection`: the `Connection` contract on a {@linkcode RemoteDriver}.
 * It checks SQL and parameters as the sql.js connection does (transaction
 * control refused outside `transaction()`, bad values named), binds named
 * parameters by position, makes other calls wait while a transaction runs
 * (as sql.js serialises them), and counts writes for `storageStats()`.
 *
 * @module
 */
import type {
  BatchStatement,
  Connection,
  Guard,
  Row,
  RunResult,
  ValuesResult,
} from "../engine/connection.ts";
import type { Params } from "../sql/params.ts";
import { RouterError } from "../errors.ts";
import { emptyStorageStats } from "../storage/common.ts";
import type { StorageStats } from "../storage/types.ts";
import type { RemoteDriver } from "./driver.ts";
import { RemoteTransactionConnection } from "./remote_transaction.ts";
import { type RemoteStatement, toRemoteStatement } from "./sql_args.ts";
import { StatementKinds } from "../engine/statement_checks.ts";
import { checkedScript, prepareBatch } from "./checks.ts";

/**
 * The shared connection of a router whose shared database is remote.
 *
 * @example
 * ```ts ignore
 * const conn = new RemoteConnection(d1Driver(env.DB, "DB"), () => {});
 * await conn.run("INSERT INTO bots (name) VALUES (:name)", { name: "b1" });
 * ```
 */
export class RemoteConnection implements Connection {
  readonly database: "shared" | "local" = "shared";
  readonly #driver: RemoteDriver;
  readonly #guard: Guard;
  readonly #kinds = new StatementKinds();
  readonly #stats: StorageStats = emptyStorageStats();
  /** Settles when the running (and queued) transactions end; unset when none runs. */
  #exclusive: Promise<void> | undefined;

  /** A connection on `driver` that calls `guard` (the router's closed check) first. */
  constructor(driver: RemoteDriver, guard: Guard) {
    this.#driver = driver;
    this.#guard = guard;
  }

  /** Writes made through this connection, and the time the last one took. */
  stats(): StorageStats {
    return { ...this.#stats };
  }

  all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    return this.#call(sql, params, (s) => this.#driver.all(s)) as Promise<T[]>;
  }

  get<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return this.#call(sql, params, (s) => this.#driver.get(s)) as Promise<T | undefined>;
  }

  values(sql: string, params?: Params): Promise<ValuesResult> {
    return this.#call(sql, params, (s) => this.#driver.values(s));
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.#call(sql, params, (s) => this.#driver.run(s));
  }

  async exec(script: string): Promise<void> {
    this.#guard();
    const statements = checkedScript(script, this.#driver.engine);
    await this.#idle();
    await this.#timed(() => this.#driver.script(script, statements));
  }

  async batch(statements: readonly BatchStatement[]): Promise<RunResult[]> {
    this.#guard();
    const prepared = prepareBatch(statements, this.#kinds, this.#driver);
    const readOnly = prepared.every((p) => p.kind === "read");
    await this.#idle();
    const work = () => this.#driver.batch(prepared.map((p) => p.statement), readOnly);
    return readOnly ? await work() : await this.#timed(work);
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    this.#guard();
    if (typeof fn !== "function") {
      throw new TypeError(`Invalid transaction body ${String(fn)}: expected a function`);
    }
    const begin = this.#driver.begin?.bind(this.#driver);
    if (begin === undefined) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot run transaction() on ${this.#driver.engine} database "${this.#driver.location}": ${
          this.#driver.noTransactions ?? "it has no interactive transactions"
        }; use batch() for atomic writes`,
      );
    }
    const previous = this.#exclusive;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.#exclusive = mine;
    try {
      await previous;
      return await this.#timed(async () => {
        const tx = await begin();
        const conn = new RemoteTransactionConnection(tx, this.#driver, this.#guard);
        try {
          const result = await fn(conn);
          conn.end();
          await tx.commit();
          return result;
        } catch (error) {
          conn.end();
          await tx.rollback();
          throw error;
        }
      });
    } finally {
      if (this.#exclusive === mine) this.#exclusive = undefined;
      done();
    }
  }

  /** The hot path: no `async` frame unless a transaction is running or the statement writes. */
  #call<T>(
    sql: string,
    params: Params | undefined,
    op: (statement: RemoteStatement) => Promise<T>,
  ): Promise<T> {
    try {
      this.#guard();
      const kind = this.#kinds.forCall(sql);
      const statement = toRemoteStatement(sql, params, this.#driver.policy);
      if (this.#exclusive !== undefined) {
        return this.#idle().then(() => this.#call(sql, params, op));
      }
      return kind === "read" ? op(statement) : this.#timed(() => op(statement));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Waits until no transaction runs. */
  async #idle(): Promise<void> {
    while (this.#exclusive !== undefined) await this.#exclusive;
  }

  async #timed<T>(work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const result = await work();
    this.#stats.commits++;
    this.#stats.lastCommitMs = performance.now() - start;
    return result;
  }
}
