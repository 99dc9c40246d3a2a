/**
 * Where a database stands: the migrations recorded in `_dbrouter_migrations`
 * and its `PRAGMA user_version`, checked against the code's list.
 *
 * @module
 */
import type { Connection } from "../engine/connection.ts";
import { type Migration, MigrationError } from "./migration.ts";

/** The table that records each applied migration: namespace, version, name, when, by whom. */
export const MIGRATIONS_TABLE = "_dbrouter_migrations";

/** Creates {@linkcode MIGRATIONS_TABLE} when it is missing. */
export const CREATE_MIGRATIONS_TABLE: string = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  namespace TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  menace_id TEXT NOT NULL,
  PRIMARY KEY (namespace, version)
)`;

/** Records one applied migration; its version is the key, so a second record of it fails. */
export const RECORD_MIGRATION: string = `INSERT INTO ${MIGRATIONS_TABLE} ` +
  "(namespace, version, name, applied_at, menace_id) VALUES (?, ?, ?, ?, ?)";

/** The migrations a database has, and its `user_version` where it is kept. */
export interface MigrationState {
  /** Recorded migrations of one namespace, by version. */
  records: { version: number; name: string }[];
  /** Recorded migrations of every namespace, which `user_version` counts. */
  total: number;
  /** `PRAGMA user_version`, or `undefined` where the engine does not keep it (D1). */
  userVersion: number | undefined;
}

/**
 * Reads the state of the database behind `conn`.
 *
 * @example
 * ```ts ignore
 * await readMigrationState(conn, true); // { records: [{ version: 1, name: "one" }], userVersion: 1 }
 * ```
 */
export async function readMigrationState(
  conn: Connection,
  namespace: string,
  userVersion: boolean,
): Promise<MigrationState> {
  const table = await conn.get(
    "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
    [MIGRATIONS_TABLE],
  );
  const records = table === undefined ? [] : await conn.all<MigrationState["records"][number]>(
    `SELECT version, name FROM ${MIGRATIONS_TABLE} WHERE namespace = ? ORDER BY version`,
    [namespace],
  );
  const total = table === undefined
    ? 0
    : Number((await conn.get<{ n: number }>(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`))?.n);
  const version = userVersion
    ? Number((await conn.get<{ user_version: number }>("PRAGMA user_version"))?.user_version ?? 0)
    : undefined;
  return { records, total, userVersion: version };
}

/**
 * The version of a database (its number of migrations), after checking that
 * its records match the code's list: each recorded name is the code's
 * migration of that number (`MIGRATION_MISMATCH` otherwise), it has no more
 * migrations than the code knows (`MIGRATION_AHEAD`), and its `user_version`
 * (the number of migrations of every namespace) agrees.
 *
 * @example
 * ```ts
 * import { checkedVersion } from "./state.ts";
 * const state = { records: [{ version: 1, name: "one" }], total: 1, userVersion: 1 };
 * checkedVersion(state, [{ name: "one", up: "SELECT 1" }], "shared"); // 1
 * ```
 */
export function checkedVersion(
  state: MigrationState,
  migrations: readonly Migration[],
  database: string,
): number {
  const { records, total, userVersion } = state;
  const where = `the ${database} database`;
  records.forEach((record, i) => {
    const known = migrations[i];
    if (record.version !== i + 1) {
      throw new MigrationError(
        "MIGRATION_MISMATCH",
        `Cannot migrate ${where}: its ${MIGRATIONS_TABLE} table has version ${record.version} where ${
          i + 1
        } was expected; it was edited by hand`,
        { version: i + 1 },
      );
    }
    if (known !== undefined && known.name !== record.name) {
      throw new MigrationError(
        "MIGRATION_MISMATCH",
        `Cannot migrate ${where}: its migration ${record.version} is "${record.name}", the code's is "${known.name}"; applied migrations must not be renamed, removed or reordered`,
        { migration: known.name, version: record.version },
      );
    }
  });
  const last = records.at(-1);
  if (records.length > migrations.length) {
    throw new MigrationError(
      "MIGRATION_AHEAD",
      `Cannot migrate ${where}: it is at version ${records.length} (last migration "${last?.name}"), ahead of the ${migrations.length} migrations this code knows; run newer code or restore a matching database`,
      { migration: last?.name, version: records.length },
    );
  }
  if (userVersion !== undefined && userVersion !== total) {
    throw new MigrationError(
      userVersion > total ? "MIGRATION_AHEAD" : "MIGRATION_MISMATCH",
      `Cannot migrate ${where}: its PRAGMA user_version is ${userVersion} but ${total} migrations are recorded in ${MIGRATIONS_TABLE}; something else versions this database`,
      { version: userVersion },
    );
  }
  return records.length;
}
