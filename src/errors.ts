/**
 * The `RouterError` family: conditions that callers are expected to catch,
 * each with a stable `code`. Misuse (a wrong argument type, an invalid name)
 * throws the built-in `TypeError` or `RangeError` instead.
 *
 * @module
 */

/** Every code a {@linkcode RouterError} can carry. */
export type RouterErrorCode =
  | "TABLE_DENIED"
  | "TABLE_UNKNOWN"
  | "TABLE_AMBIGUOUS"
  | "TABLE_NOT_SHARED"
  | "ROUTER_CLOSED"
  | "CONFIG_INVALID"
  | "DATABASE_CORRUPT"
  | "DATABASE_OPEN_FAILED"
  | "TRANSACTION_CLOSED"
  | "TRANSACTION_LEFT_OPEN"
  | "PERSIST_FAILED"
  | "LOCK_TIMEOUT"
  | "NOT_OWNER"
  | "UNSUPPORTED"
  | "AUDIT_WRITE_FAILED"
  | "STORAGE_QUOTA"
  | "SCOPE_REFUSED"
  | "FOREIGN_WRITE"
  | "FOREIGN_JOURNAL"
  | "MIGRATION_FAILED"
  | "MIGRATION_AHEAD"
  | "MIGRATION_MISMATCH"
  | "QUERY_CROSSES_DATABASES"
  | "PACKAGE_MISSING";

/**
 * Base class of every error the router raises for a condition a caller may
 * handle. Test and branch on `code`, never on the message.
 *
 * @example
 * ```ts
 * import { RouterError } from "./errors.ts";
 * try {
 *   throw new RouterError("TABLE_UNKNOWN", 'Cannot route table "x": unknown table');
 * } catch (error) {
 *   if (error instanceof RouterError && error.code === "TABLE_UNKNOWN") {
 *     // declare the table, then retry
 *   }
 * }
 * ```
 */
export class RouterError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: RouterErrorCode;

  /** Creates an error with a stable `code`; `options.cause` keeps the underlying error. */
  constructor(code: RouterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RouterError";
    this.code = code;
  }
}

/**
 * A table that `DENY_TABLES`, or no routing set, lets through; or, with
 * `TABLE_NOT_SHARED`, a local table given to an operation for shared tables
 * only (`queueWrite()`).
 */
export class TableRoutingError extends RouterError {
  /** The table name as the caller gave it. */
  readonly table: string;

  /** Creates a routing error for `table`. */
  constructor(
    code: "TABLE_DENIED" | "TABLE_UNKNOWN" | "TABLE_AMBIGUOUS" | "TABLE_NOT_SHARED",
    table: string,
    reason: string,
  ) {
    super(code, `Cannot route table "${table}": ${reason}`);
    this.name = "TableRoutingError";
    this.table = table;
  }
}

/** A call on a router, or a connection, after `close()`. */
export class RouterClosedError extends RouterError {
  /** Creates the error for the router of `menaceId`. */
  constructor(menaceId: string) {
    super("ROUTER_CLOSED", `Cannot use router "${menaceId}": it is closed`);
    this.name = "RouterClosedError";
  }
}

/** One problem found while validating a routing configuration. */
export interface ConfigIssue {
  /** Dotted path of the offending field, such as `shared.2`; empty for the whole file. */
  path: string;
  /** What is wrong with it. */
  message: string;
}

/**
 * A configuration file or environment value that failed validation. Nothing
 * of it was applied.
 */
export class ConfigError extends RouterError {
  /** Where the configuration came from: a file path or an env variable name. */
  readonly source: string;
  /** Every problem found, in order. */
  readonly issues: readonly ConfigIssue[];

  /** Creates the error for `source` with its `issues`. */
  constructor(source: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
    super("CONFIG_INVALID", `Invalid routing configuration "${source}": ${detail}`, options);
    this.name = "ConfigError";
    this.source = source;
    this.issues = issues;
  }
}

/** A database that is not a SQLite file or is damaged. It is never overwritten. */
export class DatabaseCorruptError extends RouterError {
  /** The database location (path or key). */
  readonly location: string;

  /** Creates the error for the database at `location`. */
  constructor(location: string, reason: string, options?: { cause?: unknown }) {
    super("DATABASE_CORRUPT", `Cannot open database "${location}": ${reason}`, options);
    this.name = "DatabaseCorruptError";
    this.location = location;
  }
}
