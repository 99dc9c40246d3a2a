/**
 * `applyScope`: adds a scope condition to the main SELECT of a query, by
 * parsing it rather than searching for the word "where".
 *
 * @module
 */
import { applyEdits, placeCondition } from "./placement.ts";
import { parseSelect, quote } from "./statement.ts";
import { keywordOf, tokenize } from "./tokenizer.ts";

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
 * - The target is the main SELECT, after any WITH clause (`RECURSIVE` too);
 *   subqueries in parentheses and CTE bodies are left alone.
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
  return applyEdits(sql, placeCondition(sql, parsed, parsed.cores[0], condition).edits);
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
