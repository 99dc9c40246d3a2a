/**
 * Values that the scope helpers accept as parameters, and the checks that
 * keep anything else out of a statement.
 *
 * @module
 */
import type { SqlParam } from "../engine/params.ts";
import { assertIdentifier } from "../routing/identifier.ts";

/**
 * A value that may be bound to a parameter: the engine's `SqlParam`, under the
 * name the scope helpers use.
 *
 * @example
 * ```ts
 * import type { SqlValue } from "./values.ts";
 * const values: SqlValue[] = ["bot", 1, 2n, true, new Uint8Array(1), null];
 * ```
 */
export type SqlValue = SqlParam;

/**
 * Column names mapped to values: a row to insert, the `SET` of an update, or
 * the column equalities of a `WHERE`.
 *
 * @example
 * ```ts
 * import type { Row } from "./values.ts";
 * const row: Row = { name: "scraper", active: true };
 * ```
 */
export type Row = Readonly<Record<string, SqlValue>>;

/**
 * Returns `value` if it is a {@linkcode SqlValue}; otherwise throws a
 * `TypeError` naming `what` (such as `column "name"`) and the value's type.
 *
 * @example
 * ```ts
 * import { assertSqlValue } from "./values.ts";
 * assertSqlValue(42, 'column "count"'); // 42
 * ```
 */
export function assertSqlValue(value: unknown, what: string): SqlValue {
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
 * key is a plain identifier and every value a {@linkcode SqlValue}. `what`
 * names the argument in error messages.
 *
 * @example
 * ```ts
 * import { rowEntries } from "./values.ts";
 * rowEntries({ name: "scraper" }, "row"); // [["name", "scraper"]]
 * ```
 */
export function rowEntries(row: unknown, what: string): [column: string, value: SqlValue][] {
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
  readonly params: SqlValue[];
}
