/**
 * The three scopes of cross-instance visibility for shared tables, and the
 * parser that turns a caller's string into one of them.
 *
 * @module
 */

/**
 * Names of the scopes, to write `Scope.LOCAL` instead of the bare string.
 *
 * - `local`: only rows whose `source_menace_id` is the current instance's.
 * - `global`: only rows of other instances (`source_menace_id <> current`).
 * - `all`: no filtering.
 *
 * Rows whose `source_menace_id` is `NULL` belong to no instance: they match
 * neither `local` nor `global`, only `all`.
 *
 * @example
 * ```ts
 * import { Scope } from "./scope.ts";
 * Scope.GLOBAL; // "global"
 * ```
 */
export const Scope: { readonly LOCAL: "local"; readonly GLOBAL: "global"; readonly ALL: "all" } =
  Object.freeze({ LOCAL: "local", GLOBAL: "global", ALL: "all" });

/**
 * One scope: `"local"`, `"global"` or `"all"`.
 *
 * @example
 * ```ts
 * import type { Scope } from "./scope.ts";
 * const scope: Scope = "local";
 * ```
 */
export type Scope = typeof Scope[keyof typeof Scope];

const SCOPES: ReadonlySet<string> = new Set<string>(Object.values(Scope));

/**
 * Returns `true` when `value` is exactly one of the scope strings.
 *
 * @example
 * ```ts
 * import { isScope } from "./scope.ts";
 * isScope("all"); // true
 * isScope("ALL"); // false: use parseScope() for user input
 * ```
 */
export function isScope(value: unknown): value is Scope {
  return typeof value === "string" && SCOPES.has(value);
}

/**
 * Turns user input into a {@linkcode Scope}, ignoring letter case. Anything
 * else (another string, a boolean from the old `include_cross_instance` flag,
 * `undefined`) throws a `TypeError` that names the value.
 *
 * @example
 * ```ts
 * import { parseScope } from "./scope.ts";
 * parseScope("Global"); // "global"
 * ```
 */
export function parseScope(value: unknown): Scope {
  if (typeof value === "string") {
    const lower = value.toLowerCase();
    if (isScope(lower)) return lower;
  }
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new TypeError(`Invalid scope ${shown}: expected "local", "global" or "all"`);
}
