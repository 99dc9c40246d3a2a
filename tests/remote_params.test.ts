/**
 * What remote backends send: named parameters turned into `?NNN` with their
 * values in order, values converted per engine, scripts split on the
 * semicolons that end statements, and rows mapped to sql.js's types.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fixRow, rowFromColumns, toSqlValue } from "../src/remote/rows.ts";
import { toRemoteStatement } from "../src/remote/sql_args.ts";
import { splitScript } from "../src/remote/split_script.ts";
import { isLibsqlUrl, redactUrl } from "../src/remote/url.ts";

const test = suite("remote statements");
const D1 = { bigint: "number", engine: "D1" } as const;
const LIBSQL = { bigint: "exact", engine: "libSQL" } as const;

test("named parameters become ?N in order of first use; a repeated name keeps its number", () => {
  assert.equal(
    toRemoteStatement(
      "SELECT :b, @a, :b, $c WHERE x = ':b' -- :a",
      { a: 1.5, b: "x", c: null },
      D1,
    ),
    { sql: "SELECT ?1, ?2, ?1, ?3 WHERE x = ':b' -- :a", args: ["x", 1.5, null] },
  );
  assert.equal(
    toRemoteStatement("INSERT INTO t VALUES (:a)", { ":a": true }, LIBSQL),
    { sql: "INSERT INTO t VALUES (?1)", args: [1n] },
  );
});

test("positional parameters pass through; no parameters bind nothing", () => {
  assert.equal(toRemoteStatement("SELECT ?, ?", [0.5, "s"], D1), {
    sql: "SELECT ?, ?",
    args: [0.5, "s"],
  });
  assert.equal(toRemoteStatement("SELECT 1", undefined, D1), { sql: "SELECT 1", args: [] });
});

test("whole numbers bind as INTEGER: bigints for libSQL, a cast in the SQL for D1", () => {
  assert.equal(toRemoteStatement("SELECT ?, ?, ?", [2, 2.5, 2 ** 60], LIBSQL).args, [
    2n,
    2.5,
    2 ** 60,
  ]);
  assert.equal(toRemoteStatement("SELECT ?, ?, ?", [false, 2.5, -3], D1), {
    sql: "SELECT CAST(? AS INTEGER), ?, CAST(? AS INTEGER)",
    args: [0, 2.5, -3],
  });
  assert.equal(toRemoteStatement("SELECT :a, ':a', :b, :a", { a: 7, b: "7" }, D1), {
    sql: "SELECT CAST(?1 AS INTEGER), ':a', ?2, CAST(?1 AS INTEGER)",
    args: [7, "7"],
  });
});

test("bigints: exact for libSQL, numbers within 2^53 for D1, a RangeError beyond", () => {
  assert.equal(toRemoteStatement("SELECT ?", [2n ** 60n], LIBSQL).args, [2n ** 60n]);
  assert.equal(toRemoteStatement("SELECT ?", [-(2n ** 53n) + 1n], D1).args, [-(2 ** 53) + 1]);
  assert.throws(() => toRemoteStatement("SELECT ?", [2n ** 53n], D1), RangeError);
});

test("mixing ? with names, and bad values, are refused before anything is sent", () => {
  assert.throws(() => toRemoteStatement("SELECT ?, :a", { a: 1 }, D1), /mixes "\?"/);
  assert.throws(() => toRemoteStatement("SELECT ?", [undefined as never], D1), TypeError);
  assert.throws(() => toRemoteStatement("SELECT :a", { b: 1 }, D1), RangeError);
});

test("splitScript() splits on statement ends only: not in strings, comments, names or triggers", () => {
  const script = `
    CREATE TABLE "a;b" (x TEXT DEFAULT ';'); -- one; still a comment
    /* two; */ CREATE TRIGGER t AFTER INSERT ON "a;b" BEGIN
      UPDATE "a;b" SET x = CASE WHEN new.x = 'end' THEN 'x' ELSE 'y' END;
      DELETE FROM "a;b" WHERE 0;
    END;
    ;
    INSERT INTO "a;b" VALUES ('last')`;
  const statements = splitScript(script);
  assert.is(statements.length, 3);
  assert.is(statements[0], `CREATE TABLE "a;b" (x TEXT DEFAULT ';')`);
  assert.match(statements[1], /^CREATE TRIGGER t .* END$/s);
  assert.is(statements[2], `INSERT INTO "a;b" VALUES ('last')`);
  assert.equal(splitScript("-- nothing; at all"), []);
  assert.throws(() => splitScript("SELECT 'open"), TypeError);
});

test("rows: BLOBs as byte arrays or ArrayBuffers become Uint8Array; bigints become numbers", () => {
  assert.equal(toSqlValue([1, 2]), new Uint8Array([1, 2]));
  assert.equal(toSqlValue(new Uint8Array([3]).buffer), new Uint8Array([3]));
  assert.is(toSqlValue(5n), 5);
  assert.is(toSqlValue(undefined), null);
  assert.equal(fixRow({ a: 1, b: [9], c: null }), { a: 1, b: new Uint8Array([9]), c: null });
  assert.equal(rowFromColumns(["a", "a", "b"], [1, 2, "x"]), { a: 2, b: "x" });
  // A column named __proto__ is a field of the row, not its prototype (as in the engine's rows).
  const odd = rowFromColumns<Record<string, unknown>>(["__proto__", "b"], [[7], 1]);
  assert.ok(Object.hasOwn(odd, "__proto__"), "own field");
  assert.equal(odd["__proto__"], new Uint8Array([7]));
  assert.is(Object.getPrototypeOf(odd), Object.prototype);
  assert.equal(Object.keys(odd), ["__proto__", "b"]);
});

test("libSQL URLs are told from paths and shown without secrets", () => {
  for (const url of ["libsql://x.turso.io", "https://h:8080", "wss://h", "file:a.db", "FILE:/a"]) {
    assert.ok(isLibsqlUrl(url), url);
  }
  for (const path of ["shared/global.db", "./file.db", "C:\\db\\x.db", "/srv/libsql.db"]) {
    assert.not.ok(isLibsqlUrl(path), path);
  }
  assert.is(redactUrl("libsql://u:p@db.example/?authToken=s&tls=1"), "libsql://db.example/?tls=1");
  assert.is(redactUrl("file:/tmp/x.db"), "file:///tmp/x.db");
});

test.run();
