/**
 * `scopedQuery`: scopes a SELECT that has parameters of its own, putting the
 * menace id at its place among them and naming the table as the query does.
 *
 * @module
 */
import { assertIdentifier } from "../routing/identifier.ts";
import { assertMenaceId, scopeCondition } from "./clause.ts";
import { RouterError } from "../errors.ts";
import { applyEdits, placeCondition, placeInOn } from "./placement.ts";
import { parseScope } from "./scope.ts";
import type { Scope } from "./scope.ts";
import { parseSelect, quote } from "./statement.ts";
import { coreText, findReferences } from "./references.ts";
import { qualifierOf } from "./table_refs.ts";
import type { TableRef } from "./table_refs.ts";
import type { SqlValue } from "./values.ts";
import { checkParams, SCOPE_PARAM } from "./query_params.ts";

export { SCOPE_PARAM };

/**
 * Which table {@linkcode scopedQuery} filters, how, and for which instance.
 *
 * @example
 * ```ts
 * import type { ScopeTarget } from "./query.ts";
 * const target: ScopeTarget = { table: "bots", scope: "global", menaceId: "alpha" };
 * ```
 */
export interface ScopeTarget {
  /** The shared table whose rows are filtered; a plain identifier. */
  readonly table: string;
  /**
   * Which rows to keep.
   *
   * @default {"local"}
   */
  readonly scope?: Scope;
  /** The current instance's id. */
  readonly menaceId: string;
}

/**
 * Parameters by name, with or without their `:`, `@` or `$` prefix.
 *
 * @example
 * ```ts
 * import type { NamedParams } from "./query.ts";
 * const params: NamedParams = { ":name": "scraper", limit: 10 };
 * ```
 */
export type NamedParams = Readonly<Record<string, SqlValue>>;

/**
 * A scoped SELECT ready to run: its SQL and the parameters to bind.
 *
 * @example
 * ```ts
 * import type { ScopedSql } from "./query.ts";
 * const query: ScopedSql<string[]> = { sql: "SELECT 1 WHERE ? = ?", params: ["a", "a"] };
 * ```
 */
export interface ScopedSql<P> {
  /** The SQL with the scope condition added. */
  readonly sql: string;
  /** The caller's parameters with the menace id added in its place. */
  readonly params: P;
}

/**
 * Adds the scope condition for `target.table` to the main SELECT of `sql`
 * (as {@linkcode applyScope} does) and returns `{ sql, params }` ready to run.
 *
 * - Positional `?` parameters: the menace id is inserted at the position of
 *   its placeholder, so `WHERE a = ? ORDER BY x LIMIT ?` with `[1, 10]` gives
 *   `WHERE (a = ?) AND "bots".source_menace_id = ? ORDER BY x LIMIT ?` with
 *   `[1, "alpha", 10]`. The array must have one value per `?`.
 * - Named parameters (an object): the id is bound as `:__scope_menace_id`;
 *   a query or object that already uses that name is refused.
 * - Numbered `?NNN` parameters, and named ones with an array (or `?` with an
 *   object), are refused rather than guessed.
 * - The condition names the table as the FROM clause does: `FROM bots AS b`
 *   and `JOIN bots b` give `"b".source_menace_id`. Every reference of the
 *   table in the main SELECT is filtered (both sides of a self-join), and in
 *   a compound SELECT every arm that reads the table; arms that do not are
 *   left alone. Subqueries and CTE bodies are never changed.
 * - A main SELECT that does not read the table in its FROM or JOINs, and a
 *   WITH clause that defines a table of the same name, throw a `TypeError`.
 * - A table on the optional side of an outer join (`LEFT`, `RIGHT`, `FULL`)
 *   throws: a WHERE filter there would silently turn the join into an inner
 *   one. Filter it in the ON clause yourself with {@linkcode buildScopeClause}.
 * - Scope `all` returns the SQL unchanged and the params copied, after the
 *   same checks of the query and the table.
 *
 * @example
 * ```ts
 * import { scopedQuery } from "./query.ts";
 * scopedQuery("SELECT * FROM bots b WHERE b.a = ? LIMIT ?", [1, 10], {
 *   table: "bots",
 *   scope: "local",
 *   menaceId: "alpha",
 * });
 * // { sql: 'SELECT * FROM bots b WHERE (b.a = ?) AND "b".source_menace_id = ? LIMIT ?',
 * //   params: [1, "alpha", 10] }
 * ```
 */
export function scopedQuery(
  sql: string,
  params: readonly SqlValue[] | undefined,
  target: ScopeTarget,
): ScopedSql<SqlValue[]>;
export function scopedQuery(
  sql: string,
  params: NamedParams,
  target: ScopeTarget,
): ScopedSql<Record<string, SqlValue>>;
export function scopedQuery(
  sql: string,
  params: readonly SqlValue[] | NamedParams | undefined,
  target: ScopeTarget,
): ScopedSql<SqlValue[] | Record<string, SqlValue>>;
export function scopedQuery(
  sql: string,
  params: readonly SqlValue[] | NamedParams | undefined,
  target: ScopeTarget,
): ScopedSql<SqlValue[] | Record<string, SqlValue>> {
  if (typeof target !== "object" || target === null) {
    throw new TypeError(
      `Invalid scope target ${String(target)}: expected { table, scope, menaceId }`,
    );
  }
  const table = assertIdentifier(target.table, "table name");
  const scope = parseScope(target.scope ?? "local");
  const menaceId = assertMenaceId(target.menaceId);
  const parsed = parseSelect(sql);
  const found = findReferences(sql, parsed, table);
  const bound = checkParams(sql, parsed.tokens, params ?? [], scope !== "all");
  if (scope === "all") return { sql, params: bound.params };

  const placeholder = bound.named ? `:${SCOPE_PARAM}` : "?";
  const condition = (ref: TableRef) => scopeCondition(qualifierOf(ref, table), scope, placeholder);
  const placements = found.flatMap(({ core, refs }) => {
    // A table joined by LEFT JOIN ... ON is filtered in that ON: the same as filtering it first.
    const inOn = refs.filter((ref) => ref.leftOn !== undefined)
      .map((ref) => ({ ...placeInOn(parsed.tokens, ref.leftOn!, condition(ref)), count: 1 }));
    const inWhere = refs.filter((ref) => ref.leftOn === undefined);
    const bad = inWhere.find((ref) => ref.nullable);
    if (bad !== undefined) {
      throw new RouterError(
        "SCOPE_REFUSED",
        `Cannot scope table "${table}" in ${quote(sql)}: ${describe(bad)} in ` +
          `${coreText(sql, parsed.tokens, core)} is on the optional side of a RIGHT or FULL join ` +
          `(or of a LEFT JOIN without ON), where a WHERE filter would drop unmatched rows`,
      );
    }
    if (inWhere.length === 0) return inOn;
    const where = placeCondition(sql, parsed, core, inWhere.map(condition).join(" AND "));
    return [...inOn, { ...where, count: inWhere.length }];
  });
  const scoped = applyEdits(sql, placements.flatMap((placement) => placement.edits));
  if (bound.named) {
    return { sql: scoped, params: { ...bound.params, [`:${SCOPE_PARAM}`]: menaceId } };
  }
  // Splice from the last placement back, so earlier indexes stay valid; of two placements at
  // one offset, the one whose text comes first gets its ids first.
  const positional = bound.params;
  const marks = parsed.tokens.filter((t) => t.kind === "param" && t.text === "?");
  const order = placements.map((placement, seq) => ({ ...placement, seq }))
    .sort((a, b) => b.at - a.at || b.seq - a.seq);
  for (const { at, count } of order) {
    const index = marks.filter((t) => t.start < at).length;
    positional.splice(index, 0, ...Array<string>(count).fill(menaceId));
  }
  return { sql: scoped, params: positional };
}

function describe(ref: TableRef): string {
  return ref.alias === undefined ? `"${ref.table}"` : `"${ref.table}" AS "${ref.alias}"`;
}
