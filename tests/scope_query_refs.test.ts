import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RouterError } from "../src/errors.ts";
import { scopedQuery } from "../src/scope/mod.ts";
import { ALPHA, ids, openDb, rows, thrown } from "./_support/scope_db.ts";

// scopedQuery() on joins, CTE names and the tables it is also asked to filter.
const test = suite("scopedQuery references");

const local = { table: "bots", scope: "local", menaceId: ALPHA } as const;
const global = { table: "bots", scope: "global", menaceId: ALPHA } as const;

test("scopedQuery() filters the alsoScope tables wherever the statement reads them", () => {
  const out = scopedQuery(
    "SELECT b.id FROM bots b JOIN code c ON c.bot_id = b.id WHERE b.a = ? " +
      "AND c.id IN (SELECT id FROM code WHERE id > ?) ORDER BY b.id LIMIT ?",
    [0, 11, 10],
    { ...global, alsoScope: ["code", "other", "bots"] },
  );
  assert.equal(out, {
    sql: "SELECT b.id FROM bots b JOIN code c ON c.bot_id = b.id WHERE (b.a = ? " +
      'AND c.id IN (SELECT id FROM code WHERE (id > ?) AND "code".source_menace_id <> ?)) ' +
      'AND "b".source_menace_id <> ? AND "c".source_menace_id <> ? ORDER BY b.id LIMIT ?',
    params: [0, 11, "alpha", "alpha", "alpha", 10],
  });
  const db = openDb();
  db.run("UPDATE code SET source_menace_id = 'alpha' WHERE id = 15");
  assert.equal(ids(db, out.sql, out.params), [6]);
  db.close();
  // A table only in alsoScope need not be read; one that is not a plain name is misuse.
  assert.is(
    scopedQuery("SELECT id FROM bots", [], { ...local, alsoScope: ["other"] }).params.length,
    1,
  );
  assert.instance(
    thrown(() => scopedQuery("SELECT id FROM code", [], { ...local, alsoScope: ["bots"] })),
    TypeError,
  );
  assert.instance(
    thrown(() => scopedQuery("SELECT id FROM bots", [], { ...local, alsoScope: ["a b"] })),
    TypeError,
  );
});

test("scopedQuery() resolves a WITH name that shadows the table as SQLite does", () => {
  const db = openDb();
  // The unqualified name is the CTE everywhere in the WITH: in the main SELECT and in every
  // body, even one written before the definition; main.bots is always the table.
  const shadow = scopedQuery(
    "WITH x AS (SELECT id FROM bots), bots AS (SELECT * FROM main.bots WHERE a = ?) " +
      "SELECT id FROM x UNION ALL SELECT id FROM bots ORDER BY 1",
    [1],
    local,
  );
  assert.equal(shadow, {
    sql: "WITH x AS (SELECT id FROM bots), bots AS (SELECT * FROM main.bots WHERE (a = ?) " +
      'AND "bots".source_menace_id = ?) SELECT id FROM x UNION ALL SELECT id FROM bots ORDER BY 1',
    params: [1, "alpha"],
  });
  assert.equal(ids(db, shadow.sql, shadow.params), [1, 1]);
  // A WITH inside a subquery shadows only inside that subquery.
  const nested = scopedQuery(
    "SELECT id FROM bots WHERE id IN (WITH bots AS (SELECT 4 AS id) SELECT id FROM bots) OR a = ?",
    [1],
    global,
  );
  assert.is(
    nested.sql,
    "SELECT id FROM bots WHERE (id IN (WITH bots AS (SELECT 4 AS id) SELECT id FROM bots) OR a = ?) " +
      'AND "bots".source_menace_id <> ?',
  );
  assert.equal(ids(db, nested.sql, nested.params), [4]);
  db.close();
});

test("scopedQuery() refuses with SCOPE_REFUSED a table a WHERE or ON filter cannot scope", () => {
  for (
    const [sql, part] of [
      ["SELECT * FROM bots RIGHT JOIN code USING (id)", "SELECT * FROM bots RIGHT"],
      ["SELECT * FROM bots FULL JOIN code ON bots.id = code.bot_id", "SELECT * FROM bots FULL"],
      ["SELECT * FROM code NATURAL LEFT JOIN bots", "SELECT * FROM code NATURAL"],
      ["SELECT * FROM code LEFT JOIN bots USING (id)", "SELECT * FROM code LEFT"],
      [
        "SELECT * FROM code LEFT JOIN (bots b FULL JOIN other o ON o.id = b.id) ON 1",
        "SELECT * FROM code LEFT JOIN (bots b",
      ],
      [
        "SELECT id FROM other WHERE id IN (SELECT code.id FROM bots FULL JOIN code ON 1)",
        "SELECT code.id FROM bots FULL JOIN code ON 1",
      ],
      ["SELECT id FROM bots WHERE name IN bots", "IN bots"],
      ["SELECT id FROM other WHERE name NOT IN main.bots", "IN main.bots"],
    ]
  ) {
    const error = thrown(() => scopedQuery(sql, [], local));
    assert.instance(error, RouterError, sql);
    assert.is((error as RouterError).code, "SCOPE_REFUSED", sql);
    assert.ok(error.message.includes(part), `${error.message} names ${part}`);
  }
  // A shadowing CTE or a table-valued function after IN is not the table.
  assert.ok(
    scopedQuery("WITH bots AS (SELECT 1) SELECT 1 FROM main.bots WHERE 1 IN bots", [], local),
  );
});

test("scopedQuery() filters a table on the right of LEFT JOIN ... ON in its ON clause", () => {
  const out = scopedQuery(
    "SELECT c.id, b.id AS b FROM code c LEFT JOIN bots b ON b.id = c.bot_id OR b.id = ? " +
      "WHERE c.id < ? ORDER BY c.id",
    [99, 16],
    local,
  );
  assert.equal(out, {
    sql: "SELECT c.id, b.id AS b FROM code c LEFT JOIN bots b ON (b.id = c.bot_id OR b.id = ?) " +
      'AND "b".source_menace_id = ? WHERE c.id < ? ORDER BY c.id',
    params: [99, "alpha", 16],
  });
  const db = openDb();
  // Every code row stays; only alpha's bots match.
  assert.equal(rows(db, out.sql, out.params), [
    { id: 11, b: 1 },
    { id: 12, b: 2 },
    { id: 13, b: 3 },
    { id: 14, b: null },
    { id: 15, b: null },
  ]);
  // Both sides of a LEFT self-join, with no WHERE: the ON filter comes before the WHERE.
  const self = scopedQuery(
    "SELECT p.id, q.id AS q FROM bots p LEFT JOIN bots q ON q.id = p.id + ?",
    [1],
    global,
  );
  assert.equal(self, {
    sql: "SELECT p.id, q.id AS q FROM bots p LEFT JOIN bots q ON (q.id = p.id + ?) " +
      'AND "q".source_menace_id <> ? WHERE "p".source_menace_id <> ?',
    params: [1, "alpha", "alpha"],
  });
  assert.equal(rows(db, self.sql, self.params), [{ id: 4, q: 5 }, { id: 5, q: 6 }, {
    id: 6,
    q: null,
  }]);
  db.close();
});

test("scopedQuery() filters the preserved side of a LEFT JOIN", () => {
  const out = scopedQuery(
    "SELECT bots.id, o.id AS o FROM bots LEFT JOIN other o ON o.id = bots.id + 99 ORDER BY bots.id",
    [],
    local,
  );
  assert.is(
    out.sql,
    "SELECT bots.id, o.id AS o FROM bots LEFT JOIN other o ON o.id = bots.id + 99 " +
      'WHERE "bots".source_menace_id = ? ORDER BY bots.id',
  );
  const db = openDb();
  assert.equal(rows(db, out.sql, out.params), [{ id: 1, o: 100 }, { id: 2, o: 101 }, {
    id: 3,
    o: null,
  }]);
  db.close();
});

test("scopedQuery() filters the left side of RIGHT JOIN ... ON in its ON, the right side in WHERE", () => {
  const out = scopedQuery(
    "SELECT c.id, b.id AS b FROM bots b RIGHT JOIN code c ON b.id = c.bot_id - ? " +
      "RIGHT JOIN bots d ON d.id = c.bot_id WHERE d.id < ? ORDER BY c.id",
    [1, 4],
    local,
  );
  assert.equal(out, {
    sql: "SELECT c.id, b.id AS b FROM bots b RIGHT JOIN code c ON (b.id = c.bot_id - ?) " +
      'AND "b".source_menace_id = ? RIGHT JOIN bots d ON d.id = c.bot_id WHERE (d.id < ?) ' +
      'AND "d".source_menace_id = ? ORDER BY c.id',
    params: [1, "alpha", 4, "alpha"],
  });
  const db = openDb();
  assert.equal(rows(db, out.sql, out.params), [{ id: 11, b: null }, { id: 12, b: 1 }, {
    id: 13,
    b: 2,
  }]);
  db.close();
});

test("scopedQuery() filters a table inside a join group on the right of LEFT JOIN in the group's ON", () => {
  const out = scopedQuery(
    "SELECT c.id, b.id AS b FROM code c LEFT JOIN (bots b JOIN other o ON o.a = b.a) " +
      "ON b.id = c.bot_id ORDER BY c.id, b.id",
    [],
    local,
  );
  assert.is(
    out.sql,
    "SELECT c.id, b.id AS b FROM code c LEFT JOIN (bots b JOIN other o ON o.a = b.a) " +
      'ON (b.id = c.bot_id) AND "b".source_menace_id = ? ORDER BY c.id, b.id',
  );
  const db = openDb();
  // Bot 1 (alpha, a = 1) matches both rows of other; beta's bot 4 matches none.
  assert.equal(rows(db, out.sql, out.params).filter((row) => row.b !== null), [
    { id: 11, b: 1 },
    { id: 11, b: 1 },
  ]);
  assert.is(rows(db, out.sql, out.params).length, 8);
  db.close();
});

test.run();
