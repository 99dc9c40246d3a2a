/**
 * Where a scope condition goes in a SELECT core, as text edits: into the
 * WHERE clause, before `GROUP BY`, `ORDER BY`, `LIMIT` or a compound operator.
 *
 * @module
 */
import { quote } from "../sql/quote.ts";
import type { ParsedSelect, SelectCore } from "./statement.ts";
import type { Token } from "../sql/tokenizer.ts";

/** Insert `text` at offset `at` of the original SQL. */
export interface Edit {
  /** Offset in the original SQL. */
  readonly at: number;
  /** Text to insert there. */
  readonly text: string;
}

/** The edits that add a condition to one SELECT core. */
export interface Placement {
  /** Insertions, in ascending order of offset. */
  readonly edits: readonly Edit[];
  /** Offset where the condition lands: placeholders before it precede the condition's own. */
  readonly at: number;
}

/**
 * Edits that AND `condition` into the WHERE clause of `core`, or add a WHERE
 * clause after its FROM clause. An existing condition is wrapped in
 * parentheses, so that `WHERE a OR b` becomes `WHERE (a OR b) AND condition`
 * and cannot let other rows through. Throws a `TypeError` for a core without
 * FROM and for an empty WHERE.
 *
 * @example
 * ```ts
 * import { parseSelect } from "./statement.ts";
 * import { applyEdits, placeCondition } from "./placement.ts";
 * const sql = "SELECT * FROM t WHERE a OR b LIMIT 1";
 * const parsed = parseSelect(sql);
 * const { edits } = placeCondition(sql, parsed, parsed.cores[0], "c = 1");
 * applyEdits(sql, edits); // "SELECT * FROM t WHERE (a OR b) AND c = 1 LIMIT 1"
 * ```
 */
export function placeCondition(
  sql: string,
  parsed: ParsedSelect,
  core: SelectCore,
  condition: string,
): Placement {
  const { tokens } = parsed;
  if (core.from === undefined) {
    throw new TypeError(`Cannot scope SQL ${quote(sql)}: the SELECT has no FROM clause`);
  }
  if (core.where === undefined) {
    const at = tokens[core.tail - 1].end;
    return { edits: [{ at, text: ` WHERE ${condition}` }], at };
  }
  if (core.where + 1 >= core.tail) {
    throw new TypeError(`Cannot scope SQL ${quote(sql)}: its WHERE clause is empty`);
  }
  const at = tokens[core.tail - 1].end;
  const edits = [
    { at: tokens[core.where + 1].start, text: "(" },
    { at, text: `) AND ${condition}` },
  ];
  return { edits, at };
}

/**
 * Edits that AND `condition` into the ON condition held in `tokens[start..end)`:
 * `ON (<condition>) AND <added>`.
 *
 * @example
 * ```ts
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { applyEdits, placeInOn } from "./placement.ts";
 * const sql = "SELECT * FROM a LEFT JOIN b ON a.id = b.id OR 1";
 * const { edits } = placeInOn(tokenize(sql), [8, 17], "b.x = 1");
 * applyEdits(sql, edits); // "SELECT * FROM a LEFT JOIN b ON (a.id = b.id OR 1) AND b.x = 1"
 * ```
 */
export function placeInOn(
  tokens: readonly Token[],
  [start, end]: readonly [number, number],
  condition: string,
): Placement {
  const at = tokens[end - 1].end;
  return {
    edits: [{ at: tokens[start].start, text: "(" }, { at, text: `) AND ${condition}` }],
    at,
  };
}

/**
 * Applies insertions to `sql`; everything else, comments included, is kept
 * byte for byte.
 *
 * @example
 * ```ts
 * import { applyEdits } from "./placement.ts";
 * applyEdits("SELECT 1", [{ at: 6, text: " DISTINCT" }]); // "SELECT DISTINCT 1"
 * ```
 */
export function applyEdits(sql: string, edits: readonly Edit[]): string {
  const ordered = [...edits].sort((a, b) => a.at - b.at);
  let out = "";
  let last = 0;
  for (const edit of ordered) {
    out += sql.slice(last, edit.at) + edit.text;
    last = edit.at;
  }
  return out + sql.slice(last);
}
