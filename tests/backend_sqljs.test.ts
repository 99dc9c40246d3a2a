/**
 * The shared-backend conformance suite on the default engine: a sql.js shared
 * database (in memory storage, shared by the routers of a case).
 *
 * @module
 */
import { DBRouter, memoryStorage } from "../mod.ts";
import { DEFAULT_DATABASE_OPTIONS } from "../src/engine/database.ts";
import { sqlJsBackend } from "../src/engine/sqljs_backend.ts";
import { testSharedBackend } from "./_support/backend_conformance.ts";

testSharedBackend({
  name: "sql.js",
  transactions: true,
  functions: true,
  fresh() {
    const storage = memoryStorage();
    const key = storage.resolve("shared/global.db");
    // The engine's own connection, past the router, reads what the routers wrote.
    const inspector = sqlJsBackend(storage, key, DEFAULT_DATABASE_OPTIONS).connect(() => {});
    return Promise.resolve({
      router: (menaceId, options) =>
        new DBRouter(menaceId, `${menaceId}.db`, "shared/global.db", { storage, ...options }),
      inspect: (sql) => inspector.connection.all(sql),
      close: () => inspector.close(),
    });
  },
});
