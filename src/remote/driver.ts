/**
 * What a remote engine (D1, libSQL) must do for the router: run one
 * positional statement, a batch atomically, a script, and, where it can, an
 * interactive transaction. `RemoteConnection` builds the whole `Connection`
 * contract (checks, parameters, waiting for transactions, figures) on top, so
 * every remote backend behaves the same.
 *
 * @module
 */
import type { Row, RunResult, ValuesResult } from "../engine/connection.ts";
import type { ArgPolicy, RemoteStatement } from "./sql_args.ts";

/** Statements run one at a time on a remote engine. */
export interface RemoteExecutor {
  /** Every row, as plain objects with sql.js's value types. */
  all(statement: RemoteStatement): Promise<Row[]>;
  /** The first row, or `undefined`. */
  get(statement: RemoteStatement): Promise<Row | undefined>;
  /** Every row as an array of values, with the column names in order (duplicates kept). */
  values(statement: RemoteStatement): Promise<ValuesResult>;
  /** Runs a statement and reports what it changed. */
  run(statement: RemoteStatement): Promise<RunResult>;
}

/** An open interactive transaction on a remote engine. */
export interface RemoteTransaction extends RemoteExecutor {
  /** Makes the transaction's writes permanent. */
  commit(): Promise<void>;
  /** Undoes the transaction's writes; never rejects for an already closed one. */
  rollback(): Promise<void>;
}

/**
 * A remote engine, opened lazily: the first call (or `open()`) connects.
 *
 * @example
 * ```ts ignore
 * const driver: RemoteDriver = d1Driver(env.DB, "DB");
 * await driver.run({ sql: "INSERT INTO bots (name) VALUES (?1)", args: ["b1"] });
 * ```
 */
export interface RemoteDriver extends RemoteExecutor {
  /** The engine's name for messages: `"D1"`, `"libSQL"`. */
  readonly engine: string;
  /** Where the data is (never a secret), for messages. */
  readonly location: string;
  /** How values bind on this engine. */
  readonly policy: ArgPolicy;
  /** Connects now; rejects when the database cannot be reached or opened. */
  open(): Promise<void>;
  /** Runs `statements` atomically: all, or none when one fails. */
  batch(statements: readonly RemoteStatement[], readOnly: boolean): Promise<RunResult[]>;
  /** Runs a script (already split into `statements`) like SQLite's exec: in order, not atomically. */
  script(script: string, statements: readonly string[]): Promise<void>;
  /** Begins a write transaction; absent where the engine has none (D1). */
  begin?(): Promise<RemoteTransaction>;
  /** Why `begin` is absent, for the `UNSUPPORTED` error. */
  readonly noTransactions?: string;
  /** Releases the connection (a client this driver created). */
  close(): Promise<void>;
}
