/**
 * `db-router/kysely`: real Kysely queries through a router on sql.js, D1
 * (Miniflare) and libSQL: joins, insert returning, update, delete,
 * transactions, denied and unknown tables, queries that cross databases,
 * scope, and what the router counts.
 *
 * @module
 */
import { type Generated, Kysely, sql } from "kysely";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { DBRouter, RouterError } from "../mod.ts";
import { RouterDialect, type RouterDialectOptions } from "../src/kysely/mod.ts";
import { rejection } from "./_support/errors.ts";
import { typedBackends } from "./_support/typed_backends.ts";

interface Tables {
  bots: { id: Generated<number>; name: string; source_menace_id: string | null };
  code: { id: Generated<number>; bot_id: number; name: string; source_menace_id: string | null };
  models: { id: Generated<number>; name: string };
  capital_ledger: { id: number };
  made_up: { id: number };
}

const kysely = (router: DBRouter, options: Omit<RouterDialectOptions, "router"> = {}) =>
  new Kysely<Tables>({ dialect: new RouterDialect({ router, ...options }) });

for (const backend of typedBackends()) {
  const test = suite(`db-router/kysely on ${backend.name}`);
  let alpha: DBRouter;
  let beta: DBRouter;
  let close: () => Promise<void>;
  test.before.each(async () => {
    ({ alpha, beta, close } = await backend.fresh());
  });
  test.after.each(() => close());
  test.after(() => backend.dispose());

  test("insert returning, a select with a join, update and delete run on the shared database", async () => {
    const db = kysely(alpha);
    const inserted = await db.insertInto("bots").values({ name: "b1", source_menace_id: "alpha" })
      .returning(["id", "name"]).executeTakeFirstOrThrow();
    assert.equal(inserted, { id: 1, name: "b1" });
    await db.insertInto("code").values([
      { bot_id: inserted.id, name: "c1", source_menace_id: "alpha" },
      { bot_id: inserted.id, name: "c2", source_menace_id: "alpha" },
    ]).execute();
    const joined = await db.selectFrom("bots").innerJoin("code", "code.bot_id", "bots.id")
      .select(["bots.name as bot", "code.name as code"]).orderBy("code.id").execute();
    assert.equal(joined, [{ bot: "b1", code: "c1" }, { bot: "b1", code: "c2" }]);
    const updated = await db.updateTable("code").set({ name: "c2b" }).where("name", "=", "c2")
      .executeTakeFirst();
    assert.is(updated.numUpdatedRows, 1n);
    const deleted = await db.deleteFrom("code").where("name", "=", "c1").executeTakeFirst();
    assert.is(deleted.numDeletedRows, 1n);
    // Seen by another router straight through the shared database.
    assert.equal(await beta.getConnection("code").all("SELECT name FROM code"), [{ name: "c2b" }]);
    const counts = alpha.getAccessCounts();
    assert.is(counts.shared.bots, 3, "insert, the join, and the setup's exec");
    assert.is(counts.shared.code, 4, "insert, join, update, delete");
  });

  test("a local table goes to this instance's local database", async () => {
    await kysely(alpha).insertInto("models").values({ name: "alpha's" }).execute();
    await kysely(beta).insertInto("models").values({ name: "beta's" }).execute();
    assert.equal(await kysely(alpha).selectFrom("models").select("name").execute(), [
      { name: "alpha's" },
    ]);
    assert.is(alpha.getAccessCounts().local.models, 3);
  });

  test("a denied or unknown table is refused before the query runs", async () => {
    const db = kysely(alpha);
    const denied = await rejection(db.selectFrom("capital_ledger").selectAll().execute());
    assert.is((denied as RouterError).code, "TABLE_DENIED");
    const unknown = await rejection(
      db.selectFrom("bots").innerJoin("made_up", "made_up.id", "bots.id").selectAll().execute(),
    );
    assert.is((unknown as RouterError).code, "TABLE_UNKNOWN");
    assert.match(unknown.message, /"made_up"/);
    assert.is(alpha.getAccessCounts().shared.bots, 1, "the refused join counted no access");
  });

  test("a query naming shared and local tables fails before it runs", async () => {
    const db = kysely(alpha);
    const error = await rejection(
      db.insertInto("models").columns(["name"]).expression(db.selectFrom("bots").select("name"))
        .execute(),
    );
    assert.is((error as RouterError).code, "QUERY_CROSSES_DATABASES");
    assert.match(error.message, /shared table "bots" and the local table "models"/);
    assert.equal(await alpha.getConnection("models").all("SELECT * FROM models"), []);
  });

  test("a scope option filters SELECTs on shared tables by menace id", async () => {
    await kysely(alpha).insertInto("bots").values({ name: "a", source_menace_id: "alpha" })
      .execute();
    await kysely(beta).insertInto("bots").values({ name: "b", source_menace_id: "beta" }).execute();
    const names = async (scope: "local" | "global" | "all") =>
      (await kysely(alpha, { scope }).selectFrom("bots").select("name").orderBy("name").where(
        "name",
        "!=",
        "none",
      ).execute()).map((r) => r.name);
    assert.equal(await names("local"), ["a"]);
    assert.equal(await names("global"), ["b"]);
    assert.equal(await names("all"), ["a", "b"]);
  });

  test("raw sql, table-less queries and the introspector run", async () => {
    const db = kysely(alpha);
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    assert.equal(rows, [{ one: 1 }]);
    // Kysely's SQLite introspector reads the schema of every table in sqlite_master, and D1
    // refuses to describe its own _cf_ tables (SQLITE_AUTH): on D1, list tables with raw SQL.
    if (backend.name.startsWith("D1")) return;
    const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
    assert.ok(tables.includes("bots") && tables.includes("code"), tables.join());
  });

  test("transactions commit, roll back on a throw, and stay on one database", async () => {
    const db = kysely(alpha);
    const body = db.transaction().execute(async (trx) => {
      await trx.insertInto("bots").values({ name: "kept", source_menace_id: "alpha" }).execute();
      return await trx.selectFrom("bots").select("name").execute();
    });
    if (!backend.transactions) {
      assert.is((await rejection(body) as RouterError).code, "UNSUPPORTED");
      assert.equal(await alpha.getConnection("bots").all("SELECT name FROM bots"), []);
      return;
    }
    assert.equal(await body, [{ name: "kept" }]);
    const thrown = await rejection(
      db.transaction().execute(async (trx) => {
        await trx.insertInto("bots").values({ name: "undone", source_menace_id: "alpha" })
          .execute();
        throw new Error("boom");
      }),
    );
    assert.is(thrown.message, "boom");
    const crossing = await rejection(
      db.transaction().execute(async (trx) => {
        await trx.insertInto("bots").values({ name: "undone too", source_menace_id: "a" })
          .execute();
        await trx.insertInto("models").values({ name: "m" }).execute();
      }),
    );
    assert.is((crossing as RouterError).code, "QUERY_CROSSES_DATABASES");
    assert.equal(await alpha.getConnection("bots").all("SELECT name FROM bots"), [
      { name: "kept" },
    ]);
    assert.equal(await alpha.getConnection("models").all("SELECT name FROM models"), []);
    // A transaction of local tables runs on the local database.
    await db.transaction().execute((trx) =>
      trx.insertInto("models").values({ name: "m" }).execute()
    );
    assert.equal(await alpha.getConnection("models").all("SELECT name FROM models"), [
      { name: "m" },
    ]);
  });

  test("controlled transactions roll back to and release savepoints", async () => {
    if (!backend.transactions) return;
    const db = kysely(alpha);
    const trx = await db.startTransaction().execute();
    await trx.insertInto("bots").values({ name: "first", source_menace_id: "alpha" }).execute();
    const afterFirst = await trx.savepoint("after_first").execute();
    await afterFirst.insertInto("bots").values({ name: "undone", source_menace_id: "a" }).execute();
    const inner = await afterFirst.savepoint("inner").execute();
    await inner.insertInto("bots").values({ name: "undone too", source_menace_id: "a" }).execute();
    const back = await inner.rollbackToSavepoint("after_first").execute();
    await back.insertInto("bots").values({ name: "second", source_menace_id: "alpha" }).execute();
    const released = await back.releaseSavepoint("after_first").execute();
    assert.equal(
      (await released.selectFrom("bots").select("name").orderBy("id").execute()).map((r) => r.name),
      ["first", "second"],
    );
    await released.commit().execute();
    assert.equal(await alpha.getConnection("bots").all("SELECT name FROM bots ORDER BY id"), [
      { name: "first" },
      { name: "second" },
    ]);
    const unknown = await rejection(
      (await db.startTransaction().execute()).releaseSavepoint("nope" as never).execute(),
    );
    assert.instance(unknown, TypeError);
  });

  test.run();
}
