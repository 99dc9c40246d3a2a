/**
 * The shared-backend conformance suite on libSQL through `@libsql/client`
 * with `file:` URLs (its native `libsql` binding loads in Node, Deno and
 * Bun), plus what only libSQL does: exact 64-bit integers, URLs as the
 * shared argument or in `DB_ROUTER_SHARED_URL`, and redacted tokens.
 *
 * A real libSQL server is tested only when `DB_ROUTER_TEST_LIBSQL_URL` names
 * one (with `DB_ROUTER_TEST_LIBSQL_AUTH_TOKEN`); otherwise that suite is not
 * registered at all.
 *
 * @module
 */
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, DBRouter, libsqlBackend, memoryStorage, type Row } from "../mod.ts";
import { BOTS_SCHEMA, testSharedBackend } from "./_support/backend_conformance.ts";
import { rejection } from "./_support/errors.ts";
import { RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const folder = temporaryFolder(`libsql-${RUNTIME}-`);
let counter = 0;
const freshUrl = () => pathToFileURL(join(folder.dir, `shared-${++counter}.db`)).href;

testSharedBackend({
  name: `libSQL file: (${RUNTIME})`,
  transactions: true,
  functions: false,
  fresh() {
    const url = freshUrl();
    const storage = memoryStorage();
    const raw = createClient({ url });
    return Promise.resolve({
      router: (menaceId, options) =>
        new DBRouter(menaceId, `${menaceId}.db`, libsqlBackend({ url }), { storage, ...options }),
      inspect: async (sql) => {
        const result = await raw.execute(sql);
        return result.rows.map((row) =>
          Object.fromEntries(result.columns.map((c, i) => [c, row[i]])) as Row
        );
      },
      close: () => Promise.resolve(raw.close()),
    });
  },
});

const remoteUrl = process.env.DB_ROUTER_TEST_LIBSQL_URL;
if (remoteUrl) {
  const authToken = process.env.DB_ROUTER_TEST_LIBSQL_AUTH_TOKEN || undefined;
  testSharedBackend({
    name: `libSQL server (${RUNTIME})`,
    transactions: true,
    functions: false,
    async fresh() {
      const raw = createClient({ url: remoteUrl, authToken });
      const tables = await raw.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_litestream%'",
      );
      for (const row of tables.rows) {
        await raw.execute(`DROP TABLE IF EXISTS "${String(row[0]).replaceAll('"', '""')}"`);
      }
      const storage = memoryStorage();
      return {
        router: (menaceId, options) =>
          new DBRouter(menaceId, `${menaceId}.db`, libsqlBackend({ url: remoteUrl, authToken }), {
            storage,
            ...options,
          }),
        inspect: async (sql) => {
          const result = await raw.execute(sql);
          return result.rows.map((row) =>
            Object.fromEntries(result.columns.map((c, i) => [c, row[i]])) as Row
          );
        },
        close: () => Promise.resolve(raw.close()),
      };
    },
  });
}

const test = suite(`libSQL backend (${RUNTIME})`);
test.after(folder.remove);

test("bigints bind as exact 64-bit integers; reading one beyond 2^53 is a RangeError", async () => {
  await using router = new DBRouter("alpha", "a.db", libsqlBackend({ url: freshUrl() }), {
    storage: memoryStorage(),
  });
  const conn = router.getConnection("bots", "write");
  await conn.exec(BOTS_SCHEMA);
  await conn.run("INSERT INTO bots (id, name) VALUES (?, 'big')", [2n ** 60n + 1n]);
  assert.equal(await conn.get("SELECT CAST(id AS TEXT) AS id FROM bots"), {
    id: String(2n ** 60n + 1n),
  });
  assert.instance(await rejection(conn.get("SELECT id FROM bots")), RangeError);
});

test("a libSQL URL works as the shared argument; sharedPath never shows a token", async () => {
  const url = freshUrl();
  await using router = new DBRouter("alpha", "a.db", `${url}?authToken=secret`, {
    storage: memoryStorage(),
  });
  assert.is(router.sharedPath, url);
  await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
  await router.insert("bots", { name: "via-url" });
  const raw = createClient({ url });
  assert.is((await raw.execute("SELECT name FROM bots")).rows[0][0], "via-url");
  raw.close();
});

test("DB_ROUTER_SHARED_URL puts the shared tables on libSQL; a value that is not a URL is a ConfigError", async () => {
  const url = freshUrl();
  const before = process.env.DB_ROUTER_SHARED_URL;
  const beforePath = process.env.MENACE_SHARED_DB_PATH;
  try {
    process.env.DB_ROUTER_SHARED_URL = url;
    process.env.MENACE_SHARED_DB_PATH = "elsewhere/global.db";
    await using router = new DBRouter("alpha", "a.db", undefined, { storage: memoryStorage() });
    assert.is(router.sharedPath, url, "the URL comes before MENACE_SHARED_DB_PATH");
    await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
    await router.insert("bots", { name: "via-env" });
    await using explicit = new DBRouter("beta", "b.db", "shared.db", { storage: memoryStorage() });
    assert.is(explicit.sharedPath, "shared.db", "an explicit path wins over the variable");
    process.env.DB_ROUTER_SHARED_URL = "shared/global.db";
    assert.throws(() => new DBRouter("gamma", "c.db"), (e: Error) => e instanceof ConfigError);
  } finally {
    if (before === undefined) delete process.env.DB_ROUTER_SHARED_URL;
    else process.env.DB_ROUTER_SHARED_URL = before;
    if (beforePath === undefined) delete process.env.MENACE_SHARED_DB_PATH;
    else process.env.MENACE_SHARED_DB_PATH = beforePath;
  }
  const raw = createClient({ url });
  assert.is((await raw.execute("SELECT source_menace_id FROM bots")).rows[0][0], "alpha");
  raw.close();
});

test("a client of one's own is used as it is and left open by router.close()", async () => {
  const url = freshUrl();
  const client = createClient({ url });
  {
    await using router = new DBRouter("alpha", "a.db", libsqlBackend({ client }), {
      storage: memoryStorage(),
    });
    assert.is(router.sharedPath, "libsql:client");
    await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
    await router.insert("bots", { name: "own-client" });
  }
  assert.is((await client.execute("SELECT name FROM bots")).rows[0][0], "own-client");
  client.close();
  assert.throws(() => libsqlBackend({ url: "shared.db" }), TypeError);
});

test("ready() rejects for a database that cannot be opened", async () => {
  const missing = pathToFileURL(join(folder.dir, "no", "such", "folder", "x.db")).href;
  await using router = new DBRouter("alpha", "a.db", libsqlBackend({ url: missing }), {
    storage: memoryStorage(),
  });
  assert.instance(await rejection(router.ready()), Error);
});

test.run();
