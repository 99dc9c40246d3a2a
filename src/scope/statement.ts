/**
 * The shape of a SELECT statement as far as scoping needs it: the names its
 * WITH clause defines, and for each arm of the main (outermost) SELECT where
 * its FROM clause, its WHERE clause and the clause after them begin.
 *
 * @module
 */
import { quote } from "../sql/quote.ts";
import { keywordOf, nameOf, tokenize } from "../sql/tokenizer.ts";
import type { Token } from "../sql/tokenizer.ts";

/** One SELECT core of the main statement; all fields are token indexes. */
export interface SelectCore {
  /** The `SELECT` keyword. */
  readonly select: number;
  /** The `FROM` keyword, if any. */
  readonly from: number | undefined;
  /** The `WHERE` keyword, if any. */
  readonly where: number | undefined;
  /** The first token after the FROM and WHERE clauses (`GROUP BY`, `ORDER BY`, `UNION`...). */
  readonly tail: number;
}

/** A parsed SELECT statement. */
export interface ParsedSelect {
  /** Every token up to, not including, the first `;`. */
  readonly tokens: readonly Token[];
  /** Names defined by the WITH clause, lower-cased. */
  readonly cteNames: readonly string[];
  /** The SELECT cores of the main statement, in order; more than one for a compound SELECT. */
  readonly cores: readonly SelectCore[];
  /** `true` when the main statement is a compound (`UNION`, `INTERSECT`, `EXCEPT`). */
  readonly compound: boolean;
}

const COMPOUND = new Set(["UNION", "INTERSECT", "EXCEPT"]);
const AFTER_WHERE = new Set(["GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT"]);

/**
 * Parses `sql`, which must be one SELECT statement, optionally after a WITH
 * clause and before a `;` and comments. Throws a `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { parseSelect } from "./statement.ts";
 * parseSelect("WITH x AS (SELECT 1) SELECT * FROM x").cteNames; // ["x"]
 * ```
 */
export function parseSelect(sql: string): ParsedSelect {
  if (typeof sql !== "string") throw new TypeError(`Invalid SQL ${String(sql)}: expected a string`);
  const all = tokenize(sql);
  const semicolon = all.findIndex((t) => t.kind === "semicolon");
  const tokens = semicolon === -1 ? all : all.slice(0, semicolon);
  if (semicolon !== -1 && all[semicolon].depth !== 0) {
    throw new TypeError(`Cannot scope SQL ${quote(sql)}: ";" inside parentheses`);
  }
  if (semicolon !== -1 && all.slice(semicolon).some((t) => t.kind !== "semicolon")) {
    throw new TypeError(`Cannot scope SQL ${quote(sql)}: it holds more than one statement`);
  }
  const cteNames: string[] = [];
  const main = skipWith(tokens, sql, cteNames, 0);
  if (keywordOf(tokens[main]) !== "SELECT") {
    const found = tokens[main] ? `found "${tokens[main].text}"` : "found nothing";
    throw new TypeError(`Cannot scope SQL ${quote(sql)}: expected a SELECT statement, ${found}`);
  }
  const cores: SelectCore[] = [];
  let compound = false;
  let start = main;
  for (let i = main; i <= tokens.length; i++) {
    const word = i < tokens.length && tokens[i].depth === 0 ? keywordOf(tokens[i]) : undefined;
    if (i < tokens.length && !COMPOUND.has(word ?? "")) continue;
    // VALUES arms of a compound read no table and take no scope.
    if (keywordOf(tokens[start]) === "SELECT") cores.push(parseCore(tokens, start, i));
    compound ||= i < tokens.length;
    start = keywordOf(tokens[i + 1]) === "ALL" ? i + 2 : i + 1;
  }
  return { tokens, cteNames, cores, compound };
}

/**
 * Index of the `)` that closes the `(` at `open`.
 *
 * @example
 * ```ts
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { closingParen } from "./statement.ts";
 * closingParen(tokenize("(a (b)) c"), 0); // 5
 * ```
 */
export function closingParen(tokens: readonly Token[], open: number): number {
  const depth = tokens[open].depth;
  for (let i = open + 1; i < tokens.length; i++) {
    if (tokens[i].kind === "close" && tokens[i].depth === depth) return i;
  }
  return tokens.length; // unreachable: the tokenizer checks the balance
}

/**
 * Index of the first token after the WITH clause that starts at `start` (or
 * `start` when there is none there), pushing the lower-cased names it defines
 * onto `names`. Throws a `TypeError` for a malformed WITH clause.
 *
 * @example
 * ```ts
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { skipWith } from "./statement.ts";
 * const names: string[] = [];
 * skipWith(tokenize("WITH a AS (SELECT 1) SELECT * FROM a"), "", names, 0); // 6
 * names; // ["a"]
 * ```
 */
export function skipWith(
  tokens: readonly Token[],
  sql: string,
  names: string[],
  start: number,
): number {
  if (keywordOf(tokens[start]) !== "WITH") return start;
  let i = start + 1;
  const next = tokens[i + 1];
  if (keywordOf(tokens[i]) === "RECURSIVE" && keywordOf(next) !== "AS" && next?.kind !== "open") {
    i++;
  }
  for (;;) {
    const name = nameOf(tokens[i]);
    if (name === undefined) throw new TypeError(`Cannot scope SQL ${quote(sql)}: malformed WITH`);
    names.push(name.toLowerCase());
    i++;
    if (tokens[i]?.kind === "open") i = closingParen(tokens, i) + 1;
    if (keywordOf(tokens[i]) !== "AS") {
      throw new TypeError(`Cannot scope SQL ${quote(sql)}: malformed WITH, expected AS`);
    }
    i++;
    if (keywordOf(tokens[i]) === "NOT") i++;
    if (keywordOf(tokens[i]) === "MATERIALIZED") i++;
    if (tokens[i]?.kind !== "open") {
      throw new TypeError(`Cannot scope SQL ${quote(sql)}: malformed WITH, expected "("`);
    }
    i = closingParen(tokens, i) + 1;
    if (tokens[i]?.kind !== "comma") return i;
    i++;
  }
}

/**
 * The SELECT core whose `SELECT` keyword is `tokens[select]`, at any depth:
 * a subquery, a CTE body or an arm of a compound. It ends before the `)` that
 * closes its parentheses, or before a compound operator at its own depth.
 *
 * @example
 * ```ts
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { coreAt } from "./statement.ts";
 * coreAt(tokenize("SELECT (SELECT x FROM t WHERE y) FROM u"), 2);
 * // { select: 2, from: 4, where: 6, tail: 8 }
 * ```
 */
export function coreAt(tokens: readonly Token[], select: number): SelectCore {
  const depth = tokens[select].depth;
  let end = select + 1;
  while (end < tokens.length) {
    const token = tokens[end];
    if (token.depth < depth) break;
    if (token.depth === depth && COMPOUND.has(keywordOf(token) ?? "")) break;
    end++;
  }
  return parseCore(tokens, select, end);
}

function parseCore(tokens: readonly Token[], select: number, end: number): SelectCore {
  const depth = tokens[select].depth;
  let from: number | undefined;
  let where: number | undefined;
  for (let i = select + 1; i < end; i++) {
    if (tokens[i].depth !== depth) continue;
    const word = keywordOf(tokens[i]);
    if (
      word === "FROM" && from === undefined && where === undefined && !isDistinctFrom(tokens, i)
    ) {
      from = i;
    } else if (word === "WHERE" && where === undefined) {
      where = i;
    } else if (AFTER_WHERE.has(word ?? "") && (word !== "WINDOW" || isWindowClause(tokens, i))) {
      return { select, from, where, tail: i };
    }
  }
  return { select, from, where, tail: end };
}

/** `x IS [NOT] DISTINCT FROM y` is an operator, not a FROM clause. */
function isDistinctFrom(tokens: readonly Token[], from: number): boolean {
  if (keywordOf(tokens[from - 1]) !== "DISTINCT") return false;
  const before = keywordOf(tokens[from - 2]);
  return before === "IS" || before === "NOT";
}

/**
 * As in SQLite, `WINDOW` at `at` is a keyword only in `WINDOW name AS`;
 * elsewhere it may be a name.
 *
 * @example
 * ```ts
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { isWindowClause } from "./statement.ts";
 * isWindowClause(tokenize("WINDOW w AS (ORDER BY id)"), 0); // true
 * ```
 */
export function isWindowClause(tokens: readonly Token[], at: number): boolean {
  return nameOf(tokens[at + 1]) !== undefined && keywordOf(tokens[at + 2]) === "AS";
}
