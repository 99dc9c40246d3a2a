/**
 * A router transaction held open between separate calls, as query builders
 * drive them (`begin`, statements, then `commit` or `rollback`), on top of
 * the callback form `connection.transaction(fn)` that the router offers.
 *
 * @module
 */
import type { Connection } from "../engine/connection.ts";

/** A transaction opened by {@linkcode openTransaction}. */
export interface OpenTransaction {
  /** The database it runs on. */
  readonly database: "shared" | "local";
  /** The transaction's connection: run its statements here. */
  readonly connection: Connection;
  /** Commits (`true`) or rolls back (`false`); resolves when the router's transaction has ended. */
  end(commit: boolean): Promise<void>;
}

/** Thrown inside the transaction body to roll it back; never seen by callers. */
const ROLLBACK = Symbol("rollback");

/**
 * Opens `connection.transaction()` and keeps it open until `end()`. Rejects
 * when the transaction cannot start (`UNSUPPORTED` on D1).
 *
 * @example
 * ```ts ignore
 * const tx = await openTransaction(router.getConnection("bots", "write"), "shared");
 * await tx.connection.run("INSERT INTO bots (name) VALUES ('b1')");
 * await tx.end(true);
 * ```
 */
export async function openTransaction(
  connection: Connection,
  database: "shared" | "local",
): Promise<OpenTransaction> {
  let decide!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => (decide = resolve));
  let started!: (tx: Connection) => void;
  const opened = new Promise<Connection>((resolve) => (started = resolve));
  const finished = connection.transaction(async (tx) => {
    started(tx);
    if (!(await decided)) throw ROLLBACK;
  });
  const tx = await Promise.race([opened, finished.then(() => undefined)]);
  if (tx === undefined) throw new Error("The transaction ended before it started");
  return {
    database,
    connection: tx,
    async end(commit: boolean): Promise<void> {
      decide(commit);
      try {
        await finished;
      } catch (error) {
        if (error !== ROLLBACK) throw error;
      }
    },
  };
}
