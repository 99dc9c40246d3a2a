/**
 * Scope filtering for shared tables: which instances' rows a query sees
 * (`local`, `global`, `all`) and which rows a write may touch.
 *
 * - {@linkcode buildScopeClause} and {@linkcode applyScope}: the low-level
 *   helpers of the specification, with `applyScope` parsing the SQL.
 * - {@linkcode scopedQuery}: scopes a SELECT with its own parameters: every
 *   reference to the table (subqueries, derived tables, CTE bodies, compound
 *   arms), named by its alias, with the menace id in its place; what it
 *   cannot filter completely is refused with `SCOPE_REFUSED`.
 * - {@linkcode stampedInsert}, {@linkcode stampedUpsert},
 *   {@linkcode scopedUpdate}, {@linkcode scopedDelete}: writes stamped with,
 *   or limited to, the instance's `source_menace_id`.
 *
 * Every helper validates table and column names and binds values as
 * parameters; none pastes a value into SQL.
 *
 * @example
 * ```ts
 * import { scopedQuery } from "./mod.ts";
 * const { sql, params } = scopedQuery("SELECT * FROM bots WHERE a = ? LIMIT ?", [1, 10], {
 *   table: "bots",
 *   scope: "local",
 *   menaceId: "alpha",
 * });
 * // sql: 'SELECT * FROM bots WHERE (a = ?) AND "bots".source_menace_id = ? LIMIT ?'
 * // params: [1, "alpha", 10]
 * ```
 *
 * @module
 */
export { isScope, parseScope, Scope } from "./scope.ts";
export { assertMenaceId, buildScopeClause, MENACE_COLUMN } from "./clause.ts";
export { applyScope } from "./apply.ts";
export { SCOPE_PARAM, scopedQuery } from "./query.ts";
export type { NamedParams, ScopedSql, ScopeTarget } from "./query.ts";
export { stampedInsert, stampedUpsert } from "./insert.ts";
export { scopedDelete, scopedUpdate } from "./modify.ts";
export type { WriteScope } from "./modify.ts";
export type { ColumnValues, SqlParam, SqlStatement } from "./values.ts";
