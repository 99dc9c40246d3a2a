import { suite } from "uvu";
import * as assert from "uvu/assert";
import { applyScope, buildScopeClause } from "../src/scope/mod.ts";
import { RouterError } from "../src/errors.ts";
import { ALPHA, ids, openDb, rows, thrown } from "./_support/scope_db.ts";

const test = suite("applyScope");

const [LOCAL, PARAMS] = buildScopeClause("bots", "local", ALPHA);
const [GLOBAL] = buildScopeClause("bots", "global", ALPHA);
const C = '"bots".source_menace_id = ?';

test("applyScope() adds WHERE to a SELECT without one", () => {
  const sql = applyScope("SELECT id FROM bots", LOCAL);
  assert.is(sql, `SELECT id FROM bots WHERE ${C}`);
  const db = openDb();
  assert.equal(ids(db, sql, PARAMS), [1, 2, 3]);
  db.close();
});

test("applyScope() keeps WHERE a OR b from leaking other instances' rows", () => {
  const original = "SELECT id FROM bots WHERE a = 1 OR b = 1 ORDER BY id";
  const sql = applyScope(original, LOCAL);
  assert.is(sql, `SELECT id FROM bots WHERE (a = 1 OR b = 1) AND ${C} ORDER BY id`);
  const db = openDb();
  assert.equal(ids(db, sql, PARAMS), [1, 2]);
  // What the Python original produced: AND binds tighter than OR, so rows leak.
  const naive = `SELECT id FROM bots WHERE a = 1 OR b = 1 AND ${C} ORDER BY id`;
  assert.equal(ids(db, naive, PARAMS), [1, 2, 4, 7]);
  db.close();
});

test("applyScope() places the clause before ORDER BY and LIMIT", () => {
  const db = openDb();
  const plain = applyScope("SELECT id FROM bots ORDER BY id DESC LIMIT 2", LOCAL);
  assert.is(plain, `SELECT id FROM bots WHERE ${C} ORDER BY id DESC LIMIT 2`);
  assert.equal(ids(db, plain, PARAMS), [3, 2]);
  const filtered = applyScope(
    "SELECT id FROM bots WHERE a = 0 ORDER BY id LIMIT 5 OFFSET 1",
    LOCAL,
  );
  assert.is(filtered, `SELECT id FROM bots WHERE (a = 0) AND ${C} ORDER BY id LIMIT 5 OFFSET 1`);
  assert.equal(ids(db, filtered, PARAMS), [3]);
  db.close();
});

test("applyScope() places the clause before GROUP BY", () => {
  const sql = applyScope(
    "SELECT grp, count(*) AS n FROM bots GROUP BY grp HAVING count(*) > 0 ORDER BY grp",
    GLOBAL,
  );
  assert.is(
    sql,
    'SELECT grp, count(*) AS n FROM bots WHERE "bots".source_menace_id <> ? GROUP BY grp ' +
      "HAVING count(*) > 0 ORDER BY grp",
  );
  const db = openDb();
  assert.equal(rows(db, sql, PARAMS), [{ grp: "x", n: 2 }, { grp: "y", n: 1 }]);
  db.close();
});

test("applyScope() places the clause before a WINDOW clause", () => {
  const sql = applyScope(
    "SELECT id, row_number() OVER w AS r FROM bots WINDOW w AS (ORDER BY id DESC) ORDER BY id",
    LOCAL,
  );
  assert.is(
    sql,
    `SELECT id, row_number() OVER w AS r FROM bots WHERE ${C} WINDOW w AS (ORDER BY id DESC) ORDER BY id`,
  );
  const db = openDb();
  assert.equal(rows(db, sql, PARAMS), [{ id: 1, r: 3 }, { id: 2, r: 2 }, { id: 3, r: 1 }]);
  db.close();
});

test('applyScope() is not fooled by "where" in a name or a string literal', () => {
  const db = openDb();
  const names = applyScope(
    "SELECT id, somewhere, \"where\", [where], `where`, 'where' AS w FROM bots ORDER BY id",
    LOCAL,
  );
  assert.is(
    names,
    `SELECT id, somewhere, "where", [where], \`where\`, 'where' AS w FROM bots WHERE ${C} ORDER BY id`,
  );
  assert.equal(ids(db, names, PARAMS), [1, 2, 3]);
  const literal = applyScope(
    "SELECT id FROM bots WHERE somewhere = 'where' OR name = 'it''s where' ORDER BY id",
    LOCAL,
  );
  assert.is(
    literal,
    `SELECT id FROM bots WHERE (somewhere = 'where' OR name = 'it''s where') AND ${C} ORDER BY id`,
  );
  assert.equal(ids(db, literal, PARAMS), [1]);
  const [table, params] = buildScopeClause("where", "local", ALPHA);
  const quoted = applyScope('SELECT id FROM "where"', table);
  assert.is(quoted, 'SELECT id FROM "where" WHERE "where".source_menace_id = ?');
  assert.equal(ids(db, quoted, params), [1]);
  db.close();
});

test('applyScope() is not fooled by "where" in a comment, and keeps the comments', () => {
  const sql = applyScope("SELECT id /* where */ FROM bots -- where\nORDER BY id -- the end", LOCAL);
  assert.is(sql, `SELECT id /* where */ FROM bots WHERE ${C} -- where\nORDER BY id -- the end`);
  const db = openDb();
  assert.equal(ids(db, sql, PARAMS), [1, 2, 3]);
  db.close();
});

test("applyScope() works with subqueries and WITH that read other tables", () => {
  const db = openDb();
  const subquery = applyScope(
    "SELECT id FROM bots WHERE id IN (SELECT bot_id FROM code WHERE id > 11) ORDER BY id",
    LOCAL,
  );
  assert.is(
    subquery,
    `SELECT id FROM bots WHERE (id IN (SELECT bot_id FROM code WHERE id > 11)) AND ${C} ORDER BY id`,
  );
  assert.equal(ids(db, subquery, PARAMS), [2, 3]);

  const cte = applyScope(
    "WITH ones AS (SELECT bot_id FROM code WHERE id > 11 ORDER BY id LIMIT 9) " +
      "SELECT id FROM bots WHERE id IN (SELECT bot_id FROM ones) ORDER BY id",
    LOCAL,
  );
  assert.is(
    cte,
    "WITH ones AS (SELECT bot_id FROM code WHERE id > 11 ORDER BY id LIMIT 9) " +
      `SELECT id FROM bots WHERE (id IN (SELECT bot_id FROM ones)) AND ${C} ORDER BY id`,
  );
  assert.equal(ids(db, cte, PARAMS), [2, 3]);

  const recursive = applyScope(
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 7), " +
      "m AS NOT MATERIALIZED (SELECT 2 AS y) " +
      "SELECT id FROM bots JOIN n ON n.x = bots.id ORDER BY id",
    LOCAL,
  );
  assert.is(
    recursive,
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 7), " +
      "m AS NOT MATERIALIZED (SELECT 2 AS y) " +
      `SELECT id FROM bots JOIN n ON n.x = bots.id WHERE ${C} ORDER BY id`,
  );
  assert.equal(ids(db, recursive, PARAMS), [1, 2, 3]);
  db.close();
});

test("applyScope() refuses with SCOPE_REFUSED a statement that reads the table more than once", () => {
  for (
    const [sql, part] of [
      ["SELECT *, (SELECT group_concat(name) FROM bots) AS agg FROM bots", "SELECT group_concat"],
      ["SELECT id FROM (SELECT * FROM bots WHERE a = 1) AS bots", "SELECT * FROM bots WHERE a = 1"],
      ["WITH x AS (SELECT id FROM bots) SELECT id FROM bots WHERE id IN x", "SELECT id FROM bots"],
      ["SELECT b.id FROM bots INNER JOIN (SELECT name AS m FROM bots) s ON 1", "SELECT name AS m"],
      ["SELECT id FROM bots WHERE EXISTS (SELECT 1 FROM main.bots c WHERE c.a = 1)", "SELECT 1"],
      ["SELECT bots.id FROM bots, bots b", "reads it 2 times"],
    ]
  ) {
    const error = thrown(() => applyScope(sql, LOCAL));
    assert.instance(error, RouterError, sql);
    assert.is((error as RouterError).code, "SCOPE_REFUSED", sql);
    assert.ok(error.message.includes(part), `${error.message} names ${part}`);
  }
  // The clause may name the main SELECT's alias; the table behind it is checked.
  const [aliased] = buildScopeClause("b", "local", ALPHA);
  const error = thrown(() =>
    applyScope("SELECT b.id FROM bots b WHERE b.id IN (SELECT id FROM bots)", aliased)
  );
  assert.is((error as RouterError).code, "SCOPE_REFUSED");
  const fine = applyScope(
    "SELECT b.id FROM bots b WHERE b.id IN (SELECT bot_id FROM code)",
    aliased,
  );
  assert.is(
    fine,
    'SELECT b.id FROM bots b WHERE (b.id IN (SELECT bot_id FROM code)) AND "b".source_menace_id = ?',
  );
});

test("applyScope() accepts a compound SELECT inside a subquery", () => {
  const sql = applyScope("SELECT id FROM bots WHERE id IN (SELECT 1 UNION SELECT 4)", LOCAL);
  assert.is(sql, `SELECT id FROM bots WHERE (id IN (SELECT 1 UNION SELECT 4)) AND ${C}`);
  const db = openDb();
  assert.equal(ids(db, sql, PARAMS), [1]);
  db.close();
});

test("applyScope() keeps a trailing semicolon and trailing comments after the clause", () => {
  const db = openDb();
  for (
    const [input, expected] of [
      ["SELECT id FROM bots;", `SELECT id FROM bots WHERE ${C};`],
      ["SELECT id FROM bots ; -- done", `SELECT id FROM bots WHERE ${C} ; -- done`],
      ["SELECT id FROM bots /* end */;;\n", `SELECT id FROM bots WHERE ${C} /* end */;;\n`],
      ["SELECT id FROM bots -- no newline", `SELECT id FROM bots WHERE ${C} -- no newline`],
    ]
  ) {
    const sql = applyScope(input, LOCAL);
    assert.is(sql, expected);
    assert.equal(ids(db, sql, PARAMS), [1, 2, 3]);
  }
  db.close();
});

test("applyScope() ignores DISTINCT FROM in the select list and finds the real FROM", () => {
  const sql = applyScope("SELECT id, a IS NOT DISTINCT FROM b AS same FROM bots", LOCAL);
  assert.is(sql, `SELECT id, a IS NOT DISTINCT FROM b AS same FROM bots WHERE ${C}`);
  const db = openDb();
  assert.equal(ids(db, sql, PARAMS), [1, 2, 3]);
  db.close();
});

test("applyScope() wraps a clause that has a top-level OR", () => {
  const sql = applyScope("SELECT id FROM bots WHERE a = 1", "b = 1 OR grp = 'y'");
  assert.is(sql, "SELECT id FROM bots WHERE (a = 1) AND (b = 1 OR grp = 'y')");
  const db = openDb();
  assert.equal(ids(db, `${sql} ORDER BY id`), [7]);
  db.close();
});

test("applyScope() returns the SQL unchanged for an empty clause", () => {
  assert.is(applyScope("SELECT id FROM bots WHERE a OR b", ""), "SELECT id FROM bots WHERE a OR b");
  assert.is(applyScope("anything at all", "  "), "anything at all");
});

test("applyScope() throws a TypeError for a statement that is not a SELECT", () => {
  for (
    const sql of [
      "INSERT INTO bots (id) VALUES (1)",
      "UPDATE bots SET a = 1",
      "DELETE FROM bots",
      "WITH x AS (SELECT 1) DELETE FROM bots",
      "VALUES (1)",
      "EXPLAIN SELECT * FROM bots",
      "PRAGMA table_info(bots)",
      "(SELECT * FROM bots)",
      "",
      "-- only a comment",
    ]
  ) {
    const error = thrown(() => applyScope(sql, LOCAL));
    assert.instance(error, TypeError, sql);
    assert.match(error.message, "expected a SELECT statement");
  }
});

test("applyScope() throws a TypeError for a second statement such as an injected DROP", () => {
  for (const sql of ["SELECT * FROM bots; DROP TABLE x", "SELECT 1; SELECT * FROM bots"]) {
    const error = thrown(() => applyScope(sql, LOCAL));
    assert.instance(error, TypeError);
    assert.match(error.message, "more than one statement");
  }
  const nested = thrown(() =>
    applyScope("SELECT * FROM bots WHERE id IN (SELECT 1; DROP TABLE x)", LOCAL)
  );
  assert.instance(nested, TypeError);
});

test("applyScope() throws a TypeError for a compound SELECT, whose arms one clause cannot all filter", () => {
  for (
    const sql of [
      "SELECT id FROM bots UNION SELECT id FROM other",
      "SELECT id FROM bots UNION ALL SELECT id FROM bots ORDER BY id",
      "SELECT id FROM bots INTERSECT SELECT id FROM other",
      "SELECT id FROM bots EXCEPT SELECT id FROM other",
      "WITH x AS (SELECT 1) SELECT id FROM bots UNION VALUES (9)",
    ]
  ) {
    const error = thrown(() => applyScope(sql, LOCAL));
    assert.instance(error, TypeError, sql);
    assert.match(error.message, "compound SELECT");
  }
});

test("applyScope() throws a TypeError for a SELECT without FROM or with an empty WHERE", () => {
  assert.match(thrown(() => applyScope("SELECT 1", LOCAL)).message, "no FROM clause");
  assert.match(thrown(() => applyScope("SELECT 1 WHERE 1", LOCAL)).message, "no FROM clause");
  const empty = thrown(() => applyScope("SELECT * FROM bots WHERE ORDER BY id", LOCAL));
  assert.instance(empty, TypeError);
  assert.match(empty.message, "WHERE clause is empty");
});

test("applyScope() throws a TypeError for SQL it cannot tokenize", () => {
  for (
    const sql of [
      "SELECT * FROM bots WHERE name = 'open",
      'SELECT * FROM "bots',
      "SELECT * FROM [bots",
      "SELECT * FROM bots WHERE (a = 1",
      "SELECT * FROM bots WHERE a = 1)",
    ]
  ) {
    const error = thrown(() => applyScope(sql, LOCAL));
    assert.instance(error, TypeError, sql);
    assert.match(error.message, "Cannot parse SQL");
  }
});

test("applyScope() throws a TypeError for a clause holding a statement separator or a comment", () => {
  for (const clause of ["1 = 1; DROP TABLE bots", "1 = 1 --", "1 = 1 /* x */", "(1 = 1"]) {
    assert.instance(thrown(() => applyScope("SELECT id FROM bots", clause)), TypeError, clause);
  }
  assert.instance(
    thrown(() => applyScope("SELECT id FROM bots", 1 as unknown as string)),
    TypeError,
  );
  assert.instance(thrown(() => applyScope(null as unknown as string, LOCAL)), TypeError);
});

test.run();
