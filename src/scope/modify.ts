/**
 * Updates and deletes limited by scope, so that an instance changes only its
 * own rows of a shared table unless it asks for more.
 *
 * @module
 */
import { quoteIdentifier } from "../routing/identifier.ts";
import { assertOwnRow, buildScopeClause } from "./clause.ts";
import { parseScope } from "./scope.ts";
import type { Scope } from "./scope.ts";
import { rowEntries } from "./values.ts";
import type { ColumnValues, SqlParam, SqlStatement } from "./values.ts";

/**
 * Whose rows {@linkcode scopedUpdate} and {@linkcode scopedDelete} may touch,
 * for which instance.
 *
 * @example
 * ```ts
 * import type { WriteScope } from "./modify.ts";
 * const everyone: WriteScope = { scope: "all", menaceId: "alpha" };
 * ```
 */
export interface WriteScope {
  /**
   * `local` touches only this instance's rows, `global` only other
   * instances' rows, `all` every row (rows without owner included).
   *
   * @default {"local"}
   */
  readonly scope?: Scope;
  /** The current instance's id. */
  readonly menaceId: string;
}

/**
 * Builds `UPDATE "table" SET "a" = ?, ... WHERE "c" = ? AND "table".source_menace_id = ?`.
 * `where` holds column equalities (a `null` value becomes `IS NULL`); the
 * scope condition is added to them, `local` by default, so an instance cannot
 * overwrite another instance's rows unless it passes `scope: "all"` (or
 * `"global"`). An empty `where` updates every row in scope.
 *
 * `set` must not be empty, and may set `source_menace_id` only to
 * `menaceId` (with scope `all` this claims the rows). Throws a `TypeError` for
 * any invalid name, value, scope or menace id.
 *
 * @example
 * ```ts
 * import { scopedUpdate } from "./modify.ts";
 * scopedUpdate("bots", { name: "b" }, { id: 1 }, { menaceId: "alpha" });
 * // { sql: 'UPDATE "bots" SET "name" = ? WHERE "id" = ? AND "bots".source_menace_id = ?',
 * //   params: ["b", 1, "alpha"] }
 * ```
 */
export function scopedUpdate(
  table: string,
  set: ColumnValues,
  where: ColumnValues,
  options: WriteScope,
): SqlStatement {
  const quoted = quoteIdentifier(table, "table name");
  const changes = rowEntries(set, "set");
  if (changes.length === 0) {
    throw new TypeError(`Invalid set for table "${table}": no column to update`);
  }
  const [conditions, params] = whereClause(table, where, options);
  assertOwnRow(changes, options.menaceId, "set");
  const assignments = changes.map(([column]) => `"${column}" = ?`).join(", ");
  return {
    sql: `UPDATE ${quoted} SET ${assignments}${conditions}`,
    params: [...changes.map(([, value]) => value), ...params],
  };
}

/**
 * Builds `DELETE FROM "table" WHERE "c" = ? AND "table".source_menace_id = ?`,
 * with the same `where` and scope rules as {@linkcode scopedUpdate}: `local`
 * by default, `all` is the explicit way to delete other instances' rows, and
 * `all` with an empty `where` deletes every row of the table.
 *
 * @example
 * ```ts
 * import { scopedDelete } from "./modify.ts";
 * scopedDelete("bots", { id: 1 }, { scope: "global", menaceId: "alpha" });
 * // { sql: 'DELETE FROM "bots" WHERE "id" = ? AND "bots".source_menace_id <> ?',
 * //   params: [1, "alpha"] }
 * ```
 */
export function scopedDelete(
  table: string,
  where: ColumnValues,
  options: WriteScope,
): SqlStatement {
  const quoted = quoteIdentifier(table, "table name");
  const [conditions, params] = whereClause(table, where, options);
  return { sql: `DELETE FROM ${quoted}${conditions}`, params };
}

/** ` WHERE ...` (or nothing) for the equalities of `where` and the scope, and its params. */
function whereClause(
  table: string,
  where: ColumnValues,
  options: WriteScope,
): [string, SqlParam[]] {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Invalid write options ${String(options)}: expected { scope, menaceId }`);
  }
  const equalities = rowEntries(where, "where");
  const [scopeClause, scopeParams] = buildScopeClause(
    table,
    parseScope(options.scope ?? "local"),
    options.menaceId,
  );
  const conditions = equalities.map(([column, value]) =>
    value === null ? `"${column}" IS NULL` : `"${column}" = ?`
  );
  if (scopeClause !== "") conditions.push(scopeClause);
  const params = equalities.flatMap(([, value]) => (value === null ? [] : [value]));
  const sql = conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
  return [sql, [...params, ...scopeParams]];
}
