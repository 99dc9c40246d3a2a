import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RouterError } from "../mod.ts";
import { thrown } from "./_support/errors.ts";
import { multiset, openScopeWorld } from "./_support/scope_routers.ts";
import type { ScopeWorld } from "./_support/scope_routers.ts";

// A generated corpus: every shape below, with every spelling of the table, under every
// wrapper, runs through router.query() as alpha with scope local and global, and must return
// exactly what the same SQL returns unscoped on a database that holds only the rows that scope
// may see. A reference left unfiltered shows as another instance's row, a wrong count or a
// wrong aggregate; a parameter out of place shows as a wrong result.
const test = suite("scope corpus");

interface Shape {
  readonly sql: string;
  readonly params: readonly (string | number)[];
}

/** How a statement names the table: the scoper must recognise each. */
const SPELLINGS = [
  "bots",
  '"bots"',
  "[bots]",
  "`Bots`",
  "'bots'",
  "main.bots",
  '"main"."BOTS"',
  "BOTS",
];

/** Statements built around the table `t`, each without ORDER BY or LIMIT so they compose. */
const SHAPES: readonly ((t: string) => Shape)[] = [
  (t) => ({ sql: `SELECT id, name FROM ${t}`, params: [] }),
  (t) => ({ sql: `SELECT id, name FROM ${t} b WHERE b.grp = ? OR b.id > ?`, params: ["x", 5] }),
  (t) => ({ sql: `SELECT *, (SELECT group_concat(name) FROM ${t}) AS agg FROM ${t}`, params: [] }),
  (t) => ({
    sql: `SELECT b.id, s.m FROM ${t} b INNER JOIN (SELECT name AS m FROM ${t}) s ON 1`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT b.id, (SELECT count(*) FROM ${t} c WHERE c.grp = b.grp) AS n FROM ${t} b`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT id FROM code WHERE EXISTS (SELECT 1 FROM ${t} x WHERE x.id = code.bot_id)`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT id FROM code WHERE bot_id IN (SELECT id FROM ${t} WHERE grp <> ?)`,
    params: ["z"],
  }),
  (t) => ({
    sql: `SELECT name FROM ${t} UNION SELECT name FROM ${t} x WHERE x.grp = 'y'`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT c.id, b.name FROM code c LEFT JOIN ${t} b ON b.id = c.bot_id`,
    params: [],
  }),
  (t) => ({
    sql:
      `SELECT id, 'FROM bots' AS s FROM ${t} /* JOIN bots */ WHERE name <> 'bots' -- FROM bots\n`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT p.id AS p, q.id AS q FROM ${t} p JOIN ${t} q ON q.grp = p.grp AND q.id <> p.id`,
    params: [],
  }),
  (t) => ({
    sql:
      `SELECT b.id, c.id AS c FROM ${t} b JOIN code c ON c.source_menace_id = b.source_menace_id`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT grp, count(*) AS n FROM ${t} GROUP BY grp ` +
      `HAVING count(*) >= (SELECT count(*) FROM ${t} WHERE grp = ?)`,
    params: ["y"],
  }),
  (t) => ({
    sql: `SELECT id FROM ${t} WHERE grp IN (SELECT grp FROM ${t} GROUP BY grp HAVING count(*) > 1)`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT b.id FROM ${t} b WHERE b.id = (SELECT max(id) FROM ${t} WHERE grp = b.grp)`,
    params: [],
  }),
  (t) => ({ sql: `SELECT (SELECT count(*) FROM ${t} WHERE id > ?) AS n`, params: [1] }),
  (t) => ({ sql: `SELECT * FROM (SELECT id, grp FROM ${t}) d WHERE d.grp = ?`, params: ["x"] }),
  (t) => ({
    sql: `SELECT b.id FROM ${t} b WHERE EXISTS (SELECT 1 FROM code WHERE code.bot_id = b.id ` +
      `AND code.bot_id IN (SELECT id FROM ${t} WHERE grp = ?))`,
    params: ["x"],
  }),
  (t) => ({
    sql: `SELECT id FROM code WHERE bot_id NOT IN (SELECT id FROM ${t} WHERE id > ?)`,
    params: [0],
  }),
  (t) => ({ sql: `SELECT rowid AS r, name FROM ${t} WHERE rowid > ?`, params: [1] }),
  (t) => ({
    sql: `SELECT b.id, d.id AS d FROM ${t} b LEFT JOIN code c ON c.bot_id = b.id ` +
      `LEFT JOIN ${t} d ON d.id = c.bot_id + 1`,
    params: [],
  }),
  (t) => ({
    sql: `SELECT count(*) FILTER (WHERE grp = 'x') AS n, max(id) OVER () AS m FROM ${t}`,
    params: [],
  }),
  (t) => ({
    sql: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 8) " +
      `SELECT n, (SELECT name FROM ${t} WHERE id = n) AS name FROM r`,
    params: [],
  }),
  (t) => ({ sql: `SELECT id FROM ${t} LIMIT (SELECT count(*) FROM ${t}) - ?`, params: [1] }),
  (t) => ({
    sql: `SELECT id FROM ${t} WHERE id > ? UNION VALUES ((SELECT max(id) FROM ${t}))`,
    params: [0],
  }),
  (t) => ({
    sql: `SELECT c.id, b.name FROM code c LEFT JOIN (${t} b JOIN code d ON d.bot_id = b.id) ` +
      "ON b.id = c.bot_id",
    params: [],
  }),
  (t) => ({
    sql: `SELECT b.name, c.id, d.id AS d FROM ${t} b JOIN code c ON c.bot_id = b.id ` +
      "RIGHT JOIN code d ON d.bot_id = b.id + ?",
    params: [1],
  }),
  (t) => ({
    sql:
      `SELECT c.id, b.name FROM code c LEFT JOIN (${t} b RIGHT JOIN code d ON d.bot_id = b.id) ` +
      "ON d.id = c.id",
    params: [],
  }),
];

/** Statements the scoper cannot prove: refused, never run. */
const REFUSED: readonly ((t: string) => string)[] = [
  (t) => `SELECT code.id FROM ${t} FULL JOIN code ON code.bot_id = 1`,
  (t) => `SELECT code.id FROM code NATURAL LEFT JOIN ${t}`,
  (t) => `SELECT code.id FROM code LEFT JOIN ${t} USING (id)`,
  (t) => `SELECT id FROM code WHERE bot_id IN ${t}`,
  (t) => `SELECT c.id FROM code c LEFT JOIN (${t} b FULL JOIN code d ON 1) ON 1`,
  (t) => `SELECT c.id FROM code c RIGHT JOIN ${t} b USING (id)`,
];

/** Places a shape inside a larger statement. */
const WRAPPERS: readonly ((shape: Shape) => Shape | undefined)[] = [
  (s) => s,
  (s) => ({ sql: `SELECT * FROM (${s.sql}) AS wrapped`, params: s.params }),
  (s) => ({ sql: `WITH w AS (${s.sql}) SELECT * FROM w`, params: s.params }),
  // A compound arm may not start with WITH or hold its own LIMIT.
  (s) =>
    /^WITH|\bLIMIT\b/.test(s.sql)
      ? undefined
      : { sql: `${s.sql} UNION ALL ${s.sql}`, params: [...s.params, ...s.params] },
  (s) => ({ sql: `SELECT (SELECT count(*) FROM (${s.sql})) AS n`, params: s.params }),
  (s) => ({ sql: `SELECT 0 AS k, * FROM (${s.sql}) LIMIT ?`, params: [...s.params, 100] }),
];

/** A CTE named like the table shadows it; main.bots inside its body is the table. */
const SHADOWING: readonly Shape[] = [
  {
    sql: "WITH bots AS (SELECT * FROM main.bots WHERE grp <> ?) SELECT id, name FROM bots",
    params: ["z"],
  },
  {
    sql: 'WITH x AS (SELECT id FROM "bots"), bots AS (SELECT id FROM "main".bots) ' +
      "SELECT id FROM x UNION ALL SELECT id FROM bots",
    params: [],
  },
];

function corpus(): Shape[] {
  const out: Shape[] = [...SHADOWING];
  for (const spelling of SPELLINGS) {
    for (const shape of SHAPES) {
      for (const wrap of WRAPPERS) {
        const built = wrap(shape(spelling));
        if (built !== undefined) out.push(built);
      }
    }
  }
  return out;
}

let world: ScopeWorld;
test.before(async () => {
  world = await openScopeWorld();
});
test.after(() => world.close());

test("hundreds of generated statements return exactly the scope's rows, local and global", async () => {
  const statements = corpus();
  assert.ok(statements.length >= 500, `${statements.length} statements`);
  let sensitive = 0;
  for (const { sql, params } of statements) {
    for (const scope of ["local", "global"] as const) {
      const got = await world.alpha.query("bots", sql, [...params], { scope });
      const expected = world.oracle(scope, sql, params);
      assert.equal(multiset(got), multiset(expected), `${scope}: ${sql} ${JSON.stringify(params)}`);
      const foreign = scope === "local" ? /beta-|gamma-|orphan-/ : /alpha-|orphan-/;
      assert.not.match(JSON.stringify(got), foreign, `${scope}: ${sql}`);
      // Counts statements where an unfiltered reference would have changed the result.
      const unscoped = world.oracle("all", sql, params);
      if (JSON.stringify(multiset(unscoped)) !== JSON.stringify(multiset(expected))) sensitive++;
    }
  }
  // The corpus can fail: nearly every statement's result changes if any reference leaks.
  assert.ok(sensitive >= statements.length * 2 * 0.9, `${sensitive} of ${statements.length * 2}`);
});

test("generated statements the scoper cannot prove are refused with SCOPE_REFUSED", () => {
  let count = 0;
  for (const spelling of SPELLINGS) {
    for (const refused of REFUSED) {
      for (const wrap of WRAPPERS) {
        const built = wrap({ sql: refused(spelling), params: [] })!;
        for (const scope of ["local", "global"] as const) {
          const error = thrown(() =>
            world.alpha.query("bots", built.sql, [...built.params], { scope })
          );
          assert.instance(error, RouterError, built.sql);
          assert.is(error.code, "SCOPE_REFUSED", built.sql);
          count++;
        }
      }
    }
  }
  assert.is(count, SPELLINGS.length * REFUSED.length * WRAPPERS.length * 2);
});

test.run();
