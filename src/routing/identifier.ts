/**
 * SQL identifiers: the only names the router ever places into SQL text.
 *
 * @module
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest identifier accepted; SQLite has no limit, but a table name this long is a mistake. */
export const MAX_IDENTIFIER_LENGTH = 128;

/**
 * Returns `true` when `name` is a plain SQL identifier: a letter or `_`, then
 * letters, digits or `_`, at most {@linkcode MAX_IDENTIFIER_LENGTH} characters.
 * Names that need quoting (spaces, quotes, dots) are not plain.
 *
 * @example
 * ```ts
 * import { isIdentifier } from "./identifier.ts";
 * isIdentifier("workflow_summaries"); // true
 * isIdentifier("bots; DROP TABLE x"); // false
 * ```
 */
export function isIdentifier(name: unknown): name is string {
  return typeof name === "string" && name.length <= MAX_IDENTIFIER_LENGTH && IDENTIFIER.test(name);
}

/**
 * Throws a `TypeError` naming `what` and the value unless `name` is a plain
 * SQL identifier, and returns it.
 *
 * @example
 * ```ts
 * import { assertIdentifier } from "./identifier.ts";
 * assertIdentifier("bots", "table name"); // "bots"
 * ```
 */
export function assertIdentifier(name: unknown, what: string): string {
  if (!isIdentifier(name)) {
    throw new TypeError(`Invalid ${what} ${JSON.stringify(name)}: ${identifierProblem(name)}`);
  }
  return name;
}

/**
 * Quotes a validated identifier for SQL (`"name"`). Validation comes first, so
 * quoting never has to escape anything.
 *
 * @example
 * ```ts
 * import { quoteIdentifier } from "./identifier.ts";
 * quoteIdentifier("bots"); // '"bots"'
 * ```
 */
export function quoteIdentifier(name: string, what = "identifier"): string {
  return `"${assertIdentifier(name, what)}"`;
}

function identifierProblem(name: unknown): string {
  if (typeof name !== "string") return `expected a string, got ${typeof name}`;
  if (name.length === 0) return "it is empty";
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    return `longer than ${MAX_IDENTIFIER_LENGTH} characters`;
  }
  return "use letters, digits and _ only, not starting with a digit";
}
