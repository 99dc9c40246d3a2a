/**
 * The connection handed to a `transaction()` body on a remote engine: it runs
 * on the engine's open transaction, turns nested `transaction()` calls and
 * `batch()` into savepoints, and stops working when the body settles, as the
 * sql.js transaction connection does.
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
import type { RemoteDriver, RemoteTransaction } from "./driver.ts";
import { StatementKinds } from "../engine/statement_checks.ts";
import { checkedScript, prepareBatch } from "./checks.ts";
import { type RemoteStatement, toRemoteStatement } from "./sql_args.ts";

/**
 * A `Connection` on an open remote transaction.
 *
 * @example
 * ```ts ignore
 * const tx = new RemoteTransactionConnection(await driver.begin!(), driver, () => {});
 * await tx.run("INSERT INTO bots (name) VALUES (?)", ["b1"]);
 * ```
 */
export class RemoteTransactionConnection implements Connection {
  readonly database: "shared" | "local" = "shared";
  readonly #tx: RemoteTransaction;
  readonly #driver: Pick<RemoteDriver, "policy" | "engine">;
  readonly #guard: Guard;
  readonly #kinds = new StatementKinds();
  #ended = false;
  #depth = 0;

  /** Wraps `tx`; `guard` is the router's closed check. */
  constructor(
    tx: RemoteTransaction,
    driver: Pick<RemoteDriver, "policy" | "engine">,
    guard: Guard,
  ) {
    this.#tx = tx;
    this.#driver = driver;
    this.#guard = guard;
  }

  /** Called when the body settles: later calls reject with `TRANSACTION_CLOSED`. */
  end(): void {
    this.#ended = true;
  }

  all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    return this.#do(() => this.#tx.all(this.#bind(sql, params))) as Promise<T[]>;
  }

  get<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return this.#do(() => this.#tx.get(this.#bind(sql, params))) as Promise<T | undefined>;
  }

  values(sql: string, params?: Params): Promise<ValuesResult> {
    return this.#do(() => this.#tx.values(this.#bind(sql, params)));
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.#do(() => this.#tx.run(this.#bind(sql, params)));
  }

  exec(script: string): Promise<void> {
    return this.#do(async () => {
      for (const statement of checkedScript(script, this.#driver.engine)) {
        await this.#tx.run({ sql: statement, args: [] });
      }
    });
  }

  batch(statements: readonly BatchStatement[]): Promise<RunResult[]> {
    return this.#do(() => {
      const prepared = prepareBatch(statements, this.#kinds, this.#driver);
      return this.#savepoint(async () => {
        const results: RunResult[] = [];
        for (const { statement } of prepared) results.push(await this.#tx.run(statement));
        return results;
      });
    });
  }

  transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    return this.#do(() => this.#savepoint(() => fn(this)));
  }

  async #savepoint<T>(body: () => Promise<T>): Promise<T> {
    const name = `dbr_savepoint_${++this.#depth}`;
    try {
      await this.#tx.run({ sql: `SAVEPOINT ${name}`, args: [] });
      try {
        const result = await body();
        await this.#tx.run({ sql: `RELEASE ${name}`, args: [] });
        return result;
      } catch (error) {
        await this.#tx.run({ sql: `ROLLBACK TO ${name}`, args: [] });
        await this.#tx.run({ sql: `RELEASE ${name}`, args: [] });
        throw error;
      }
    } finally {
      this.#depth--;
    }
  }

  #bind(sql: string, params: Params | undefined): RemoteStatement {
    this.#kinds.forCall(sql);
    return toRemoteStatement(sql, params, this.#driver.policy);
  }

  #do<T>(work: () => Promise<T>): Promise<T> {
    try {
      this.#guard();
      if (this.#ended) {
        throw new RouterError(
          "TRANSACTION_CLOSED",
          "Cannot use a transaction connection after its transaction ended",
        );
      }
      return work();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
