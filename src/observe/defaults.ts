/**
 * The observers every router attaches by itself, before the `observers` of
 * its options: the access log, the audit log when it is on, and the
 * `table_access_total` counter when a MeterProvider is registered.
 *
 * The audit log is on when, first match wins: the router option `auditLog`
 * (a path, or `false` to turn it off whatever the rest say), the environment
 * variable `DB_ROUTER_AUDIT_LOG`, the config file's `audit_log`. A relative
 * path resolves against the working directory when the router is created.
 * The lines go to the records of the router's storage adapter when it is
 * durable (files, IndexedDB), else to the host's default storage (the file
 * system under Node, Deno and Bun), so routers on `memoryStorage()` in tests
 * still write a real audit file. Lines carry the `prev_hash` chain when the
 * option `auditChain`, else `DB_ROUTER_AUDIT_CHAIN` (`1`/`true`/`on`), says so.
 *
 * @module
 */
import type { LogSink } from "./log_record.ts";
import { ConfigError, RouterError } from "../errors.ts";
import { routingStartup } from "../routing/startup.ts";
import type { Host } from "../storage/host.ts";
import type { StorageAdapter } from "../storage/types.ts";
import { accessLogObserver } from "./access_log.ts";
import { AuditLogObserver } from "./audit.ts";
import type { AuditRotationOptions } from "./audit_rotation.ts";
import type { RouterObserver } from "./hooks.ts";
import { RouterLog } from "./log.ts";
import { parseLogSettings } from "./log_env.ts";
import { metricsObserver } from "./metrics.ts";

/** The environment variable that turns the audit log on. */
export const AUDIT_ENV = "DB_ROUTER_AUDIT_LOG";

/** The environment variable that adds the `prev_hash` chain to audit lines. */
export const AUDIT_CHAIN_ENV = "DB_ROUTER_AUDIT_CHAIN";

/** What {@linkcode defaultObservers} builds from. */
export interface DefaultObserversInput {
  /** Environment and default storage. */
  host: Pick<Host, "env" | "defaultStorage">;
  /** The router's storage adapter. */
  storage: StorageAdapter;
  /** The router option `auditLog`. */
  auditLog?: string | false;
  /** The router option `auditChain`. */
  auditChain?: boolean;
  /** The router option `auditRotation`. */
  auditRotation?: AuditRotationOptions | false;
  /** The config file's `audit_log`. @default what the library loaded on import */
  configAuditLog?: string;
  /** Replaces the console sink used while LogTape is not configured (tests). */
  logSink?: LogSink;
}

/**
 * Which audit log path applies: the option, else `DB_ROUTER_AUDIT_LOG`, else
 * the config file's; `undefined` when the audit log is off.
 *
 * @example
 * ```ts
 * import { chooseAuditLog } from "./defaults.ts";
 * chooseAuditLog(false, "/var/log/a.log", "b.log"); // undefined: the option turns it off
 * chooseAuditLog(undefined, "", "b.log"); // "b.log": a blank variable is unset
 * ```
 */
export function chooseAuditLog(
  option: string | false | undefined,
  env: string | undefined,
  config: string | undefined,
): string | undefined {
  if (option !== undefined) return option === false ? undefined : option;
  if (env !== undefined && env.trim() !== "") return env;
  return config;
}

/**
 * Builds a router's default observers. Throws a `ConfigError` for a bad
 * `DB_ROUTER_LOG_LEVEL`, `DB_ROUTER_LOG_FORMAT` or `DB_ROUTER_AUDIT_CHAIN`.
 *
 * @example
 * ```ts
 * import { defaultObservers } from "./defaults.ts";
 * import { getHost } from "../storage/detect.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * const observers = defaultObservers({ host: getHost(), storage: memoryStorage() });
 * observers.length; // 1 (the access log) when no audit log and no MeterProvider
 * ```
 */
export function defaultObservers(input: DefaultObserversInput): RouterObserver[] {
  const env = (name: string) => input.host.env(name);
  const log = new RouterLog(parseLogSettings(env), input.logSink);
  const auditPath = chooseAuditLog(
    input.auditLog,
    env(AUDIT_ENV),
    "configAuditLog" in input ? input.configAuditLog : routingStartup()?.config?.audit_log,
  );
  const observers: RouterObserver[] = [
    accessLogObserver(log, { includeLocal: auditPath !== undefined }),
  ];
  if (auditPath !== undefined) {
    const storage = input.storage.capabilities.durable && input.storage.records
      ? input.storage
      : input.host.defaultStorage();
    if (!storage.records) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot write audit log "${auditPath}": storage "${storage.name}" keeps no records`,
      );
    }
    const path = storage.resolve(auditPath);
    const chain = input.auditChain ?? parseSwitch(AUDIT_CHAIN_ENV, env(AUDIT_CHAIN_ENV)) ?? false;
    observers.push(
      new AuditLogObserver(storage.records, path, {
        chain,
        rotation: input.auditRotation,
        onError: (error) =>
          log.emit("audit", "error", "{reason}", { reason: error.message, code: error.code, path }),
      }),
    );
  }
  const counter = metricsObserver();
  if (counter) observers.push(counter);
  return observers;
}

const SWITCH: Record<string, boolean> = {
  "1": true,
  true: true,
  yes: true,
  on: true,
  "0": false,
  false: false,
  no: false,
  off: false,
};

/** An on/off variable; unset or blank is `undefined`, anything unknown a `ConfigError`. */
function parseSwitch(name: string, raw: string | undefined): boolean | undefined {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === "") return undefined;
  if (value in SWITCH) return SWITCH[value];
  throw new ConfigError(name, [{
    path: "",
    message: `expected 1, true, yes or on, or 0, false, no or off (got ${JSON.stringify(raw)})`,
  }]);
}
