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

  savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as RoutedConnection).savepoint(name);
    return Promise.resolve();
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    return (connection as RoutedConnection).leave(name, false);
  }

  releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    return (connection as RoutedConnection).leave(name, true);
  }

  releaseConnection(): Promise<void> {
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    // The router belongs to the application, which closes it.
    return Promise.resolve();
  }
}

/** A transaction level: the transaction itself (named "") or a savepoint. */
interface Level {
  readonly name: string;
  /** The router transaction, once a statement needed it. */
  open?: OpenTransaction;
}

/** One Kysely connection: stateless, except for the transaction it may hold. */
class RoutedConnection implements DatabaseConnection {
  readonly #options: RouterDialectOptions;
  /**
   * Inside a Kysely transaction: its levels, outermost first. The router's
   * transactions open at the first statement that needs them (its database is
   * the first statement's), savepoints as nested `transaction()` calls.
   */
  #levels: Level[] | undefined;

  constructor(options: RouterDialectOptions) {
    this.#options = options;
  }

  begin(): void {
    this.#levels = [{ name: "" }];
  }

  async end(commit: boolean): Promise<void> {
    const levels = this.#levels ?? [];
    this.#levels = undefined;
    await endFrom(levels, 0, commit);
  }

  savepoint(name: string): void {
    this.#inTransaction().push({ name });
  }

  /** Releases (`commit`) or rolls back to the savepoint `name`; rolled back, it stays, empty. */
  async leave(name: string, commit: boolean): Promise<void> {
    const levels = this.#inTransaction();
    const at = levels.findLastIndex((level) => level.name === name);
    if (at < 1) throw new TypeError(`Invalid savepoint "${name}": no such savepoint is open`);
    await endFrom(levels, at, commit);
    if (!commit) levels.push({ name });
  }

  #inTransaction(): Level[] {
    if (this.#levels === undefined) {
      throw new TypeError("Cannot use a savepoint outside a transaction");
    }
    return this.#levels;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const levels = this.#levels;
    const routed = routeStatement(
      this.#options.router,
      compiled.sql,
      compiled.parameters,
      this.#options,
      levels?.[0].open?.database,
    );
    let conn: Connection = routed.connection;
    for (const level of levels ?? []) {
      level.open ??= await openTransaction(conn, routed.database);
      conn = level.open.connection;
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

/** Ends `levels[from..]`, innermost first, and removes them. */
async function endFrom(levels: Level[], from: number, commit: boolean): Promise<void> {
  while (levels.length > from) await levels.pop()!.open?.end(commit);
}
