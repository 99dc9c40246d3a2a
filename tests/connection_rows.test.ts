import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type Connection, DBRouter, memoryStorage } from "../mod.ts";

const test = suite("Connection rows");

let router: DBRouter;
let conn: Connection;

test.before.each(async () => {
  router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
  conn = router.getConnection("bots", "write");
  await conn.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)");
  await conn.run("INSERT INTO bots (id, name) VALUES (1, 'a')");
});
test.after.each(() => router.close());

test("rows follow a renamed column: the remembered column names are dropped by DDL", async () => {
  const select = "SELECT * FROM bots WHERE id = ?";
  assert.equal(await conn.get(select, [1]), { id: 1, name: "a" });
  await conn.exec("ALTER TABLE bots RENAME COLUMN name TO label");
  assert.equal(await conn.get(select, [1]), { id: 1, label: "a" });
  await conn.run("ALTER TABLE bots ADD COLUMN score REAL");
  assert.equal(await conn.all(select, [1]), [{ id: 1, label: "a", score: null }]);
});

test("rows follow DDL inside a transaction, and its rollback", async () => {
  const select = "SELECT * FROM bots";
  assert.equal(await conn.all(select), [{ id: 1, name: "a" }]);
  await conn.transaction(async (tx) => {
    await tx.run("ALTER TABLE bots RENAME COLUMN name TO label");
    assert.equal(await tx.all(select), [{ id: 1, label: "a" }]);
    await tx.transaction(async (savepoint) => {
      await savepoint.exec("ALTER TABLE bots RENAME COLUMN label TO tag");
      assert.equal(await savepoint.get(select), { id: 1, tag: "a" });
      throw new Error("undo the savepoint");
    }).catch(() => {});
    assert.equal(await tx.get(select), { id: 1, label: "a" });
  });
  assert.equal(await conn.get(select), { id: 1, label: "a" });
  await conn.transaction(async (tx) => {
    await tx.exec("ALTER TABLE bots RENAME COLUMN label TO gone");
    assert.equal(await tx.get(select), { id: 1, gone: "a" });
    throw new Error("roll back");
  }).catch(() => {});
  assert.equal(await conn.get(select), { id: 1, label: "a" });
});

test("a column named __proto__ is an own property of the row, as sql.js makes it", async () => {
  const row = await conn.get<Record<string, unknown>>(
    'SELECT name AS "__proto__", id FROM bots WHERE id = 1',
  );
  assert.ok(Object.hasOwn(row!, "__proto__"));
  assert.is(row!["__proto__"], "a");
  assert.is(Object.getPrototypeOf(row), Object.prototype);
});

test("rows of a join with a repeated column name keep the last value, as sql.js does", async () => {
  await conn.run("INSERT INTO bots (id, name) VALUES (2, 'b')");
  const row = await conn.get(
    "SELECT a.name, b.name FROM bots a, bots b WHERE a.id = 1 AND b.id = 2",
  );
  assert.equal(row, { name: "b" });
});

test.run();
