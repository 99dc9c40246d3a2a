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
import { quote } from "../sql/quote.ts";
import { parseSelect } from "./statement.ts";
import type { ParsedSelect, SelectCore } from "./statement.ts";
import { coreText, findReferences } from "./references.ts";
import { qualifierOf } from "./table_refs.ts";
import type { TableRef } from "./table_refs.ts";
import type { SqlParam } from "./values.ts";
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
  /**
   * More tables to filter the same way wherever the statement reads them; unlike
   * `table`, the statement need not read them. `router.query()` passes the
   * other shared tables the statement reads.
   *
   * @default {[]}
   */
  readonly alsoScope?: readonly string[];
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
export type NamedParams = Readonly<Record<string, SqlParam>>;

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
 * Filters every reference to `target.table` in `sql`, wherever it is, and
 * returns `{ sql, params }` ready to run: the main SELECT, every arm of a
 * compound, subqueries in the select list, WHERE, HAVING, ON and ORDER BY,
 * derived tables in FROM and JOIN, `IN (...)` and `EXISTS (...)`, correlated
 * subqueries and CTE bodies. A statement it cannot filter completely is
 * refused, never run half-filtered.
 *
 * How: each SELECT core (at any depth) whose FROM clause names the table gets
 * the condition in its own WHERE clause, as {@linkcode applyScope} adds it to
 * the main one (`WHERE (<own condition>) AND "b".source_menace_id = ?`). A
 * filter on a table joined by plain or inner joins is the same as filtering
 * the table before the join, so each core sees only the scope's rows of every
 * reference it reads, and a subquery sees nothing else. A table on the
 * optional side of an outer join is filtered in that join's ON instead, which
 * is likewise the same as filtering it first (a WHERE filter would drop the
 * unmatched rows): the right operand of `LEFT JOIN ... ON` (alone, or inside
 * a join group whose own joins keep all its rows), and a table in the left
 * operand of `RIGHT JOIN ... ON` that nothing before made optional. This was
 * chosen over rewriting each reference into a derived table
 * `(SELECT * FROM bots WHERE ...)` because it keeps `rowid`, `INDEXED BY` and
 * `schema.table.column` names working.
 *
 * - Positional `?` parameters: the menace id is inserted at the position of
 *   each placeholder it gets, so `WHERE a = ? ORDER BY x LIMIT ?` with
 *   `[1, 10]` gives `WHERE (a = ?) AND "bots".source_menace_id = ? ORDER BY x
 *   LIMIT ?` with `[1, "alpha", 10]`, and a subquery's id goes between the
 *   parameters around it. The array must have one value per `?`.
 * - Named parameters (an object): the id is bound as `:__scope_menace_id`;
 *   a query or object that already uses that name is refused.
 * - Numbered `?NNN` parameters, and named ones with an array (or `?` with an
 *   object), are refused rather than guessed.
 * - The condition names the table as its FROM clause does: `FROM bots AS b`
 *   and `JOIN bots b` give `"b".source_menace_id`, so two filtered tables in
 *   one join never make `source_menace_id` ambiguous. Quoted names (`"bots"`,
 *   `[bots]`, `` `bots` ``, `'bots'`), any letter case, and a schema
 *   (`main.bots`, any schema) are the table; a name inside a string literal,
 *   a quoted column name or a comment is not.
 * - A WITH name is resolved as SQLite does: an unqualified `bots` anywhere in
 *   a WITH clause that defines `bots` (its main SELECT and every body) is
 *   that CTE and is not filtered; `main.bots` is always the table.
 * - A statement that reads the table nowhere throws a `TypeError`.
 * - These throw a {@linkcode RouterError} `SCOPE_REFUSED` naming the part of
 *   the statement: the table on either side of a `FULL JOIN` (no filter
 *   keeps both sides' unmatched rows), on the optional side of a `LEFT` or
 *   `RIGHT JOIN` without ON (`USING`, `NATURAL`) (filter it in an ON clause
 *   yourself with {@linkcode buildScopeClause}), and `x IN bots`, which reads
 *   the table without a FROM clause (write `IN (SELECT col FROM bots)`).
 * - Not seen, because SQL text does not show them: a view that reads the
 *   table, and a virtual table (an FTS index) that copies its rows. Scope the
 *   table itself, not a view of it. (`router.query()`, which has the
 *   database, refuses a scoped statement that reads a view.)
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
  params: readonly SqlParam[] | undefined,
  target: ScopeTarget,
): ScopedSql<SqlParam[]>;
/** With named parameters: the menace id is added as `:__scope_menace_id`. */
export function scopedQuery(
  sql: string,
  params: NamedParams,
  target: ScopeTarget,
): ScopedSql<Record<string, SqlParam>>;
/** Positional or named parameters, when the caller's type is the union. */
export function scopedQuery(
  sql: string,
  params: readonly SqlParam[] | NamedParams | undefined,
  target: ScopeTarget,
): ScopedSql<SqlParam[] | Record<string, SqlParam>>;
export function scopedQuery(
  sql: string,
  params: readonly SqlParam[] | NamedParams | undefined,
  target: ScopeTarget,
): ScopedSql<SqlParam[] | Record<string, SqlParam>> {
  return scopedQueryWith(sql, params, target, parseSelect);
}

/**
 * {@linkcode scopedQuery} with the parse supplied by the caller, so that the
 * router can read the same parse again (the tables a statement reads) without
 * tokenizing the SQL twice. Not part of the public API.
 *
 * @example
 * ```ts
 * import { scopedQueryWith } from "./query.ts";
 * import { parseSelect } from "./statement.ts";
 * scopedQueryWith("SELECT * FROM bots", [], { table: "bots", scope: "all", menaceId: "a" }, parseSelect);
 * // { sql: "SELECT * FROM bots", params: [] }
 * ```
 */
export function scopedQueryWith(
  sql: string,
  params: readonly SqlParam[] | NamedParams | undefined,
  target: ScopeTarget,
  parse: (sql: string) => ParsedSelect,
): ScopedSql<SqlParam[] | Record<string, SqlParam>> {
  if (typeof target !== "object" || target === null) {
    throw new TypeError(
      `Invalid scope target ${String(target)}: expected { table, scope, menaceId }`,
    );
  }
  const table = assertIdentifier(target.table, "table name");
  const scope = parseScope(target.scope ?? "local");
  const menaceId = assertMenaceId(target.menaceId);
  const parsed = parse(sql);
  const others = [...new Set(target.alsoScope ?? [])]
    .map((name) => assertIdentifier(name, "table name in alsoScope"))
    .filter((name) => name.toLowerCase() !== table.toLowerCase());
  const found = [table, ...others].flatMap((name, index) =>
    findReferences(sql, parsed, name, index === 0).map((c) => ({ ...c, table: name }))
  );
  const bound = checkParams(sql, parsed.tokens, params ?? [], scope !== "all");
  if (scope === "all") return { sql, params: bound.params };

  const placeholder = bound.named ? `:${SCOPE_PARAM}` : "?";
  // One placement per SELECT core, whichever tables it reads, in the order of the statement.
  const byCore = new Map<number, { core: SelectCore; refs: [TableRef, string][] }>();
  for (const { core, refs, table: name } of found) {
    const entry = byCore.get(core.select) ?? { core, refs: [] };
    entry.refs.push(...refs.map((ref): [TableRef, string] => [ref, name]));
    byCore.set(core.select, entry);
  }
  const cores = [...byCore.values()].sort((a, b) => a.core.select - b.core.select);
  const condition = ([ref, name]: [TableRef, string]) =>
    scopeCondition(qualifierOf(ref, name), scope, placeholder);
  const placements = cores.flatMap(({ core, refs }) => {
    refs.sort(([a], [b]) => a.at - b.at);
    // A table on the optional side of LEFT or RIGHT JOIN ... ON is filtered in that ON: the
    // same as filtering it first.
    const inOn = refs.filter(([ref]) => ref.filterOn !== undefined)
      .map((entry) => ({
        ...placeInOn(parsed.tokens, entry[0].filterOn!, condition(entry)),
        count: 1,
      }));
    const inWhere = refs.filter(([ref]) => ref.filterOn === undefined);
    const bad = inWhere.find(([ref]) => ref.nullable);
    if (bad !== undefined) {
      throw new RouterError(
        "SCOPE_REFUSED",
        `Cannot scope table "${bad[1]}" in ${quote(sql)}: ${describe(bad[0])} in ` +
          `${coreText(sql, parsed.tokens, core)} is on the optional side of an outer join ` +
          `(FULL, or LEFT or RIGHT without an ON that can filter it), where a WHERE filter would ` +
          `drop unmatched rows`,
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
