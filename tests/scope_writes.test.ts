import { suite } from "uvu";
import * as assert from "uvu/assert";
import { scopedDelete, scopedUpdate, stampedInsert, stampedUpsert } from "../src/scope/mod.ts";
import type { ColumnValues, Scope } from "../src/scope/mod.ts";
import { ALPHA, BETA, changes, ids, openDb, rows, thrown } from "./_support/scope_db.ts";

const test = suite("scoped writes");

const OWNERS = "SELECT id, name, source_menace_id AS owner FROM bots WHERE id = ?";

test("stampedInsert() stamps the row with the menace id", () => {
  const out = stampedInsert("bots", { id: 8, name: "new", a: 1 }, ALPHA);
  assert.equal(out, {
    sql: 'INSERT INTO "bots" ("id", "name", "a", "source_menace_id") VALUES (?, ?, ?, ?)',
    params: [8, "new", 1, "alpha"],
  });
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 1);
  assert.equal(rows(db, OWNERS, [8]), [{ id: 8, name: "new", owner: "alpha" }]);
  db.close();
});

test("stampedInsert() accepts the own id in the row and puts the column last", () => {
  const out = stampedInsert("bots", { source_menace_id: ALPHA, id: 8 }, ALPHA);
  assert.equal(out, {
    sql: 'INSERT INTO "bots" ("id", "source_menace_id") VALUES (?, ?)',
    params: [8, "alpha"],
  });
  assert.equal(stampedInsert("bots", {}, ALPHA), {
    sql: 'INSERT INTO "bots" ("source_menace_id") VALUES (?)',
    params: ["alpha"],
  });
});

test("stampedInsert() throws a TypeError for a row that claims another instance's id", () => {
  for (const owner of [BETA, null, 1]) {
    const error = thrown(() => stampedInsert("bots", { id: 8, source_menace_id: owner }, ALPHA));
    assert.instance(error, TypeError, String(owner));
    assert.match(error.message, "source_menace_id");
  }
});

test("stampedInsert() binds every supported value type", () => {
  const blob = new Uint8Array([1, 2, 3]);
  const out = stampedInsert(
    "bots",
    { id: 9, name: "it's; DROP TABLE bots", a: 2n, b: true, grp: null, somewhere: blob },
    ALPHA,
  );
  assert.equal(out.params, [9, "it's; DROP TABLE bots", 2n, true, null, blob, "alpha"]);
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 1);
  assert.equal(rows(db, "SELECT name, a, b, grp, somewhere FROM bots WHERE id = 9"), [
    { name: "it's; DROP TABLE bots", a: 2, b: 1, grp: null, somewhere: blob },
  ]);
  db.close();
});

test("stampedInsert() throws a TypeError naming the column of a value it cannot bind", () => {
  const bad: unknown[] = [undefined, {}, [1], new Date(0), () => 1, Symbol("s")];
  for (const value of bad) {
    const error = thrown(() =>
      stampedInsert("bots", { name: value } as unknown as ColumnValues, ALPHA)
    );
    assert.instance(error, TypeError);
    assert.match(error.message, 'column "name"');
  }
});

test("stampedInsert() throws a TypeError for a bad table, column, row or menace id", () => {
  for (const table of ["bots; DROP TABLE x", "", "a.b", 'bots"']) {
    const error = thrown(() => stampedInsert(table, { id: 1 }, ALPHA));
    assert.instance(error, TypeError);
    assert.ok(error.message.includes(JSON.stringify(table)), error.message);
  }
  for (const column of ["name; DROP TABLE bots", "na me", '"id"', "1id", ""]) {
    const error = thrown(() => stampedInsert("bots", { [column]: 1 }, ALPHA));
    assert.instance(error, TypeError);
    assert.ok(error.message.includes(JSON.stringify(column)), error.message);
  }
  for (const row of [null, [1], "row"]) {
    assert.instance(
      thrown(() => stampedInsert("bots", row as unknown as ColumnValues, ALPHA)),
      TypeError,
    );
  }
  assert.instance(thrown(() => stampedInsert("bots", { id: 1 }, "")), TypeError);
});

test("stampedUpsert() inserts a new row and updates an own row", () => {
  const out = stampedUpsert("bots", { id: 1, name: "renamed", a: 5 }, ["id"], ALPHA);
  assert.equal(out, {
    sql: 'INSERT INTO "bots" ("id", "name", "a", "source_menace_id") VALUES (?, ?, ?, ?) ' +
      'ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "a" = excluded."a" ' +
      'WHERE "bots".source_menace_id = excluded.source_menace_id',
    params: [1, "renamed", 5, "alpha"],
  });
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 1);
  assert.equal(rows(db, OWNERS, [1]), [{ id: 1, name: "renamed", owner: "alpha" }]);
  const fresh = stampedUpsert("bots", { id: 20, name: "fresh" }, ["id"], ALPHA);
  assert.is(changes(db, fresh.sql, fresh.params), 1);
  assert.equal(rows(db, OWNERS, [20]), [{ id: 20, name: "fresh", owner: "alpha" }]);
  db.close();
});

test("stampedUpsert() leaves another instance's row, or an ownerless one, untouched with changes 0", () => {
  const db = openDb();
  for (const [id, name, owner] of [[4, "beta-1", "beta"], [7, "orphan", null]] as const) {
    const out = stampedUpsert("bots", { id, name: "stolen" }, ["id"], ALPHA);
    assert.is(changes(db, out.sql, out.params), 0);
    assert.equal(rows(db, OWNERS, [id]), [{ id, name, owner }]);
  }
  db.close();
});

test("stampedUpsert() does nothing on conflict when only conflict columns are given", () => {
  const out = stampedUpsert("bots", { id: 1 }, ["id"], ALPHA);
  assert.equal(out, {
    sql:
      'INSERT INTO "bots" ("id", "source_menace_id") VALUES (?, ?) ON CONFLICT ("id") DO NOTHING',
    params: [1, "alpha"],
  });
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 0);
  db.close();
});

test("stampedUpsert() throws a TypeError for bad conflict columns or another owner", () => {
  const row = { id: 1, name: "x" };
  for (const columns of [[], ["grp"], ["id; DROP TABLE x"], ["id", "id"], "id"]) {
    const error = thrown(() => stampedUpsert("bots", row, columns as string[], ALPHA));
    assert.instance(error, TypeError, JSON.stringify(columns));
  }
  const owner = thrown(() =>
    stampedUpsert("bots", { ...row, source_menace_id: BETA }, ["id"], ALPHA)
  );
  assert.instance(owner, TypeError);
  assert.instance(thrown(() => stampedUpsert("bad table", row, ["id"], ALPHA)), TypeError);
  assert.instance(
    thrown(() =>
      stampedUpsert("bots", { id: undefined } as unknown as ColumnValues, ["id"], ALPHA)
    ),
    TypeError,
  );
});

test("scopedUpdate() changes only the instance's own rows by default", () => {
  const out = scopedUpdate("bots", { name: "changed", b: 9 }, { grp: "x" }, { menaceId: ALPHA });
  assert.equal(out, {
    sql: 'UPDATE "bots" SET "name" = ?, "b" = ? WHERE "grp" = ? AND "bots".source_menace_id = ?',
    params: ["changed", 9, "x", "alpha"],
  });
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 2);
  assert.equal(ids(db, "SELECT id FROM bots WHERE name = 'changed' ORDER BY id"), [1, 3]);
  db.close();
});

test("scopedUpdate() cannot overwrite another instance's row with scope local", () => {
  const out = scopedUpdate("bots", { name: "stolen" }, { id: 4 }, {
    scope: "local",
    menaceId: ALPHA,
  });
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 0);
  assert.equal(rows(db, OWNERS, [4]), [{ id: 4, name: "beta-1", owner: "beta" }]);
  db.close();
});

test("scopedUpdate() touches only others' rows with global and every row with all", () => {
  const db = openDb();
  const global = scopedUpdate("bots", { a: 7 }, { grp: "x" }, { scope: "global", menaceId: ALPHA });
  assert.equal(global, {
    sql: 'UPDATE "bots" SET "a" = ? WHERE "grp" = ? AND "bots".source_menace_id <> ?',
    params: [7, "x", "alpha"],
  });
  assert.is(changes(db, global.sql, global.params), 2);
  assert.equal(ids(db, "SELECT id FROM bots WHERE a = 7 ORDER BY id"), [4, 6]);
  const all = scopedUpdate("bots", { a: 8 }, { grp: "x" }, { scope: "all", menaceId: ALPHA });
  assert.equal(all, { sql: 'UPDATE "bots" SET "a" = ? WHERE "grp" = ?', params: [8, "x"] });
  assert.is(changes(db, all.sql, all.params), 5);
  db.close();
});

test("scopedUpdate() turns a null in where into IS NULL and may claim rows with all", () => {
  const out = scopedUpdate("bots", { source_menace_id: ALPHA }, { source_menace_id: null }, {
    scope: "all",
    menaceId: ALPHA,
  });
  assert.equal(out, {
    sql: 'UPDATE "bots" SET "source_menace_id" = ? WHERE "source_menace_id" IS NULL',
    params: ["alpha"],
  });
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 1);
  assert.equal(rows(db, OWNERS, [7]), [{ id: 7, name: "orphan", owner: "alpha" }]);
  db.close();
});

test("scopedUpdate() throws a TypeError for another owner, an empty set or bad input", () => {
  const opts = { menaceId: ALPHA };
  assert.instance(
    thrown(() => scopedUpdate("bots", { source_menace_id: BETA }, {}, opts)),
    TypeError,
  );
  assert.match(
    thrown(() => scopedUpdate("bots", {}, { id: 1 }, opts)).message,
    "no column to update",
  );
  assert.instance(thrown(() => scopedUpdate("bots; DROP TABLE x", { a: 1 }, {}, opts)), TypeError);
  assert.instance(thrown(() => scopedUpdate("bots", { "a = 1 --": 1 }, {}, opts)), TypeError);
  assert.instance(thrown(() => scopedUpdate("bots", { a: 1 }, { "id OR 1": 1 }, opts)), TypeError);
  assert.instance(
    thrown(() => scopedUpdate("bots", { a: {} } as unknown as ColumnValues, {}, opts)),
    TypeError,
  );
  assert.instance(
    thrown(() => scopedUpdate("bots", { a: 1 }, null as unknown as ColumnValues, opts)),
    TypeError,
  );
  const scope = "mine" as Scope;
  assert.instance(
    thrown(() => scopedUpdate("bots", { a: 1 }, {}, { scope, menaceId: ALPHA })),
    TypeError,
  );
  assert.instance(thrown(() => scopedUpdate("bots", { a: 1 }, {}, { menaceId: "" })), TypeError);
  assert.instance(thrown(() => scopedUpdate("bots", { a: 1 }, {}, undefined as never)), TypeError);
});

test("scopedDelete() deletes only the instance's own rows by default", () => {
  const out = scopedDelete("bots", { grp: "x" }, { menaceId: ALPHA });
  assert.equal(out, {
    sql: 'DELETE FROM "bots" WHERE "grp" = ? AND "bots".source_menace_id = ?',
    params: ["x", "alpha"],
  });
  const db = openDb();
  assert.is(changes(db, out.sql, out.params), 2);
  assert.equal(ids(db, "SELECT id FROM bots ORDER BY id"), [2, 4, 5, 6, 7]);
  const other = scopedDelete("bots", { id: 4 }, { menaceId: ALPHA });
  assert.is(changes(db, other.sql, other.params), 0);
  db.close();
});

test("scopedDelete() deletes others' rows only with global or all", () => {
  const db = openDb();
  const global = scopedDelete("bots", {}, { scope: "global", menaceId: ALPHA });
  assert.equal(global, {
    sql: 'DELETE FROM "bots" WHERE "bots".source_menace_id <> ?',
    params: ["alpha"],
  });
  assert.is(changes(db, global.sql, global.params), 3);
  assert.equal(ids(db, "SELECT id FROM bots ORDER BY id"), [1, 2, 3, 7]);
  const one = scopedDelete("bots", { id: 7 }, { scope: "all", menaceId: ALPHA });
  assert.equal(one, { sql: 'DELETE FROM "bots" WHERE "id" = ?', params: [7] });
  assert.is(changes(db, one.sql, one.params), 1);
  const every = scopedDelete("bots", {}, { scope: "all", menaceId: ALPHA });
  assert.equal(every, { sql: 'DELETE FROM "bots"', params: [] });
  assert.is(changes(db, every.sql, every.params), 3);
  db.close();
});

test("scopedDelete() throws a TypeError for a bad table, column, value, scope or menace id", () => {
  const opts = { menaceId: ALPHA };
  assert.instance(thrown(() => scopedDelete("bots; DROP TABLE x", {}, opts)), TypeError);
  assert.instance(thrown(() => scopedDelete("bots", { "1=1; --": 1 }, opts)), TypeError);
  assert.instance(
    thrown(() => scopedDelete("bots", { id: [1] } as unknown as ColumnValues, opts)),
    TypeError,
  );
  assert.instance(
    thrown(() => scopedDelete("bots", {}, { scope: "ALL!" as Scope, menaceId: ALPHA })),
    TypeError,
  );
  assert.instance(
    thrown(() => scopedDelete("bots", {}, { menaceId: 5 as unknown as string })),
    TypeError,
  );
});

test.run();
