/**
 * What a migration is, what `migrate()` reports, and the checks of a list of
 * migrations made before anything runs.
 *
 * @module
 */
import type { Connection } from "../engine/connection.ts";
import { RouterError, type RouterErrorCode } from "../errors.ts";

/**
 * One schema change. Its number is its position in the list (the first is
 * version 1); its name is recorded with it, so a list edited after the fact
 * (a migration renamed, removed or inserted before others) is refused.
 *
 * @example
 * ```ts
 * import type { Migration } from "./migration.ts";
 * const migrations: Migration[] = [
 *   { name: "create_bots", up: "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)" },
 *   { name: "bots_score", up: (tx) => tx.exec("ALTER TABLE bots ADD COLUMN score REAL") },
 * ];
 * ```
 */
export interface Migration {
  /** Letters, digits, `_`, `-` and `.`, unique in the list; recorded with the version. */
  readonly name: string;
  /**
   * A SQL script, or a function that gets the transaction's connection (not
   * on D1, which has no interactive transactions: use a script there).
   */
  readonly up: string | ((tx: Connection) => Promise<unknown>);
}

/** Options of `router.migrate()`. */
export interface MigrateOptions {
  /**
   * The database to migrate.
   * @default "shared"
   */
  database?: "shared" | "local";
  /**
   * Whose list this is. Each namespace has its own versions, so modules that
   * own their tables (what `db-router new` writes) migrate independently; a
   * list must keep its namespace. Same rules as a migration's name.
   * @default "main"
   */
  namespace?: string;
}

/** What `router.migrate()` did. */
export interface MigrationReport {
  /** The database migrated. */
  database: "shared" | "local";
  /** The namespace of the list. */
  namespace: string;
  /** Its version before the call (the number of migrations it had). */
  from: number;
  /** Its version after the call: the number of migrations in the list. */
  to: number;
  /** Names of the migrations this call applied, in order (others may have applied the rest). */
  applied: string[];
}

/**
 * Checks a namespace (or a migration name): letters, digits, `_`, `-`, `.`.
 *
 * @example
 * ```ts
 * import { checkMigrationName } from "./migration.ts";
 * checkMigrationName("alerts", "namespace"); // "alerts"
 * ```
 */
export function checkMigrationName(name: unknown, what: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `Invalid ${what} ${
        JSON.stringify(name)
      }: expected letters, digits, "_", "-" or "." (at most 128)`,
    );
  }
  return name;
}

/** A migration that failed, or a database whose migrations do not match the code's. */
export class MigrationError extends RouterError {
  /** The migration's name, when one is concerned. */
  readonly migration: string | undefined;
  /** Its version (position from 1), when one is concerned. */
  readonly version: number | undefined;

  /** Creates the error; `migration` and `version` name the migration concerned. */
  constructor(
    code: Extract<RouterErrorCode, `MIGRATION_${string}`>,
    message: string,
    details: { migration?: string; version?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.name = "MigrationError";
    this.migration = details.migration;
    this.version = details.version;
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Checks a list of migrations before anything runs: an array of
 * `{ name, up }` with valid, unique names and a script or function each.
 * Throws a `TypeError` naming the first bad entry.
 *
 * @example
 * ```ts
 * import { checkMigrations } from "./migration.ts";
 * checkMigrations([{ name: "one", up: "CREATE TABLE t (x)" }]); // the same list
 * ```
 */
export function checkMigrations(migrations: readonly Migration[]): readonly Migration[] {
  if (!Array.isArray(migrations)) {
    throw new TypeError(`Invalid migrations ${String(migrations)}: expected an array`);
  }
  const seen = new Set<string>();
  migrations.forEach((migration, i) => {
    const where = `migration ${i + 1}`;
    if (typeof migration !== "object" || migration === null) {
      throw new TypeError(`Invalid ${where}: expected { name, up }`);
    }
    const { name, up } = migration;
    checkMigrationName(name, `${where} name`);
    if (seen.has(name)) throw new TypeError(`Invalid ${where} name "${name}": used twice`);
    seen.add(name);
    if (typeof up === "string" ? up.trim() === "" : typeof up !== "function") {
      throw new TypeError(
        `Invalid ${where} "${name}": up must be a SQL script or a function of the transaction`,
      );
    }
  });
  return migrations;
}
