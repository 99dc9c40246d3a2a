/**
 * A router's hidden accessor, kept in a module of its own that imports
 * nothing, so the query-builder subpaths can use it without a copy of the
 * router's modules.
 *
 * @module
 */

/**
 * The key of a router's hidden accessor to the connection of one of its
 * databases, past routing, for `db-router/kysely` and `db-router/drizzle`
 * (statements that name no table, such as `SELECT 1` or `sqlite_master`
 * reads). A registered symbol, because the npm build bundles `mod.ts` apart
 * from the subpaths' modules, and both copies must find it. Not public API.
 */
export const DATABASE_CONNECTION: unique symbol = Symbol.for("db-router.databaseConnection");

/** What a router holds under {@linkcode DATABASE_CONNECTION}. */
export type DatabaseConnectionAccessor<C> = (database: "shared" | "local") => C;
