/**
 * The package's version, the same as `version` in `package.json` and
 * `deno.json` (a test keeps the three equal). A constant, not a read of
 * `package.json`, so that it works from the npm build, a checkout and JSR alike.
 *
 * @module
 */

/**
 * This release of db-router.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * VERSION; // "0.1.0"
 * ```
 */
export const VERSION = "0.1.0";
