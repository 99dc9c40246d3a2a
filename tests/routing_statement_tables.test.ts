/**
 * `statementTables()`: the tables a statement names, which the Kysely and
 * Drizzle subpaths route by.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statementTables } from "../src/routing/statement_tables.ts";

const test = suite("statementTables");

const tables = (sql: string) => statementTables(sql).tables;

test("joins, subqueries and parenthesised joins name every table once, in order", () => {
  assert.equal(
    tables('select "b"."name" from "bots" as "b" inner join "code" on "code"."bot" = "b"."id"'),
    ["bots", "code"],
  );
  assert.equal(
    tables(
      "select * from (select * from bots) sub left join (models m join code c on c.x = m.x) on 1",
    ),
    ["models", "code", "bots"],
  );
  assert.equal(
    tables("update bots set name = ? where id in (select bot from code where x = 1)"),
    ["bots", "code"],
  );
  assert.equal(tables("select * from bots b join BOTS c on 1"), ["bots"]);
});

test("the targets of INSERT, REPLACE, UPDATE, DELETE and DDL are tables", () => {
  assert.equal(tables('insert into "bots" ("name") values (?) returning "id"'), ["bots"]);
  assert.equal(tables("replace into bots values (1)"), ["bots"]);
  assert.equal(tables("update or ignore bots set x = 1"), ["bots"]);
  assert.equal(tables('delete from "bots" where "id" = ?'), ["bots"]);
  assert.equal(tables('create table if not exists "bots" ("id" integer primary key)'), ["bots"]);
  assert.equal(tables('create unique index if not exists "i" on "bots" ("name")'), ["bots"]);
  assert.equal(tables("alter table bots add column x"), ["bots"]);
  assert.equal(tables("drop table if exists bots"), ["bots"]);
  assert.equal(tables("select * from main.bots"), ["bots"]);
});

test("upserts, WITH names, table-valued functions and SQLite's tables are not tables", () => {
  assert.equal(
    tables("insert into bots (name) values (?) on conflict (name) do update set name = 'x'"),
    ["bots"],
  );
  assert.equal(
    tables("with recent as (select * from bots) select * from recent join models m on 1"),
    ["bots", "models"],
  );
  assert.equal(tables("select * from json_each(?) j, bots"), ["bots"]);
  assert.equal(tables("select name from sqlite_master where type = 'table'"), []);
  assert.equal(tables("select * from _dbrouter_migrations"), []);
  assert.equal(tables("select a from bots where a is not distinct from b"), ["bots"]);
  assert.equal(tables("select 1"), []);
});

test("kind and returnsRows tell queries, RETURNING writes and plain writes apart", () => {
  const of = (sql: string) => {
    const { kind, returnsRows } = statementTables(sql);
    return [kind, returnsRows];
  };
  assert.equal(of("select * from bots"), ["read", true]);
  assert.equal(of("insert into bots (name) values (?) returning id"), ["change", true]);
  assert.equal(of("delete from bots"), ["change", false]);
  assert.equal(of("create table t (x)"), ["write", false]);
});

test("a FROM clause it cannot read is a TypeError naming the statement", () => {
  assert.throws(
    () => statementTables("select * from ,"),
    (e: Error) =>
      e instanceof TypeError && /Cannot route statement "select \* from ,"/.test(e.message),
  );
});

test.run();
