/**
 * The scope condition on `source_menace_id`, the column that records which
 * Menace instance wrote a row of a shared table.
 *
 * @module
 */
import { assertIdentifier, quoteIdentifier } from "../routing/identifier.ts";
import { parseScope } from "./scope.ts";
import type { Scope } from "./scope.ts";

/** The column that holds the id of the instance that wrote a row. */
export const MENACE_COLUMN = "source_menace_id";

/**
 * Throws a `TypeError` unless `menaceId` is a non-empty string, and returns it.
 *
 * @example
 * ```ts
 * import { assertMenaceId } from "./clause.ts";
 * assertMenaceId("alpha"); // "alpha"
 * ```
 */
export function assertMenaceId(menaceId: unknown): string {
  if (typeof menaceId !== "string" || menaceId.length === 0) {
    const shown = typeof menaceId === "string" ? '""' : String(menaceId);
    throw new TypeError(`Invalid menace id ${shown}: expected a non-empty string`);
  }
  return menaceId;
}

/**
 * Throws a `TypeError` when `entries` (column, value pairs of a row or a SET)
 * give `source_menace_id` a value other than `menaceId`: an instance may not
 * write rows in another instance's name. `what` names the argument.
 *
 * @example
 * ```ts
 * import { assertOwnRow } from "./clause.ts";
 * assertOwnRow([["name", "x"], ["source_menace_id", "alpha"]], "alpha", "row"); // passes
 * ```
 */
export function assertOwnRow(
  entries: readonly (readonly [string, unknown])[],
  menaceId: string,
  what: string,
): void {
  const owner = entries.find(([column]) => column === MENACE_COLUMN);
  if (owner !== undefined && owner[1] !== menaceId) {
    const shown = typeof owner[1] === "string" ? JSON.stringify(owner[1]) : String(owner[1]);
    throw new TypeError(
      `Invalid ${what}: its ${MENACE_COLUMN} ${shown} is not the writing instance's id "${menaceId}"`,
    );
  }
}

/**
 * Builds the condition that restricts rows of `table` to `scope`, for the
 * instance `menaceId`, as `[clause, params]`. The id is always a parameter,
 * never pasted into the SQL.
 *
 * - `local`: `"table".source_menace_id = ?` with `[menaceId]`.
 * - `global`: `"table".source_menace_id <> ?` with `[menaceId]`: rows of
 *   other instances.
 * - `all`: `["", []]`, no condition.
 *
 * Rows whose `source_menace_id` is `NULL` match neither `local` nor `global`
 * (SQL comparisons with `NULL` are never true): only `all` returns them.
 *
 * Throws a `TypeError` for a table name that is not a plain identifier, an
 * unknown scope or an empty menace id.
 *
 * @example
 * ```ts
 * import { buildScopeClause } from "./clause.ts";
 * const [clause, params] = buildScopeClause("bots", "global", "alpha");
 * // clause: '"bots".source_menace_id <> ?', params: ["alpha"]
 * ```
 */
export function buildScopeClause(
  table: string,
  scope: Scope,
  menaceId: string,
): [clause: string, params: string[]] {
  const quoted = quoteIdentifier(assertIdentifier(table, "table name"), "table name");
  const checkedScope = parseScope(scope);
  const id = assertMenaceId(menaceId);
  const clause = scopeCondition(quoted, checkedScope, "?");
  return clause === "" ? ["", []] : [clause, [id]];
}

/**
 * The scope condition on the column of `qualifier` (a quoted table name or
 * alias), comparing with `placeholder`; empty for `all`.
 *
 * @example
 * ```ts
 * import { scopeCondition } from "./clause.ts";
 * scopeCondition('"b"', "local", ":__scope_menace_id");
 * // '"b".source_menace_id = :__scope_menace_id'
 * ```
 */
export function scopeCondition(qualifier: string, scope: Scope, placeholder: string): string {
  switch (scope) {
    case "local":
      return `${qualifier}.${MENACE_COLUMN} = ${placeholder}`;
    case "global":
      return `${qualifier}.${MENACE_COLUMN} <> ${placeholder}`;
    case "all":
      return "";
  }
}
