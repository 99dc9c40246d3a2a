import { suite } from "uvu";
import * as assert from "uvu/assert";
import { applyScope, buildScopeClause, isScope, parseScope, Scope } from "../src/scope/mod.ts";
import { ALPHA, ids, openDb, thrown } from "./_support/scope_db.ts";

const test = suite("scope clause");

test("Scope names the three scopes and cannot be changed", () => {
  assert.equal({ ...Scope }, { LOCAL: "local", GLOBAL: "global", ALL: "all" });
  assert.ok(Object.isFrozen(Scope));
});

test("parseScope() accepts the three scopes in any letter case", () => {
  assert.is(parseScope("local"), "local");
  assert.is(parseScope("GLOBAL"), "global");
  assert.is(parseScope("All"), "all");
  assert.is(parseScope(Scope.GLOBAL), "global");
});

test("parseScope() throws a TypeError naming any other value", () => {
  for (const bad of ["", "locale", " local", "everything", true, undefined, null, 1]) {
    const error = thrown(() => parseScope(bad));
    assert.instance(error, TypeError);
    assert.ok(error.message.includes(typeof bad === "string" ? JSON.stringify(bad) : String(bad)));
  }
});

test("isScope() accepts only the exact lower-case strings", () => {
  assert.ok(isScope("local") && isScope("global") && isScope("all"));
  assert.not.ok(isScope("LOCAL"));
  assert.not.ok(isScope(undefined));
});

test("buildScopeClause() local keeps only the current instance's rows", () => {
  const [clause, params] = buildScopeClause("bots", "local", ALPHA);
  assert.is(clause, '"bots".source_menace_id = ?');
  assert.equal(params, ["alpha"]);
  const db = openDb();
  assert.equal(ids(db, `SELECT id FROM bots WHERE ${clause} ORDER BY id`, params), [1, 2, 3]);
  db.close();
});

test("buildScopeClause() global keeps only other instances' rows, not rows without owner", () => {
  const [clause, params] = buildScopeClause("bots", Scope.GLOBAL, ALPHA);
  assert.is(clause, '"bots".source_menace_id <> ?');
  assert.equal(params, ["alpha"]);
  const db = openDb();
  assert.equal(ids(db, `SELECT id FROM bots WHERE ${clause} ORDER BY id`, params), [4, 5, 6]);
  db.close();
});

test("buildScopeClause() all is empty and keeps every row, the ownerless one included", () => {
  const [clause, params] = buildScopeClause("bots", "all", ALPHA);
  assert.is(clause, "");
  assert.equal(params, []);
  const db = openDb();
  const sql = applyScope("SELECT id FROM bots ORDER BY id", clause);
  assert.equal(ids(db, sql, params), [1, 2, 3, 4, 5, 6, 7]);
  db.close();
});

test("buildScopeClause() quotes a table named like a keyword", () => {
  const [clause, params] = buildScopeClause("where", "local", ALPHA);
  assert.is(clause, '"where".source_menace_id = ?');
  const db = openDb();
  assert.equal(ids(db, `SELECT id FROM "where" WHERE ${clause}`, params), [1]);
  db.close();
});

test("buildScopeClause() accepts a scope in capitals", () => {
  assert.equal(buildScopeClause("bots", "LOCAL" as Scope, ALPHA), [
    '"bots".source_menace_id = ?',
    ["alpha"],
  ]);
});

test("buildScopeClause() throws a TypeError for a table name that is not a plain identifier", () => {
  for (const bad of ["bots; DROP TABLE x", 'bots"', "bo ts", "", "1bots", "main.bots", 42]) {
    const error = thrown(() => buildScopeClause(bad as string, "local", ALPHA));
    assert.instance(error, TypeError);
    assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
  }
});

test("buildScopeClause() throws a TypeError for an unknown scope", () => {
  const error = thrown(() => buildScopeClause("bots", "mine" as Scope, ALPHA));
  assert.instance(error, TypeError);
  assert.match(error.message, '"mine"');
});

test("buildScopeClause() throws a TypeError for an empty or missing menace id, even with all", () => {
  for (const bad of ["", undefined, null, 7]) {
    for (const scope of ["local", "global", "all"] as const) {
      assert.instance(thrown(() => buildScopeClause("bots", scope, bad as string)), TypeError);
    }
  }
});

test("buildScopeClause() binds an id with quotes as a value, never as SQL", () => {
  const id = "x' OR '1'='1";
  const [clause, params] = buildScopeClause("bots", "local", id);
  assert.is(clause, '"bots".source_menace_id = ?');
  assert.equal(params, [id]);
  const db = openDb();
  assert.equal(ids(db, `SELECT id FROM bots WHERE ${clause}`, params), []);
  db.close();
});

test.run();
