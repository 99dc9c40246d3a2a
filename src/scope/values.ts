/**
 * Values that the scope helpers accept as parameters, and the checks that
 * keep anything else out of a statement.
 *
 * @module
 */
import type { SqlParam } from "../sql/params.ts";

export type { SqlParam };
import { assertIdentifier } from "../routing/identifier.ts";

/**
 * Column names mapped to values: a row to insert, the `SET` of an update, or
 * the column equalities of a `WHERE`.
 *
 * @example
 * ```ts
 * import type { ColumnValues } from "./values.ts";
 * const row: ColumnValues = { name: "scraper", active: true };
 * ```
 */
export type ColumnValues = Readonly<Record<string, SqlParam>>;

/**
 * Returns `value` if it is a {@linkcode SqlParam}; otherwise throws a
 * `TypeError` naming `what` (such as `column "name"`) and the value's type.
 *
 * @example
 * ```ts
 * import { assertSqlValue } from "./values.ts";
 * assertSqlValue(42, 'column "count"'); // 42
 * ```
 */
export function assertSqlValue(value: unknown, what: string): SqlParam {
  switch (typeof value) {
    case "string":
    case "number":
    case "bigint":
    case "boolean":
      return value;
    case "object":
      if (value === null || value instanceof Uint8Array) return value;
  }
  const shown = typeof value === "object" ? Object.prototype.toString.call(value) : typeof value;
  throw new TypeError(
    `Invalid value for ${what}: expected a string, number, bigint, boolean, Uint8Array or null, got ${shown}`,
  );
}

/**
 * The entries of `row` after checking that it is a plain object, that every
 * key is a plain identifier and every value a {@linkcode SqlParam}. `what`
 * names the argument in error messages.
 *
 * @example
 * ```ts
 * import { rowEntries } from "./values.ts";
 * rowEntries({ name: "scraper" }, "row"); // [["name", "scraper"]]
 * ```
 */
export function rowEntries(row: unknown, what: string): [column: string, value: SqlParam][] {
  if (typeof row !== "object" || row === null || Array.isArray(row)) {
    throw new TypeError(`Invalid ${what} ${String(row)}: expected an object of column values`);
  }
  return Object.entries(row).map(([column, value]) => [
    assertIdentifier(column, `column name in ${what}`),
    assertSqlValue(value, `column "${column}"`),
  ]);
}

/**
 * A statement built by the scope helpers: SQL with `?` placeholders and the
 * values to bind to them, in order.
 *
 * @example
 * ```ts
 * import type { SqlStatement } from "./values.ts";
 * const statement: SqlStatement = { sql: 'DELETE FROM "bots" WHERE "id" = ?', params: [1] };
 * ```
 */
export interface SqlStatement {
  /** The SQL text; values appear only as `?`. */
  readonly sql: string;
  /** One value per `?`, in order. */
  readonly params: SqlParam[];
}
