/**
 * SQL text as error messages show it.
 *
 * @module
 */

/**
 * `sql` on one line, shortened to 80 characters and quoted, for an error message.
 *
 * @example
 * ```ts
 * import { quote } from "./quote.ts";
 * quote("SELECT *\n  FROM bots"); // '"SELECT * FROM bots"'
 * ```
 */
export function quote(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 77)}...` : flat);
}
