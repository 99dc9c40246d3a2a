/**
 * Environment overrides of the routing sets: `DB_ROUTER_SHARED_TABLES`,
 * `DB_ROUTER_LOCAL_TABLES` and `DB_ROUTER_DENY_TABLES`, comma-separated lists.
 *
 * @module
 */
import { ConfigError, type ConfigIssue } from "../errors.ts";
import type { RoutingLists } from "./config.ts";
import { isIdentifier } from "./identifier.ts";

/** The env variable for each list. */
export const ROUTING_ENV: Readonly<{ shared: string; local: string; deny: string }> = Object.freeze(
  {
    shared: "DB_ROUTER_SHARED_TABLES",
    local: "DB_ROUTER_LOCAL_TABLES",
    deny: "DB_ROUTER_DENY_TABLES",
  },
);

/**
 * Reads the three lists from `env`: whitespace around names is trimmed and
 * empty entries dropped. Throws a {@linkcode ConfigError} naming the variable
 * for a name that is not a plain SQL identifier, or for a table both shared and
 * local; nothing is returned, so nothing is applied, unless all three are valid.
 *
 * @example
 * ```ts
 * import { parseRoutingEnv } from "./env.ts";
 * const env = { DB_ROUTER_LOCAL_TABLES: " session, debug_stats ,," } as Record<string, string>;
 * parseRoutingEnv((name) => env[name]).local; // ["session", "debug_stats"]
 * ```
 */
export function parseRoutingEnv(env: (name: string) => string | undefined): RoutingLists {
  const issues: ConfigIssue[] = [];
  const sources: string[] = [];
  const read = (name: string): string[] => {
    const raw = env(name);
    if (raw === undefined) return [];
    const names = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    for (const table of names) {
      if (!isIdentifier(table)) {
        issues.push({
          path: name,
          message: `${JSON.stringify(table)} is not a plain SQL identifier`,
        });
        sources.push(name);
      }
    }
    return names;
  };
  const lists = {
    shared: read(ROUTING_ENV.shared),
    local: read(ROUTING_ENV.local),
    deny: read(ROUTING_ENV.deny),
  };
  const both = lists.shared.filter((t) => lists.local.includes(t));
  if (both.length > 0) {
    issues.push({
      path: ROUTING_ENV.shared,
      message: `also in ${ROUTING_ENV.local}: ${both.join(", ")}`,
    });
    sources.push(ROUTING_ENV.shared, ROUTING_ENV.local);
  }
  if (issues.length > 0) throw new ConfigError([...new Set(sources)].join(", "), issues);
  return lists;
}
