/**
 * `DB_ROUTER_LOG_LEVEL` and `DB_ROUTER_LOG_FORMAT`: the threshold and format
 * of the console sink that db-router uses while the application has not
 * configured LogTape itself. Validated with valibot; a bad value is a
 * `ConfigError` (`CONFIG_INVALID`) that names the variable, never a guess.
 *
 * @module
 */
import type { LogLevel } from "./log_record.ts";
import * as v from "valibot";
import { ConfigError } from "../errors.ts";

/** The environment variables read here. */
export const LOG_ENV: { readonly level: string; readonly format: string } = Object.freeze({
  level: "DB_ROUTER_LOG_LEVEL",
  format: "DB_ROUTER_LOG_FORMAT",
});

/** How the default console sink writes a record: one JSON object, or `key=value` pairs. */
export type LogFormat = "json" | "kv";

/** The default console sink's settings. */
export interface LogSettings {
  /** The lowest level the sink prints. */
  readonly level: LogLevel;
  /** One JSON object per line, or `key=value` pairs. */
  readonly format: LogFormat;
}

/**
 * Without the variables: warnings and errors only (a failing audit log), as
 * JSON. Table accesses are logged at INFO, so an application that sets
 * nothing is not flooded.
 */
export const DEFAULT_LOG_SETTINGS: LogSettings = Object.freeze({
  level: "warning",
  format: "json",
});

const LEVELS: Record<string, LogLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warning",
  warn: "warning",
  error: "error",
  critical: "fatal",
  fatal: "fatal",
};

const LogLevelSchema = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist(
    Object.keys(LEVELS),
    "expected DEBUG, INFO, WARNING (or WARN), ERROR or CRITICAL, in any case",
  ),
  v.transform((name: string) => LEVELS[name]),
);

const LogFormatSchema = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist(["json", "kv"], 'expected "json" or "kv"'),
);

/**
 * Reads the two variables through `env`; unset or blank means the default.
 * Throws a `ConfigError` naming the variable for any other value.
 *
 * @example
 * ```ts
 * import { parseLogSettings } from "./log_env.ts";
 * const env: Record<string, string> = { DB_ROUTER_LOG_LEVEL: "warn", DB_ROUTER_LOG_FORMAT: "KV" };
 * parseLogSettings((name) => env[name]); // { level: "warning", format: "kv" }
 * ```
 */
export function parseLogSettings(env: (name: string) => string | undefined): LogSettings {
  const level = parseVariable(env, LOG_ENV.level, LogLevelSchema);
  const format = parseVariable(env, LOG_ENV.format, LogFormatSchema);
  return Object.freeze({
    level: level ?? DEFAULT_LOG_SETTINGS.level,
    format: (format ?? DEFAULT_LOG_SETTINGS.format) as LogFormat,
  });
}

function parseVariable<T>(
  env: (name: string) => string | undefined,
  name: string,
  schema: v.GenericSchema<string, T>,
): T | undefined {
  const raw = env(name);
  if (raw === undefined || raw.trim() === "") return undefined;
  const result = v.safeParse(schema, raw);
  if (result.success) return result.output;
  const message = `${result.issues[0].message} (got ${JSON.stringify(raw)})`;
  throw new ConfigError(name, [{ path: "", message }]);
}
