/**
 * The recorder's update hook, registered directly through sql.js's module
 * (`addFunction` + `_sqlite3_update_hook`), on both sql.js builds the
 * library meets: the pinned 1.16.0 and 1.17.0 (what Deno users may get).
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import initSqlJs117 from "sql.js-1-17";
import { loadSqlJs } from "../wasm/mod.ts";
import { ChangeRecorder } from "../src/watch/recorder.ts";
import { ChangeLog, UpdateHook } from "../src/watch/update_hook.ts";
import type { CommitRows } from "../src/watch/rows.ts";
import type { SqlJsDatabase, SqlJsStatic } from "../src/engine/sqljs_types.ts";
import { join } from "node:path";
import { DBRouter, memoryStorage } from "../mod.ts";
import { RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`watch (${RUNTIME}): update hook`);

const builds: Array<[string, () => Promise<SqlJsStatic>]> = [
  ["sql.js 1.16.0", () => loadSqlJs()],
  ["sql.js 1.17.0", () => initSqlJs117({}) as unknown as Promise<SqlJsStatic>],
];

/** `rows` as plain data: table -> owner -> [inserted, updated, deleted]. */
function plain(rows: CommitRows | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [table, groups] of rows ?? []) {
    out[table] = Object.fromEntries(
      groups.map((g) => [String(g.owner), [g.inserted, g.updated, g.deleted]]),
    );
  }
  return out;
}

function open(sql: SqlJsStatic): SqlJsDatabase {
  const db = new sql.Database();
  db.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)");
  return db;
}

for (const [name, load] of builds) {
  test(`${name}: the hook is registered directly and hears inserts, updates and deletes with owners`, async () => {
    const sql = await load();
    assert.type((sql as unknown as { addFunction?: unknown }).addFunction, "function");
    const db = open(sql);
    // sql.js's own hook would be used if the direct one could not be: fail if it is.
    db.updateHook = () => {
      throw new Error("sql.js's updateHook was used");
    };
    const recorder = new ChangeRecorder();
    assert.ok(recorder.attach(db, sql));
    recorder.mark(true);
    db.exec("INSERT INTO bots (name, source_menace_id) VALUES ('a', 'x'), ('b', 'x'), ('c', 'y')");
    db.exec("UPDATE bots SET name = 'B' WHERE id = 2");
    db.exec("DELETE FROM bots WHERE id = 3");
    db.exec("CREATE TEMP TABLE scratch (v); INSERT INTO scratch VALUES (1)");
    assert.equal(plain(recorder.take(db, true)), {
      // Row 3, inserted then deleted, is gone by the owner lookup: its insert's owner is unknown.
      bots: { x: [[1, 2], [2], []], null: [[3], [], []], y: [[], [], [3]] },
    });
    recorder.detach(db);
    db.exec("INSERT INTO bots (name) VALUES ('unheard')");
    assert.is(recorder.take(db, true), undefined);
    recorder.dispose();
    db.close();
  });

  test(`${name}: a table dropped and another created in one write is told by its own name`, async () => {
    const sql = await load();
    const db = open(sql);
    const recorder = new ChangeRecorder();
    recorder.attach(db, sql);
    for (let round = 0; round < 20; round++) {
      // A write that may change the schema: the name pointer of a dropped table can come back
      // for the next one created; every name is read again.
      recorder.mark(false);
      db.exec(
        `CREATE TABLE t${round % 2} (v); INSERT INTO t${round % 2} VALUES (1);` +
          `DROP TABLE t${round % 2}; CREATE TABLE u${round % 2} (v);` +
          `INSERT INTO u${round % 2} VALUES (1); DROP TABLE u${round % 2}`,
      );
      const rows = recorder.take(db, false);
      assert.equal([...rows!.keys()].sort(), [`t${round % 2}`, `u${round % 2}`]);
    }
    recorder.detach(db);
    recorder.dispose();
    db.close();
  });

  test(`${name}: a failed write's changes are rolled back to its mark`, async () => {
    const sql = await load();
    const db = open(sql);
    const recorder = new ChangeRecorder();
    recorder.attach(db, sql);
    recorder.mark(true);
    db.exec("INSERT INTO bots (name) VALUES ('kept')");
    const mark = recorder.mark(true);
    db.exec("INSERT INTO bots (name) VALUES ('dropped')");
    recorder.rollBack(mark);
    assert.equal(plain(recorder.take(db, false)), { bots: { null: [[1], [], []] } });
    recorder.detach(db);
    recorder.dispose();
    db.close();
  });
}

for (const [name, load] of builds) {
  test(`${name}: in a write of row changes, rows wait in the WebAssembly hook until flushed`, async () => {
    const sql = await load();
    const db = open(sql);
    db.exec("CREATE TABLE big (id INTEGER PRIMARY KEY, v)");
    const log = new ChangeLog();
    const hook = new UpdateHook(log);
    assert.ok(hook.install(db, sql));
    hook.beginWrite(true);
    // 3 000 rows: past the hook's first 64 KiB of memory, which then grows.
    db.exec(`INSERT INTO bots (name) SELECT 'b' || value FROM (WITH RECURSIVE c(value) AS
      (SELECT 1 UNION ALL SELECT value + 1 FROM c WHERE value < 3000) SELECT value FROM c)`);
    db.exec("INSERT INTO big (id, v) VALUES (9007199254740000, 1), (-7, 2), (4294967296, 3)");
    db.exec("UPDATE bots SET name = 'x' WHERE id = 2; DELETE FROM bots WHERE id = 3");
    assert.is(log.length, 0, "no JavaScript call per row");
    hook.flush();
    assert.is(log.length, 3005);
    const at = (i: number) => [log.names[log.tables[i]], log.kinds[i], log.rowids[i]];
    assert.equal(at(0), ["bots", 0, 1]);
    assert.equal(at(2999), ["bots", 0, 3000]);
    assert.equal(at(3000), ["big", 0, 9007199254740000]);
    assert.equal(at(3001), ["big", 0, -7]);
    assert.equal(at(3002), ["big", 0, 4294967296]);
    assert.equal(at(3003), ["bots", 1, 2]);
    assert.equal(at(3004), ["bots", 2, 3]);
    // A write rolled back: what the hook held is dropped.
    db.exec("INSERT INTO bots (name) VALUES ('gone')");
    hook.discard();
    hook.flush();
    assert.is(log.length, 3005);
    // A write that may change the schema is heard by the JavaScript hook, row by row.
    hook.beginWrite(false);
    db.exec("DROP TABLE big; INSERT INTO bots (name) VALUES ('js')");
    assert.is(log.length, 3006);
    assert.equal(at(3005), ["bots", 0, 3002]);
    hook.uninstall(db);
    hook.dispose();
    db.close();
  });
}

for (const [name, load] of builds) {
  test(`${name}: a bulk statement's rows are taken whole (one kind, one table, ascending); others are left for take()`, async () => {
    const sql = await load();
    const db = open(sql);
    db.exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) " +
        "INSERT INTO bots (name) SELECT 'r' FROM n",
    );
    const recorder = new ChangeRecorder();
    assert.ok(recorder.attach(db, sql));
    recorder.mark(true);
    db.exec("UPDATE bots SET name = 'u' WHERE id > 100");
    const uniform = recorder.takeUniform();
    assert.equal(
      uniform && { table: uniform.table, kind: uniform.kind, rowids: [...uniform.rowids] },
      { table: "bots", kind: 1, rowids: [...Array(200)].map((_, i) => i + 101) },
    );
    assert.is(recorder.take(db, false), undefined, "taken once");
    // Two kinds: not uniform, and nothing taken, so take() still has every row.
    recorder.mark(true);
    db.exec("UPDATE bots SET name = 'v' WHERE id = 5");
    db.exec("INSERT INTO bots (name) VALUES ('new')");
    assert.is(recorder.takeUniform(), undefined);
    assert.equal(plain(recorder.take(db, false)), { bots: { null: [[301], [5], []] } });
    recorder.detach(db);
    recorder.dispose();
    db.close();
  });
}

test("one run of rowids with several owners, or none, is told by owner", async () => {
  const sql = await loadSqlJs();
  const db = open(sql);
  db.exec(`INSERT INTO bots (name, source_menace_id)
    VALUES ('a', 'x'), ('b', 'y'), ('c', 'x'), ('d', NULL), ('e', NULL)`);
  const recorder = new ChangeRecorder();
  assert.ok(recorder.attach(db, sql));
  const updated = (where: string) => {
    recorder.mark(true);
    db.exec(`UPDATE bots SET name = 'z' WHERE ${where}`);
    return plain(recorder.take(db, true));
  };
  assert.equal(updated("id <= 3"), { bots: { x: [[], [1, 3], []], y: [[], [2], []] } });
  assert.equal(updated("id >= 4"), { bots: { null: [[], [4, 5], []] } });
  assert.equal(updated("id BETWEEN 3 AND 4"), { bots: { x: [[], [3], []], null: [[], [4], []] } });
  assert.equal(updated("id BETWEEN 4 AND 5 OR id = 1"), {
    bots: { x: [[], [1], []], null: [[], [4, 5], []] },
  });
  recorder.detach(db);
  recorder.dispose();
  db.close();
});

test("an update that sets the owner or the rowid (by any of its names) is told as one that may move owners; others are not", async () => {
  const sql = await loadSqlJs();
  const db = open(sql);
  db.exec(`CREATE TABLE plain (x TEXT, source_menace_id TEXT);
    CREATE TABLE keyed (k TEXT PRIMARY KEY, source_menace_id TEXT);
    CREATE TABLE free (x TEXT);
    INSERT INTO bots (name, source_menace_id) VALUES ('a', 'x');
    INSERT INTO plain VALUES ('a', 'x'); INSERT INTO keyed VALUES ('a', 'x'); INSERT INTO free VALUES ('a')`);
  const recorder = new ChangeRecorder();
  assert.ok(recorder.attach(db, sql));
  const moved = (statement: string) => {
    recorder.mark(true);
    db.exec(statement);
    recorder.take(db, false);
    return recorder.movedTables;
  };
  assert.equal(moved("UPDATE bots SET name = 'b'"), []);
  assert.equal(moved("UPDATE plain SET x = 'b'"), []);
  assert.equal(moved("UPDATE free SET x = 'b'"), []);
  assert.equal(moved("UPDATE bots SET source_menace_id = 'y'"), ["bots"]);
  assert.equal(moved("UPDATE bots SET id = 7"), ["bots"]);
  assert.equal(moved("UPDATE bots SET name = 'c'"), [], "told once, for its commit");
  for (const name of ["rowid", "_rowid_", "oid"]) {
    assert.equal(moved(`UPDATE plain SET ${name} = ${name} + 1`), ["plain"], name);
  }
  assert.equal(moved("UPDATE keyed SET k = 'b'"), ["keyed"]);
  assert.equal(
    moved(
      "INSERT INTO keyed VALUES ('b', 'z') ON CONFLICT (k) DO UPDATE SET source_menace_id = 'z'",
    ),
    ["keyed"],
  );
  // A write that changed the schema: its updates cannot be told apart (any table may have moved).
  recorder.mark(false);
  db.exec("ALTER TABLE free ADD COLUMN source_menace_id TEXT; UPDATE free SET x = 'c'");
  recorder.syncSchema(db);
  recorder.take(db, false);
  assert.is(recorder.movedTables, undefined);
  assert.equal(moved("UPDATE free SET x = 'd'"), []);
  assert.equal(moved("UPDATE free SET source_menace_id = 'q'"), ["free"], "owned now");
  recorder.detach(db);
  recorder.dispose();
  db.close();
});

test("in a transaction, a table dropped and another created between row changes is told by its own name", async () => {
  const folder = temporaryFolder(`watch-hook-${RUNTIME}-`);
  try {
    await using router = new DBRouter("alpha", join(folder.dir, "l.db"), join(folder.dir, "s.db"), {
      storage: memoryStorage(),
    });
    const heard: string[] = [];
    // Names of equal length, whose schema entries may take the same memory in turn.
    const pairs = [["code", "bots"], ["errors", "telemetry"]];
    for (const table of pairs.flat()) {
      router.watch(table, (change) => void heard.push(`${change.table}:${change.inserted}`));
    }
    const conn = router.getConnection("bots", "write");
    for (const [first, second] of pairs) {
      await conn.transaction(async (tx) => {
        // Each statement alone: row changes are read with cached names, DDL in between.
        await tx.run(`CREATE TABLE ${first} (v)`);
        await tx.run(`INSERT INTO ${first} VALUES (1)`);
        await tx.run(`DROP TABLE ${first}`);
        await tx.run(`CREATE TABLE ${second} (v)`);
        await tx.run(`INSERT INTO ${second} VALUES (1), (2)`);
        await tx.run(`DROP TABLE ${second}`);
      });
    }
    const started = Date.now();
    while (heard.length < 4 && Date.now() - started < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(heard.sort(), ["bots:1,2", "code:1", "errors:1", "telemetry:1,2"]);
  } finally {
    folder.remove();
  }
});

test("a bulk change of 5 000 rows is recorded whole (the arrays grow)", async () => {
  const sql = await loadSqlJs();
  const db = open(sql);
  const recorder = new ChangeRecorder();
  recorder.attach(db, sql);
  recorder.mark(true);
  db.exec(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) " +
      "INSERT INTO bots (name, source_menace_id) SELECT 'r' || i, 'x' FROM n",
  );
  db.exec("UPDATE bots SET name = 'u' WHERE id % 2 = 0");
  const rows = recorder.take(db, true)!.get("bots")!;
  assert.is(rows.length, 1);
  assert.is(rows[0].inserted.length, 5000);
  assert.is(rows[0].inserted[4999], 5000);
  assert.is(rows[0].updated.length, 2500);
  assert.is(rows[0].updated[0], 2);
  recorder.detach(db);
  recorder.dispose();
  db.close();
});

test.run();
