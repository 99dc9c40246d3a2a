/**
 * `db-router/kysely`: a [Kysely](https://kysely.dev) dialect over a
 * `DBRouter`. Each compiled query is routed by the tables it names, as
 * `router.getConnection(table)` routes one table: denied and unknown tables
 * throw before anything runs, and each table is an access that the router
 * counts, logs, audits and measures. A query that names tables of both
 * databases fails with `QUERY_CROSSES_DATABASES` before it runs. Kysely
 * transactions run in the router's `transaction()` on the database of their
 * first statement. Kysely is a peer dependency of this subpath only.
 *
 * @example
 * ```ts
 * import { type Generated, Kysely } from "kysely";
 * import { DBRouter, memoryStorage } from "../../mod.ts";
 * import { RouterDialect } from "./mod.ts";
 *
 * interface Tables {
 *   bots: { id: Generated<number>; name: string; source_menace_id: string };
 * }
 * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
 * const db = new Kysely<Tables>({ dialect: new RouterDialect({ router }) });
 * await db.schema.createTable("bots").ifNotExists()
 *   .addColumn("id", "integer", (c) => c.primaryKey())
 *   .addColumn("name", "text")
 *   .addColumn("source_menace_id", "text")
 *   .execute();
 * await db.insertInto("bots").values({ name: "b1", source_menace_id: router.menaceId }).execute();
 * await db.selectFrom("bots").select("name").execute(); // [{ name: "b1" }]
 * ```
 *
 * @module
 */
import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";
import type { Connection } from "../engine/connection.ts";
import type { DBRouter } from "../router/router.ts";
import { type RoutedQueryOptions, routeStatement } from "../typed/route_statement.ts";
import { type OpenTransaction, openTransaction } from "../typed/open_transaction.ts";

export type { RoutedQueryOptions } from "../typed/route_statement.ts";

/** Options of {@linkcode RouterDialect}. */
export interface RouterDialectOptions extends RoutedQueryOptions {
  /** The router whose databases the queries run on. */
  router: DBRouter;
}

/**
 * A Kysely dialect whose queries go through `router`: routed per table, with
 * the router's deny lists, access counts, audit and metrics. `scope` filters
 * SELECTs on shared tables to this instance's rows (`"local"`) or others'
 * (`"global"`); make one `Kysely` per scope you need.
 *
 * @example
 * ```ts ignore
 * const mine = new Kysely<Tables>({ dialect: new RouterDialect({ router, scope: "local" }) });
 * ```
 */
export class RouterDialect implements Dialect {
  readonly #options: RouterDialectOptions;

  /** A dialect over `options.router`. */
  constructor(options: RouterDialectOptions) {
    if (typeof options?.router?.getConnection !== "function") {
      throw new TypeError(`Invalid options ${String(options)}: expected { router: DBRouter }`);
    }
    this.#options = { ...options };
  }

  /** The driver that routes each query. */
  createDriver(): Driver {
    return new RouterDriver(this.#options);
  }

  /** Kysely's SQLite compiler. */
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  /** Kysely's SQLite adapter. */
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  /** Kysely's SQLite introspector (its queries name no table: they run on `defaultDatabase`). */
  // deno-lint-ignore no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class RouterDriver implements Driver {
  readonly #options: RouterDialectOptions;

  constructor(options: RouterDialectOptions) {
    this.#options = options;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new RoutedConnection(this.#options));
  }

  beginTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as RoutedConnection).begin();
    return Promise.resolve();
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return (connection as RoutedConnection).end(true);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return (connection as RoutedConnection).end(false);
  }

  releaseConnection(): Promise<void> {
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    // The router belongs to the application, which closes it.
    return Promise.resolve();
  }
}

/** One Kysely connection: stateless, except for the transaction it may hold. */
class RoutedConnection implements DatabaseConnection {
  readonly #options: RouterDialectOptions;
  /** Inside a Kysely transaction; the router's transaction opens at the first statement. */
  #transaction: { open: OpenTransaction | undefined } | undefined;

  constructor(options: RouterDialectOptions) {
    this.#options = options;
  }

  begin(): void {
    this.#transaction = { open: undefined };
  }

  async end(commit: boolean): Promise<void> {
    const open = this.#transaction?.open;
    this.#transaction = undefined;
    await open?.end(commit);
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const transaction = this.#transaction;
    const routed = routeStatement(
      this.#options.router,
      compiled.sql,
      compiled.parameters,
      this.#options,
      transaction?.open?.database,
    );
    let conn: Connection = routed.connection;
    if (transaction !== undefined) {
      transaction.open ??= await openTransaction(routed.connection, routed.database);
      conn = transaction.open.connection;
    }
    if (routed.returnsRows) return { rows: await conn.all<R>(routed.sql, routed.params) };
    const result = await conn.run(routed.sql, routed.params);
    return {
      rows: [],
      numAffectedRows: BigInt(result.changes),
      insertId: BigInt(result.lastInsertRowid),
    };
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Rows are in memory already (sql.js) or arrive in one response (D1, libSQL).
    yield await this.executeQuery<R>(compiled);
  }
}
