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
import { loadRouting, type RoutingStartup } from "./src/routing/startup.ts";
import { getHost } from "./src/storage/detect.ts";

export { DBRouter } from "./src/router/router.ts";
export type { AccessCounts } from "./src/router/access_counts.ts";
export type { DBRouterOptions } from "./src/router/options.ts";
export type { WatchOptions } from "./src/router/router.ts";
export { TableChanges } from "./src/watch/iterator.ts";
export type {
  ChangeListener,
  CommitSink,
  TableChange,
  WatchScope,
} from "./src/watch/subscription.ts";
export type { ChangeKind, CommitRows, OwnedRows } from "./src/watch/rows.ts";
export { getGlobalRouter, GLOBAL_ROUTER, initDbRouter } from "./src/router/global.ts";
export type {
  BatchStatement,
  Connection,
  Params,
  Row,
  RunResult,
  SqlParam,
  SqlValue,
  ValuesResult,
} from "./src/engine/connection.ts";
export type { Guard } from "./src/engine/connection.ts";
export type { DatabaseOptions, Durability } from "./src/engine/database.ts";
export type { SqlFunction } from "./src/engine/functions.ts";
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
  ColumnValues,
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
export type { AuditRotationOptions } from "./src/observe/audit_rotation.ts";
export { LOG_CATEGORY } from "./src/observe/log.ts";
export { formatJsonRecord, formatKvRecord } from "./src/observe/log_format.ts";
export type { LogFormatter, LogLevel, LogRecord } from "./src/observe/log_record.ts";
export { METER_NAME, TABLE_ACCESS_METRIC } from "./src/observe/metrics.ts";
export { MigrationError } from "./src/migrate/migration.ts";
export type { MigrateOptions, Migration, MigrationReport } from "./src/migrate/migration.ts";
export { QueueSync, syncSharedDb } from "./src/queue/sync.ts";
export type { SyncOptions, SyncProgress, SyncReport } from "./src/queue/sync.ts";
export type { QueuedRecord, QueuedValue } from "./src/queue/record.ts";
export { memoryStorage } from "./src/storage/memory.ts";
// Each touches its runtime's globals only when called, so importing them all works everywhere.
export { nodeFileStorage } from "./src/storage/node/fs.ts";
export type { NodeFileStorageOptions } from "./src/storage/node/fs.ts";
export { denoFileStorage } from "./src/storage/deno/fs.ts";
export type { DenoFileStorageOptions } from "./src/storage/deno/fs.ts";
export { bunFileStorage } from "./src/storage/bun/fs.ts";
export type { BunFileStorageOptions } from "./src/storage/bun/fs.ts";
export type { MemoryStorageOptions } from "./src/storage/memory.ts";
export { INDEXEDDB_STORAGE_NAME, indexedDbStorage } from "./src/storage/browser/indexeddb.ts";
export type {
  CommitNotice,
  IdbImplementation,
  IndexedDbStorage,
  IndexedDbStorageOptions,
} from "./src/storage/browser/indexeddb.ts";
export { OPFS_STORAGE_NAME, opfsStorage } from "./src/storage/browser/opfs.ts";
export type { OpfsStorage, OpfsStorageOptions, WorkerFactory } from "./src/storage/browser/opfs.ts";
export { browserStorage, opfsLikely } from "./src/storage/browser/choose.ts";
export type { BrowserStorage, BrowserStorageOptions } from "./src/storage/browser/choose.ts";
export { copyIndexedDbToOpfs } from "./src/storage/browser/opfs_copy.ts";
export type { CopyToOpfsOptions, CopyToOpfsResult } from "./src/storage/browser/opfs_copy.ts";
export type {
  LoadedImage,
  PageChanges,
  PageCommit,
  PageNumber,
  RecordLog,
  RecordLogEnds,
  RecordLogEntry,
  Release,
  StorageAdapter,
  StorageCapabilities,
  StorageStats,
  StoredDatabase,
} from "./src/storage/types.ts";
export { setWasmModule, setWasmUrl } from "./wasm/mod.ts";
export type { BackendCapabilities, SharedBackend, SharedDatabase } from "./src/engine/backend.ts";
export { d1Backend } from "./src/remote/d1.ts";
export type {
  D1BackendOptions,
  D1Database,
  D1PreparedStatement,
  D1Result,
} from "./src/remote/d1.ts";
export { libsqlBackend } from "./src/remote/libsql.ts";
export type {
  LibsqlBackendOptions,
  LibsqlClient,
  LibsqlExecutor,
  LibsqlResultSet,
  LibsqlTransaction,
} from "./src/remote/libsql.ts";
export type { RemoteArg } from "./src/remote/sql_args.ts";
export type { RoutingStartup } from "./src/routing/startup.ts";

/** What the start-up load merged: the config file, if one was found. */
export const ROUTING_STARTUP: RoutingStartup = loadRouting(
  getHost(),
);
