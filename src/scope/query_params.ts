/**
 * Checks a query's own parameters before {@linkcode scopedQuery} adds the
 * menace id among them, and refuses the mixes it could not place correctly.
 *
 * @module
 */
import { quote } from "../sql/quote.ts";
import type { Token } from "../sql/tokenizer.ts";
import type { SqlParam } from "./values.ts";

/**
 * Name of the parameter that carries the menace id in a query with named
 * parameters: `:__scope_menace_id`.
 *
 * @example
 * ```ts
 * import { SCOPE_PARAM } from "./query_params.ts";
 * const key = `:${SCOPE_PARAM}`; // ":__scope_menace_id"
 * ```
 */
export const SCOPE_PARAM = "__scope_menace_id";

/** A copy of the caller's parameters and their style. */
export type CheckedParams =
  | { readonly named: false; readonly params: SqlParam[] }
  | { readonly named: true; readonly params: Record<string, SqlParam> };

/**
 * Copies `params` after checking them against the placeholders in `tokens`.
 * An array must hold one value per `?`. When `inserting` (the scope adds a
 * condition), numbered `?NNN` placeholders, named placeholders with an array,
 * `?` with an object, and a collision with {@linkcode SCOPE_PARAM} throw a
 * `TypeError`.
 *
 * @example
 * ```ts
 * import { tokenize } from "../sql/tokenizer.ts";
 * import { checkParams } from "./query_params.ts";
 * const sql = "SELECT * FROM bots LIMIT ?";
 * checkParams(sql, tokenize(sql), [5], true); // { named: false, params: [5] }
 * ```
 */
export function checkParams(
  sql: string,
  tokens: readonly Token[],
  params: unknown,
  inserting: boolean,
): CheckedParams {
  const marks = tokens.filter((t) => t.kind === "param");
  const positional = marks.filter((t) => t.text === "?");
  const numbered = marks.find((t) => /^\?\d/.test(t.text));
  const named = marks.filter((t) => !t.text.startsWith("?"));
  if (Array.isArray(params)) {
    if (inserting && numbered !== undefined) {
      throw refuse(sql, `it uses the numbered parameter "${numbered.text}"; use ? or named ones`);
    }
    if (inserting && named.length > 0) {
      throw refuse(sql, `it uses the named parameter "${named[0].text}"; pass params as an object`);
    }
    if (numbered === undefined && named.length === 0 && params.length !== positional.length) {
      throw new RangeError(
        `Invalid params for ${
          quote(sql)
        }: expected ${positional.length} values, got ${params.length}`,
      );
    }
    return { named: false, params: [...params] };
  }
  if (typeof params !== "object" || params === null) {
    throw new TypeError(`Invalid params ${String(params)}: expected an array or an object`);
  }
  if (inserting && (positional.length > 0 || numbered !== undefined)) {
    const found = numbered ?? positional[0];
    throw refuse(sql, `it uses the positional parameter "${found.text}"; pass params as an array`);
  }
  const keys = Object.keys(params).map((key) => key.replace(/^[:@$]/, ""));
  if (
    inserting && (keys.includes(SCOPE_PARAM) || named.some((t) => t.text.slice(1) === SCOPE_PARAM))
  ) {
    throw refuse(sql, `the parameter name "${SCOPE_PARAM}" is reserved for the menace id`);
  }
  return { named: true, params: { ...(params as Record<string, SqlParam>) } };
}

function refuse(sql: string, reason: string): TypeError {
  return new TypeError(`Cannot scope ${quote(sql)}: ${reason}`);
}
