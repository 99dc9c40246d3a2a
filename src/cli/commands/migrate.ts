/**
 * `db-router migrate <module>`: applies the migrations a module exports to
 * the shared (or a local) database, as `router.migrate()` does from code:
 * each once, under the database's lock, however many processes run at once.
 *
 * @module
 */
import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Migration } from "../../migrate/migration.ts";
import { checkDbTarget } from "../db_target.ts";
import { type Command, type CommandIO, UsageError, usageErrorOf } from "../command.ts";

const USAGE = `Usage: db-router migrate <module> [options]

Imports <module> (a .js or .mjs file; .ts under Deno, Bun, or Node with tsx)
and applies the migrations it exports, an array of { name, up } where up is a
SQL script or an async function of the transaction's connection, to the
shared database (or the local one): the ones the database lacks, in order,
each in its own transaction, each exactly once even when several processes
migrate at once. Each is recorded in the table _dbrouter_migrations, and
PRAGMA user_version counts them. A migration that fails is rolled back and
named; a database that has migrations the module does not know is refused.

Options:
  --export NAME       the module's export holding the list (default:
                      migrations, else the default export)
  --namespace NAME    the list's namespace (default: main)
  --database WHICH    shared (default) or local
  --db-path PATH      the shared database (default: MENACE_SHARED_DB_PATH,
                      else ./shared/global.db)
  --db-url URL        the shared database on libSQL instead: libsql://,
                      http(s)://, ws(s):// or file: (default: DB_ROUTER_SHARED_URL
                      when --db-path is not given; the token comes from
                      DB_ROUTER_SHARED_AUTH_TOKEN). D1 is reachable only from a
                      Worker: call router.migrate() there
  --local-path PATH   the local database, with --database local (default:
                      MENACE_LOCAL_DB_PATH, else ./menace_<menace>_local.db)
  --menace ID         the menace id recorded as having applied them (default: cli)
  -h, --help          show this help

Exit status: 0 when the database is at the module's version; 1 when a
migration failed or the database is ahead of, or differs from, the module;
2 on bad usage (unknown option, a module that cannot be imported or exports
no list).
`;

/** The `migrate` subcommand. */
export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply a module's migrations to the shared or local database, once",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const options = parse(args);
    const migrations = await loadMigrations(options.module, options.exportName);
    // Imported here: importing the library loads and checks the routing config.
    const { DBRouter, libsqlBackend } = await import("../../../mod.ts");
    const url = options.dbUrl ??
      (options.dbPath === undefined
        ? process.env.DB_ROUTER_SHARED_URL?.trim() || undefined
        : undefined);
    const authToken = process.env.DB_ROUTER_SHARED_AUTH_TOKEN || undefined;
    const shared = url === undefined ? options.dbPath : libsqlBackend({ url, authToken });
    await using router = new DBRouter(options.menace, options.localPath, shared);
    const report = await router.migrate(migrations, {
      database: options.database,
      namespace: options.namespace,
    });
    const where = `${report.database} database ${
      report.database === "shared" ? router.sharedPath : router.localPath
    } (namespace ${report.namespace})`;
    io.out(
      report.applied.length === 0
        ? `${where}: at version ${report.to}, nothing to apply\n`
        : `${where}: version ${report.from} -> ${report.to}, applied ${
          report.applied.join(", ")
        }\n`,
    );
    return 0;
  },
};

interface MigrateFlags {
  module: string;
  exportName?: string;
  namespace?: string;
  database: "shared" | "local";
  dbPath?: string;
  dbUrl?: string;
  localPath?: string;
  menace: string;
}

function parse(args: string[]): MigrateFlags {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        export: { type: "string" },
        namespace: { type: "string" },
        database: { type: "string" },
        "db-path": { type: "string" },
        "db-url": { type: "string" },
        "local-path": { type: "string" },
        menace: { type: "string" },
      },
    });
  } catch (error) {
    throw usageErrorOf(error);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "Missing <module>: the file that exports the migrations"
        : `Too many arguments: ${positionals.slice(1).map((p) => `"${p}"`).join(", ")}`,
    );
  }
  const database = values.database ?? "shared";
  if (database !== "shared" && database !== "local") {
    throw new UsageError(`Invalid --database "${database}": expected shared or local`);
  }
  const dbUrl = checkDbTarget(values["db-path"], values["db-url"]);
  return {
    module: positionals[0],
    exportName: values.export,
    namespace: values.namespace,
    database,
    dbPath: values["db-path"],
    dbUrl,
    localPath: values["local-path"],
    menace: values.menace ?? "cli",
  };
}

async function loadMigrations(path: string, exportName?: string): Promise<Migration[]> {
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(resolve(path)).href);
  } catch (error) {
    throw new UsageError(
      `Cannot import module "${path}": ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const list = exportName !== undefined ? module[exportName] : module.migrations ?? module.default;
  if (!Array.isArray(list)) {
    throw new UsageError(
      `Invalid module "${path}": its export "${
        exportName ?? "migrations"
      }" (or default export) is not an array of migrations`,
    );
  }
  return list as Migration[];
}
