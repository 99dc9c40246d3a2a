/**
 * Path helpers. pathe stands in for `@std/path` (JSR is out of reach here);
 * this is the only file that imports it, so swapping it back is one change.
 *
 * @module
 */
export { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "pathe";
