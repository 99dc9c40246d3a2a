/**
 * Statement parameters as callers pass them, turned into what sql.js binds.
 *
 * @module
 */
import { quote } from "../sql/quote.ts";
import { tokenize } from "../sql/tokenizer.ts";
import type { Params } from "../sql/params.ts";
import type { SqlJsBindParams } from "./sqljs_types.ts";

export type { Params, SqlParam } from "../sql/params.ts";

const PREFIXES = [":", "@", "$"] as const;

/**
 * Checks every value and returns parameters in sql.js's form (sql.js binds
 * booleans as 0 or 1 itself); object keys gain the prefix that `sql` uses for
 * them. `undefined`, functions and other objects throw a `TypeError` naming
 * the parameter, because binding them silently would store the wrong value.
 * A value missing for a parameter of `sql` (too few in an array, a name the
 * object lacks, or no parameters at all), or one too many, throws a
 * `RangeError` naming it: SQLite would bind NULL, or fail with a message that
 * names neither. Arrays are checked in place, not copied: this runs on every
 * query.
 *
 * @example
 * ```ts
 * import { toBindParams } from "./params.ts";
 * toBindParams("SELECT :a, @b", { a: 1, "@b": true }); // { ":a": 1, "@b": true }
 * toBindParams("SELECT ?, ?", [1]); // throws a RangeError: no value for parameter 2
 * ```
 */
export function toBindParams(sql: string, params: Params | undefined): SqlJsBindParams | undefined {
  const slots = slotsOf(sql);
  if (params === undefined) {
    if (slots !== undefined && slots.count > 0) throw missing(sql, slots, 1, 0);
    return undefined;
  }
  if (Array.isArray(params)) {
    for (let i = 0; i < params.length; i++) {
      const type = typeof params[i];
      if (type !== "number" && type !== "string") checkValue(params[i], `parameter ${i + 1}`);
    }
    if (slots !== undefined && params.length !== slots.count) {
      if (params.length < slots.count) throw missing(sql, slots, params.length + 1, params.length);
      throw new RangeError(
        `Invalid parameters for ${quote(sql)}: ${params.length} values given, the statement takes ${
          slots.count === 0 ? "none" : slots.count
        }`,
      );
    }
    return params;
  }
  if (typeof params !== "object" || params === null) {
    throw new TypeError(
      `Invalid parameters ${String(params)}: expected an array or an object of named values`,
    );
  }
  const bound: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    const name = PREFIXES.some((p) => key.startsWith(p))
      ? known(sql, slots, key)
      : prefixed(sql, slots, key);
    bound[name] = checkValue(value, `parameter "${key}"`);
  }
  if (slots === undefined) return bound;
  if (slots.positional !== undefined) {
    if (slots.names.size > 0) throw mixedParamsError(sql);
    throw new RangeError(
      `Invalid parameters for ${
        quote(sql)
      }: no value for parameter 1 ("${slots.positional}"), which takes its value from an array, not an object`,
    );
  }
  for (const name of slots.names.keys()) {
    if (name in bound) continue;
    // A key without its prefix names every parameter spelled so: ":a" and "@a" alike.
    const bare = name.slice(1);
    if (!Object.hasOwn(params, bare)) {
      throw new RangeError(`Invalid parameters for ${quote(sql)}: no value for "${name}"`);
    }
    bound[name] = (params as Record<string, unknown>)[bare];
  }
  return bound;
}

/**
 * The error for a statement that mixes `?` with named parameters, which an
 * object of values cannot bind.
 *
 * @example
 * ```ts
 * import { mixedParamsError } from "./params.ts";
 * mixedParamsError("SELECT ?, :a").message; // 'Invalid parameters for "SELECT ?, :a": it mixes ...'
 * ```
 */
export function mixedParamsError(sql: string): TypeError {
  return new TypeError(
    `Invalid parameters for ${quote(sql)}: it mixes "?" with named parameters; use one style`,
  );
}

/**
 * `sql` with each parameter that `bind` gives a whole number beyond ±2^31 (up
 * to 2^53) wrapped in `CAST(... AS INTEGER)`: sql.js binds such a number as a
 * REAL, the other backends as an INTEGER (`typeof()`, division and `||`
 * tell them apart). `sql` itself, at the cost of a look at each value, when
 * there is none.
 *
 * @example
 * ```ts
 * import { withIntegerCasts } from "./params.ts";
 * withIntegerCasts("SELECT ?, ?", [2 ** 40, 1.5]); // "SELECT CAST(? AS INTEGER), ?"
 * ```
 */
export function withIntegerCasts(sql: string, bind: SqlJsBindParams | undefined): string {
  if (bind === undefined) return sql;
  if (Array.isArray(bind)) {
    // No closure here: a captured variable would cost an allocation on every query.
    for (let i = 0; i < bind.length; i++) if (isWideInteger(bind[i])) return castArray(sql, bind);
    return sql;
  }
  return castNamed(sql, bind as Record<string, unknown>);
}

function castArray(sql: string, bind: readonly unknown[]): string {
  return castToInteger(sql, (slot) => isWideInteger(bind[slot - 1]));
}

function castNamed(sql: string, named: Record<string, unknown>): string {
  if (!Object.values(named).some(isWideInteger)) return sql;
  return castToInteger(sql, (_, text) => isWideInteger(named[text]));
}

/** A whole number that sql.js binds as a REAL: beyond 32 bits, exact in a double. */
function isWideInteger(value: unknown): boolean {
  return typeof value === "number" && value !== (value | 0) && Number.isSafeInteger(value);
}

/**
 * `sql` with each parameter for which `cast(number, text)` holds (its number
 * as SQLite counts them, and its text: `?`, `?2`, `:a`) wrapped in
 * `CAST(... AS INTEGER)`. A parameter is an expression wherever SQLite takes
 * one, and so is the cast.
 *
 * @example
 * ```ts
 * import { castToInteger } from "./params.ts";
 * castToInteger("SELECT ?1, ?2, ?1", (slot) => slot === 1); // "SELECT CAST(?1 AS INTEGER), ?2, CAST(?1 AS INTEGER)"
 * ```
 */
export function castToInteger(
  sql: string,
  cast: (slot: number, text: string) => boolean,
): string {
  let text = "";
  let from = 0;
  let count = 0;
  const names = new Map<string, number>();
  for (const token of tokenize(sql)) {
    if (token.kind !== "param") continue;
    let slot: number;
    if (token.text === "?") slot = ++count;
    else if (token.text.startsWith("?")) {
      count = Math.max(count, slot = Number(token.text.slice(1)));
    } else {
      slot = names.get(token.text) ?? ++count;
      names.set(token.text, slot);
    }
    if (!cast(slot, token.text)) continue;
    text += `${sql.slice(from, token.start)}CAST(${token.text} AS INTEGER)`;
    from = token.end;
  }
  return text + sql.slice(from);
}

/** A statement's parameters as SQLite numbers them. */
interface Slots {
  /** How many values SQLite expects: the highest parameter number. */
  readonly count: number;
  /** Each named parameter (with its prefix) and its number. */
  readonly names: ReadonlyMap<string, number>;
  /** The first `?` or `?NNN`, if any. */
  readonly positional: string | undefined;
}

const MAX_CACHED = 1000;
const slotCache = new Map<string, Slots | null>();

/**
 * The parameters of `sql`, numbered as SQLite does: `?` takes the number after
 * the highest so far, `?NNN` is number NNN, and a name takes the next number
 * at its first use. `undefined` for text the tokenizer cannot read: SQLite
 * then reports its own error.
 */
function slotsOf(sql: string): Slots | undefined {
  let slots = slotCache.get(sql);
  if (slots === undefined) {
    slots = parseSlots(sql);
    if (slotCache.size >= MAX_CACHED) slotCache.clear();
    slotCache.set(sql, slots);
  }
  return slots ?? undefined;
}

function parseSlots(sql: string): Slots | null {
  let tokens;
  try {
    tokens = tokenize(sql);
  } catch {
    return null;
  }
  let count = 0;
  let positional: string | undefined;
  const names = new Map<string, number>();
  for (const token of tokens) {
    if (token.kind !== "param") continue;
    if (token.text === "?") {
      count++;
      positional ??= token.text;
    } else if (token.text.startsWith("?")) {
      count = Math.max(count, Number(token.text.slice(1)));
      positional ??= token.text;
    } else if (!names.has(token.text)) {
      names.set(token.text, ++count);
    }
  }
  return { count, names, positional };
}

function missing(sql: string, slots: Slots, index: number, given: number): RangeError {
  let name = "";
  for (const [text, at] of slots.names) if (at === index) name = ` ("${text}")`;
  return new RangeError(
    `Invalid parameters for ${
      quote(sql)
    }: no value for parameter ${index}${name} (${given} given, the statement takes ${slots.count})`,
  );
}

/** `key` (with its prefix) when the statement has it. */
function known(sql: string, slots: Slots | undefined, key: string): string {
  if (slots === undefined || slots.names.has(key)) return key;
  throw new RangeError(`Invalid parameter "${key}": the statement ${quote(sql)} has no ${key}`);
}

/** The parameter of the statement that `key` (without a prefix) names. */
function prefixed(sql: string, slots: Slots | undefined, key: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(key)) {
    throw new TypeError(`Invalid parameter name "${key}": use letters, digits and _`);
  }
  for (const prefix of PREFIXES) {
    if (slots?.names.has(prefix + key)) return prefix + key;
    if (slots !== undefined) continue;
    if (new RegExp(`\\${prefix}${key}(?![A-Za-z0-9_$])`).test(sql)) return prefix + key;
  }
  throw new RangeError(
    `Invalid parameter "${key}": the statement has no :${key}, @${key} or $${key}`,
  );
}

function checkValue(value: unknown, what: string): unknown {
  switch (typeof value) {
    case "string":
    case "number":
    case "bigint":
      return value;
    case "boolean":
      return value;
    case "object":
      if (value === null || value instanceof Uint8Array) return value;
  }
  const shown = typeof value === "object" ? Object.prototype.toString.call(value) : String(value);
  throw new TypeError(
    `Invalid ${what} ${shown}: expected a string, number, bigint, boolean, Uint8Array or null`,
  );
}
