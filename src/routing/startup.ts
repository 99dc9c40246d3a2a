/**
 * Merges the configuration file and the environment into the routing sets,
 * once, when the module is first imported.
 *
 * Precedence, lowest first: built-in defaults, the config file, the
 * environment, then code that changes the sets. A later layer moves a table
 * between shared and local; a denied table stays denied.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { Host } from "../storage/host.ts";
import { join } from "../path.ts";
import { applyRoutingLists, parseRoutingConfig, type RoutingConfigOutput } from "./config.ts";
import { parseRoutingEnv, ROUTING_ENV } from "./env.ts";

/** The default config file, relative to the working directory. */
export const DEFAULT_CONFIG_PATH = "config/db_router_tables.json";

/** What the start-up load found, for `explainRoute`, `db-router tables` and the audit log. */
export interface RoutingStartup {
  /** The config file that was merged, if any. */
  configFile?: string;
  /** The validated config file. */
  config?: RoutingConfigOutput;
}

let lastStartup: RoutingStartup | undefined;

/**
 * What the last {@linkcode loadRouting} found (the library's own load on
 * import), or `undefined` before it ran. Routers read `audit_log` from it.
 *
 * @example
 * ```ts
 * import { routingStartup } from "./startup.ts";
 * routingStartup()?.config?.audit_log; // the config file's audit log path, if any
 * ```
 */
export function routingStartup(): RoutingStartup | undefined {
  return lastStartup;
}

/**
 * Reads the config file (`DB_ROUTER_CONFIG`, else the default path if it
 * exists) and the env lists, validates all of them, then applies them. If any
 * is invalid it throws a {@linkcode ConfigError} and applies nothing.
 */
export function loadRouting(host: Host): RoutingStartup {
  // Empty counts as unset, as for every other variable of the router.
  const named = host.env("DB_ROUTER_CONFIG") || undefined;
  const cwd = host.cwd();
  const path = named ?? (cwd === undefined ? undefined : join(cwd, DEFAULT_CONFIG_PATH));
  let config: RoutingConfigOutput | undefined;
  if (path !== undefined && host.readTextFileSync) {
    let text: string | undefined;
    try {
      text = host.readTextFileSync(path, { optional: named === undefined });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new ConfigError(path, [{ path: "", message: `cannot read it: ${reason}` }], { cause });
    }
    if (text === undefined && named !== undefined) {
      throw new ConfigError(path, [{
        path: "",
        message: "no such file (named by DB_ROUTER_CONFIG)",
      }]);
    }
    if (text !== undefined) config = parseRoutingConfig(text, path);
  }
  const env = parseRoutingEnv((name) => host.env(name));
  if (config) applyRoutingLists(config, "config", path!);
  const none: string[] = [];
  applyRoutingLists({ shared: none, local: none, deny: env.deny }, "env", ROUTING_ENV.deny);
  applyRoutingLists({ shared: env.shared, local: none, deny: none }, "env", ROUTING_ENV.shared);
  applyRoutingLists({ shared: none, local: env.local, deny: none }, "env", ROUTING_ENV.local);
  lastStartup = { configFile: config ? path : undefined, config };
  return lastStartup;
}
