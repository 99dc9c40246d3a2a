/**
 * Whether databases opened from now on use the page capture: on, unless the
 * environment variable `DB_ROUTER_PAGE_CAPTURE` is `off` (or a test turned it
 * off with {@linkcode setPageCaptureEnabled}). Off, commits use `export()`
 * and a page diff, and catch-ups reopen the database, as sql.js builds that
 * the probe does not recognise do.
 *
 * @module
 */

let forced: boolean | undefined;

/**
 * Overrides the environment for databases opened from now on; `undefined`
 * returns to it.
 *
 * @example
 * ```ts
 * import { setPageCaptureEnabled } from "./capture_switch.ts";
 * setPageCaptureEnabled(false);
 * setPageCaptureEnabled(undefined);
 * ```
 */
export function setPageCaptureEnabled(enabled: boolean | undefined): void {
  forced = enabled;
}

/**
 * Whether the page capture is wanted, given the value of the environment
 * variable `DB_ROUTER_PAGE_CAPTURE`.
 *
 * @example
 * ```ts
 * import { pageCaptureWanted } from "./capture_switch.ts";
 * pageCaptureWanted("off"); // false
 * ```
 */
export function pageCaptureWanted(variable: string | undefined): boolean {
  return forced ?? variable?.trim().toLowerCase() !== "off";
}
