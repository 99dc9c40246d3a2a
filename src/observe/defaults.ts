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
 * still write a real audit file. Where neither is durable (a Cloudflare
 * Worker) and the shared tables are on D1 or libSQL, they go to the shared
 * database's `_dbrouter_audit` table instead of memory (`audit_table.ts`),
 * under the path as the log's name. A path `shared:<name>` (`shared:` alone
 * is `shared:audit`) puts them in that table whatever the storage, on any
 * shared backend, the sql.js shared file included. Lines carry the `prev_hash` chain when the
 * option `auditChain`, else `DB_ROUTER_AUDIT_CHAIN` (`1`/`true`/`on`), says so.
 *
 * @module
 */
import type { LogSink } from "./log_record.ts";
import { ConfigError, RouterError } from "../errors.ts";
import { routingStartup } from "../routing/startup.ts";
import type { Host } from "../storage/host.ts";
import type { RecordLog, StorageAdapter } from "../storage/types.ts";
import type { SharedBackend } from "../engine/backend.ts";
import { SQLJS_BACKEND_KIND } from "../engine/sqljs_backend.ts";
import { SHARED_AUDIT_PREFIX, SharedAuditRecords } from "./audit_table.ts";
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
  /** The router's shared backend, for an audit log kept in the shared database. */
  sharedBackend?: SharedBackend;
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
    const chain = input.auditChain ?? parseSwitch(AUDIT_CHAIN_ENV, env(AUDIT_CHAIN_ENV)) ?? false;
    const { records, path, release } = auditTarget(input, auditPath);
    observers.push(
      new AuditLogObserver(records, path, {
        chain,
        rotation: release ? (input.auditRotation || false) : input.auditRotation,
        release,
        onError: (error) =>
          log.emit("audit", "error", "{reason}", { reason: error.message, code: error.code, path }),
      }),
    );
  }
  const counter = metricsObserver();
  if (counter) observers.push(counter);
  return observers;
}

/** Where the audit lines of `auditPath` go: see the module documentation. */
function auditTarget(
  input: DefaultObserversInput,
  auditPath: string,
): { records: RecordLog; path: string; release?: () => Promise<void> } {
  const backend = input.sharedBackend;
  const toTable = (name: string) => {
    const records = new SharedAuditRecords(backend!);
    return { records, path: name, release: () => records.close() };
  };
  if (auditPath.startsWith(SHARED_AUDIT_PREFIX)) {
    if (!backend) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot write audit log "${auditPath}": no shared database was given to keep it in`,
      );
    }
    return toTable(auditPath.slice(SHARED_AUDIT_PREFIX.length) || "audit");
  }
  const storage = input.storage.capabilities.durable && input.storage.records
    ? input.storage
    : input.host.defaultStorage();
  if (!storage.capabilities.durable && backend && backend.kind !== SQLJS_BACKEND_KIND) {
    return toTable(auditPath); // no file system (a Worker): the shared database, not memory
  }
  if (!storage.records) {
    throw new RouterError(
      "UNSUPPORTED",
      `Cannot write audit log "${auditPath}": storage "${storage.name}" keeps no records`,
    );
  }
  return { records: storage.records, path: storage.resolve(auditPath) };
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
