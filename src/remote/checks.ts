/**
 * The checks of remote connections that the sql.js connection does not need:
 * batches bound for a remote engine, and scripts split into statements. The
 * common checks (empty SQL, transaction control) are the engine's
 * `statement_checks.ts`, so every backend refuses the same calls alike.
 *
 * @module
 */
import { classifyStatement } from "../engine/classify.ts";
import type { BatchStatement } from "../engine/connection.ts";
import {
  type CallKind,
  checkSql,
  prepareBatch as prepareChecked,
  type StatementKinds,
} from "../engine/statement_checks.ts";
import type { RemoteDriver } from "./driver.ts";
import { type RemoteStatement, toRemoteStatement } from "./sql_args.ts";
import { splitScript } from "./split_script.ts";

/** A batch statement checked and bound. */
export interface PreparedRemoteStatement {
  /** The positional statement. */
  statement: RemoteStatement;
  /** Whether it reads or writes. */
  kind: CallKind;
}

/**
 * Checks and binds every statement of a batch before any runs.
 *
 * @example
 * ```ts
 * import { prepareBatch } from "./checks.ts";
 * import { StatementKinds } from "../engine/statement_checks.ts";
 * const policy = { bigint: "exact", engine: "libSQL" } as const;
 * prepareBatch([{ sql: "INSERT INTO t VALUES (?)", params: [1] }], new StatementKinds(), { policy });
 * // [{ statement: { sql: "INSERT INTO t VALUES (?)", args: [1] }, kind: "write" }]
 * ```
 */
export function prepareBatch(
  statements: readonly BatchStatement[],
  kinds: StatementKinds,
  driver: Pick<RemoteDriver, "policy">,
): PreparedRemoteStatement[] {
  return prepareChecked(statements, kinds, (statement, kind) => ({
    statement: toRemoteStatement(statement.sql, statement.params, driver.policy),
    kind,
  }));
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
