/**
 * db-router's logging through LogTape, under the category `["db-router"]`
 * (`["db-router", "access"]` for table accesses, `["db-router", "audit"]` for
 * the audit log).
 *
 * An application that configures LogTape (`configure()`) decides where these
 * records go and at which level, like any other library's. Until it does,
 * db-router writes its records itself to a console sink of its own, with the
 * threshold and format of `DB_ROUTER_LOG_LEVEL` / `DB_ROUTER_LOG_FORMAT`. It
 * never calls `configure()`: that is the application's to call, once, and a
 * library that called it first would make the application's call fail.
 *
 * @module
 */
import {
  compareLogLevel,
  getConfig,
  getConsoleSink,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import type { LogSettings } from "./log_env.ts";
import { recordFormatter } from "./log_format.ts";

/** The root category of every db-router log record. */
export const LOG_CATEGORY: readonly string[] = Object.freeze(["db-router"]);

/** The sub-categories db-router logs under. */
export type LogChannel = "access" | "audit";

/** Console methods of the default sink: standard error, as command-line tools expect. */
const LEVEL_MAP = {
  trace: "error",
  debug: "error",
  info: "error",
  warning: "warn",
  error: "error",
  fatal: "error",
} as const;

/**
 * Where one router's log records go. `enabled()` is the cheap test that
 * `getConnection` runs before it builds an access record.
 *
 * @example
 * ```ts
 * import { RouterLog } from "./log.ts";
 * const log = new RouterLog({ level: "info", format: "kv" });
 * if (log.enabled("access", "info")) {
 *   log.emit("access", "info", "{table_name} read", { table_name: "bots" });
 * }
 * ```
 */
export class RouterLog {
  /** The fallback sink's threshold and format (from the environment). */
  readonly settings: LogSettings;
  readonly #sink: Sink;
  readonly #loggers: Record<LogChannel, Logger> = {
    access: getLogger([...LOG_CATEGORY, "access"]),
    audit: getLogger([...LOG_CATEGORY, "audit"]),
  };
  /** The LogTape configuration the cached answers were computed for. */
  #seen: unknown = {};
  #accessInfo = false;

  /** `sink` replaces the default console sink (tests, or a custom fallback). */
  constructor(settings: LogSettings, sink?: Sink) {
    this.settings = settings;
    this.#sink = sink ?? getConsoleSink({
      formatter: recordFormatter(settings.format),
      levelMap: LEVEL_MAP,
    });
  }

  /**
   * Whether a record of `level` on `channel` would be written. Answers for
   * `("access", "info")` are cached until LogTape is configured again, so
   * the check costs one comparison per access.
   */
  enabled(channel: LogChannel, level: LogLevel): boolean {
    if (channel === "access" && level === "info") {
      const config = getConfig();
      if (config !== this.#seen) {
        this.#seen = config;
        this.#accessInfo = this.#compute("access", "info", config);
      }
      return this.#accessInfo;
    }
    return this.#compute(channel, level, getConfig());
  }

  /** Logs `template` (LogTape's `{name}` placeholders) with `properties`. */
  emit(
    channel: LogChannel,
    level: LogLevel,
    template: string,
    properties: Record<string, unknown>,
  ): void {
    if (getConfig() !== null) {
      this.#loggers[channel].emit({
        level,
        message: render(template, properties),
        rawMessage: template,
        timestamp: Date.now(),
        properties,
      });
      return;
    }
    if (compareLogLevel(level, this.settings.level) < 0) return;
    const record: LogRecord = {
      category: [...LOG_CATEGORY, channel],
      level,
      message: render(template, properties),
      rawMessage: template,
      timestamp: Date.now(),
      properties,
    };
    this.#sink(record);
  }

  #compute(channel: LogChannel, level: LogLevel, config: unknown): boolean {
    if (config !== null) return this.#loggers[channel].isEnabledFor(level);
    return compareLogLevel(level, this.settings.level) >= 0;
  }
}

/** Splits a template into LogTape's message array: text, value, text, ... */
function render(template: string, properties: Record<string, unknown>): unknown[] {
  const parts: unknown[] = [];
  let last = 0;
  for (const match of template.matchAll(/\{(\w+)\}/g)) {
    parts.push(template.slice(last, match.index), properties[match[1]]);
    last = match.index + match[0].length;
  }
  parts.push(template.slice(last));
  return parts;
}
