/**
 * `applyScope`: adds a scope condition to the main SELECT of a query, by
 * parsing it rather than searching for the word "where".
 *
 * @module
 */
import { applyEdits, placeCondition } from "./placement.ts";
import { RouterError } from "../errors.ts";
import { coreText, findReferences } from "./references.ts";
import type { CoreRefs } from "./references.ts";
import { quote } from "../sql/quote.ts";
import { parseSelect } from "./statement.ts";
import type { ParsedSelect } from "./statement.ts";
import { tableRefs } from "./table_refs.ts";
import { keywordOf, nameOf, tokenize } from "../sql/tokenizer.ts";

/**
 * Adds `clause` (from {@linkcode buildScopeClause}) to the WHERE clause of the
 * main SELECT of `sql` and returns the new SQL; an empty clause returns `sql`
 * unchanged.
 *
 * - With a WHERE clause the result is `WHERE (<condition>) AND <clause>`, so
 *   `WHERE a OR b` cannot let other instances' rows through; without one,
 *   `WHERE <clause>` is added after the FROM clause. Either way the clause
 *   lands before `GROUP BY`, `HAVING`, `WINDOW`, `ORDER BY` and `LIMIT`.
 * - Names, string literals and comments never count as keywords: a column
 *   `somewhere` or a literal `'where'` is not a WHERE clause.
 * - The target is the main SELECT, after any WITH clause (`RECURSIVE` too).
 *   One clause with one parameter can filter only one reference, so when the
 *   clause names its table (`"bots".source_menace_id`, as
 *   {@linkcode buildScopeClause} writes it, or an alias of the main SELECT)
 *   and the statement reads that table anywhere else (a subquery, a derived
 *   table, a CTE body, a second reference in the same FROM), `applyScope`
 *   throws a {@linkcode RouterError} `SCOPE_REFUSED` naming that part, rather
 *   than let its rows through unfiltered: use {@linkcode scopedQuery}, which
 *   filters every reference. Subqueries that read other tables are fine. A
 *   clause that names no table (`owner = ?`) filters the main SELECT only.
 * - A trailing `;` and trailing comments are kept after the added clause.
 * - A clause with a top-level `OR` is wrapped in parentheses.
 *
 * The clause's placeholders may land before the query's own (a `LIMIT ?`),
 * so pass only the clause's params, or use {@linkcode scopedQuery}, which
 * puts each parameter in its place.
 *
 * Throws a `TypeError` for SQL it cannot scope safely: anything but one
 * SELECT statement, a SELECT without FROM, a compound SELECT (`UNION`,
 * `INTERSECT`, `EXCEPT`: one clause with one parameter cannot filter every
 * arm, and filtering one arm would leak the others; `scopedQuery` scopes each
 * arm), and a clause holding `;` or a comment.
 *
 * @example
 * ```ts
 * import { applyScope, buildScopeClause } from "./mod.ts";
 * const [clause, params] = buildScopeClause("bots", "local", "alpha");
 * applyScope("SELECT * FROM bots WHERE a OR b ORDER BY id", clause);
 * // 'SELECT * FROM bots WHERE (a OR b) AND "bots".source_menace_id = ? ORDER BY id'
 * ```
 */
export function applyScope(sql: string, clause: string): string {
  if (typeof clause !== "string") {
    throw new TypeError(`Invalid scope clause ${String(clause)}: expected a string`);
  }
  if (clause.trim() === "") return sql;
  const condition = checkedClause(clause);
  const parsed = parseSelect(sql);
  if (parsed.compound) {
    throw new TypeError(
      `Cannot scope SQL ${quote(sql)}: it is a compound SELECT and one clause cannot ` +
        `filter every arm; use scopedQuery() or scope each arm`,
    );
  }
  refuseOtherReferences(sql, parsed, condition);
  return applyEdits(sql, placeCondition(sql, parsed, parsed.cores[0], condition).edits);
}

/**
 * Throws `SCOPE_REFUSED` when the table the clause filters is read anywhere
 * but once in the main SELECT's FROM clause.
 */
function refuseOtherReferences(sql: string, parsed: ParsedSelect, condition: string): void {
  const clause = tokenize(condition);
  const qualifier = nameOf(clause[0]);
  if (qualifier === undefined || clause[1]?.kind !== "dot") return;
  const main = parsed.cores[0];
  const mainRefs = main.from === undefined
    ? []
    : tableRefs(parsed.tokens, main.from + 1, main.where ?? main.tail);
  const aliased = mainRefs.find((ref) => ref.alias?.toLowerCase() === qualifier.toLowerCase());
  const table = aliased?.table ?? qualifier;
  let found: CoreRefs[];
  try {
    found = findReferences(sql, parsed, table);
  } catch (error) {
    if (error instanceof TypeError) return; // the table is read nowhere: only the alias counts
    throw error;
  }
  const elsewhere = found.find(({ core }) => core.select !== main.select);
  const inMain = found.find(({ core }) => core.select === main.select)?.refs.length ?? 0;
  if (elsewhere === undefined && inMain <= 1) return;
  const part = elsewhere === undefined
    ? `the main SELECT reads it ${inMain} times`
    : `${coreText(sql, parsed.tokens, elsewhere.core)} reads it too`;
  throw new RouterError(
    "SCOPE_REFUSED",
    `Cannot scope table "${table}" in ${quote(sql)}: ${part}, and one clause filters one ` +
      `reference; use scopedQuery(), which filters every reference`,
  );
}

/** The clause as one expression: no `;`, no comment, parenthesised if it has a top-level OR. */
function checkedClause(clause: string): string {
  const tokens = tokenize(clause);
  let last = 0;
  for (const token of tokens) {
    if (clause.slice(last, token.start).trim() !== "" || token.kind === "semicolon") {
      throw new TypeError(`Invalid scope clause ${quote(clause)}: it holds a comment or ";"`);
    }
    last = token.end;
  }
  if (clause.slice(last).trim() !== "") {
    throw new TypeError(`Invalid scope clause ${quote(clause)}: it holds a comment or ";"`);
  }
  const trimmed = clause.trim();
  const hasOr = tokens.some((t) => t.depth === 0 && keywordOf(t) === "OR");
  return hasOr ? `(${trimmed})` : trimmed;
}
