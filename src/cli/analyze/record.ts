/**
 * One audit line as `db-router analyze` reads it, and which operations count
 * as writes.
 *
 * @module
 */

/** The fields of a well-formed audit line. */
export interface AuditRecord {
  readonly menaceId: string;
  readonly table: string;
  readonly operation: string;
  readonly timestamp: string;
  /** Absent on lines written without a chain. */
  readonly prevHash?: string;
}

/**
 * Operations that change data, compared case-insensitively: the router's own
 * helpers declare `"write"`, `router.queueWrite()` records `"queue"`; the
 * others are the SQL verbs a caller may name.
 */
export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  "write",
  "queue",
  "insert",
  "update",
  "delete",
  "upsert",
  "replace",
  "create",
  "alter",
  "drop",
  "truncate",
]);

/**
 * Whether `operation` writes.
 *
 * @example
 * ```ts
 * import { isWriteOperation } from "./record.ts";
 * isWriteOperation("Insert"); // true
 * isWriteOperation("read"); // false
 * ```
 */
export function isWriteOperation(operation: string): boolean {
  return WRITE_OPERATIONS.has(operation.toLowerCase());
}

/**
 * Parses one line; `undefined` when it is not a JSON object with non-empty
 * string `menace_id`, `table_name`, `operation`, a `timestamp` that parses as
 * a date, and, if present, a string `prev_hash`.
 *
 * @example
 * ```ts
 * import { parseAuditLine } from "./record.ts";
 * parseAuditLine('{"menace_id":"a","table_name":"bots","operation":"write","timestamp":"2024-05-14T12:00:00Z"}');
 * // { menaceId: "a", table: "bots", operation: "write", timestamp: "2024-05-14T12:00:00Z", prevHash: undefined }
 * parseAuditLine("not json"); // undefined
 * ```
 */
export function parseAuditLine(line: string): AuditRecord | undefined {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const fields = data as Record<string, unknown>;
  const { menace_id, table_name, operation, timestamp, prev_hash } = fields;
  if (!text(menace_id) || !text(table_name) || !text(operation) || !text(timestamp)) {
    return undefined;
  }
  if (Number.isNaN(Date.parse(timestamp))) return undefined;
  if (prev_hash !== undefined && typeof prev_hash !== "string") return undefined;
  return { menaceId: menace_id, table: table_name, operation, timestamp, prevHash: prev_hash };
}

function text(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}
