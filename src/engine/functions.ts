/**
 * Scalar SQL functions written in JavaScript, such as a cosine similarity for
 * embeddings stored as BLOBs. A function belongs to one sql.js database, and a
 * database is replaced when it is reloaded from storage (catching up with
 * other processes), so the engine keeps the registrations and installs them on
 * every database it loads: see `EngineDatabase.registerFunction`.
 *
 * @module
 */
import type { SqlJsDatabase, SqlValue } from "./sqljs_types.ts";

/**
 * A scalar SQL function. It is called once per row with the SQL arguments
 * (numbers, strings, `Uint8Array` for BLOBs, `null`) and returns the result
 * (a boolean becomes 1 or 0). Its number of declared parameters, `fn.length`,
 * is its arity in SQL: write `(a, b) => ...`, not `(...args) => ...`. A throw
 * fails the statement with the error's message.
 *
 * @example
 * ```ts
 * import type { SqlFunction } from "./functions.ts";
 * const halve: SqlFunction = (x) => typeof x === "number" ? x / 2 : null;
 * ```
 */
export type SqlFunction = (...args: SqlValue[]) => SqlValue | boolean;

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Throws a `TypeError` unless `name` is a plain SQL identifier and `fn` a function.
 *
 * @example
 * ```ts
 * import { assertSqlFunction } from "./functions.ts";
 * assertSqlFunction("zero", () => 0); // fine
 * ```
 */
export function assertSqlFunction(name: unknown, fn: unknown): asserts fn is SqlFunction {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `Invalid SQL function name ${
        JSON.stringify(name)
      }: use letters, digits and _ only, not starting with a digit`,
    );
  }
  if (typeof fn !== "function") {
    throw new TypeError(`Invalid SQL function "${name}": expected a function, got ${typeof fn}`);
  }
}

/**
 * Installs each `[name, fn]` of `functions` on `db` (a freshly loaded
 * database, or the open one after a new registration).
 *
 * @example
 * ```ts ignore
 * import { installFunctions } from "./functions.ts";
 * installFunctions(db, [["halve", (x) => Number(x) / 2]]);
 * ```
 */
export function installFunctions(
  db: SqlJsDatabase,
  functions: Iterable<readonly [string, SqlFunction]>,
): void {
  for (const [name, fn] of functions) {
    db.create_function(name, fn as (...args: SqlValue[]) => SqlValue);
  }
}
