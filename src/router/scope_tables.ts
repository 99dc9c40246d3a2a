/**
 * Which other shared tables a query reads, so that `router.query()` filters
 * them with the same scope as the table it was given.
 *
 * @module
 */
import { tablesRead } from "../scope/references.ts";
import { parseSelect } from "../scope/statement.ts";
import { routeTable, SHARED_TABLES } from "../routing/tables.ts";
import { RouterError } from "../errors.ts";
import { quote } from "../sql/quote.ts";
import type { ParsedSelect } from "../scope/statement.ts";
import type { Connection } from "../engine/connection_types.ts";

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

/**
 * Refuses, with a `RouterError` `SCOPE_REFUSED`, a scoped query that reads a
 * view: its rows come from SQL the scoper never sees, so a view over `bots`
 * would return every instance's rows under `scope: "local"`. Names that
 * routing knows, `sqlite_*` and WITH names cost nothing; only a name routing
 * does not know is looked up in the database's schema, with one query. Scope
 * `"all"` reads views as they are. A virtual table (an FTS index) is not
 * refused: joined to the scoped table, as full-text search does, it yields
 * only the rows it joins to; read alone, it is like any table routing does
 * not know, which scope does not filter.
 *
 * @example
 * ```ts ignore
 * await refuseHiddenReads(conn, "bots", sql, parsed); // throws for "SELECT * FROM bots_view"
 * ```
 */
export async function refuseHiddenReads(
  conn: Connection,
  table: string,
  sql: string,
  parsed: ParsedSelect,
): Promise<void> {
  const unknown = tablesRead(sql, parsed).filter((name) =>
    !name.startsWith("sqlite_") && !routed(name)
  );
  if (unknown.length === 0) return;
  const hidden = await conn.all<{ name: string }>(
    `SELECT name FROM sqlite_master WHERE lower(name) IN (${unknown.map(() => "?").join(", ")})` +
      ` AND type = 'view'`,
    unknown,
  );
  if (hidden.length === 0) return;
  throw new RouterError(
    "SCOPE_REFUSED",
    `Cannot scope table "${table}" in ${quote(sql)}: it reads the view "${
      hidden[0].name
    }", whose ` +
      `rows come from SQL the scoper does not see; query the tables the view reads, or use scope "all"`,
  );
}

/** `true` unless routing says `TABLE_UNKNOWN` (a denied table is routing's to refuse). */
function routed(name: string): boolean {
  try {
    routeTable(name);
    return true;
  } catch (error) {
    return !(error instanceof RouterError && error.code === "TABLE_UNKNOWN");
  }
}
