/**
 * Inserts stamped with the writing instance's id, and upserts that never
 * overwrite a row another instance owns.
 *
 * @module
 */
import { quoteIdentifier } from "../routing/identifier.ts";
import { assertMenaceId, assertOwnRow, MENACE_COLUMN } from "./clause.ts";
import { rowEntries } from "./values.ts";
import type { ColumnValues, SqlParam, SqlStatement } from "./values.ts";

/**
 * Builds `INSERT INTO "table" ("col", ..., "source_menace_id") VALUES (?, ..., ?)`
 * for `row`, stamped with `menaceId`.
 *
 * Throws a `TypeError` for a table or column name that is not a plain
 * identifier, a value that cannot be bound (naming its column), an empty
 * menace id, and a row that sets `source_menace_id` to another instance's id
 * (setting it to `menaceId` is allowed and changes nothing).
 *
 * @example
 * ```ts
 * import { stampedInsert } from "./insert.ts";
 * stampedInsert("bots", { name: "scraper" }, "alpha");
 * // { sql: 'INSERT INTO "bots" ("name", "source_menace_id") VALUES (?, ?)',
 * //   params: ["scraper", "alpha"] }
 * ```
 */
export function stampedInsert(table: string, row: ColumnValues, menaceId: string): SqlStatement {
  const { into, params } = stampedInsertParts(table, row, menaceId);
  return { sql: `${into} VALUES (${params.map(() => "?").join(", ")})`, params };
}

/**
 * {@linkcode stampedInsert} without its `VALUES`: the `INSERT INTO t (...)`
 * head and the values in column order, for inserts of many rows at once
 * (`INSERT INTO t (...) SELECT ...`).
 *
 * @example
 * ```ts
 * import { stampedInsertParts } from "./insert.ts";
 * stampedInsertParts("bots", { name: "scraper" }, "alpha");
 * // { into: 'INSERT INTO "bots" ("name", "source_menace_id")', params: ["scraper", "alpha"] }
 * ```
 */
export function stampedInsertParts(
  table: string,
  row: ColumnValues,
  menaceId: string,
): { into: string; params: SqlParam[] } {
  const quoted = quoteIdentifier(table, "table name");
  const entries = stamped(row, assertMenaceId(menaceId));
  const columns = entries.map(([column]) => `"${column}"`).join(", ");
  return { into: `INSERT INTO ${quoted} (${columns})`, params: entries.map(([, value]) => value) };
}

/**
 * Builds an insert of `row`, stamped like {@linkcode stampedInsert}, that on a
 * conflict on `conflictColumns` updates the other columns of the existing row
 * only if this instance owns it:
 *
 * ```sql
 * INSERT INTO "t" (...) VALUES (...) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name"
 *   WHERE "t".source_menace_id = excluded.source_menace_id
 * ```
 *
 * A conflicting row owned by another instance, or by none (`NULL`), is left
 * untouched and the statement reports `changes = 0`. With no column left to
 * update, the conflict clause is `DO NOTHING`. The conflict columns must
 * match a unique index or primary key of the table (SQLite checks that) and
 * must be columns of `row`; they are never updated.
 *
 * @example
 * ```ts
 * import { stampedUpsert } from "./insert.ts";
 * const { sql, params } = stampedUpsert("bots", { id: 1, name: "scraper" }, ["id"], "alpha");
 * // params: [1, "scraper", "alpha"]
 * ```
 */
export function stampedUpsert(
  table: string,
  row: ColumnValues,
  conflictColumns: readonly string[],
  menaceId: string,
): SqlStatement {
  const quoted = quoteIdentifier(table, "table name");
  const entries = stamped(row, assertMenaceId(menaceId));
  const columns = entries.map(([column]) => column);
  if (!Array.isArray(conflictColumns) || conflictColumns.length === 0) {
    throw new TypeError(
      `Invalid conflict columns ${
        String(conflictColumns)
      }: expected a non-empty array of column names`,
    );
  }
  const target = conflictColumns.map((column) => quoteIdentifier(column, "conflict column"));
  for (const column of conflictColumns) {
    if (!columns.includes(column)) {
      throw new TypeError(`Invalid conflict column "${column}": the row has no such column`);
    }
  }
  if (new Set(conflictColumns).size !== conflictColumns.length) {
    throw new TypeError(`Invalid conflict columns ${JSON.stringify(conflictColumns)}: duplicates`);
  }
  const updated = columns.filter((c) => c !== MENACE_COLUMN && !conflictColumns.includes(c));
  const action = updated.length === 0
    ? "DO NOTHING"
    : `DO UPDATE SET ${
      updated.map((c) => `"${c}" = excluded."${c}"`).join(", ")
    } WHERE ${quoted}.${MENACE_COLUMN} = excluded.${MENACE_COLUMN}`;
  return {
    sql: `${insertSql(quoted, entries)} ON CONFLICT (${target.join(", ")}) ${action}`,
    params: entries.map(([, value]) => value),
  };
}

/** The checked entries of `row`, with `source_menace_id` last and set to `menaceId`. */
function stamped(row: ColumnValues, menaceId: string): [string, SqlParam][] {
  const entries = rowEntries(row, "row");
  assertOwnRow(entries, menaceId, "row");
  return [...entries.filter(([column]) => column !== MENACE_COLUMN), [MENACE_COLUMN, menaceId]];
}

function insertSql(quotedTable: string, entries: readonly [string, SqlParam][]): string {
  const columns = entries.map(([column]) => `"${column}"`).join(", ");
  const marks = entries.map(() => "?").join(", ");
  return `INSERT INTO ${quotedTable} (${columns}) VALUES (${marks})`;
}
