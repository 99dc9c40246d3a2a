/**
 * Statement parameters as callers pass them, turned into what sql.js binds.
 *
 * @module
 */
import type { SqlJsBindParams } from "./sqljs_types.ts";

/** A value that may be bound to a parameter. */
export type SqlParam = string | number | bigint | boolean | Uint8Array | null;

/**
 * Parameters of a statement: an array for `?` placeholders, or an object for
 * named ones (`:name`, `@name`, `$name`); object keys may include the prefix
 * or leave it out.
 */
export type Params = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;

const PREFIXES = [":", "@", "$"] as const;

/**
 * Checks every value and returns parameters in sql.js's form (sql.js binds
 * booleans as 0 or 1 itself); object keys gain the prefix that `sql` uses for
 * them. `undefined`, functions and other objects throw a `TypeError` naming
 * the parameter, because binding them silently would store the wrong value.
 * Arrays are checked in place, not copied: this runs on every query.
 */
export function toBindParams(sql: string, params: Params | undefined): SqlJsBindParams | undefined {
  if (params === undefined) return undefined;
  if (Array.isArray(params)) {
    for (let i = 0; i < params.length; i++) {
      const type = typeof params[i];
      if (type !== "number" && type !== "string") checkValue(params[i], `parameter ${i + 1}`);
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
    const name = PREFIXES.some((p) => key.startsWith(p)) ? key : prefixed(sql, key);
    bound[name] = checkValue(value, `parameter "${key}"`);
  }
  return bound;
}

function prefixed(sql: string, key: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(key)) {
    throw new TypeError(`Invalid parameter name "${key}": use letters, digits and _`);
  }
  for (const prefix of PREFIXES) {
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
