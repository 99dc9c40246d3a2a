/**
 * The routing sets: which tables live in the shared database, which in each
 * instance's local database, and which are denied. Each membership remembers
 * the layer that decided it (default, config file, env, or code), for
 * {@linkcode explainRoute} and `db-router tables`.
 *
 * @module
 */
import { TableRoutingError } from "../errors.ts";
import { assertIdentifier } from "./identifier.ts";

/** The layer that placed a table in a set, from lowest to highest precedence. */
export type RoutingLayer = "default" | "config" | "env" | "code";

/** Which routing set. */
export type RoutingSetName = "shared" | "local" | "deny";

/** Where a membership came from. */
export interface Provenance {
  /** The deciding layer. */
  layer: RoutingLayer;
  /** The config file path or env variable name, for those layers. */
  source?: string;
}

/**
 * A `Set` of table names that validates what is added (plain SQL identifiers
 * only) and records where each name came from. Code that calls `add` directly
 * is recorded as layer `"code"`.
 */
export class TableSet extends Set<string> {
  /** Which routing set this is. */
  readonly role: RoutingSetName;
  #provenance = new Map<string, Provenance>();
  #loading: Provenance | undefined;

  /** Creates the set `role` holding `defaults` (layer `"default"`). */
  constructor(role: RoutingSetName, defaults: Iterable<string> = []) {
    super();
    this.role = role;
    for (const table of defaults) this.addFrom(table, { layer: "default" });
  }

  /** Adds a table name (validated); recorded as decided by code. */
  override add(table: string): this {
    assertIdentifier(table, `table name for ${this.role.toUpperCase()}_TABLES`);
    super.add(table);
    this.#provenance.set(table, this.#loading ?? { layer: "code" });
    return this;
  }

  /** Removes a table name. */
  override delete(table: string): boolean {
    this.#provenance.delete(table);
    return super.delete(table);
  }

  /** Removes every name. */
  override clear(): void {
    this.#provenance.clear();
    super.clear();
  }

  /** Adds `table` on behalf of a configuration layer. */
  addFrom(table: string, provenance: Provenance): void {
    this.#loading = provenance;
    try {
      this.add(table);
    } finally {
      this.#loading = undefined;
    }
  }

  /** Where `table`'s membership came from, if it is a member. */
  provenanceOf(table: string): Provenance | undefined {
    return this.has(table) ? this.#provenance.get(table) : undefined;
  }
}

/** The spec's shared tables: visible to every Menace instance. */
export const DEFAULT_SHARED_TABLES: readonly string[] = Object.freeze([
  "bots",
  "code",
  "discrepancies",
  "enhancements",
  "errors",
  "information",
  "overrides",
  "workflow_summaries",
  "telemetry",
]);

/** The spec's local tables: kept in each instance's own database. */
export const DEFAULT_LOCAL_TABLES: readonly string[] = Object.freeze([
  "action_audit",
  "action_roi",
  "allocation_weights",
  "allocations",
  "bot_performance",
  "bot_trials",
  "capital_summary",
  "churn",
  "db_roi_metrics",
  "decisions",
  "deployments",
  "efficiency",
  "embedding_stats",
  "evaluation_history",
  "events",
  "evolution_history",
  "evolutions",
  "experiment_history",
  "experiment_tests",
  "failures",
  "feedback",
  "flakiness_history",
  "healing_actions",
  "history",
  "investments",
  "leads",
  "ledger",
  "maintenance",
  "memory",
  "menace_config",
  "messages",
  "metadata",
  "metrics",
  "mirror_logs",
  "models",
  "module_metrics",
  "patch_history",
  "patch_outcomes",
  "patch_provenance",
  "patches",
  "profit",
  "profit_history",
  "resolutions",
  "results",
  "retrieval_cache",
  "retrieval_stats",
  "retriever_kpi",
  "retriever_stats",
  "revenue",
  "risk_summaries",
  "roi",
  "roi_events",
  "roi_history",
  "roi_logs",
  "roi_prediction_events",
  "roi_telemetry",
  "sandbox_metrics",
  "saturation",
  "subs",
  "synergy_history",
  "tasks",
  "test_history",
  "update_history",
  "variants",
  "vector_metrics",
  "weight_override",
  "workflows",
]);

/** The spec's denied tables: finance data that no router may touch. */
export const DEFAULT_DENY_TABLES: readonly string[] = Object.freeze([
  "capital_ledger",
  "finance_logs",
]);

/**
 * Tables stored in the shared database. Mutable: add or remove names, and
 * every router routes by the set's contents at the time of each call.
 *
 * @example
 * ```ts
 * import { SHARED_TABLES } from "./tables.ts";
 * SHARED_TABLES.add("alerts"); // visible to all Menace instances
 * ```
 */
export const SHARED_TABLES: TableSet = new TableSet("shared", DEFAULT_SHARED_TABLES);

/**
 * Tables stored in each instance's local database. Mutable, like {@linkcode SHARED_TABLES}.
 *
 * @example
 * ```ts
 * import { LOCAL_TABLES } from "./tables.ts";
 * LOCAL_TABLES.add("session");
 * ```
 */
export const LOCAL_TABLES: TableSet = new TableSet("local", DEFAULT_LOCAL_TABLES);

/**
 * Tables no router may open, whatever the other sets say. Mutable.
 *
 * @example
 * ```ts
 * import { DENY_TABLES } from "./tables.ts";
 * DENY_TABLES.add("legacy_data");
 * ```
 */
export const DENY_TABLES: TableSet = new TableSet("deny", DEFAULT_DENY_TABLES);

/**
 * Decides where `table` goes, by the sets' current contents. Throws a
 * {@linkcode TableRoutingError}: `TABLE_DENIED` for a denied table (deny wins
 * over both other sets), `TABLE_AMBIGUOUS` for a table that code placed in both
 * shared and local, `TABLE_UNKNOWN` for a table in neither.
 *
 * @example
 * ```ts
 * import { routeTable } from "./tables.ts";
 * routeTable("bots"); // "shared"
 * routeTable("models"); // "local"
 * ```
 */
export function routeTable(table: string): "shared" | "local" {
  if (DENY_TABLES.has(table)) {
    throw new TableRoutingError("TABLE_DENIED", table, "it is in DENY_TABLES");
  }
  const shared = SHARED_TABLES.has(table);
  if (shared && LOCAL_TABLES.has(table)) {
    throw new TableRoutingError(
      "TABLE_AMBIGUOUS",
      table,
      "it is in both SHARED_TABLES and LOCAL_TABLES; remove it from one",
    );
  }
  if (shared) return "shared";
  if (LOCAL_TABLES.has(table)) return "local";
  if (typeof table !== "string") {
    throw new TypeError(`Invalid table name ${String(table)}: expected a string`);
  }
  throw new TableRoutingError(
    "TABLE_UNKNOWN",
    table,
    "unknown table; add it to SHARED_TABLES or LOCAL_TABLES",
  );
}
