/**
 * The checks every remote connection makes before sending anything: SQL text
 * that is not empty, no transaction control outside `transaction()`, and
 * batches and scripts checked whole before any statement runs. The messages
 * match the sql.js connection's.
 *
 * @module
 */
import { classifyStatement } from "../engine/classify.ts";
import type { BatchStatement } from "../engine/connection.ts";
import type { RemoteDriver } from "./driver.ts";
import { type RemoteStatement, toRemoteStatement } from "./sql_args.ts";
import { splitScript } from "./split_script.ts";

/**
 * Classifies one statement for a single-statement call; throws a `TypeError`
 * for empty SQL and for transaction control.
 *
 * @example
 * ```ts
 * import { statementKind } from "./checks.ts";
 * statementKind("SELECT 1", "statement"); // "read"
 * ```
 */
export function statementKind(sql: string, what: string): "read" | "write" {
  checkSql(sql, what);
  const kind = classifyStatement(sql);
  if (kind === "transaction") throw transactionControlError(sql);
  if (kind === "empty") checkSql("", what);
  return kind as "read" | "write";
}

/** A batch statement checked and bound. */
export interface PreparedRemoteStatement {
  /** The positional statement. */
  statement: RemoteStatement;
  /** Whether it reads or writes. */
  kind: "read" | "write";
}

/**
 * Checks and binds every statement of a batch before any runs.
 *
 * @example
 * ```ts
 * import { prepareBatch, statementKind } from "./checks.ts";
 * const policy = { bigint: "exact", engine: "libSQL" } as const;
 * prepareBatch([{ sql: "INSERT INTO t VALUES (?)", params: [1] }], statementKind, { policy });
 * // [{ statement: { sql: "INSERT INTO t VALUES (?)", args: [1] }, kind: "write" }]
 * ```
 */
export function prepareBatch(
  statements: readonly BatchStatement[],
  kindOf: (sql: string, what: string) => "read" | "write",
  driver: Pick<RemoteDriver, "policy">,
): PreparedRemoteStatement[] {
  if (!Array.isArray(statements)) {
    throw new TypeError(
      `Invalid batch ${String(statements)}: expected an array of { sql, params }`,
    );
  }
  return statements.map((statement, index) => {
    if (typeof statement !== "object" || statement === null) {
      throw new TypeError(`Invalid batch statement ${index + 1}: expected { sql, params }`);
    }
    const kind = kindOf(statement.sql, `batch statement ${index + 1}`);
    return { statement: toRemoteStatement(statement.sql, statement.params, driver.policy), kind };
  });
}

/**
 * The statements of an `exec()` script; transaction control is refused, since
 * a remote engine cannot keep a transaction open across statements sent apart.
 *
 * @example
 * ```ts
 * import { checkedScript } from "./checks.ts";
 * checkedScript("CREATE TABLE a (x); CREATE TABLE b (y);", "D1"); // two statements
 * ```
 */
export function checkedScript(script: string, engine: string): string[] {
  checkSql(script, "script");
  const statements = splitScript(script);
  for (const statement of statements) {
    if (classifyStatement(statement) === "transaction") {
      throw new TypeError(
        `Invalid script: "${
          statement.slice(0, 40)
        }" is transaction control, which exec() on ${engine} cannot run; use transaction() or batch()`,
      );
    }
  }
  if (statements.length === 0) checkSql("", "script");
  return statements;
}

/**
 * Throws a `TypeError` unless `sql` is non-empty text.
 *
 * @example
 * ```ts
 * import { checkSql } from "./checks.ts";
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
 * import { transactionControlError } from "./checks.ts";
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
