/**
 * `explainRoute`: where a table goes and which layer decided it.
 *
 * @module
 */
import { TableRoutingError } from "../errors.ts";
import {
  DENY_TABLES,
  LOCAL_TABLES,
  type Provenance,
  routeTable,
  type RoutingLayer,
  SHARED_TABLES,
} from "./tables.ts";

/** Where a table goes. */
export type Route = "shared" | "local" | "denied" | "unknown" | "ambiguous";

/** The answer of {@linkcode explainRoute}. */
export interface RouteExplanation {
  /** The table asked about. */
  table: string;
  /** Where `getConnection` sends it, or why it refuses. */
  route: Route;
  /** The layer that decided, or `null` for a table no layer declared. */
  layer: RoutingLayer | null;
  /** The config file path or env variable behind that layer. */
  source?: string;
  /** One sentence for people. */
  reason: string;
}

/**
 * Says where `table` is routed and which layer (default, config file, env or
 * code) decided it, from the sets' current contents.
 *
 * @example
 * ```ts
 * import { explainRoute } from "./explain.ts";
 * explainRoute("bots"); // { table: "bots", route: "shared", layer: "default", reason: "..." }
 * ```
 */
export function explainRoute(table: string): RouteExplanation {
  let route: Route;
  try {
    route = routeTable(table);
  } catch (error) {
    if (!(error instanceof TableRoutingError)) throw error;
    route = error.code === "TABLE_DENIED"
      ? "denied"
      : error.code === "TABLE_AMBIGUOUS"
      ? "ambiguous"
      : "unknown";
  }
  const provenance: Provenance | undefined = route === "denied"
    ? DENY_TABLES.provenanceOf(table)
    : route === "local"
    ? LOCAL_TABLES.provenanceOf(table)
    : route === "unknown"
    ? undefined
    : SHARED_TABLES.provenanceOf(table);
  const by = provenance ? describe(provenance) : "";
  const reason = {
    shared: `"${table}" is in SHARED_TABLES (${by}): it goes to the shared database`,
    local: `"${table}" is in LOCAL_TABLES (${by}): it goes to the local database`,
    denied: `"${table}" is in DENY_TABLES (${by}): every access is refused`,
    ambiguous: `"${table}" is in both SHARED_TABLES and LOCAL_TABLES: every access is refused`,
    unknown: `"${table}" is in no routing set: every access is refused`,
  }[route];
  const explanation: RouteExplanation = { table, route, layer: provenance?.layer ?? null, reason };
  if (provenance?.source) explanation.source = provenance.source;
  return explanation;
}

function describe(provenance: Provenance): string {
  switch (provenance.layer) {
    case "default":
      return "built-in default";
    case "config":
      return `config file ${provenance.source}`;
    case "env":
      return `env ${provenance.source}`;
    case "code":
      return "set by code";
  }
}
