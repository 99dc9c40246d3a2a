/**
 * Which module specifiers name sql.js, or the router's own sql.js loader.
 * Shared by the lint plugin and `db-router check`.
 *
 * @module
 */

/** `sql.js`, `sql.js/dist/...`, `npm:sql.js@1`, `npm:/sql.js`: the package, any version or file. */
const PACKAGE = /^(?:npm:\/?)?sql\.js(?:@[^/]*)?(?:\/.*)?$/;

/** A CDN URL whose path has a `sql.js` or `sql.js@<version>` segment (esm.sh, jsDelivr, unpkg). */
const CDN = /^https?:\/\/[^/]+\/(?:[^?#]*\/)?sql\.js(?:@[^/?#]*)?(?:[/?#].*)?$/;

/** The router's loader, `wasm/mod.ts`, by any relative path or built name. */
const ROUTER_LOADER = /(?:^|\/)wasm\/mod\.(?:ts|js|mjs)$/;

/**
 * Whether `specifier` loads sql.js: the npm package (bare or `npm:`), any of
 * its files, or a CDN copy. A relative file that happens to be called
 * `./sql.js` is not the package.
 *
 * @example
 * ```ts
 * import { isSqlJsSpecifier } from "./specifier.ts";
 * isSqlJsSpecifier("sql.js"); // true
 * isSqlJsSpecifier("npm:sql.js@1.16.0"); // true
 * isSqlJsSpecifier("https://esm.sh/sql.js@1.8.0/dist/sql-wasm.js"); // true
 * isSqlJsSpecifier("mysql.js"); // false
 * isSqlJsSpecifier("./sql.js"); // false
 * ```
 */
export function isSqlJsSpecifier(specifier: string): boolean {
  return PACKAGE.test(specifier) || CDN.test(specifier);
}

/**
 * Whether `specifier` is the router's own sql.js loader (`wasm/mod.ts`),
 * whose `loadSqlJs` hands out the sql.js module.
 *
 * @example
 * ```ts
 * import { isRouterLoaderSpecifier } from "./specifier.ts";
 * isRouterLoaderSpecifier("../wasm/mod.ts"); // true
 * isRouterLoaderSpecifier("./mod.ts"); // false
 * ```
 */
export function isRouterLoaderSpecifier(specifier: string): boolean {
  return ROUTER_LOADER.test(specifier);
}
