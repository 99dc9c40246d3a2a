/**
 * The checks every connection (sql.js or remote) makes before running
 * anything: SQL text that is not empty, no transaction control outside
 * `transaction()`, batches checked whole before any statement runs. One
 * place, so that every backend refuses the same calls with the same words.
 *
 * @module
 */
import { classifyStatement, type StatementKind } from "./classify.ts";
import type { BatchStatement } from "./connection_types.ts";

/** What a single-statement call may run. */
export type CallKind = "read" | "change" | "write";

/**
 * Classifications of SQL texts, remembered: a connection sees the same few
 * query strings over and over.
 */
export class StatementKinds {
  #kinds = new Map<string, StatementKind>();
  #limit: number;

  /** Remembers at most `limit` texts, then starts over. */
  constructor(limit = 1000) {
    this.#limit = limit;
  }

  /** Classifies `sql` (see `classifyStatement`). */
  of(sql: string): StatementKind {
    let kind = this.#kinds.get(sql);
    if (kind === undefined) {
      if (this.#kinds.size >= this.#limit) this.#kinds.clear();
      kind = classifyStatement(sql);
      this.#kinds.set(sql, kind);
    }
    return kind;
  }

  /**
   * Classifies `sql` for a call that runs one statement: throws a `TypeError`
   * for text that is not SQL and for transaction control.
   *
   * @example
   * ```ts
   * import { StatementKinds } from "./statement_checks.ts";
   * new StatementKinds().forCall("UPDATE bots SET x = 1"); // "change"
   * ```
   */
  forCall(sql: string, what = "statement"): CallKind {
    if (typeof sql !== "string") checkSql(sql, what);
    const kind = this.of(sql);
    if (kind === "transaction") throw transactionControlError(sql);
    if (kind === "empty") checkSql("", what);
    return kind as CallKind;
  }
}

/**
 * Checks the shape of a batch and prepares each statement with `prepare`,
 * before any runs: a batch with one bad statement runs none.
 *
 * @example
 * ```ts
 * import { prepareBatch, StatementKinds } from "./statement_checks.ts";
 * const kinds = new StatementKinds();
 * prepareBatch([{ sql: "INSERT INTO t VALUES (?)", params: [1] }], kinds, (s, kind) => ({ ...s, kind }));
 * ```
 */
export function prepareBatch<T>(
  statements: readonly BatchStatement[],
  kinds: StatementKinds,
  prepare: (statement: BatchStatement, kind: CallKind) => T,
): T[] {
  if (!Array.isArray(statements)) {
    throw new TypeError(
      `Invalid batch ${String(statements)}: expected an array of { sql, params }`,
    );
  }
  return statements.map((statement, index) => {
    if (typeof statement !== "object" || statement === null) {
      throw new TypeError(`Invalid batch statement ${index + 1}: expected { sql, params }`);
    }
    return prepare(statement, kinds.forCall(statement.sql, `batch statement ${index + 1}`));
  });
}

/**
 * Throws a `TypeError` unless `sql` is non-empty text.
 *
 * @example
 * ```ts
 * import { checkSql } from "./statement_checks.ts";
 * checkSql("SELECT 1", "statement"); // fine
 * ```
 */
export function checkSql(sql: unknown, what: string): asserts sql is string {
  if (typeof sql !== "string" || sql.trim().length === 0) {
    throw new TypeError(`Invalid ${what} ${JSON.stringify(sql)}: expected non-empty SQL text`);
  }
}

/**
 * The error for `BEGIN`, `COMMIT` and the like outside `transaction()`.
 *
 * @example
 * ```ts
 * import { transactionControlError } from "./statement_checks.ts";
 * transactionControlError("BEGIN").message; // 'Invalid statement "BEGIN": transaction control ...'
 * ```
 */
export function transactionControlError(sql: string): TypeError {
  return new TypeError(
    `Invalid statement "${
      sql.trim().slice(0, 40)
    }": transaction control is not allowed here; use transaction() or batch()`,
  );
}
