/**
 * The audit log kept in the shared database, for routers without a durable
 * file system (Cloudflare Workers) or that want it beside the shared tables:
 * the same lines as the JSONL log (same fields, same `prev_hash` chain), one
 * row each, in the table
 *
 * ```sql
 * CREATE TABLE _dbrouter_audit (
 *   seq INTEGER PRIMARY KEY AUTOINCREMENT, -- the order lines were committed in
 *   log TEXT NOT NULL,                     -- the audit log's name
 *   writer TEXT NOT NULL,                  -- one random id per sink (per router)
 *   writer_seq INTEGER NOT NULL,           -- the line's number in its writer's lines
 *   line TEXT NOT NULL,                    -- the JSON line, byte for byte
 *   UNIQUE (writer, writer_seq)
 * )
 * ```
 *
 * Chains are per writer, as in the JSONL log: each router's audit log chains
 * its own lines, and its appends are sequential, so its lines' `seq` grow in
 * its order; many Workers appending at once interleave, and
 * `db-router analyze --verify` follows each chain through the interleaving,
 * as it does for many processes appending to one file. No order between
 * writers is promised beyond commit order.
 *
 * An append is one atomic `batch()` (D1's unit; a transaction elsewhere) of
 * `INSERT OR IGNORE ... SELECT FROM json_each(?)` statements, so a batch is
 * stored whole or not at all; a failed append is retried (three attempts,
 * 100 ms and 400 ms apart) and the `(writer, writer_seq)` key makes a retry of
 * a batch that did commit (an error after the commit) store nothing twice.
 * What still fails is kept by the audit observer and retried with its next
 * batch, and reported (`AUDIT_WRITE_FAILED`); see `audit.ts`.
 *
 * @module
 */
import type { SharedBackend, SharedDatabase } from "../engine/backend.ts";
import type { BatchStatement, Connection } from "../engine/connection.ts";
import type { RecordLog } from "../storage/types.ts";

/** The table that holds audit lines in a shared database. */
export const AUDIT_TABLE = "_dbrouter_audit";

/** Creates {@linkcode AUDIT_TABLE} when it is missing. */
export const AUDIT_TABLE_SCHEMA: string = `CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  log TEXT NOT NULL,
  writer TEXT NOT NULL,
  writer_seq INTEGER NOT NULL,
  line TEXT NOT NULL,
  UNIQUE (writer, writer_seq)
)`;

/** The prefix of an `auditLog` value that puts the log into the shared database. */
export const SHARED_AUDIT_PREFIX = "shared:";

/** Characters of lines per statement: D1 refuses values over 2 MB (JSON and UTF-8 may triple them). */
const MAX_STATEMENT_BYTES = 256 * 1024;
const RETRY_DELAYS_MS = [100, 400];

/**
 * A {@linkcode RecordLog} whose logs are rows of {@linkcode AUDIT_TABLE} in
 * the shared database of `backend` (only `append`, `read` and `prepare`: it
 * does not rotate, lock or claim). It opens its own connection to the
 * database; {@linkcode SharedAuditRecords.close} releases it.
 *
 * @example
 * ```ts
 * import { SharedAuditRecords } from "./audit_table.ts";
 * import { sqlJsBackend } from "../engine/sqljs_backend.ts";
 * import { DEFAULT_DATABASE_OPTIONS } from "../engine/database.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * const records = new SharedAuditRecords(sqlJsBackend(memoryStorage(), "s.db", DEFAULT_DATABASE_OPTIONS));
 * await records.append("audit", ['{"menace_id":"alpha"}']);
 * for await (const line of records.read("audit")) console.log(line);
 * await records.close();
 * ```
 */
export class SharedAuditRecords implements RecordLog {
  /** This sink's writer id, stored with each of its lines. */
  readonly writer: string = crypto.randomUUID();
  readonly #database: SharedDatabase;
  readonly #conn: Connection;
  #prepared: Promise<void> | undefined;
  #next = 0;
  #closed = false;

  /** Binds the sink to `backend`; nothing is opened before the first call. */
  constructor(backend: SharedBackend) {
    this.#database = backend.connect(() => {
      if (this.#closed) {
        throw new TypeError(`Cannot use audit table of "${backend.location}": closed`);
      }
    });
    this.#conn = this.#database.connection;
  }

  /** Creates the table when it is missing. */
  prepare(_name?: string): Promise<void> {
    this.#prepared ??= this.#conn.run(AUDIT_TABLE_SCHEMA).then(
      () => undefined,
      (error) => {
        this.#prepared = undefined;
        throw error;
      },
    );
    return this.#prepared;
  }

  /** Appends `lines` to log `name` in one atomic batch, retried on failure without doubling. */
  async append(name: string, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const first = this.#next;
    this.#next += lines.length;
    const statements = insertStatements(name, this.writer, first, lines);
    for (let attempt = 0;; attempt++) {
      try {
        await this.prepare();
        await this.#conn.batch(statements);
        return;
      } catch (error) {
        if (attempt >= RETRY_DELAYS_MS.length || this.#closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  /** The lines of log `name`, in commit order, read a page at a time. */
  async *read(name: string): AsyncIterable<string> {
    await this.prepare();
    for await (const [, line] of readAuditLines(this.#conn, name)) yield line;
  }

  /** Releases the connection; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#database.close();
  }
}

/**
 * The lines of {@linkcode AUDIT_TABLE} on `conn` with their `seq`, of log
 * `name` (every log when `undefined`), in `seq` order, 1000 rows per query so
 * that memory stays bounded.
 *
 * @example
 * ```ts ignore
 * for await (const [seq, line] of readAuditLines(conn, undefined)) console.log(seq, line);
 * ```
 */
export async function* readAuditLines(
  conn: Connection,
  name: string | undefined,
): AsyncIterable<[number, string]> {
  let after = 0;
  for (;;) {
    const rows = await conn.all<{ seq: number; line: string }>(
      name === undefined
        ? `SELECT seq, line FROM ${AUDIT_TABLE} WHERE seq > ? ORDER BY seq LIMIT 1000`
        : `SELECT seq, line FROM ${AUDIT_TABLE} WHERE seq > ? AND log = ? ORDER BY seq LIMIT 1000`,
      name === undefined ? [after] : [after, name],
    );
    for (const row of rows) yield [Number(row.seq), String(row.line)];
    if (rows.length < 1000) return;
    after = Number(rows[rows.length - 1].seq);
  }
}

/** INSERT statements for `lines`, each with at most {@linkcode MAX_STATEMENT_BYTES} of JSON. */
function insertStatements(
  name: string,
  writer: string,
  first: number,
  lines: readonly string[],
): BatchStatement[] {
  const statements: BatchStatement[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = start;
    let bytes = 0;
    while (
      end < lines.length && (end === start || bytes + lines[end].length < MAX_STATEMENT_BYTES)
    ) {
      bytes += lines[end].length + 3;
      end++;
    }
    statements.push({
      sql: `INSERT OR IGNORE INTO ${AUDIT_TABLE} (log, writer, writer_seq, line)
            SELECT ?, ?, ? + key, value FROM json_each(?) ORDER BY key`,
      params: [name, writer, first + start, JSON.stringify(lines.slice(start, end))],
    });
    start = end;
  }
  return statements;
}
