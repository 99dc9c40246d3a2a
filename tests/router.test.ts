import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  DBRouter,
  DENY_TABLES,
  getGlobalRouter,
  GLOBAL_ROUTER,
  initDbRouter,
  memoryStorage,
  RouterError,
  SHARED_TABLES,
  TableRoutingError,
} from "../mod.ts";
import type { AccessEvent } from "../mod.ts";
import { codeOf } from "./_support/errors.ts";

const test = suite("DBRouter");

function router(id = "alpha", storage = memoryStorage()) {
  return new DBRouter(id, "local.db", "shared/global.db", { storage });
}

test("getConnection() routes shared tables to the shared database and local ones to the local", async () => {
  await using r = router();
  assert.is(r.getConnection("bots").database, "shared");
  assert.is(r.getConnection("models").database, "local");
  // The same table always gets the same connection; no allocation per call.
  assert.is(r.getConnection("bots"), r.getConnection("errors", "write"));
});

test("a shared table's rows are visible to another instance, a local table's are not", async () => {
  const storage = memoryStorage();
  await using alpha = new DBRouter("alpha", "alpha.db", "shared.db", { storage });
  await using beta = new DBRouter("beta", "beta.db", "shared.db", { storage });
  for (const r of [alpha, beta]) {
    await r.getConnection("bots", "write").exec("CREATE TABLE IF NOT EXISTS bots (name TEXT)");
    await r.getConnection("models", "write").exec("CREATE TABLE IF NOT EXISTS models (name TEXT)");
  }
  await alpha.getConnection("bots", "write").run("INSERT INTO bots VALUES ('shared-row')");
  await alpha.getConnection("models", "write").run("INSERT INTO models VALUES ('local-row')");
  assert.equal(await beta.getConnection("bots").all("SELECT name FROM bots"), [{
    name: "shared-row",
  }]);
  assert.equal(await beta.getConnection("models").all("SELECT name FROM models"), []);
});

test("getConnection() throws TABLE_DENIED synchronously for a denied table", async () => {
  await using r = router();
  assert.throws(
    () => r.getConnection("capital_ledger"),
    (e: Error) => e instanceof TableRoutingError && e.code === "TABLE_DENIED",
  );
  assert.is(codeOf(() => r.getConnection("finance_logs", "write")), "TABLE_DENIED");
});

test("getConnection() throws TABLE_UNKNOWN for an undeclared table and counts nothing", async () => {
  await using r = router();
  assert.is(codeOf(() => r.getConnection("no_such_table")), "TABLE_UNKNOWN");
  assert.equal(r.getAccessCounts(), { shared: {}, local: {} });
});

test("getConnection() rejects an operation that is not a word", async () => {
  await using r = router();
  for (const op of ["", "read; drop", 3, "x".repeat(65)]) {
    assert.throws(() => r.getConnection("bots", op as string), TypeError);
  }
});

test("routers honour tables added to or denied in the sets after they were created", async () => {
  await using r = router();
  assert.is(codeOf(() => r.getConnection("alerts")), "TABLE_UNKNOWN");
  SHARED_TABLES.add("alerts");
  DENY_TABLES.add("legacy_data");
  try {
    assert.is(r.getConnection("alerts").database, "shared");
    assert.is(codeOf(() => r.getConnection("legacy_data")), "TABLE_DENIED");
  } finally {
    SHARED_TABLES.delete("alerts");
    DENY_TABLES.delete("legacy_data");
  }
});

test("getAccessCounts() counts accesses per table and database", async () => {
  await using r = router();
  r.getConnection("bots");
  r.getConnection("bots", "write");
  r.getConnection("models");
  assert.equal(r.getAccessCounts(), { shared: { bots: 2 }, local: { models: 1 } });
  // The returned object is a copy.
  r.getAccessCounts().shared.bots = 99;
  assert.is(r.getAccessCounts().shared.bots, 2);
});

test("observers see every allowed access with menace, table, operation and database", async () => {
  const seen: AccessEvent[] = [];
  await using r = new DBRouter("alpha", "l.db", "s.db", {
    storage: memoryStorage(),
    observers: [{ onAccess: (e) => void seen.push(e) }],
  });
  r.getConnection("bots", "write");
  assert.throws(() => r.getConnection("capital_ledger"));
  assert.equal(seen, [{
    menaceId: "alpha",
    table: "bots",
    operation: "write",
    database: "shared",
  }]);
});

test("after close() every call throws ROUTER_CLOSED, including on connections taken before", async () => {
  const r = router();
  const conn = r.getConnection("bots", "write");
  await conn.exec("CREATE TABLE bots (x)");
  await r.close();
  await r.close(); // idempotent
  assert.is(codeOf(() => r.getConnection("bots")), "ROUTER_CLOSED");
  for (
    const call of [
      () => conn.all("SELECT 1"),
      () => conn.run("INSERT INTO bots VALUES (1)"),
      () => conn.exec("SELECT 1"),
      () => r.flush(),
      () => r.ready(),
    ]
  ) {
    let code: string | undefined;
    try {
      await call();
    } catch (error) {
      code = (error as RouterError).code;
    }
    assert.is(code, "ROUTER_CLOSED");
  }
});

test("await using closes the router at the end of the block", async () => {
  let escaped: DBRouter;
  {
    await using r = router();
    escaped = r;
    r.getConnection("bots");
  }
  assert.is(codeOf(() => escaped.getConnection("bots")), "ROUTER_CLOSED");
});

test("the constructor rejects menace ids that could escape their folder", () => {
  for (const bad of ["", "../x", "a/b", "a\\b", "..", "a..b", ".hidden", "x y", "a\0b", 42]) {
    assert.throws(
      () => new DBRouter(bad as string, "l.db", "s.db", { storage: memoryStorage() }),
      (e: Error) => e instanceof TypeError && e.message.startsWith("Invalid menace id"),
    );
  }
  assert.is(router("0f3a-9b.c_d").menaceId, "0f3a-9b.c_d");
});

test("the constructor rejects bad paths, bad options and one file for both databases", () => {
  const storage = memoryStorage();
  assert.throws(() => new DBRouter("a", "", "s.db", { storage }), /local database path/);
  assert.throws(
    () => new DBRouter("a", "l.db", 5 as unknown as string, { storage }),
    /shared database path/,
  );
  assert.throws(() => new DBRouter("a", "same.db", "./same.db", { storage }), /both "same.db"/);
  assert.throws(
    () => new DBRouter("a", "l.db", "s.db", { storage, durability: "sometimes" as "commit" }),
    /"durability" "sometimes"/,
  );
  assert.throws(
    () => new DBRouter("a", "l.db", "s.db", { storage, flushIntervalMs: 0 }),
    /flushIntervalMs/,
  );
  assert.throws(
    () => new DBRouter("a", "l.db", "s.db", { storage, statementCacheSize: 1.5 }),
    /statementCacheSize/,
  );
  assert.throws(() => new DBRouter("a", "l.db", "s.db", { storage: {} as never }), /storage/);
});

test("initDbRouter() sets GLOBAL_ROUTER and getGlobalRouter(); closing it clears them", async () => {
  const storage = memoryStorage();
  const r = initDbRouter("alpha", "l.db", "s.db", { storage });
  assert.is(GLOBAL_ROUTER, r);
  assert.is(getGlobalRouter(), r);
  const fallback = GLOBAL_ROUTER ?? initDbRouter("beta", "b.db", "s.db", { storage });
  assert.is(fallback, r);
  await r.close();
  assert.is(GLOBAL_ROUTER, undefined);
  assert.is(getGlobalRouter(), undefined);
});

test("many concurrent async callers on one router lose no write", async () => {
  await using r = router();
  const conn = r.getConnection("bots", "write");
  await conn.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, n INTEGER)");
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      i % 3 === 0
        ? conn.transaction(async (tx) => {
          const row = await tx.get<{ m: number | null }>("SELECT max(n) AS m FROM bots");
          await tx.run("INSERT INTO bots (n) VALUES (?)", [(row?.m ?? 0) + 1]);
        })
        : i % 3 === 1
        ? conn.run("INSERT INTO bots (n) VALUES (?)", [-i])
        : conn.all("SELECT count(*) FROM bots")),
  );
  const { c } = (await conn.get<{ c: number }>("SELECT count(*) AS c FROM bots"))!;
  assert.is(c, 67 + 67);
  // Each transaction read max(n) and added one: serialised, they produced 1..67 without gaps.
  const positives = await conn.all<{ n: number }>("SELECT n FROM bots WHERE n > 0 ORDER BY n");
  assert.equal(positives.map((r) => r.n), Array.from({ length: 67 }, (_, i) => i + 1));
});

test("two routers in one process sharing a database see each other's writes at once", async () => {
  const storage = memoryStorage();
  await using a = new DBRouter("a", "a.db", "shared.db", { storage });
  await using b = new DBRouter("b", "b.db", "shared.db", { storage });
  await a.getConnection("bots", "write").exec("CREATE TABLE bots (x)");
  await a.getConnection("bots", "write").run("INSERT INTO bots VALUES (1)");
  assert.equal(await b.getConnection("bots").all("SELECT x FROM bots"), [{ x: 1 }]);
  await b.close();
  // Closing one router leaves the database open for the other.
  assert.equal(await a.getConnection("bots").all("SELECT x FROM bots"), [{ x: 1 }]);
});

test.run();
