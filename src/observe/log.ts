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
import type { LogSettings } from "./log_env.ts";
import { recordFormatter } from "./log_format.ts";
import { compareLogLevel, type LogLevel, type LogRecord, type LogSink } from "./log_record.ts";

/** The root category of every db-router log record. */
export const LOG_CATEGORY: readonly string[] = Object.freeze(["db-router"]);

/** The sub-categories db-router logs under. */
export type LogChannel = "access" | "audit";

/**
 * The part of LogTape's `Logger` interface used here. LogTape shares its root
 * logger between every copy of the package in a process through
 * `globalThis[Symbol.for("logtape.rootLogger")]`.
 */
interface SharedLogger {
  getChild(category: readonly [string, ...string[]]): SharedLogger;
  isEnabledFor(level: LogLevel): boolean;
  emit(record: Omit<LogRecord, "category">): void;
}

/**
 * LogTape 2's process-global inspection state (what its `isConfigured()`
 * reads, whichever copy of the package configured it): `configured`, and the
 * map of configured loggers that each `configure({ reset })` or `reset()`
 * replaces.
 */
interface LogTapeState {
  configured?: boolean;
  loggers?: object;
}

const ROOT_LOGGER = Symbol.for("logtape.rootLogger");
const INSPECTION_STATE = Symbol.for("logtape.inspectionState");

/**
 * The application's LogTape configuration as a value that changes whenever
 * it is configured or reset, or `null` when LogTape is not configured (or not
 * loaded at all).
 */
function logTapeConfiguration(): object | null {
  const state = (globalThis as Record<symbol, LogTapeState | undefined>)[INSPECTION_STATE];
  return state?.configured === true && state.loggers !== undefined ? state.loggers : null;
}

/** LogTape's shared root logger; only called once LogTape is configured. */
function rootLogger(): SharedLogger | undefined {
  return (globalThis as Record<symbol, SharedLogger | undefined>)[ROOT_LOGGER];
}

/** Console methods of the default sink: standard error, as command-line tools expect. */
function consoleSink(settings: LogSettings): LogSink {
  const format = recordFormatter(settings.format);
  return (record) => {
    const line = format(record).replace(/\r?\n$/, "");
    if (record.level === "warning") console.warn(line);
    else console.error(line);
  };
}

/**
 * Where one router's log records go. `enabled()` is the cheap test that
 * `getConnection` runs before it builds an access record.
 *
 * db-router does not import `@logtape/logtape`: while the application has
 * not configured LogTape, records go to a console sink of db-router's own;
 * once it has (through any copy of the package), they go to the loggers
 * LogTape shares through the global object, like any other library's.
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
  readonly #sink: LogSink;
  /** LogTape's loggers for the channels, found once LogTape is configured. */
  #loggers: Record<LogChannel, SharedLogger> | undefined;
  /** The LogTape configuration the cached answers were computed for. */
  #seen: unknown = {};
  #accessInfo = false;

  /** `sink` replaces the default console sink (tests, or a custom fallback). */
  constructor(settings: LogSettings, sink?: LogSink) {
    this.settings = settings;
    this.#sink = sink ?? consoleSink(settings);
  }

  /**
   * Whether a record of `level` on `channel` would be written. Answers for
   * `("access", "info")` are cached until LogTape is configured again, so
   * the check costs one comparison per access.
   */
  enabled(channel: LogChannel, level: LogLevel): boolean {
    if (channel === "access" && level === "info") {
      const config = logTapeConfiguration();
      if (config !== this.#seen) {
        this.#seen = config;
        this.#accessInfo = this.#compute("access", "info", config);
      }
      return this.#accessInfo;
    }
    return this.#compute(channel, level, logTapeConfiguration());
  }

  /** Logs `template` (LogTape's `{name}` placeholders) with `properties`. */
  emit(
    channel: LogChannel,
    level: LogLevel,
    template: string,
    properties: Record<string, unknown>,
  ): void {
    const loggers = logTapeConfiguration() === null ? undefined : this.#logTape();
    if (loggers !== undefined) {
      loggers[channel].emit({
        level,
        message: render(template, properties),
        rawMessage: template,
        timestamp: Date.now(),
        properties,
      });
      return;
    }
    if (compareLogLevel(level, this.settings.level) < 0) return;
    this.#sink({
      category: [...LOG_CATEGORY, channel],
      level,
      message: render(template, properties),
      rawMessage: template,
      timestamp: Date.now(),
      properties,
    });
  }

  #compute(channel: LogChannel, level: LogLevel, config: unknown): boolean {
    const loggers = config === null ? undefined : this.#logTape();
    if (loggers !== undefined) return loggers[channel].isEnabledFor(level);
    return compareLogLevel(level, this.settings.level) >= 0;
  }

  #logTape(): Record<LogChannel, SharedLogger> | undefined {
    if (this.#loggers) return this.#loggers;
    const root = rootLogger();
    if (root === undefined) return undefined;
    const [name] = LOG_CATEGORY;
    this.#loggers = {
      access: root.getChild([name, "access"]),
      audit: root.getChild([name, "audit"]),
    };
    return this.#loggers;
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
