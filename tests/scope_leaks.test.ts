import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RouterError } from "../mod.ts";
import type { Scope } from "../mod.ts";
import { rejection, thrown } from "./_support/errors.ts";
import { multiset, openScopeWorld } from "./_support/scope_routers.ts";
import type { ScopeWorld } from "./_support/scope_routers.ts";

// Each case read other instances' rows through router.query(..., { scope: "local" }) when only
// the main SELECT's FROM was filtered.
const test = suite("scope leaks");

let world: ScopeWorld;
test.before(async () => {
  world = await openScopeWorld();
});
test.after(() => world.close());

async function same(scope: Scope, sql: string, params: (string | number)[] = []): Promise<void> {
  const got = await world.alpha.query("bots", sql, params, { scope });
  assert.equal(multiset(got), multiset(world.oracle(scope, sql, params)), `${scope}: ${sql}`);
}

test("a scalar subquery in the select list sees only the scope's rows", async () => {
  const sql = "SELECT *, (SELECT group_concat(name) FROM bots) AS agg FROM bots";
  const local = await world.alpha.query<{ agg: string }>("bots", sql, [], { scope: "local" });
  assert.equal(local.map((row) => row.agg), Array(3).fill("alpha-1,alpha-2,alpha-3"));
  await same("global", sql);
});

test("a derived table in a join sees only the scope's rows", async () => {
  const sql = "SELECT bots.id, s.m FROM bots INNER JOIN (SELECT name AS m FROM bots) s ON 1";
  const local = await world.alpha.query<{ m: string }>("bots", sql, [], { scope: "local" });
  assert.equal(local.length, 9);
  assert.ok(local.every((row) => row.m.startsWith("alpha-")), JSON.stringify(local));
  await same("global", sql);
});

test("a correlated subquery sees only the scope's rows", async () => {
  const sql = "SELECT b.id, (SELECT count(*) FROM bots c WHERE c.grp = b.grp) AS n FROM bots b " +
    "WHERE EXISTS (SELECT 1 FROM bots d WHERE d.grp = b.grp AND d.id <> b.id)";
  assert.equal(await world.alpha.query("bots", sql, [], { scope: "local" }), [
    { id: 1, n: 2 },
    { id: 3, n: 2 },
  ]);
  await same("global", sql);
});

test("IN (...) and EXISTS subqueries see only the scope's rows", async () => {
  const inList = "SELECT id FROM code WHERE bot_id IN (SELECT id FROM bots) AND id < ?";
  assert.equal(await world.alpha.query("bots", inList, [99], { scope: "local" }), [
    { id: 11 },
    { id: 12 },
    { id: 13 },
  ]);
  await same("global", inList, [99]);
  await same(
    "local",
    "SELECT id FROM code WHERE NOT EXISTS (SELECT 1 FROM bots WHERE id = bot_id)",
  );
});

test("another shared table read in the same statement is filtered with the same scope", async () => {
  const sql = "SELECT b.name, c.id FROM bots b CROSS JOIN code c WHERE c.id > ?";
  const local = await world.alpha.query<{ id: number }>("bots", sql, [0], { scope: "local" });
  assert.equal(local.length, 9);
  assert.equal([...new Set(local.map((row) => row.id))].sort(), [11, 12, 13]);
  const global = await world.alpha.query<{ id: number }>("bots", sql, [0], { scope: "global" });
  assert.equal([...new Set(global.map((row) => row.id))].sort(), [14, 15, 16, 17]);
  await same("global", sql, [0]);
  // With scope all nothing is filtered: every bot with every code row.
  assert.is((await world.alpha.query("bots", sql, [0], { scope: "all" })).length, 64);
});

test("a CTE body and every arm of a compound inside a subquery see only the scope's rows", async () => {
  const cte = "WITH w AS (SELECT name FROM [bots] WHERE grp <> ?) SELECT name FROM w";
  assert.equal(await world.alpha.query("bots", cte, ["z"], { scope: "local" }), [
    { name: "alpha-1" },
    { name: "alpha-2" },
    { name: "alpha-3" },
  ]);
  const arms = "SELECT n FROM (SELECT name AS n FROM main.bots WHERE grp = 'x' " +
    "UNION ALL SELECT name FROM `bots` WHERE grp = 'y') ORDER BY n LIMIT ?";
  assert.equal(await world.alpha.query("bots", arms, [10], { scope: "local" }), [
    { n: "alpha-1" },
    { n: "alpha-2" },
    { n: "alpha-3" },
  ]);
  await same("global", cte, ["z"]);
  await same("global", arms, [10]);
});

test("the menace id lands in its place among the query's own parameters in subqueries", async () => {
  const sql = "SELECT id, (SELECT count(*) FROM bots x WHERE x.grp = ?) AS n FROM bots " +
    "WHERE grp = ? AND id IN (SELECT id FROM bots WHERE id >= ?) ORDER BY id LIMIT ?";
  assert.equal(await world.alpha.query("bots", sql, ["x", "x", 2, 5], { scope: "local" }), [
    { id: 3, n: 2 },
  ]);
  const named = "SELECT id, (SELECT count(*) FROM bots x WHERE x.grp = :g) AS n FROM bots " +
    "WHERE id IN (SELECT id FROM bots WHERE id >= :v) LIMIT $n";
  const params = { ":g": "y", ":v": 5, $n: 9 };
  assert.equal(await world.alpha.query("bots", named, params, { scope: "global" }), [
    { id: 5, n: 2 },
    { id: 6, n: 2 },
    { id: 7, n: 2 },
  ]);
});

test("the left side of a RIGHT JOIN is filtered in its ON: unmatched rows stay, foreign ones do not", async () => {
  const sql = "SELECT c.id, b.name FROM bots b RIGHT JOIN code c ON b.id = c.bot_id - 1 ORDER BY 1";
  assert.equal(await world.alpha.query("bots", sql, [], { scope: "local" }), [
    { id: 11, name: null },
    { id: 12, name: "alpha-1" },
    { id: 13, name: "alpha-2" },
  ]);
  await same("global", sql);
});

test("a statement the scoper cannot prove is refused with SCOPE_REFUSED and never run", () => {
  for (
    const sql of [
      "SELECT code.id FROM bots FULL JOIN code ON bots.id = code.bot_id",
      "SELECT code.id FROM bots RIGHT JOIN code USING (id)",
      "SELECT id FROM code WHERE bot_id IN (SELECT code.id FROM bots FULL JOIN code ON 0)",
      "SELECT id FROM bots WHERE id IN bots",
    ]
  ) {
    const error = thrown(() => world.alpha.query("bots", sql, [], { scope: "local" }));
    assert.instance(error, RouterError, sql);
    assert.is(error.code, "SCOPE_REFUSED", sql);
  }
});

test("a view is refused with SCOPE_REFUSED: its rows come from SQL the scoper never sees", async () => {
  const write = world.alpha.getConnection("bots", "write");
  await write.exec("CREATE VIEW every_bot AS SELECT * FROM bots");
  await write.exec("CREATE VIRTUAL TABLE bot_names USING fts4(name)");
  await write.exec("INSERT INTO bot_names (rowid, name) SELECT rowid, name FROM bots");
  try {
    for (
      const [sql, name] of [
        ["SELECT b.name FROM bots b JOIN every_bot e ON e.id = b.id", "every_bot"],
        ["SELECT (SELECT group_concat(name) FROM Every_Bot) AS agg FROM bots", "every_bot"],
        ["SELECT id FROM bots WHERE name IN (SELECT name FROM main.every_bot)", "every_bot"],
      ]
    ) {
      const error = await rejection(() => world.alpha.query("bots", sql, [], { scope: "local" }));
      assert.instance(error, RouterError, sql);
      assert.is((error as RouterError).code, "SCOPE_REFUSED", sql);
      assert.match((error as RouterError).message, `"${name}"`, sql);
    }
    // Scope "all" asks for every row: the view is read as it is.
    const all = await world.alpha.query(
      "bots",
      "SELECT count(*) AS n FROM bots JOIN every_bot USING (id)",
      [],
      {
        scope: "all",
      },
    );
    const count = await world.alpha.query("bots", "SELECT count(*) AS n FROM bots", [], {
      scope: "all",
    });
    assert.equal(all, count);
    // An FTS index joined to the scoped table, as full-text search does, yields only the rows it
    // joins to: not refused, and filtered through the join.
    const search = "SELECT bots.id FROM bots JOIN bot_names ON bot_names.rowid = bots.rowid " +
      "WHERE bot_names MATCH ? ORDER BY bots.id";
    const mine = await world.alpha.query("bots", search, ["alpha"], { scope: "local" });
    assert.equal(mine, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    assert.equal(await world.alpha.query("bots", search, ["beta"], { scope: "local" }), []);
    // A WITH name and a routed table that routing knows need no lookup and still work.
    await same(
      "local",
      "WITH mine AS (SELECT id FROM bots) SELECT count(*) AS n FROM mine JOIN bots USING (id)",
    );
  } finally {
    await write.exec("DROP VIEW every_bot");
    await write.exec("DROP TABLE bot_names");
  }
});

test("update() and delete() take only column equalities: a subquery is a value, not SQL", async () => {
  const sneaky = "x' OR id IN (SELECT id FROM bots) OR 'x";
  assert.is((await world.alpha.update("bots", { grp: "w" }, { name: sneaky })).changes, 0);
  assert.is((await world.alpha.delete("bots", { name: sneaky })).changes, 0);
  const owners = await world.alpha.query("bots", "SELECT count(*) AS n FROM bots", [], {
    scope: "all",
  });
  assert.equal(owners, [{ n: 8 }]);
});

test.run();
