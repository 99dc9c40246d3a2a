import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SCOPE_PARAM, scopedQuery } from "../src/scope/mod.ts";
import type { Scope, SqlParam } from "../src/scope/mod.ts";
import { ALPHA, ids, openDb, rows, thrown } from "./_support/scope_db.ts";

const test = suite("scopedQuery");

const local = { table: "bots", scope: "local", menaceId: ALPHA } as const;
const global = { table: "bots", scope: "global", menaceId: ALPHA } as const;

test("scopedQuery() keeps parameter order with LIMIT ?", () => {
  const out = scopedQuery("SELECT * FROM bots WHERE a = ? ORDER BY id LIMIT ?", [1, 10], local);
  assert.equal(out, {
    sql: 'SELECT * FROM bots WHERE (a = ?) AND "bots".source_menace_id = ? ORDER BY id LIMIT ?',
    params: [1, "alpha", 10],
  });
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [1]);
  const limited = scopedQuery("SELECT id FROM bots ORDER BY id LIMIT ? OFFSET ?", [2, 1], global);
  assert.equal(limited, {
    sql: 'SELECT id FROM bots WHERE "bots".source_menace_id <> ? ORDER BY id LIMIT ? OFFSET ?',
    params: ["alpha", 2, 1],
  });
  assert.equal(ids(db, limited.sql, limited.params), [5, 6]);
  db.close();
});

test("scopedQuery() puts the id after parameters in subqueries of the WHERE and before HAVING ?", () => {
  const out = scopedQuery(
    "SELECT grp, count(*) AS n FROM bots WHERE id IN (SELECT bot_id FROM code WHERE id > ?) " +
      "GROUP BY grp HAVING count(*) >= ? ORDER BY grp",
    [11, 1],
    local,
  );
  assert.equal(out, {
    sql:
      "SELECT grp, count(*) AS n FROM bots WHERE (id IN (SELECT bot_id FROM code WHERE id > ?)) " +
      'AND "bots".source_menace_id = ? GROUP BY grp HAVING count(*) >= ? ORDER BY grp',
    params: [11, "alpha", 1],
  });
  const db = openDb();
  assert.equal(rows(db, out.sql, out.params), [{ grp: "x", n: 1 }, { grp: "y", n: 1 }]);
  db.close();
});

test("scopedQuery() does not count a ? inside a string literal, a name or a comment", () => {
  const out = scopedQuery(
    "SELECT id /* ? */ FROM bots WHERE name <> '?' AND \"?\" IS NULL -- ?\nORDER BY id LIMIT ?",
    [2],
    global,
  );
  assert.equal(out, {
    sql: "SELECT id /* ? */ FROM bots WHERE (name <> '?' AND \"?\" IS NULL) AND " +
      '"bots".source_menace_id <> ? -- ?\nORDER BY id LIMIT ?',
    params: ["alpha", 2],
  });
  const db = openDb();
  db.run('ALTER TABLE bots ADD COLUMN "?" TEXT');
  assert.equal(ids(db, out.sql, out.params), [4, 5]);
  db.close();
});

test("scopedQuery() finds the table whatever its letter case or quoting", () => {
  const db = openDb();
  for (const from of ['"BOTS"', "[bots]", "`Bots`", "main.BOTS"]) {
    const out = scopedQuery(`SELECT id FROM ${from} ORDER BY id`, [], local);
    assert.is(out.sql, `SELECT id FROM ${from} WHERE "bots".source_menace_id = ? ORDER BY id`);
    assert.equal(ids(db, out.sql, out.params), [1, 2, 3], from);
  }
  db.close();
});

test("scopedQuery() names the table by its alias in FROM and JOIN", () => {
  const db = openDb();
  for (
    const [sql, expected] of [
      [
        "SELECT b.id FROM bots AS b WHERE b.a = ? ORDER BY b.id",
        'SELECT b.id FROM bots AS b WHERE (b.a = ?) AND "b".source_menace_id <> ? ORDER BY b.id',
      ],
      [
        "SELECT b.id FROM bots b WHERE b.a = ? ORDER BY b.id",
        'SELECT b.id FROM bots b WHERE (b.a = ?) AND "b".source_menace_id <> ? ORDER BY b.id',
      ],
      [
        "SELECT b.id FROM code JOIN bots b ON b.id = code.bot_id WHERE b.a = ? ORDER BY b.id",
        "SELECT b.id FROM code JOIN bots b ON b.id = code.bot_id WHERE (b.a = ?) " +
        'AND "b".source_menace_id <> ? ORDER BY b.id',
      ],
      [
        'SELECT "my b".id FROM main.bots AS "my b" WHERE "my b".a = ? ORDER BY 1',
        'SELECT "my b".id FROM main.bots AS "my b" WHERE ("my b".a = ?) ' +
        'AND "my b".source_menace_id <> ? ORDER BY 1',
      ],
    ]
  ) {
    const out = scopedQuery(sql, [1], global);
    assert.equal(out, { sql: expected, params: [1, "alpha"] });
    assert.equal(ids(db, out.sql, out.params), [4], sql);
  }
  db.close();
});

test("scopedQuery() treats window as an alias unless it starts a WINDOW clause", () => {
  const out = scopedQuery(
    "SELECT window.id, row_number() OVER w AS r FROM bots window WINDOW w AS (ORDER BY id DESC) ORDER BY 1",
    [],
    local,
  );
  assert.is(
    out.sql,
    "SELECT window.id, row_number() OVER w AS r FROM bots window " +
      'WHERE "window".source_menace_id = ? WINDOW w AS (ORDER BY id DESC) ORDER BY 1',
  );
  const db = openDb();
  assert.equal(rows(db, out.sql, out.params), [{ id: 1, r: 3 }, { id: 2, r: 2 }, { id: 3, r: 1 }]);
  db.close();
});

test("scopedQuery() accepts params typed as either style and returns the same style", () => {
  const either: readonly SqlParam[] | Readonly<Record<string, SqlParam>> = { ":a": 1 };
  const out = scopedQuery("SELECT id FROM bots WHERE a = :a ORDER BY id", either, global);
  assert.equal(out.params, { ":a": 1, ":__scope_menace_id": "alpha" });
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [4]);
  db.close();
});

test("scopedQuery() filters both sides of a self-join", () => {
  const out = scopedQuery(
    "SELECT p.id FROM bots p, bots q WHERE p.grp = q.grp AND q.a = ? ORDER BY p.id",
    [1],
    local,
  );
  assert.equal(out, {
    sql: "SELECT p.id FROM bots p, bots q WHERE (p.grp = q.grp AND q.a = ?) " +
      'AND "p".source_menace_id = ? AND "q".source_menace_id = ? ORDER BY p.id',
    params: [1, "alpha", "alpha"],
  });
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [1, 3]);
  db.close();
});

test("scopedQuery() finds the table inside a parenthesised join", () => {
  const out = scopedQuery(
    "SELECT b.id FROM (code c JOIN bots b ON b.id = c.bot_id) ORDER BY b.id",
    [],
    local,
  );
  assert.is(
    out.sql,
    'SELECT b.id FROM (code c JOIN bots b ON b.id = c.bot_id) WHERE "b".source_menace_id = ? ORDER BY b.id',
  );
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [1, 2, 3]);
  db.close();
});

test("scopedQuery() scopes every arm of a compound SELECT that reads the table", () => {
  const out = scopedQuery(
    "SELECT id FROM bots WHERE a = ? UNION ALL SELECT id FROM other WHERE a = ? " +
      "UNION ALL SELECT b.id FROM bots b WHERE b.b = ? ORDER BY 1 LIMIT ?",
    [1, 1, 1, 10],
    local,
  );
  assert.equal(out, {
    sql: 'SELECT id FROM bots WHERE (a = ?) AND "bots".source_menace_id = ? ' +
      "UNION ALL SELECT id FROM other WHERE a = ? " +
      'UNION ALL SELECT b.id FROM bots b WHERE (b.b = ?) AND "b".source_menace_id = ? ORDER BY 1 LIMIT ?',
    params: [1, "alpha", 1, 1, "alpha", 10],
  });
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [1, 2, 100, 101]);
  db.close();
});

test("scopedQuery() scopes the main SELECT after a WITH clause whose body does not read the table", () => {
  const out = scopedQuery(
    "WITH picked AS (SELECT bot_id FROM code WHERE id > ?) " +
      "SELECT id FROM bots WHERE id IN (SELECT bot_id FROM picked) LIMIT ?",
    [12, 5],
    global,
  );
  assert.equal(out, {
    sql: "WITH picked AS (SELECT bot_id FROM code WHERE id > ?) " +
      "SELECT id FROM bots WHERE (id IN (SELECT bot_id FROM picked)) " +
      'AND "bots".source_menace_id <> ? LIMIT ?',
    params: [12, "alpha", 5],
  });
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [4, 5, 6]);
  db.close();
});

test("scopedQuery() binds the id as a named parameter when params are an object", () => {
  const out = scopedQuery("SELECT id FROM bots WHERE a = :a OR b = @b ORDER BY id LIMIT $n", {
    ":a": 1,
    "@b": 1,
    $n: 9,
  }, local);
  assert.equal(out, {
    sql: "SELECT id FROM bots WHERE (a = :a OR b = @b) AND " +
      '"bots".source_menace_id = :__scope_menace_id ORDER BY id LIMIT $n',
    params: { ":a": 1, "@b": 1, $n: 9, ":__scope_menace_id": "alpha" },
  });
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [1, 2]);
  db.close();
});

test("scopedQuery() names one parameter for every filtered reference in named style", () => {
  const out = scopedQuery("SELECT p.id FROM bots p JOIN bots q ON q.id = p.id", {}, global);
  assert.equal(out, {
    sql: "SELECT p.id FROM bots p JOIN bots q ON q.id = p.id WHERE " +
      '"p".source_menace_id <> :__scope_menace_id AND "q".source_menace_id <> :__scope_menace_id',
    params: { ":__scope_menace_id": "alpha" },
  });
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [4, 5, 6]);
  db.close();
});

test("scopedQuery() defaults to local and returns copies of the params", () => {
  const params: SqlParam[] = [1];
  const out = scopedQuery("SELECT id FROM bots WHERE a = ?", params, {
    table: "bots",
    menaceId: ALPHA,
  });
  assert.equal(out.params, [1, "alpha"]);
  assert.equal(params, [1]);
  const none = scopedQuery("SELECT id FROM bots", undefined, local);
  assert.equal(none, {
    sql: 'SELECT id FROM bots WHERE "bots".source_menace_id = ?',
    params: ["alpha"],
  });
});

test("scopedQuery() with scope all returns the SQL unchanged and every row", () => {
  const params = [1];
  const out = scopedQuery("SELECT id FROM bots WHERE a = ? ORDER BY id", params, {
    ...local,
    scope: "all",
  });
  assert.equal(out, { sql: "SELECT id FROM bots WHERE a = ? ORDER BY id", params: [1] });
  assert.is.not(out.params, params);
  const db = openDb();
  assert.equal(ids(db, out.sql, out.params), [1, 4, 7]);
  db.close();
  const named = scopedQuery("SELECT id FROM bots WHERE a = ?1", [1], {
    ...local,
    scope: "ALL" as Scope,
  });
  assert.equal(named, { sql: "SELECT id FROM bots WHERE a = ?1", params: [1] });
});

test("scopedQuery() throws a TypeError when no part of the statement reads the table", () => {
  for (
    const sql of [
      "SELECT id FROM other",
      "SELECT id FROM bots_archive",
      "SELECT * FROM json_each('[1]') AS bots",
      "SELECT 'FROM bots' AS x FROM other /* FROM bots */ -- JOIN bots",
      "SELECT bots.id FROM other AS bots",
      "WITH bots AS (SELECT 1 AS id) SELECT id FROM bots",
      "WITH x AS (SELECT 1 AS id), bots AS (SELECT id FROM x) SELECT id FROM bots",
      "SELECT 1",
    ]
  ) {
    const error = thrown(() => scopedQuery(sql, [], local));
    assert.instance(error, TypeError, sql);
    assert.match(error.message, "does not read it");
  }
  // The same check runs with scope all: a query that works there works with local too.
  assert.instance(
    thrown(() => scopedQuery("SELECT id FROM other", [], { ...local, scope: "all" })),
    TypeError,
  );
});

test("scopedQuery() throws a TypeError for numbered or mixed parameters instead of guessing", () => {
  const numbered = thrown(() =>
    scopedQuery("SELECT * FROM bots WHERE a = ?1 LIMIT ?2", [1, 2], local)
  );
  assert.instance(numbered, TypeError);
  assert.match(numbered.message, '"?1"');
  const namedWithArray = thrown(() => scopedQuery("SELECT * FROM bots WHERE a = :a", [1], local));
  assert.instance(namedWithArray, TypeError);
  assert.match(namedWithArray.message, '":a"');
  const positionalWithObject = thrown(() =>
    scopedQuery("SELECT * FROM bots WHERE a = ?", { a: 1 }, local)
  );
  assert.instance(positionalWithObject, TypeError);
  assert.match(positionalWithObject.message, '"?"');
  const mixed = thrown(() => scopedQuery("SELECT * FROM bots WHERE a = ? AND b = :b", [1], local));
  assert.instance(mixed, TypeError);
});

test("scopedQuery() refuses a collision with its own parameter name", () => {
  for (const key of [SCOPE_PARAM, `:${SCOPE_PARAM}`, `$${SCOPE_PARAM}`]) {
    const error = thrown(() =>
      scopedQuery("SELECT * FROM bots WHERE a = :a", { a: 1, [key]: "x" }, local)
    );
    assert.instance(error, TypeError, key);
    assert.match(error.message, "reserved");
  }
  const inSql = thrown(() =>
    scopedQuery("SELECT * FROM bots WHERE name = @__scope_menace_id", { other: 1 }, local)
  );
  assert.instance(inSql, TypeError);
});

test("scopedQuery() throws a RangeError when the array does not match the ? count", () => {
  assert.instance(
    thrown(() => scopedQuery("SELECT * FROM bots WHERE a = ?", [], local)),
    RangeError,
  );
  assert.instance(thrown(() => scopedQuery("SELECT * FROM bots", [1], local)), RangeError);
});

test("scopedQuery() throws a TypeError for a bad table, scope, menace id, params or target", () => {
  const sql = "SELECT * FROM bots";
  for (const table of ["bots; DROP TABLE x", "bots b", "", '"bots"']) {
    const error = thrown(() => scopedQuery(sql, [], { ...local, table }));
    assert.instance(error, TypeError, table);
    assert.ok(error.message.includes(JSON.stringify(table)), error.message);
  }
  assert.instance(
    thrown(() => scopedQuery(sql, [], { ...local, scope: "mine" as Scope })),
    TypeError,
  );
  assert.instance(thrown(() => scopedQuery(sql, [], { ...local, menaceId: "" })), TypeError);
  assert.instance(thrown(() => scopedQuery(sql, "x" as unknown as SqlParam[], local)), TypeError);
  assert.instance(thrown(() => scopedQuery(sql, [], null as unknown as typeof local)), TypeError);
});

test("scopedQuery() throws a TypeError for SQL it cannot scope", () => {
  for (
    const sql of [
      "SELECT * FROM bots; DROP TABLE x",
      "DELETE FROM bots",
      "SELECT * FROM bots WHERE ORDER BY id",
      "SELECT * FROM bots WHERE name = 'x",
    ]
  ) {
    assert.instance(thrown(() => scopedQuery(sql, [], local)), TypeError, sql);
  }
});

test.run();
