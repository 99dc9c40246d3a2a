/**
 * Every reference to one table in a SELECT statement, wherever it is: the
 * main SELECT, each arm of a compound, subqueries in the select list, WHERE,
 * HAVING, ON or ORDER BY, derived tables in FROM and JOIN, and CTE bodies.
 * A scope that filters only some of them leaks the rest.
 *
 * @module
 */
import { RouterError } from "../errors.ts";
import { quote } from "../sql/quote.ts";
import { coreAt, skipWith } from "./statement.ts";
import type { ParsedSelect, SelectCore } from "./statement.ts";
import { tableRefs } from "./table_refs.ts";
import type { TableRef } from "./table_refs.ts";
import { keywordOf, nameOf } from "../sql/tokenizer.ts";
import type { Token } from "../sql/tokenizer.ts";

/** One SELECT core, at any depth, and the references to the table in its FROM clause. */
export interface CoreRefs {
  /** The core; its token indexes point into the statement's tokens. */
  readonly core: SelectCore;
  /** The references to the table in the core's FROM clause and JOINs, in order. */
  readonly refs: readonly TableRef[];
}

/** Where a WITH clause's names are visible: its CTE bodies and the statement it prefixes. */
interface CteExtent {
  readonly names: readonly string[];
  readonly start: number;
  readonly end: number;
}

/**
 * Every SELECT core of `parsed`, at any depth, that reads `table`, with the
 * references to it. A `SELECT` keyword always starts a core (it cannot be a
 * name), so no subquery, CTE body or compound arm is missed.
 *
 * Names compare as SQLite compares them, ignoring ASCII case only. A
 * reference with a schema (`main.bots`, `"main"."bots"`) is always the
 * table; one without is the table unless a WITH clause whose extent holds it
 * defines that name (SQLite makes a CTE name visible in every body of its WITH
 * clause and in the statement after it, not only after its definition).
 *
 * Throws a `TypeError` when no core reads the table (unless `required` is
 * `false`: then the result is empty), and a
 * {@linkcode RouterError} `SCOPE_REFUSED` for `x IN bots`, the one other way
 * SQL reads a table's rows, which would otherwise escape the filter.
 *
 * @example
 * ```ts
 * import { parseSelect } from "./statement.ts";
 * import { findReferences } from "./references.ts";
 * const sql = "SELECT *, (SELECT count(*) FROM bots) FROM bots b";
 * findReferences(sql, parseSelect(sql), "bots").map((c) => c.refs[0].alias); // [undefined, "b"]
 * ```
 */
export function findReferences(
  sql: string,
  parsed: ParsedSelect,
  table: string,
  required = true,
): CoreRefs[] {
  const { tokens } = parsed;
  const wanted = asciiLower(table);
  const extents = cteExtents(sql, tokens).filter((extent) => extent.names.includes(wanted));
  const isTable = (schema: string | undefined, name: string, at: number): boolean =>
    asciiLower(name) === wanted &&
    (schema !== undefined || !extents.some((e) => e.start <= at && at < e.end));

  const found: CoreRefs[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const word = keywordOf(tokens[i]);
    if (word === "IN") refuseInTable(sql, tokens, i, table, isTable);
    if (word !== "SELECT") continue;
    const core = coreAt(tokens, i);
    if (core.from === undefined) continue;
    const refs = tableRefs(tokens, core.from + 1, core.where ?? core.tail)
      .filter((ref) => isTable(ref.schema, ref.table, ref.at));
    if (refs.length > 0) found.push({ core, refs });
  }
  if (found.length === 0 && required) {
    throw new TypeError(
      `Cannot scope table "${table}" in ${quote(sql)}: the statement does not read it ` +
        `in any FROM clause`,
    );
  }
  return found;
}

/**
 * The names of the tables that the FROM clauses of `parsed` read, anywhere in
 * the statement, lower-cased (ASCII only) and without schema; names that are
 * CTEs where they appear are left out.
 *
 * @example
 * ```ts
 * import { parseSelect } from "./statement.ts";
 * import { tablesRead } from "./references.ts";
 * const sql = "WITH c AS (SELECT 1) SELECT * FROM Bots WHERE id IN (SELECT id FROM main.code, c)";
 * tablesRead(sql, parseSelect(sql)); // ["bots", "code"]
 * ```
 */
export function tablesRead(sql: string, parsed: ParsedSelect): string[] {
  const { tokens } = parsed;
  const extents = cteExtents(sql, tokens);
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (keywordOf(tokens[i]) !== "SELECT") continue;
    const core = coreAt(tokens, i);
    if (core.from === undefined) continue;
    for (const ref of tableRefs(tokens, core.from + 1, core.where ?? core.tail)) {
      const name = asciiLower(ref.table);
      const isCte = ref.schema === undefined &&
        extents.some((e) => e.names.includes(name) && e.start <= ref.at && ref.at < e.end);
      if (!isCte) names.add(name);
    }
  }
  return [...names];
}

/**
 * The SQL text of `core`, quoted for an error message that names the part of
 * the statement it refuses.
 *
 * @example
 * ```ts
 * import { coreAt } from "./statement.ts";
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { coreText } from "./references.ts";
 * const sql = "SELECT (SELECT 1 FROM t) FROM u";
 * const tokens = tokenize(sql);
 * coreText(sql, tokens, coreAt(tokens, 2)); // '"SELECT 1 FROM t"'
 * ```
 */
export function coreText(sql: string, tokens: readonly Token[], core: SelectCore): string {
  return quote(sql.slice(tokens[core.select].start, tokens[core.tail - 1].end));
}

/** Lower-cases ASCII letters only, as SQLite does when it compares names. */
function asciiLower(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Every WITH clause, at any depth, with its names and the token range they are visible in. */
function cteExtents(sql: string, tokens: readonly Token[]): CteExtent[] {
  const extents: CteExtent[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (keywordOf(tokens[i]) !== "WITH") continue;
    const names: string[] = [];
    skipWith(tokens, sql, names, i);
    const depth = tokens[i].depth;
    let end = i + 1;
    while (end < tokens.length && tokens[end].depth >= depth) end++;
    extents.push({ names: names.map(asciiLower), start: i, end });
  }
  return extents;
}

/** `x IN bots` reads the table's rows without a FROM clause to filter: refuse it. */
function refuseInTable(
  sql: string,
  tokens: readonly Token[],
  i: number,
  table: string,
  isTable: (schema: string | undefined, name: string, at: number) => boolean,
): void {
  const first = nameOf(tokens[i + 1]);
  if (first === undefined) return; // IN (...)
  const qualified = tokens[i + 2]?.kind === "dot" && nameOf(tokens[i + 3]) !== undefined;
  const [schema, name, after] = qualified
    ? [first, nameOf(tokens[i + 3])!, i + 4]
    : [undefined, first, i + 2];
  if (tokens[after]?.kind === "open") return; // a table-valued function
  if (!isTable(schema, name, i + 1)) return;
  throw new RouterError(
    "SCOPE_REFUSED",
    `Cannot scope table "${table}" in ${quote(sql)}: "IN ${
      sql.slice(tokens[i + 1].start, tokens[after - 1].end)
    }" reads the table without a FROM clause to filter; write IN (SELECT column FROM ${table})`,
  );
}
