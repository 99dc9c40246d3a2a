/**
 * The two text formats of db-router's log records, as LogTape formatters
 * (`TextFormatter`, which {@linkcode LogFormatter} matches): one
 * JSON object per line (`DB_ROUTER_LOG_FORMAT=json`, the default) or
 * `key=value` pairs (`kv`). An application may use them with its own sinks.
 *
 * Both put `timestamp` (ISO 8601 in UTC, with its `Z`), `level`, `logger`
 * and `message` first, then the record's properties (`menace_id`,
 * `table_name`, `operation`, `database` for an access).
 *
 * @module
 */
import type { LogFormatter, LogRecord } from "./log_record.ts";

/**
 * Formats `record` as one JSON object and a newline.
 *
 * @example
 * ```ts
 * import { formatJsonRecord } from "./log_format.ts";
 * formatJsonRecord({
 *   category: ["db-router", "access"], level: "info", rawMessage: "access",
 *   message: ["access"], timestamp: 0, properties: { table_name: "bots" },
 * });
 * // '{"timestamp":"1970-01-01T00:00:00.000Z","level":"INFO","logger":"db-router.access","message":"access","table_name":"bots"}\n'
 * ```
 */
export const formatJsonRecord: LogFormatter = (record: LogRecord): string => {
  const fields: Record<string, unknown> = head(record);
  for (const [key, value] of Object.entries(record.properties)) {
    if (!(key in fields)) fields[key] = value instanceof Error ? errorText(value) : value;
  }
  return `${JSON.stringify(fields, jsonValue)}\n`;
};

/**
 * Formats `record` as `key=value` pairs and a newline. A value that is empty
 * or holds a space, `"`, `=`, `\` or a control character is quoted, with `"`
 * and `\` escaped and control characters written as JSON escapes.
 *
 * @example
 * ```ts
 * import { formatKvRecord } from "./log_format.ts";
 * formatKvRecord({
 *   category: ["db-router", "access"], level: "info", rawMessage: "bots read",
 *   message: ["bots read"], timestamp: 0, properties: { table_name: "bots" },
 * });
 * // 'timestamp=1970-01-01T00:00:00.000Z level=INFO logger=db-router.access message="bots read" table_name=bots\n'
 * ```
 */
export const formatKvRecord: LogFormatter = (record: LogRecord): string => {
  const fields: Record<string, unknown> = head(record);
  for (const [key, value] of Object.entries(record.properties)) {
    if (!(key in fields)) fields[key] = value;
  }
  return `${Object.entries(fields).map(([k, value]) => `${k}=${kvValue(value)}`).join(" ")}\n`;
};

/**
 * The formatter for a format name.
 *
 * @example
 * ```ts
 * import { formatKvRecord, recordFormatter } from "./log_format.ts";
 * recordFormatter("kv") === formatKvRecord; // true
 * ```
 */
export function recordFormatter(format: "json" | "kv"): LogFormatter {
  return format === "kv" ? formatKvRecord : formatJsonRecord;
}

function head(record: LogRecord): Record<string, unknown> {
  return {
    timestamp: new Date(record.timestamp).toISOString(),
    level: record.level.toUpperCase(),
    logger: record.category.join("."),
    message: renderMessage(record.message),
  };
}

/** LogTape's message alternates text and interpolated values. */
function renderMessage(parts: readonly unknown[]): string {
  let text = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    text += i % 2 === 0 ? String(part) : typeof part === "string" ? part : stringify(part);
  }
  return text;
}

function kvValue(value: unknown): string {
  const text = value instanceof Error
    ? errorText(value)
    : typeof value === "string"
    ? value
    : stringify(value);
  // Control characters are quoted too: JSON.stringify escapes them.
  // deno-lint-ignore no-control-regex
  if (text.length > 0 && !/[\s"=\\\x00-\x1f\x7f]/.test(text)) return text;
  return JSON.stringify(text);
}

function stringify(value: unknown): string {
  return JSON.stringify(value, jsonValue) ?? String(value);
}

function errorText(error: Error): string {
  return `${error.name}: ${error.message}`;
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return errorText(value);
  return value;
}
