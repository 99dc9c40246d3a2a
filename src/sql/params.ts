/**
 * The values callers bind to statement parameters, shared by the scope
 * helpers, the sql.js engine and the remote backends.
 *
 * @module
 */

/** A value that may be bound to a parameter. */
export type SqlParam = string | number | bigint | boolean | Uint8Array | null;

/**
 * Parameters of a statement: an array for `?` placeholders, or an object for
 * named ones (`:name`, `@name`, `$name`); object keys may include the prefix
 * or leave it out.
 */
export type Params = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;
