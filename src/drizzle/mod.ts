/**
 * `db-router/drizzle`: a [Drizzle ORM](https://orm.drizzle.team) database
 * over a `DBRouter`, through Drizzle's `sqlite-proxy` driver. Each statement
 * is routed by the tables it names, as `router.getConnection(table)` routes
 * one table: denied and unknown tables throw before anything runs, each table
 * is an access the router counts, logs, audits and measures, and a statement
 * naming tables of both databases fails with `QUERY_CROSSES_DATABASES`. Rows
 * travel as arrays with `connection.values()`, so joins whose tables share
 * column names come back right. Drizzle transactions run in the router's
 * `transaction()` (savepoints nested), on the database of their first
 * statement; `db.batch()` is atomic. Drizzle is a peer dependency of this
 * subpath only.
 *
 * @example
 * ```ts
 * import { eq } from "drizzle-orm";
 * import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
 * import { DBRouter, memoryStorage } from "../../mod.ts";
 * import { drizzle } from "./mod.ts";
 *
 * const bots = sqliteTable("bots", {
 *   id: integer("id").primaryKey(),
 *   name: text("name").notNull(),
 *   menace: text("source_menace_id"),
 * });
 * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
 * await router.getConnection("bots", "write").exec(
 *   "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL, source_menace_id TEXT)",
 * );
 * const db = drizzle(router);
 * await db.insert(bots).values({ name: "b1", menace: router.menaceId });
 * await db.select().from(bots).where(eq(bots.name, "b1")); // [{ id: 1, name: "b1", menace: "alpha" }]
 * ```
 *
 * @module
 */
import type { DrizzleConfig } from "drizzle-orm";
import { drizzle as remoteDrizzle, type SqliteRemoteDatabase } from "drizzle-orm/sqlite-proxy";
import { type Connection, type DBRouter, RouterError } from "../../mod.ts";
import { type OpenTransaction, openTransaction } from "../typed/open_transaction.ts";
import { type RoutedQueryOptions, routeStatement } from "../typed/route_statement.ts";

export type { RoutedQueryOptions } from "../typed/route_statement.ts";

/** Options of {@linkcode drizzle}: Drizzle's own (`schema`, `logger`, `casing`) and the routing's. */
export type RouterDrizzleOptions<TSchema extends Record<string, unknown>> =
  & DrizzleConfig<TSchema>
  & RoutedQueryOptions;

/** What Drizzle's proxy asks for: rows as arrays (`all`, `values`), one row (`get`), or none. */
type Method = "run" | "all" | "values" | "get";

/**
 * A Drizzle database whose statements go through `router`. `scope` filters
 * SELECTs on shared tables (`"local"`: this instance's rows, `"global"`:
 * others'). As with any single-connection SQLite driver, one instance runs one
 * transaction at a time (a second waits), and a statement sent on the instance
 * while its transaction is open runs inside it: use `tx` there.
 *
 * @example
 * ```ts ignore
 * const mine = drizzle(router, { schema, scope: "local" });
 * ```
 */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  router: DBRouter,
  options: RouterDrizzleOptions<TSchema> = {},
): SqliteRemoteDatabase<TSchema> {
  if (typeof router?.getConnection !== "function") {
    throw new TypeError(`Invalid router ${String(router)}: expected a DBRouter`);
  }
  const { scope, defaultDatabase, ...config } = options;
  const session = new RoutedSession(router, { scope, defaultDatabase });
  return remoteDrizzle<TSchema>(
    (sql, params, method) => session.execute(sql, params, method),
    (queries) => session.batch(queries),
    config,
  );
}

const CONTROL =
  /^\s*(begin|commit|rollback\s+to|rollback|savepoint|release)(?:\s+(?:deferred|immediate|exclusive|savepoint|transaction))?\b/i;

/** The transaction state of one Drizzle database, and how its statements run. */
class RoutedSession {
  readonly #router: DBRouter;
  readonly #options: RoutedQueryOptions;
  /** Transaction levels Drizzle has opened (`begin` is 1, each `savepoint` one more). */
  #depth = 0;
  /** Router transactions opened for them, from the first statement on. */
  readonly #open: OpenTransaction[] = [];
  /** Settles when the running transaction ends. */
  #ended: Promise<void> = Promise.resolve();
  #end: () => void = () => {};

  constructor(router: DBRouter, options: RoutedQueryOptions) {
    this.#router = router;
    this.#options = options;
  }

  async execute(sql: string, params: unknown[], method: Method): Promise<{ rows: unknown[] }> {
    const control = CONTROL.exec(sql)?.[1].toLowerCase().replace(/\s+/, " ");
    if (control !== undefined) {
      await this.#control(control);
      return { rows: [] };
    }
    const routed = routeStatement(
      this.#router,
      sql,
      params,
      this.#options,
      this.#open[0]?.database,
    );
    const conn = await this.#connectionFor(routed.connection, routed.database);
    return await runMethod(conn, routed.sql, routed.params, method, routed.returnsRows);
  }

  async batch(
    queries: { sql: string; params: unknown[]; method: Method }[],
  ): Promise<{ rows: unknown[] }[]> {
    const within = this.#open[0]?.database;
    const routed = queries.map((q) =>
      routeStatement(this.#router, q.sql, q.params, this.#options, within)
    );
    if (routed.length === 0) return [];
    const database = routed[0].database;
    const other = routed.find((r) => r.database !== database);
    if (other !== undefined) {
      throw new RouterError(
        "QUERY_CROSSES_DATABASES",
        `Cannot run a batch on both databases: its statements run on the ${database} and the ${other.database} database`,
      );
    }
    const runAll = async (conn: Connection) => {
      const results: { rows: unknown[] }[] = [];
      for (const [i, r] of routed.entries()) {
        results.push(await runMethod(conn, r.sql, r.params, queries[i].method, r.returnsRows));
      }
      return results;
    };
    if (this.#depth > 0) {
      return await runAll(await this.#connectionFor(routed[0].connection, database));
    }
    try {
      return await routed[0].connection.transaction(runAll);
    } catch (error) {
      // D1 has no transaction(): its batch() is atomic, but returns no rows.
      if (!(error instanceof RouterError && error.code === "UNSUPPORTED")) throw error;
      if (routed.some((r) => r.returnsRows)) {
        throw new RouterError(
          "UNSUPPORTED",
          `${error.message}; a batch of statements that return rows cannot run atomically there`,
          { cause: error },
        );
      }
      const results = await routed[0].connection.batch(
        routed.map((r) => ({ sql: r.sql, params: r.params })),
      );
      return results.map((result) => ({ rows: [], ...result }));
    }
  }

  /** The connection of a statement: the transaction's, opening its levels on first use. */
  async #connectionFor(connection: Connection, database: "shared" | "local"): Promise<Connection> {
    while (this.#open.length < this.#depth) {
      const outer = this.#open.at(-1)?.connection ?? connection;
      this.#open.push(await openTransaction(outer, database));
    }
    return this.#open.at(-1)?.connection ?? connection;
  }

  async #control(control: string): Promise<void> {
    switch (control) {
      case "begin":
        while (this.#depth > 0) await this.#ended;
        this.#ended = new Promise((resolve) => (this.#end = resolve));
        this.#depth = 1;
        return;
      case "savepoint":
        this.#depth++;
        return;
      case "release":
      case "rollback to":
        await this.#leave(control === "release");
        return;
      default: // commit, rollback
        try {
          while (this.#depth > 1) await this.#leave(true);
          await this.#leave(control === "commit");
        } finally {
          this.#depth = 0;
          this.#open.length = 0;
          this.#end();
        }
    }
  }

  /** Ends the innermost level: its router transaction, if it was opened. */
  async #leave(commit: boolean): Promise<void> {
    const opened = this.#open.length === this.#depth ? this.#open.pop() : undefined;
    this.#depth--;
    await opened?.end(commit);
  }
}

async function runMethod(
  conn: Connection,
  sql: string,
  params: unknown[],
  method: Method,
  returnsRows: boolean,
): Promise<{ rows: unknown[] }> {
  if (method === "run" && !returnsRows) {
    return { rows: [], ...await conn.run(sql, params as never) };
  }
  const { rows } = await conn.values(sql, params as never);
  return { rows: method === "get" ? rows[0] as unknown[] : rows };
}
