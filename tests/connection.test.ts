import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type Connection, DBRouter, memoryStorage, type RouterError } from "../mod.ts";
import { StatementCache } from "../src/engine/statements.ts";
import { classifyStatement } from "../src/engine/classify.ts";
import { loadSqlJs } from "../wasm/mod.ts";
import { rejection } from "./_support/errors.ts";

const test = suite("Connection");

let router: DBRouter;
let conn: Connection;

test.before.each(async () => {
  router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
  conn = router.getConnection("bots", "write");
  await conn.exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB)",
  );
});
test.after.each(() => router.close());

test("run() reports changes and lastInsertRowid; all() and get() return plain objects", async () => {
  assert.equal(await conn.run("INSERT INTO bots (name, score) VALUES (?, ?)", ["a", 1.5]), {
    changes: 1,
    lastInsertRowid: 1,
  });
  assert.equal(await conn.run("INSERT INTO bots (name, score) VALUES (?, ?)", ["b", 2]), {
    changes: 1,
    lastInsertRowid: 2,
  });
  assert.equal((await conn.run("UPDATE bots SET score = score + 1")).changes, 2);
  assert.equal(await conn.all("SELECT name, score FROM bots ORDER BY id"), [{
    name: "a",
    score: 2.5,
  }, { name: "b", score: 3 }]);
  assert.equal(await conn.get("SELECT name FROM bots WHERE id = ?", [2]), { name: "b" });
  assert.is(await conn.get("SELECT name FROM bots WHERE id = ?", [99]), undefined);
});

test("named parameters work with or without their prefix", async () => {
  await conn.run("INSERT INTO bots (name, score) VALUES (:name, @score)", { name: "a", score: 1 });
  await conn.run("INSERT INTO bots (name, score) VALUES ($name, :score)", {
    $name: "b",
    ":score": 2,
  });
  assert.equal(
    await conn.all("SELECT name FROM bots WHERE score >= :min ORDER BY id", { min: 1 }),
    [{ name: "a" }, { name: "b" }],
  );
});

test("booleans, bigints, blobs and null bind as SQLite values", async () => {
  const blob = new Uint8Array([0, 1, 255]);
  await conn.run("INSERT INTO bots (name, score, data) VALUES (?, ?, ?)", ["t", true, blob]);
  await conn.run("INSERT INTO bots (id, name, score) VALUES (?, ?, ?)", [10n, "n", null]);
  const rows = await conn.all<{ id: number; score: number | null; data: Uint8Array | null }>(
    "SELECT id, score, data FROM bots ORDER BY id",
  );
  assert.equal(rows[0].score, 1);
  assert.equal([...rows[0].data!], [0, 1, 255]);
  assert.equal([rows[1].id, rows[1].score], [10, null]);
});

test("bad parameters are refused with a TypeError naming them, before anything runs", async () => {
  for (const params of [[undefined], [{}], [() => 1], [new Date()]]) {
    const error = await rejection(conn.run("INSERT INTO bots (name) VALUES (?)", params as never));
    assert.instance(error, TypeError);
    assert.match(error.message, /parameter 1/);
  }
  assert.match(
    (await rejection(conn.run("INSERT INTO bots (name) VALUES (:name)", { nme: "x" }))).message,
    /"nme"/,
  );
  assert.match(
    (await rejection(conn.run("INSERT INTO bots (name) VALUES (:name)", { "na me": "x" }))).message,
    /"na me"/,
  );
  assert.match(
    (await rejection(conn.all("SELECT 1", "x" as never))).message,
    /expected an array or an object/,
  );
  assert.equal(await conn.all("SELECT count(*) AS c FROM bots"), [{ c: 0 }]);
});

test("empty SQL and transaction control outside transaction() are refused", async () => {
  for (const sql of ["", "   ", "-- only a comment", 42]) {
    assert.instance(await rejection(conn.all(sql as string)), TypeError);
  }
  for (const sql of ["BEGIN", "COMMIT", "rollback", "SAVEPOINT x"]) {
    assert.match((await rejection(conn.run(sql))).message, /use transaction\(\)/);
  }
});

test("SQL errors reject with SQLite's message and leave the data unchanged", async () => {
  await conn.run("INSERT INTO bots (name) VALUES ('a')");
  assert.match(
    (await rejection(conn.run("INSERT INTO bots (name) VALUES ('a')"))).message,
    /UNIQUE constraint failed/,
  );
  assert.match((await rejection(conn.all("SELECT nope FROM bots"))).message, /no such column/);
  assert.equal(await conn.all("SELECT name FROM bots"), [{ name: "a" }]);
});

test("batch() applies all statements or none", async () => {
  const results = await conn.batch([
    { sql: "INSERT INTO bots (name) VALUES (?)", params: ["a"] },
    { sql: "INSERT INTO bots (name) VALUES (?)", params: ["b"] },
  ]);
  assert.equal(results, [{ changes: 1, lastInsertRowid: 1 }, { changes: 1, lastInsertRowid: 2 }]);
  const error = await rejection(conn.batch([
    { sql: "INSERT INTO bots (name) VALUES (?)", params: ["c"] },
    { sql: "INSERT INTO bots (name) VALUES (?)", params: ["a"] },
  ]));
  assert.match(error.message, /UNIQUE/);
  assert.equal(await conn.all("SELECT name FROM bots ORDER BY id"), [{ name: "a" }, { name: "b" }]);
  assert.instance(await rejection(conn.batch([{ sql: "BEGIN" }])), TypeError);
  assert.instance(await rejection(conn.batch("x" as never)), TypeError);
});

test("transaction() commits on success and rolls back on a throw", async () => {
  const value = await conn.transaction(async (tx) => {
    await tx.run("INSERT INTO bots (name) VALUES ('kept')");
    return 7;
  });
  assert.is(value, 7);
  const error = await rejection(conn.transaction(async (tx) => {
    await tx.run("INSERT INTO bots (name) VALUES ('lost')");
    throw new Error("boom");
  }));
  assert.is(error.message, "boom");
  assert.equal(await conn.all("SELECT name FROM bots"), [{ name: "kept" }]);
});

test("transactions are serialised: a second one waits for the first", async () => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = conn.transaction(async (tx) => {
    order.push("first:start");
    await gate;
    await tx.run("INSERT INTO bots (name) VALUES ('1')");
    order.push("first:end");
  });
  const second = conn.transaction(async (tx) => {
    order.push("second:start");
    await tx.run("INSERT INTO bots (name) VALUES ('2')");
  });
  const read = conn.all("SELECT count(*) AS c FROM bots").then((rows) =>
    order.push(`read:${rows[0].c}`)
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(order, ["first:start"]);
  release();
  await Promise.all([first, second, read]);
  assert.equal(order, ["first:start", "first:end", "second:start", "read:2"]);
});

test("nested transaction() calls on tx are savepoints", async () => {
  await conn.transaction(async (tx) => {
    await tx.run("INSERT INTO bots (name) VALUES ('outer')");
    await rejection(tx.transaction(async (inner) => {
      await inner.run("INSERT INTO bots (name) VALUES ('inner')");
      throw new Error("undo inner");
    }));
    await tx.transaction((inner) => inner.run("INSERT INTO bots (name) VALUES ('inner2')"));
  });
  assert.equal(await conn.all("SELECT name FROM bots ORDER BY id"), [{ name: "outer" }, {
    name: "inner2",
  }]);
});

test("a transaction connection stops working when its transaction ends", async () => {
  let leaked!: Connection;
  await conn.transaction((tx) => {
    leaked = tx;
    return Promise.resolve();
  });
  const error = await rejection(leaked.all("SELECT 1"));
  assert.is((error as RouterError).code, "TRANSACTION_CLOSED");
});

test("exec() runs a script; one that leaves a transaction open is rolled back", async () => {
  await conn.exec("INSERT INTO bots (name) VALUES ('a'); INSERT INTO bots (name) VALUES ('b');");
  const error = await rejection(conn.exec("BEGIN; INSERT INTO bots (name) VALUES ('c');"));
  assert.is((error as RouterError).code, "TRANSACTION_LEFT_OPEN");
  assert.equal(await conn.all("SELECT name FROM bots ORDER BY id"), [{ name: "a" }, { name: "b" }]);
  // The database is usable afterwards, outside any transaction.
  await conn.run("INSERT INTO bots (name) VALUES ('d')");
  assert.is((await conn.all("SELECT name FROM bots")).length, 3);
});

test("exec() keeps what a failing script committed before the failure, like SQLite does", async () => {
  await rejection(conn.exec("INSERT INTO bots (name) VALUES ('a'); INSERT INTO nope VALUES (1);"));
  assert.equal(await conn.all("SELECT name FROM bots"), [{ name: "a" }]);
});

test("classifyStatement() reads past comments, literals and CTEs", () => {
  assert.is(classifyStatement("  -- x\n /* y */ SELECT 1"), "read");
  assert.is(classifyStatement("WITH a AS (SELECT 'insert') SELECT * FROM a"), "read");
  assert.is(classifyStatement("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a"), "change");
  assert.is(classifyStatement("update bots set x = 1"), "change");
  assert.is(
    classifyStatement("WITH a AS (SELECT 'x' AS v) SELECT replace(v, 'x', 'y') FROM a"),
    "read",
  );
  assert.is(
    classifyStatement("WITH RECURSIVE a(n) AS (SELECT 1) REPLACE INTO t SELECT n FROM a"),
    "change",
  );
  assert.is(classifyStatement("PRAGMA table_info(bots)"), "read");
  assert.is(classifyStatement("PRAGMA user_version = 3"), "write");
  assert.is(classifyStatement("PRAGMA main.user_version"), "read");
  assert.is(classifyStatement("PRAGMA optimize"), "write");
  assert.is(classifyStatement("PRAGMA main.incremental_vacuum(10)"), "write");
  assert.is(classifyStatement("CREATE TABLE x (a)"), "write");
  assert.is(classifyStatement("end transaction"), "transaction");
  assert.is(classifyStatement("/* */"), "empty");
});

test("a writing PRAGMA without = is persisted like any write", async () => {
  await conn.exec("PRAGMA auto_vacuum = INCREMENTAL; VACUUM; CREATE TABLE pad (b BLOB)");
  await conn.run(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) INSERT INTO pad SELECT randomblob(3000) FROM n",
  );
  await conn.run("DELETE FROM pad");
  const before = router.storageStats().shared.commits;
  const pageCount = async () =>
    (await conn.get<{ page_count: number }>("PRAGMA page_count"))!.page_count;
  const pages = await pageCount();
  // incremental_vacuum has no "=": a classification by "=" alone would run it as a read, unsaved.
  await conn.all("PRAGMA incremental_vacuum");
  assert.ok(await pageCount() < pages / 2);
  assert.is(router.storageStats().shared.commits, before + 1);
});

test("StatementCache prepares a statement once and frees the oldest when full", async () => {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  const cache = new StatementCache(db, 2);
  const a = cache.get("SELECT 1");
  assert.is(cache.get("SELECT 1"), a);
  cache.get("SELECT 2");
  cache.get("SELECT 3");
  assert.is(cache.size, 2);
  assert.is.not(cache.get("SELECT 1"), a);
  // The evicted statement was freed: sql.js refuses to step it.
  assert.throws(() => a.step());
  cache.clear();
  db.close();
});

test.run();
