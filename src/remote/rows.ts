/**
 * Rows from remote engines as the sql.js engine returns them: plain objects
 * of numbers, strings, `Uint8Array` BLOBs and `null`. D1 returns a BLOB as an
 * array of byte numbers and libSQL as an `ArrayBuffer`; both become a
 * `Uint8Array`, so code that reads BLOBs (embeddings) runs unchanged.
 *
 * @module
 */
import type { Row, SqlValue, ValuesResult } from "../engine/connection.ts";

/**
 * One column value as sql.js would return it.
 *
 * @example
 * ```ts
 * import { toSqlValue } from "./rows.ts";
 * toSqlValue([1, 2, 255]); // Uint8Array [1, 2, 255]
 * toSqlValue("text"); // "text"
 * ```
 */
export function toSqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "number":
    case "string":
      return value;
    case "bigint":
      // Only a client told to return bigints produces these; sql.js returns numbers.
      return Number(value);
  }
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return value as SqlValue;
}

/**
 * A row object whose BLOB values are converted in place (the object is the
 * engine's own, freshly made for this result).
 *
 * @example
 * ```ts
 * import { fixRow } from "./rows.ts";
 * fixRow({ id: 1, data: [0, 1] }); // { id: 1, data: Uint8Array [0, 1] }
 * ```
 */
export function fixRow<T>(row: Record<string, unknown>): T {
  for (const key in row) {
    const value = row[key];
    if (value !== null && typeof value === "object") row[key] = toSqlValue(value);
  }
  return row as T;
}

/**
 * A plain row object from column names and a row of values (libSQL's rows
 * are array-like); a later column of the same name wins, as in sql.js.
 *
 * @example
 * ```ts
 * import { rowFromColumns } from "./rows.ts";
 * rowFromColumns(["a", "b"], [1, "x"]); // { a: 1, b: "x" }
 * ```
 */
export function rowFromColumns<T = Row>(
  columns: readonly string[],
  values: ArrayLike<unknown>,
): T {
  // A column named `__proto__` would set the object's prototype instead of a field (as the
  // engine's rows do, see `engine/statements.ts`): `fromEntries` defines it as its own.
  if (columns.includes("__proto__")) {
    return Object.fromEntries(columns.map((name, i) => [name, toSqlValue(values[i])])) as T;
  }
  const row: Record<string, SqlValue> = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]] = toSqlValue(values[i]);
  return row as T;
}

/**
 * Array rows from column names and rows of values (libSQL's result set, D1's
 * `raw()`), every value as sql.js would return it.
 *
 * @example
 * ```ts
 * import { valuesFrom } from "./rows.ts";
 * valuesFrom(["id", "id"], [[1, 2]]); // { columns: ["id", "id"], rows: [[1, 2]] }
 * ```
 */
export function valuesFrom(
  columns: readonly string[],
  rows: readonly ArrayLike<unknown>[],
): ValuesResult {
  return {
    columns: [...columns],
    rows: rows.map((row) => Array.from({ length: columns.length }, (_, i) => toSqlValue(row[i]))),
  };
}
