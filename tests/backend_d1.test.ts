/**
 * The shared-backend conformance suite on Cloudflare D1, run by Miniflare in
 * this process (it starts one `workerd`), plus what only D1 does: no
 * interactive transactions, no `BEGIN` in scripts, integers as JavaScript
 * numbers.
 *
 * @module
 */
import { Miniflare } from "miniflare";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  d1Backend,
  type D1Database,
  DBRouter,
  memoryStorage,
  type RouterError,
  type Row,
} from "../mod.ts";
import { BOTS_SCHEMA, testSharedBackend } from "./_support/backend_conformance.ts";
import { rejection } from "./_support/errors.ts";

let miniflare: Miniflare | undefined;
let database: D1Database | undefined;

/** The D1 database of the file's one Miniflare, emptied of every table. */
async function emptyD1(): Promise<D1Database> {
  if (database === undefined) {
    miniflare = new Miniflare({
      modules: true,
      script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
      compatibilityDate: "2025-09-01",
      d1Databases: ["DB"],
    });
    database = (await miniflare.getD1Database("DB")) as D1Database;
  }
  const { results = [] } = await database.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all();
  for (const { name } of results) {
    await database.prepare(`DROP TABLE IF EXISTS "${String(name).replaceAll('"', '""')}"`).run();
  }
  return database;
}

testSharedBackend({
  name: "D1 (Miniflare)",
  transactions: false,
  functions: false,
  async fresh() {
    const db = await emptyD1();
    const storage = memoryStorage();
    return {
      router: (menaceId, options) =>
        new DBRouter(menaceId, `${menaceId}.db`, d1Backend(db), { storage, ...options }),
      inspect: async (sql) => ((await db.prepare(sql).all()).results ?? []) as Row[],
    };
  },
  cleanup: async () => {
    await miniflare?.dispose();
    miniflare = undefined;
    database = undefined;
  },
});

const test = suite("D1 backend");
let db: D1Database;
let router: DBRouter;

test.before.each(async () => {
  db = await emptyD1();
  router = new DBRouter("alpha", "alpha.db", d1Backend(db, { name: "MENACE" }), {
    storage: memoryStorage(),
  });
  await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
});
test.after.each(() => router.close());
test.after(async () => {
  await miniflare?.dispose();
  miniflare = undefined;
  database = undefined;
});

test("sharedPath names the binding, and a value that is not a binding is a TypeError", () => {
  assert.is(router.sharedPath, "d1:MENACE");
  assert.throws(() => d1Backend({} as D1Database), TypeError);
});

test("exec() refuses a script with BEGIN before running any of it", async () => {
  const conn = router.getConnection("bots", "write");
  const error = await rejection(
    conn.exec(
      "INSERT INTO bots (name) VALUES ('a'); BEGIN; INSERT INTO bots (name) VALUES ('b'); COMMIT",
    ),
  );
  assert.instance(error, TypeError);
  assert.match(error.message, /transaction control/);
  assert.equal(await conn.all("SELECT name FROM bots"), []);
});

test("a bigint beyond 2^53 is refused with a RangeError, one within it binds exactly", async () => {
  const conn = router.getConnection("bots", "write");
  await conn.run("INSERT INTO bots (id, name) VALUES (?, 'safe')", [2n ** 53n - 1n]);
  assert.equal(await conn.get("SELECT id FROM bots"), { id: 2 ** 53 - 1 });
  assert.instance(await rejection(conn.run("SELECT ?", [2n ** 60n])), RangeError);
});

test("transaction() says why it is unsupported and points to batch()", async () => {
  const error = await rejection(router.getConnection("bots").transaction(() => Promise.resolve()));
  assert.is((error as RouterError).code, "UNSUPPORTED");
  assert.match(error.message, /D1 refuses BEGIN/);
});

test("Workers racing on D1 apply each migration once: a second batch fails on the version's key", async () => {
  // Two binding names: two keys, so nothing in this process serialises them; D1's batches race.
  const others = ["A", "B", "C"].map((name, i) =>
    new DBRouter(`m${i}`, `m${i}.db`, d1Backend(db, { name }), { storage: memoryStorage() })
  );
  try {
    const migrations = [
      { name: "one", up: "CREATE TABLE raced (x); INSERT INTO raced VALUES (1)" },
      { name: "two", up: "INSERT INTO raced VALUES (2)" },
    ];
    const reports = await Promise.all(others.map((r) => r.migrate(migrations)));
    assert.equal(reports.flatMap((r) => r.applied).sort(), ["one", "two"]);
    assert.equal(await router.getConnection("bots").all("SELECT x FROM raced ORDER BY x"), [
      { x: 1 },
      { x: 2 },
    ]);
  } finally {
    await Promise.all(others.map((r) => r.close()));
  }
});

test.run();
