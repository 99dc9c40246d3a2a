/**
 * Routes one SQL statement built by a query builder (Kysely, Drizzle) as
 * `getConnection()` routes a table: by every table the statement names. A
 * denied or unknown table throws before anything runs; tables of both
 * databases in one statement throw `QUERY_CROSSES_DATABASES`; each table named
 * is then one access (counts, logs, audit, metrics) with the operation
 * `"read"` or `"write"`. A scope, when asked for, is applied to the shared
 * tables a SELECT reads.
 *
 * @module
 */
// Values that hold state (the routing sets, error classes) come from mod.ts: the npm
// build bundles it apart from this module, which must share the bundle's copies.
import {
  type Connection,
  type DBRouter,
  RouterError,
  routeTable,
  type SqlParam,
} from "../../mod.ts";
import { DATABASE_CONNECTION, type DatabaseConnectionAccessor } from "../router/hidden.ts";
import { statementTables } from "../routing/statement_tables.ts";
import type { Scope } from "../scope/scope.ts";
import { scopedQuery } from "../scope/query.ts";

/** How statements of a query builder are routed. */
export interface RoutedQueryOptions {
  /**
   * Scope applied to every SELECT on shared tables: `"local"` (this
   * instance's rows), `"global"` (others'), `"all"` (no filter). Writes are
   * not filtered.
   * @default "all"
   */
  scope?: Scope | "local" | "global" | "all";
  /**
   * The database of a statement that names no table (`SELECT 1`, `sqlite_master`).
   * @default "shared"
   */
  defaultDatabase?: "shared" | "local";
}

/** A statement with its database, connection and final SQL. */
export interface RoutedStatement {
  /** The database it runs on. */
  database: "shared" | "local";
  /** The router's connection to that database. */
  connection: Connection;
  /** The SQL to run (with the scope condition, if any). */
  sql: string;
  /** Its parameters. */
  params: SqlParam[];
  /** Whether it returns rows (a query, or a write with `RETURNING`). */
  returnsRows: boolean;
  /** Whether it only reads. */
  read: boolean;
}

/**
 * Routes `sql` for `router`. `within` is the database of an open transaction,
 * which every statement of it must use.
 *
 * @example
 * ```ts ignore
 * routeStatement(router, 'select * from "bots"', [], {}); // { database: "shared", ... }
 * ```
 */
export function routeStatement(
  router: DBRouter,
  sql: string,
  params: readonly unknown[],
  options: RoutedQueryOptions,
  within?: "shared" | "local",
): RoutedStatement {
  const { tables, kind, returnsRows } = statementTables(sql);
  const routes = tables.map((table) => [table, routeTable(table)] as const);
  const shared = routes.find(([, route]) => route === "shared");
  const local = routes.find(([, route]) => route === "local");
  if (shared !== undefined && local !== undefined) {
    throw new RouterError(
      "QUERY_CROSSES_DATABASES",
      `Cannot route statement ${brief(sql)}: it names the shared table "${
        shared[0]
      }" and the local table "${local[0]}", and one statement runs on one database`,
    );
  }
  const database = (shared ?? local)?.[1] ?? within ?? options.defaultDatabase ?? "shared";
  if (within !== undefined && database !== within) {
    throw new RouterError(
      "QUERY_CROSSES_DATABASES",
      `Cannot run statement ${
        brief(sql)
      } in this transaction: it runs on the ${within} database, and "${
        (shared ?? local)![0]
      }" is a ${database} table`,
    );
  }
  const read = kind === "read";
  const operation = read ? "read" : "write";
  const accessor = (router as unknown as Record<symbol, DatabaseConnectionAccessor<Connection>>)[
    DATABASE_CONNECTION
  ];
  let connection = accessor(database);
  for (const [table] of routes) connection = router.getConnection(table, operation);
  let statement = { sql, params: params as SqlParam[] };
  const scope = options.scope ?? "all";
  if (read && scope !== "all" && database === "shared") {
    for (const [table] of routes) {
      statement = scopedQuery(statement.sql, statement.params, {
        table,
        scope,
        menaceId: router.menaceId,
      });
    }
  }
  return { database, connection, ...statement, returnsRows, read };
}

function brief(sql: string): string {
  const oneLine = sql.replace(/\s+/g, " ").trim();
  return JSON.stringify(oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine);
}
