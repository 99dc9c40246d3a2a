/**
 * The options of a router, validated once at construction into an immutable value.
 *
 * @module
 */
import * as v from "valibot";
import { type DatabaseOptions, DEFAULT_DATABASE_OPTIONS } from "../engine/database.ts";
import type { AuditRotationOptions } from "../observe/audit_rotation.ts";
import type { RouterObserver } from "../observe/hooks.ts";
import type { StorageAdapter } from "../storage/types.ts";

/** Options of `new DBRouter(...)` and `initDbRouter(...)`. */
export interface DBRouterOptions extends Partial<DatabaseOptions> {
  /**
   * Where both databases are kept. Routers that should share a database in
   * one process must share the adapter instance too.
   * @default the runtime's file storage (memory in browsers)
   */
  storage?: StorageAdapter;
  /**
   * Watchers of every table access (logs, audit, metrics).
   * @default []
   */
  observers?: readonly RouterObserver[];
  /**
   * The audit log's path: a string turns it on there, `false` turns it off
   * whatever `DB_ROUTER_AUDIT_LOG` or the config file's `audit_log` say.
   * `"shared:<name>"` keeps it in the shared database's `_dbrouter_audit`
   * table (D1, libSQL, the sql.js file); so does any path in a Worker, which
   * has no file system, when the shared tables are on D1 or libSQL.
   * @default `DB_ROUTER_AUDIT_LOG`, else the config file's `audit_log`, else off
   */
  auditLog?: string | false;
  /**
   * Whether audit lines carry `prev_hash`, for `db-router analyze --verify`.
   * @default `DB_ROUTER_AUDIT_CHAIN` (`1`, `true`, `yes`, `on`), else false
   */
  auditChain?: boolean;
  /**
   * When the audit log rotates (`audit.log` to `audit.log.000001`, ...) and how
   * many rotated files are kept; `false` never rotates. Every process writing
   * one log must use the same setting (see README, Audit log).
   * @default `{ maxBytes: 64 MiB, maxAgeMs: a day, keepFiles: Infinity }`
   */
  auditRotation?: AuditRotationOptions | false;
  /**
   * The folder of `queueWrite()` queue files, which `db-router sync` applies.
   * @default `DB_ROUTER_QUEUE_DIR`, else `queue/` beside the shared database
   */
  queueDir?: string;
}

const positiveInteger = (what: string) =>
  v.pipe(
    v.number(`expected a number of ${what}`),
    v.integer(`expected a whole number of ${what}`),
    v.minValue(1, `expected at least 1 ${what}`),
  );

/** Validates the options that are plain values; adapters and observers are checked by shape. */
const DBRouterOptionsSchema = v.object({
  durability: v.optional(v.picklist(["commit", "deferred"], 'expected "commit" or "deferred"')),
  flushIntervalMs: v.optional(positiveInteger("milliseconds")),
  maxReadLagMs: v.optional(
    v.pipe(v.number("expected milliseconds"), v.minValue(0, "expected 0 or more milliseconds")),
  ),
  statementCacheSize: v.optional(positiveInteger("statements")),
  verifyOnOpen: v.optional(v.picklist(["quick", "header"], 'expected "quick" or "header"')),
  storage: v.optional(
    v.custom<StorageAdapter>(
      (s) =>
        typeof s === "object" && s !== null && typeof (s as StorageAdapter).open === "function",
      "expected a storage adapter",
    ),
  ),
  auditLog: v.optional(
    v.union(
      [v.pipe(v.string(), v.minLength(1)), v.literal(false)],
      "expected a file path or false",
    ),
  ),
  auditChain: v.optional(v.boolean("expected true or false")),
  auditRotation: v.optional(
    v.union([
      v.literal(false),
      v.strictObject({
        maxBytes: v.optional(v.number()),
        maxAgeMs: v.optional(v.number()),
        keepFiles: v.optional(v.number()),
      }),
    ], "expected false or { maxBytes?, maxAgeMs?, keepFiles? }"),
  ),
  queueDir: v.optional(v.pipe(v.string(), v.minLength(1, "expected a folder path"))),
  observers: v.optional(
    v.array(
      v.custom<RouterObserver>(
        (o) => typeof o === "object" && o !== null,
        "expected an observer object",
      ),
    ),
  ),
});

/** Options after validation and defaults. */
export interface ResolvedRouterOptions {
  database: Readonly<DatabaseOptions>;
  storage?: StorageAdapter;
  observers: readonly RouterObserver[];
  auditLog?: string | false;
  auditChain?: boolean;
  auditRotation?: AuditRotationOptions | false;
  queueDir?: string;
}

/** Checks `options` and fills defaults; throws a `TypeError` naming the bad option. */
export function resolveRouterOptions(options: DBRouterOptions | undefined): ResolvedRouterOptions {
  const result = v.safeParse(DBRouterOptionsSchema, options ?? {});
  if (!result.success) {
    const issue = result.issues[0];
    const key = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new TypeError(
      `Invalid router option ${key ? `"${key}" ` : ""}${
        JSON.stringify(issue.input) ?? String(issue.input)
      }: ${issue.message}`,
    );
  }
  const o = result.output;
  const database: DatabaseOptions = {
    durability: o.durability ?? DEFAULT_DATABASE_OPTIONS.durability,
    flushIntervalMs: o.flushIntervalMs ?? DEFAULT_DATABASE_OPTIONS.flushIntervalMs,
    maxReadLagMs: o.maxReadLagMs ?? DEFAULT_DATABASE_OPTIONS.maxReadLagMs,
    statementCacheSize: o.statementCacheSize ?? DEFAULT_DATABASE_OPTIONS.statementCacheSize,
    verifyOnOpen: o.verifyOnOpen ?? DEFAULT_DATABASE_OPTIONS.verifyOnOpen,
  };
  return {
    database: Object.freeze(database),
    storage: o.storage,
    observers: Object.freeze([...(o.observers ?? [])]),
    auditLog: o.auditLog,
    auditChain: o.auditChain,
    auditRotation: o.auditRotation,
    queueDir: o.queueDir,
  };
}
