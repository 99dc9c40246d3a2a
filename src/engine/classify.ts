/**
 * Tells, from its text, what a statement does to the database, so that the
 * engine takes the write path (lock, catch up, persist) only when it must.
 *
 * @module
 */
import { keywordOf, type Token, tokenize } from "../sql/tokenizer.ts";

/**
 * What a statement does: reads; changes rows (`INSERT`, `UPDATE`, `DELETE`,
 * `REPLACE`, whose every effect SQLite counts in `total_changes()`, triggers
 * included, so a count that did not move means nothing changed); writes
 * otherwise (DDL, `VACUUM`, a writing `PRAGMA`...); controls a transaction; or
 * nothing (no SQL at all).
 */
export type StatementKind = "read" | "change" | "write" | "transaction" | "empty";

const TRANSACTION_VERBS = new Set(["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"]);
const WRITE_VERBS = new Set(["INSERT", "UPDATE", "DELETE", "REPLACE"]);
const MAIN_VERBS = new Set(["SELECT", "VALUES", ...WRITE_VERBS]);
/** Pragmas that change the database without an `=`. */
const WRITING_PRAGMAS = new Set(["OPTIMIZE", "INCREMENTAL_VACUUM", "WAL_CHECKPOINT"]);

/**
 * Classifies one SQL statement by its leading keyword. `SELECT`, `VALUES`,
 * `EXPLAIN` and a `PRAGMA` without `=` (but `optimize`, `incremental_vacuum`
 * and `wal_checkpoint`) read; `INSERT`, `UPDATE`, `DELETE` and `REPLACE`,
 * also after a `WITH`, change rows; transaction control is its own kind;
 * everything else writes. Comments, string literals and quoted names never
 * count as keywords. Text that does not tokenize is classed as a write, so
 * that SQLite reports its own error on the safe path.
 *
 * @example
 * ```ts
 * import { classifyStatement } from "./classify.ts";
 * classifyStatement("SELECT * FROM bots"); // "read"
 * classifyStatement("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"); // "change"
 * classifyStatement("CREATE TABLE t (x)"); // "write"
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
  if (first === "PRAGMA") return writingPragma(tokens) ? "write" : "read";
  if (WRITE_VERBS.has(first)) return "change";
  if (first === "WITH") {
    // The main statement's verb is the first one at depth 0: verbs inside the
    // CTEs' parentheses are not it, and a later replace() is a function.
    const main = tokens.find((t) => t.depth === 0 && MAIN_VERBS.has(keywordOf(t) ?? ""));
    return WRITE_VERBS.has(keywordOf(main) ?? "") ? "change" : "read";
  }
  return "write";
}

/** `PRAGMA [schema.]name = value`, or a pragma that writes without a value. */
function writingPragma(tokens: readonly Token[]): boolean {
  if (tokens.some((t) => t.text === "=")) return true;
  const name = tokens[1]?.kind === "word" && tokens[2]?.text === "." ? tokens[3] : tokens[1];
  return WRITING_PRAGMAS.has(keywordOf(name) ?? "");
}
