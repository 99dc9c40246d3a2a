/**
 * Statement parameters for remote engines, which bind by position only (D1
 * takes `?` and `?NNN`, and libSQL's clients differ in how they name
 * parameters): named parameters become `?NNN`, one number per name, so the
 * same call means the same thing on every backend. Values are checked as for
 * sql.js and converted to what the engine binds exactly.
 *
 * @module
 */
import {
  castToInteger,
  mixedParamsError,
  type Params,
  type SqlParam,
  toBindParams,
} from "../engine/params.ts";
import { tokenize } from "../sql/tokenizer.ts";

/**
 * A value as a remote engine (libSQL, D1) binds it.
 *
 * @example
 * ```ts
 * import type { RemoteArg } from "./sql_args.ts";
 * const args: RemoteArg[] = ["bots", 1, 2n, new Uint8Array(1), null];
 * ```
 */
export type RemoteArg = string | number | bigint | Uint8Array | ArrayBuffer | null;

/** How an engine binds the values it cannot take as they are. */
export interface ArgPolicy {
  /**
   * `"exact"`: bigints are bound as 64-bit integers, and whole numbers become
   * bigints; `"number"`: only safe integers, as numbers, and whole numbers are
   * cast to INTEGER in the SQL.
   */
  readonly bigint: "exact" | "number";
  /** The engine's name, for messages. */
  readonly engine: string;
}

/** A statement ready for a remote engine: positional SQL and its values. */
export interface RemoteStatement {
  sql: string;
  args: RemoteArg[];
}

interface Rewrite {
  sql: string;
  names: string[];
}

const MAX_CACHED = 500;
const rewrites = new Map<string, Rewrite>();

/**
 * Turns `sql` and `params` into positional SQL and values: an array binds as
 * it is; an object's names (`:a`, `@a`, `$a`; keys with or without the
 * prefix) become `?1`, `?2`... in order of first use. Booleans bind as 1/0.
 * Throws a `TypeError` for a bad value or a mix of `?` and names, and a
 * `RangeError` for a bigint the engine cannot hold and for a parameter
 * without a value or a value without a parameter (as `toBindParams`).
 *
 * @example
 * ```ts
 * import { toRemoteStatement } from "./sql_args.ts";
 * toRemoteStatement("SELECT :a, @b, :a", { a: "x", b: null }, { bigint: "number", engine: "D1" });
 * // { sql: "SELECT ?1, ?2, ?1", args: ["x", null] }
 * ```
 */
export function toRemoteStatement(
  sql: string,
  params: Params | undefined,
  policy: ArgPolicy,
): RemoteStatement {
  if (params === undefined) {
    toBindParams(sql, params);
    return { sql, args: [] };
  }
  if (Array.isArray(params)) {
    toBindParams(sql, params);
    return integers({ sql, args: params.map((value: SqlParam) => toArg(value, policy)) }, policy);
  }
  toBindParams(sql, params);
  const named = params as Readonly<Record<string, SqlParam>>;
  const rewrite = rewriteNamed(sql);
  // Looked up by the names the tokenizer found, so a ":a" inside a comment or string cannot
  // take the value of an "@a" in the statement; toBindParams refused a name without a value.
  const args = rewrite.names.map((name) =>
    toArg(Object.hasOwn(named, name) ? named[name] : named[name.slice(1)], policy)
  );
  return integers({ sql: rewrite.sql, args }, policy);
}

/**
 * Whole numbers as INTEGER, as sql.js binds them: both engines bind a
 * JavaScript number as a REAL (`SELECT 7 / ?` with 2 would give 3.5, and
 * `? || ''` with 5 "5.0"). An engine that binds bigints exactly gets one
 * (libSQL); D1, which takes no bigints, gets `CAST(? AS INTEGER)` around the
 * parameter. Beyond 2^53 a number is not exact, and stays a REAL.
 */
function integers(statement: RemoteStatement, policy: ArgPolicy): RemoteStatement {
  const { args } = statement;
  if (policy.bigint === "exact") {
    for (let i = 0; i < args.length; i++) {
      if (Number.isSafeInteger(args[i])) args[i] = BigInt(args[i] as number);
    }
    return statement;
  }
  if (!args.some(Number.isSafeInteger)) return statement;
  return {
    sql: castToInteger(statement.sql, (slot) => Number.isSafeInteger(args[slot - 1])),
    args,
  };
}

/** One value as the engine binds it. */
function toArg(value: SqlParam, policy: ArgPolicy): RemoteArg {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value !== "bigint" || policy.bigint === "exact") return value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(
      `Invalid parameter ${value}n: ${policy.engine} binds integers as JavaScript numbers, exact only up to 2^53 - 1`,
    );
  }
  return Number(value);
}

/** `sql` with each named parameter replaced by `?N`; cached, since callers repeat statements. */
function rewriteNamed(sql: string): Rewrite {
  let rewrite = rewrites.get(sql);
  if (rewrite !== undefined) return rewrite;
  const names: string[] = [];
  let text = "";
  let from = 0;
  for (const token of tokenize(sql)) {
    if (token.kind !== "param") continue;
    if (token.text.startsWith("?")) throw mixedParamsError(sql);
    let index = names.indexOf(token.text);
    if (index === -1) index = names.push(token.text) - 1;
    text += `${sql.slice(from, token.start)}?${index + 1}`;
    from = token.end;
  }
  rewrite = { sql: text + sql.slice(from), names };
  if (rewrites.size >= MAX_CACHED) rewrites.clear();
  rewrites.set(sql, rewrite);
  return rewrite;
}
