/**
 * Tells, from its text, what a statement does to the database, so that the
 * engine takes the write path (lock, catch up, persist) only when it must.
 *
 * @module
 */
import { keywordOf, type Token, tokenize } from "../scope/tokenizer.ts";

/** What a statement does: reads, writes, controls a transaction, or nothing (no SQL at all). */
export type StatementKind = "read" | "write" | "transaction" | "empty";

const TRANSACTION_VERBS = new Set(["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"]);
const WRITE_VERBS = new Set(["INSERT", "UPDATE", "DELETE", "REPLACE"]);
const MAIN_VERBS = new Set(["SELECT", "VALUES", ...WRITE_VERBS]);

/**
 * Classifies one SQL statement by its leading keyword. `SELECT`, `VALUES`,
 * `EXPLAIN` and a `PRAGMA` without `=` read; a `WITH` reads unless its main
 * statement is an `INSERT`, `UPDATE`, `DELETE` or `REPLACE`; transaction
 * control is its own kind; everything else writes. Comments, string literals
 * and quoted names never count as keywords. Text that does not tokenize is
 * classed as a write, so that SQLite reports its own error on the safe path.
 *
 * @example
 * ```ts
 * import { classifyStatement } from "./classify.ts";
 * classifyStatement("SELECT * FROM bots"); // "read"
 * classifyStatement("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"); // "write"
 * ```
 */
export function classifyStatement(sql: string): StatementKind {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch {
    return "write";
  }
  const first = keywordOf(tokens[0]);
  if (tokens.length === 0) return "empty";
  if (first === undefined) return "write";
  if (TRANSACTION_VERBS.has(first)) return "transaction";
  if (first === "SELECT" || first === "VALUES" || first === "EXPLAIN") return "read";
  if (first === "PRAGMA") return tokens.some((t) => t.text === "=") ? "write" : "read";
  if (first === "WITH") {
    // The main statement's verb is the first one at depth 0: verbs inside the
    // CTEs' parentheses are not it, and a later replace() is a function.
    const main = tokens.find((t) => t.depth === 0 && MAIN_VERBS.has(keywordOf(t) ?? ""));
    return WRITE_VERBS.has(keywordOf(main) ?? "") ? "write" : "read";
  }
  return "write";
}

/**
 * Whether `sql` is an `INSERT`, `UPDATE`, `DELETE` or `REPLACE` (perhaps
 * after a `WITH`): a statement whose every effect on the database SQLite
 * counts in `total_changes()`, so that a count that did not move means that
 * nothing changed. DDL, `PRAGMA`, `VACUUM` and the rest are not.
 *
 * @example
 * ```ts
 * import { isRowChange } from "./classify.ts";
 * isRowChange("UPDATE bots SET name = ? WHERE id = ?"); // true
 * isRowChange("CREATE TABLE IF NOT EXISTS bots (id)"); // false
 * ```
 */
export function isRowChange(sql: string): boolean {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch {
    return false;
  }
  const first = keywordOf(tokens[0]);
  if (first === "WITH") {
    const main = tokens.find((t) => t.depth === 0 && MAIN_VERBS.has(keywordOf(t) ?? ""));
    return WRITE_VERBS.has(keywordOf(main) ?? "");
  }
  return WRITE_VERBS.has(first ?? "");
}
