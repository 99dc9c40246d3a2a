import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type Connection, DBRouter, memoryStorage, type RouterError } from "../mod.ts";
import { StatementCache } from "../src/engine/statements.ts";
import { classifyStatement } from "../src/engine/classify.ts";
import { loadSqlJs } from "../wasm/mod.ts";
import { rejection } from "./_support/errors.ts";

// Results, parameters, errors, batches and transactions are conformance cases that run on
// every backend (tests/_support/backend_cases_connection.ts, on sql.js in backend_sqljs.test.ts);
// this file keeps what is particular to the sql.js engine.
const test = suite("Connection on sql.js");

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
