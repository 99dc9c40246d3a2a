/**
 * db-router: routes SQLite tables between a per-instance local database and a
 * shared database used by every instance, on sql.js, in Deno, Node, Bun and
 * browsers.
 *
 * On import, the routing sets are merged with `config/db_router_tables.json`
 * (or the file named by `DB_ROUTER_CONFIG`) and the `DB_ROUTER_*_TABLES`
 * environment variables; an invalid configuration makes the import fail with
 * a `ConfigError` that names the file and field, and nothing of it is applied.
 *
 * @example
 * ```ts
 * import { initDbRouter } from "./mod.ts";
 * const router = initDbRouter("alpha");
 * const bots = router.getConnection("bots", "write"); // shared/global.db
 * const models = router.getConnection("models"); // menace_alpha_local.db
 * await router.close();
 * ```
 *
 * @module
 */
import { loadRouting } from "./src/routing/startup.ts";
import { getHost } from "./src/storage/detect.ts";

export { DBRouter } from "./src/router/router.ts";
export type { AccessCounts } from "./src/router/router.ts";
export type { DBRouterOptions } from "./src/router/options.ts";
export { getGlobalRouter, GLOBAL_ROUTER, initDbRouter } from "./src/router/global.ts";
export type {
  BatchStatement,
  Connection,
  Params,
  Row,
  RunResult,
  SqlParam,
  SqlValue,
} from "./src/engine/connection.ts";
export type { DatabaseOptions, Durability } from "./src/engine/database.ts";
export {
  DEFAULT_DENY_TABLES,
  DEFAULT_LOCAL_TABLES,
  DEFAULT_SHARED_TABLES,
  DENY_TABLES,
  LOCAL_TABLES,
  routeTable,
  SHARED_TABLES,
  TableSet,
} from "./src/routing/tables.ts";
export type { Provenance, RoutingLayer, RoutingSetName } from "./src/routing/tables.ts";
export { explainRoute } from "./src/routing/explain.ts";
export type { Route, RouteExplanation } from "./src/routing/explain.ts";
export { parseRoutingConfig } from "./src/routing/config.ts";
export type { RoutingConfigInput, RoutingConfigOutput } from "./src/routing/config.ts";
export { isIdentifier } from "./src/routing/identifier.ts";
export {
  applyScope,
  buildScopeClause,
  isScope,
  parseScope,
  Scope,
  scopedDelete,
  scopedQuery,
  scopedUpdate,
  stampedInsert,
  stampedUpsert,
} from "./src/scope/mod.ts";
export type {
  NamedParams,
  ScopedSql,
  ScopeTarget,
  SqlStatement,
  WriteScope,
} from "./src/scope/mod.ts";
export {
  ConfigError,
  DatabaseCorruptError,
  RouterClosedError,
  RouterError,
  TableRoutingError,
} from "./src/errors.ts";
export type { ConfigIssue, RouterErrorCode } from "./src/errors.ts";
export type { AccessEvent, RouterObserver } from "./src/observe/hooks.ts";
export { memoryStorage } from "./src/storage/memory.ts";
export type { MemoryStorageOptions } from "./src/storage/memory.ts";
export type {
  LoadedImage,
  PageCommit,
  RecordLog,
  Release,
  StorageAdapter,
  StorageCapabilities,
  StorageStats,
  StoredDatabase,
} from "./src/storage/types.ts";
export { setWasmUrl } from "./wasm/mod.ts";

/** What the start-up load merged: the config file, if one was found. */
export const ROUTING_STARTUP: import("./src/routing/startup.ts").RoutingStartup = loadRouting(
  getHost(),
);
