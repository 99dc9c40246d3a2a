/**
 * The shared databases the query-builder tests (`typed_*.test.ts`) run on:
 * sql.js (memory storage), D1 through one Miniflare per test file, and libSQL
 * `file:` URLs. Each gives fresh routers with the schema of {@linkcode TYPED_SCHEMA}.
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Miniflare } from "miniflare";
import { d1Backend, type D1Database, DBRouter, libsqlBackend, memoryStorage } from "../../mod.ts";
import { RUNTIME, temporaryFolder } from "./storage_fixtures.ts";

/** Two shared tables (`bots`, `code`: both have `id` and `name`) and one local (`models`). */
export const TYPED_SCHEMA = {
  shared: `CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL, source_menace_id TEXT);
    CREATE TABLE code (id INTEGER PRIMARY KEY, bot_id INTEGER, name TEXT, source_menace_id TEXT)`,
  local: "CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT)",
};

/** One backend of the tests. */
export interface TypedBackend {
  name: string;
  /** Whether `transaction()` works on the shared database. */
  transactions: boolean;
  /** Routers `alpha` and `beta` on one fresh shared database, schema made; `close()` closes both. */
  fresh(): Promise<{ alpha: DBRouter; beta: DBRouter; close(): Promise<void> }>;
  /** Releases the backend after the file's last test. */
  dispose(): Promise<void>;
}

/** sql.js, D1 (Miniflare) and libSQL (`file:`), in that order. */
export function typedBackends(): TypedBackend[] {
  const folder = temporaryFolder(`typed-${RUNTIME}-`);
  let counter = 0;
  let miniflare: Miniflare | undefined;
  const d1 = async (): Promise<D1Database> => {
    miniflare ??= new Miniflare({
      modules: true,
      script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
      compatibilityDate: "2025-09-01",
      d1Databases: ["DB"],
    });
    const db = (await miniflare.getD1Database("DB")) as D1Database;
    for (const table of ["bots", "code", "_dbrouter_migrations"]) {
      await db.prepare(`DROP TABLE IF EXISTS ${table}`).run();
    }
    return db;
  };
  const open = async (
    make: (id: string, storage: ReturnType<typeof memoryStorage>) => DBRouter,
  ) => {
    const storage = memoryStorage();
    const alpha = make("alpha", storage);
    const beta = make("beta", storage);
    await alpha.getConnection("bots", "write").exec(TYPED_SCHEMA.shared);
    await alpha.getConnection("models", "write").exec(TYPED_SCHEMA.local);
    await beta.getConnection("models", "write").exec(TYPED_SCHEMA.local);
    return {
      alpha,
      beta,
      close: async () => void await Promise.all([alpha.close(), beta.close()]),
    };
  };
  return [
    {
      name: "sql.js",
      transactions: true,
      fresh: () => open((id, storage) => new DBRouter(id, `${id}.db`, "shared.db", { storage })),
      dispose: () => Promise.resolve(),
    },
    {
      name: "D1 (Miniflare)",
      transactions: false,
      fresh: async () => {
        const db = await d1();
        return open((id, storage) => new DBRouter(id, `${id}.db`, d1Backend(db), { storage }));
      },
      dispose: async () => {
        await miniflare?.dispose();
        miniflare = undefined;
      },
    },
    {
      name: `libSQL file: (${RUNTIME})`,
      transactions: true,
      fresh: () => {
        const url = pathToFileURL(join(folder.dir, `shared-${++counter}.db`)).href;
        return open((id, storage) =>
          new DBRouter(id, `${id}.db`, libsqlBackend({ url }), { storage })
        );
      },
      dispose: () => Promise.resolve(folder.remove()),
    },
  ];
}
