/**
 * Which other shared tables a query reads, so that `router.query()` filters
 * them with the same scope as the table it was given.
 *
 * @module
 */
import { tablesRead } from "../scope/references.ts";
import { parseSelect } from "../scope/statement.ts";
import { routeTable, SHARED_TABLES } from "../routing/tables.ts";

/**
 * The shared tables (by `SHARED_TABLES`, as declared there) that `sql` reads
 * anywhere, other than `table`. SQL that does not parse gives `[]`: the
 * scoper then reports the problem itself.
 *
 * @example
 * ```ts
 * import { otherSharedTables } from "./scope_tables.ts";
 * otherSharedTables("bots", "SELECT * FROM bots JOIN code ON code.bot_id = bots.id"); // ["code"]
 * ```
 */
export function otherSharedTables(table: string, sql: string): string[] {
  // Most queries name no other shared table at all: skip the parse for them. Full lower-casing
  // only adds candidates (SQLite folds ASCII letters alone), and the parse decides.
  const text = sql.toLowerCase();
  const own = asciiLower(table);
  const named = [...SHARED_TABLES].filter((name) => {
    const lower = asciiLower(name);
    return lower !== own && text.includes(lower);
  });
  if (named.length === 0) return [];
  let read: Set<string>;
  try {
    read = new Set(tablesRead(sql, parseSelect(sql)));
  } catch {
    return [];
  }
  return named.filter((name) => read.has(asciiLower(name)) && isShared(name));
}

function isShared(name: string): boolean {
  try {
    return routeTable(name) === "shared";
  } catch {
    return false; // denied or ambiguous: not for the scoper to decide
  }
}

function asciiLower(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
