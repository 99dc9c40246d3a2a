/**
 * The tables a FROM clause reads, with their aliases, so that a scope
 * condition names the table the way the query does (`FROM bots AS b` -> `"b"`).
 *
 * @module
 */
import { quoteIdentifier } from "../routing/identifier.ts";
import { closingParen, isWindowClause } from "./statement.ts";
import { keywordOf, nameOf } from "../sql/tokenizer.ts";
import type { Token } from "../sql/tokenizer.ts";

/** One table named in a FROM clause (subqueries and table-valued functions are not tables). */
export interface TableRef {
  /** The table name, without quotes or schema. */
  readonly table: string;
  /** The schema name when written as `schema.table`. */
  readonly schema: string | undefined;
  /** The alias, without quotes, if any. */
  readonly alias: string | undefined;
  /** `true` on the optional side of an outer join (`LEFT`, `RIGHT`, `FULL`). */
  readonly nullable: boolean;
  /** Token index of the table name. */
  readonly at: number;
  /**
   * The token range `[start, end)` of the ON condition where a filter on this
   * table is the same as filtering the table before the join: for a table on
   * the right of `LEFT JOIN ... ON` (itself, or inside a parenthesised join
   * group whose own joins keep all its rows), that ON; for a table in the
   * left operand of `RIGHT JOIN ... ON` that was not already optional, that
   * ON. `undefined` elsewhere.
   */
  readonly filterOn?: readonly [start: number, end: number];
}

const JOIN_WORDS = new Set(["NATURAL", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "OUTER", "JOIN"]);
const NOT_ALIAS = new Set([
  ...JOIN_WORDS,
  ...["ON", "USING", "INDEXED", "NOT", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT"],
  ...["UNION", "INTERSECT", "EXCEPT", "RETURNING"],
]);
const SUBQUERY = new Set(["SELECT", "WITH", "VALUES"]);

/**
 * The tables read by the FROM clause held in `tokens[start..end)`, including
 * those of parenthesised joins, but not those of subqueries.
 *
 * @example
 * ```ts
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { tableRefs } from "./table_refs.ts";
 * const tokens = tokenize("bots b LEFT JOIN code c ON c.id = b.id");
 * tableRefs(tokens, 0, tokens.length).map((r) => [r.alias, r.nullable]);
 * // [["b", false], ["c", true]]
 * ```
 */
export function tableRefs(tokens: readonly Token[], start: number, end: number): TableRef[] {
  const refs: TableRef[] = [];
  const depth = tokens[start]?.depth ?? 0;
  let join = "";
  let i = start;
  while (i < end) {
    let found: TableRef[] = [];
    let group = false;
    if (tokens[i].kind === "open") {
      const close = closingParen(tokens, i);
      group = !SUBQUERY.has(keywordOf(tokens[i + 1]) ?? "");
      if (group) found = tableRefs(tokens, i + 1, close);
      i = close + 1;
    } else {
      const first = nameOf(tokens[i]);
      if (first === undefined) {
        throw new TypeError(`Cannot read FROM clause: unexpected "${tokens[i].text}"`);
      }
      let schema: string | undefined;
      let table = first;
      i++;
      if (tokens[i]?.kind === "dot" && nameOf(tokens[i + 1]) !== undefined) {
        [schema, table] = [first, nameOf(tokens[i + 1])!];
        i += 2;
      }
      const at = i - 1;
      if (tokens[i]?.kind === "open") i = closingParen(tokens, i) + 1; // table-valued function
      else found = [{ table, schema, alias: undefined, nullable: false, at }];
    }
    const [alias, next] = aliasAt(tokens, i, end);
    i = next;
    const optional = /\b(LEFT|FULL)\b/.test(join);
    // Skip ON, USING and INDEXED BY up to the next item, noting where ON begins.
    let on: number | undefined;
    // After a dot, LEFT or RIGHT is a column name (`b.left`), not a join.
    while (
      i < end &&
      !(tokens[i].depth === depth && isSeparator(tokens[i]) && tokens[i - 1]?.kind !== "dot")
    ) {
      if (tokens[i].depth === depth && keywordOf(tokens[i]) === "ON" && on === undefined) on = i;
      i++;
    }
    const span = on !== undefined && on + 1 < i ? [on + 1, i] as const : undefined;
    const leftSpan = /\bLEFT\b/.test(join) ? span : undefined;
    // The tables of a join group keep their own names, even when the group has an alias.
    for (const ref of found) {
      // A table with an ON of its own keeps it; one that the group's inner joins and LEFT JOIN
      // left sides keep whole (not nullable there) can be filtered in the group's ON: the
      // filter commutes with those joins. One made nullable inside the group cannot.
      const filterOn = ref.filterOn ?? (ref.nullable ? undefined : leftSpan);
      refs.push({
        ...ref,
        alias: group ? ref.alias : alias,
        nullable: ref.nullable || optional,
        filterOn,
      });
    }
    if (/\b(RIGHT|FULL)\b/.test(join)) {
      // Everything before a RIGHT JOIN is its optional left operand: a table kept whole there
      // can be filtered in this ON. A FULL JOIN keeps unmatched rows of both sides: no ON can.
      const right = /\bFULL\b/.test(join) ? undefined : span;
      const before = refs.length - found.length;
      for (let k = 0; k < before; k++) {
        const ref = refs[k];
        refs[k] = {
          ...ref,
          nullable: true,
          filterOn: ref.filterOn ?? (ref.nullable ? undefined : right),
        };
      }
    }
    join = "";
    if (tokens[i]?.kind === "comma") i++;
    while (i < end && JOIN_WORDS.has(keywordOf(tokens[i]) ?? "")) {
      join += ` ${keywordOf(tokens[i++])}`;
    }
  }
  return refs;
}

/**
 * How a condition names the table of `ref`: its alias if it has one, else the
 * validated `table`, quoted.
 *
 * @example
 * ```ts
 * import { qualifierOf } from "./table_refs.ts";
 * qualifierOf({ table: "bots", schema: undefined, alias: "b", nullable: false, at: 0 }, "bots");
 * // '"b"'
 * ```
 */
export function qualifierOf(ref: TableRef, table: string): string {
  if (ref.alias === undefined) return quoteIdentifier(table, "table name");
  return `"${ref.alias.replaceAll('"', '""')}"`;
}

function isSeparator(token: Token): boolean {
  return token.kind === "comma" || JOIN_WORDS.has(keywordOf(token) ?? "");
}

/** The alias at `i`, if there is one, and the index after it. */
function aliasAt(tokens: readonly Token[], i: number, end: number): [string | undefined, number] {
  if (i >= end) return [undefined, i];
  const token = tokens[i];
  if (keywordOf(token) === "AS") return [nameOf(tokens[i + 1]), i + 2];
  if (token.kind === "quoted" || token.kind === "string") return [nameOf(token), i + 1];
  const word = keywordOf(token);
  if (word === undefined || NOT_ALIAS.has(word)) return [undefined, i];
  if (word === "WINDOW" && isWindowClause(tokens, i)) return [undefined, i];
  return [token.text, i + 1];
}
