/**
 * The shapes of LogTape's records, levels and sinks that db-router uses,
 * declared here so that nothing imports `@logtape/logtape` unless the
 * application does (it costs about 20 ms of start-up in Node). They match
 * LogTape 2's `LogRecord`, `LogLevel` and `Sink`, so LogTape's sinks accept
 * db-router's formatters and db-router's records.
 *
 * @module
 */

/**
 * A log level, lowest first in {@linkcode LOG_LEVELS}.
 *
 * @example
 * ```ts
 * import type { LogLevel } from "./log_record.ts";
 * const level: LogLevel = "warning";
 * ```
 */
export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** Every level, lowest first. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze([
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
]);

/**
 * One log record, as LogTape builds it: `message` alternates text and
 * interpolated values.
 *
 * @example
 * ```ts
 * import type { LogRecord } from "./log_record.ts";
 * const record: LogRecord = {
 *   category: ["db-router", "access"], level: "info", message: ["bots read"],
 *   rawMessage: "bots read", timestamp: Date.now(), properties: {},
 * };
 * ```
 */
export interface LogRecord {
  /** The logger's category, such as `["db-router", "access"]`. */
  readonly category: readonly string[];
  /** The record's level. */
  readonly level: LogLevel;
  /** Text and interpolated values, alternating, starting with text. */
  readonly message: readonly unknown[];
  /** The template before interpolation. */
  readonly rawMessage: string | TemplateStringsArray;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** Structured fields. */
  readonly properties: Record<string, unknown>;
}

/**
 * Turns a record into a line of text (LogTape's `TextFormatter`).
 *
 * @example
 * ```ts
 * import type { LogFormatter } from "./log_record.ts";
 * const format: LogFormatter = (record) => `${record.level} ${record.message.join("")}\n`;
 * ```
 */
export type LogFormatter = (record: LogRecord) => string;

/**
 * Receives records (LogTape's `Sink`).
 *
 * @example
 * ```ts
 * import type { LogRecord, LogSink } from "./log_record.ts";
 * const kept: LogRecord[] = [];
 * const sink: LogSink = (record) => kept.push(record);
 * ```
 */
export type LogSink = (record: LogRecord) => void;

/**
 * Orders two levels: negative when `a` is below `b`, 0 when equal.
 *
 * @example
 * ```ts
 * import { compareLogLevel } from "./log_record.ts";
 * compareLogLevel("info", "warning") < 0; // true
 * ```
 */
export function compareLogLevel(a: LogLevel, b: LogLevel): number {
  return LOG_LEVELS.indexOf(a) - LOG_LEVELS.indexOf(b);
}
