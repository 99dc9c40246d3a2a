/**
 * Applies a list of migrations to one database, each exactly once however
 * many processes run the same list at once. Where the engine has interactive
 * transactions (sql.js, libSQL), each migration runs in one transaction that
 * first re-reads the state under the database's write lock (for sql.js files,
 * the cross-process lock), so a process that waited finds the work done. On
 * D1, each migration is one atomic `batch()` whose first statement records its
 * version under a primary key: a second instance's batch for the same version
 * fails on that key before its migration runs, and is rolled back whole.
 *
 * @module
 */
import type { Connection, SqlParam } from "../engine/connection.ts";
import { RouterError } from "../errors.ts";
import { splitScript } from "../remote/split_script.ts";
import {
  checkMigrations,
  type Migration,
  MigrationError,
  type MigrationReport,
} from "./migration.ts";
import {
  checkedVersion,
  CREATE_MIGRATIONS_TABLE,
  readMigrationState,
  RECORD_MIGRATION,
} from "./state.ts";

/** How to migrate one database of a router. */
export interface MigrationTarget {
  /** The database's connection (not routed per table: migrations may touch any). */
  connection: Connection;
  /** `"shared"` or `"local"`, for the report and messages. */
  database: "shared" | "local";
  /** Whose list this is: each namespace is versioned on its own. */
  namespace: string;
  /** Recorded as who applied a migration. */
  menaceId: string;
  /** Whether `connection.transaction()` works; otherwise each migration is a guarded batch. */
  transactions: boolean;
  /** Whether `PRAGMA user_version` is kept in step (not on D1, which does not offer it). */
  userVersion: boolean;
  /** The engine's name for messages (`"D1"`). */
  engine: string;
  /** Names the database in this process: migrations of one database here run one at a time. */
  key: string;
}

/**
 * The last migrate() of each database in this process. Routers of one process
 * wait for each other here rather than in the engine: two libSQL clients of
 * one file in one thread would each wait for the other's lock in SQLite's busy
 * handler, which blocks the thread the other needs to finish.
 */
const running = new Map<string, Promise<unknown>>();

/**
 * Brings the database of `target` to the version of `migrations`: applies
 * the ones it lacks, in order, and reports what this call applied.
 *
 * @example
 * ```ts ignore
 * await runMigrations(target, [{ name: "one", up: "CREATE TABLE t (x)" }]);
 * // { database: "shared", from: 0, to: 1, applied: ["one"] }
 * ```
 */
export function runMigrations(
  target: MigrationTarget,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  checkMigrations(migrations);
  const before = running.get(target.key) ?? Promise.resolve();
  const mine = before.catch(() => {}).then(() => migrate(target, migrations));
  const settled = mine.catch(() => {});
  running.set(target.key, settled);
  void settled.then(() => {
    if (running.get(target.key) === settled) running.delete(target.key);
  });
  return mine;
}

async function migrate(
  target: MigrationTarget,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  const { connection, database, transactions } = target;
  if (!transactions) {
    const fn = migrations.find((m) => typeof m.up === "function");
    if (fn !== undefined) {
      throw new RouterError(
        "UNSUPPORTED",
        `Cannot run migration "${fn.name}" on the ${database} database (${target.engine}): a function migration needs an interactive transaction, which ${target.engine} does not have; write it as a SQL script`,
      );
    }
  }
  // Read without the lock: a database that is up to date costs no write.
  const state = await readMigrationState(connection, target.namespace, target.userVersion);
  let version: number;
  try {
    version = checkedVersion(state, migrations, database);
  } catch (error) {
    // Reads made apart may straddle another process's commit (user_version read before
    // it, records after): only the check under the lock, in one transaction, is sure.
    if (!transactions) throw error;
    version = -1;
  }
  const report: MigrationReport = {
    database,
    namespace: target.namespace,
    from: version < 0 ? state.records.length : version,
    to: migrations.length,
    applied: [],
  };
  while (version < migrations.length) {
    const step = transactions
      ? await applyInTransaction(target, migrations)
      : await applyInBatch(target, migrations, version);
    if (step.applied !== undefined) report.applied.push(step.applied);
    version = step.version;
  }
  return report;
}

interface Step {
  /** The version after the step. */
  version: number;
  /** The migration this process applied, if it applied one. */
  applied?: string;
}

/** One transaction: re-read the state under the lock, apply the next migration if any is due. */
function applyInTransaction(
  target: MigrationTarget,
  migrations: readonly Migration[],
): Promise<Step> {
  return target.connection.transaction(async (tx) => {
    await tx.exec(CREATE_MIGRATIONS_TABLE);
    const state = await readMigrationState(tx, target.namespace, target.userVersion);
    const current = checkedVersion(state, migrations, target.database);
    if (current >= migrations.length) return { version: current };
    const migration = migrations[current];
    const version = current + 1;
    try {
      if (typeof migration.up === "string") await tx.exec(migration.up);
      else await migration.up(tx);
    } catch (error) {
      throw failed(target, migration, version, error);
    }
    await tx.run(RECORD_MIGRATION, recordOf(target, migration, version));
    // An integer we computed: PRAGMA takes no parameters.
    if (target.userVersion) await tx.run(`PRAGMA user_version = ${state.total + 1}`);
    return { version, applied: migration.name };
  });
}

/** One atomic batch, its record first: a second batch for the same version fails on the key. */
async function applyInBatch(
  target: MigrationTarget,
  migrations: readonly Migration[],
  current: number,
): Promise<Step> {
  const migration = migrations[current];
  const version = current + 1;
  let script: string[];
  try {
    script = splitScript(migration.up as string);
  } catch (error) {
    throw failed(target, migration, version, error);
  }
  try {
    await target.connection.batch([
      { sql: CREATE_MIGRATIONS_TABLE },
      { sql: RECORD_MIGRATION, params: recordOf(target, migration, version) },
      ...script.map((sql) => ({ sql })),
    ]);
    return { version, applied: migration.name };
  } catch (error) {
    const state = await readMigrationState(
      target.connection,
      target.namespace,
      target.userVersion,
    );
    const now = checkedVersion(state, migrations, target.database);
    // Another instance recorded this version first: its batch ran the migration.
    if (now >= version) return { version: now };
    throw failed(target, migration, version, error);
  }
}

function recordOf(target: MigrationTarget, migration: Migration, version: number): SqlParam[] {
  return [target.namespace, version, migration.name, new Date().toISOString(), target.menaceId];
}

function failed(
  target: MigrationTarget,
  migration: Migration,
  version: number,
  error: unknown,
): MigrationError {
  const reason = error instanceof Error ? error.message : String(error);
  return new MigrationError(
    "MIGRATION_FAILED",
    `Cannot apply migration ${version} "${migration.name}" to the ${target.database} database: ${reason}; it was rolled back, the database stays at version ${
      version - 1
    }`,
    { migration: migration.name, version, cause: error },
  );
}
