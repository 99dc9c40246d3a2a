/**
 * `db-router/drizzle`: real Drizzle queries through a router on sql.js, D1
 * (Miniflare) and libSQL: joins whose tables share column names, insert
 * returning, update, delete, batch, transactions with savepoints, denied
 * tables, queries that cross databases, scope and access counts.
 *
 * @module
 */
import { DrizzleQueryError, eq, sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { DBRouter, RouterError } from "../mod.ts";
import { drizzle } from "../src/drizzle/mod.ts";
import { rejection } from "./_support/errors.ts";
import { typedBackends } from "./_support/typed_backends.ts";

const bots = sqliteTable("bots", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  menace: text("source_menace_id"),
});
const code = sqliteTable("code", {
  id: integer("id").primaryKey(),
  botId: integer("bot_id"),
  name: text("name"),
  menace: text("source_menace_id"),
});
const models = sqliteTable("models", { id: integer("id").primaryKey(), name: text("name") });
const ledger = sqliteTable("capital_ledger", { id: integer("id").primaryKey() });

/** Drizzle wraps a failed query's error in a DrizzleQueryError: the router's is its cause. */
function routerCode(error: Error): string | undefined {
  if (error instanceof DrizzleQueryError) return (error.cause as RouterError | undefined)?.code;
  return (error as RouterError).code;
}

for (const backend of typedBackends()) {
  const test = suite(`db-router/drizzle on ${backend.name}`);
  let alpha: DBRouter;
  let beta: DBRouter;
  let close: () => Promise<void>;
  test.before.each(async () => {
    ({ alpha, beta, close } = await backend.fresh());
  });
  test.after.each(() => close());
  test.after(() => backend.dispose());

  test("a join of tables with the same column names comes back right", async () => {
    const db = drizzle(alpha);
    const [bot] = await db.insert(bots).values({ name: "b1", menace: "alpha" }).returning();
    assert.equal(bot, { id: 1, name: "b1", menace: "alpha" });
    await db.insert(code).values([
      { id: 10, botId: bot.id, name: "c1", menace: "alpha" },
      { id: 11, botId: bot.id, name: "c2", menace: "alpha" },
    ]);
    const joined = await db.select().from(bots).innerJoin(code, eq(code.botId, bots.id))
      .orderBy(code.id);
    assert.equal(joined, [
      {
        bots: { id: 1, name: "b1", menace: "alpha" },
        code: { id: 10, botId: 1, name: "c1", menace: "alpha" },
      },
      {
        bots: { id: 1, name: "b1", menace: "alpha" },
        code: { id: 11, botId: 1, name: "c2", menace: "alpha" },
      },
    ]);
    const first = await db.select({ bot: bots.name, code: code.name }).from(bots)
      .leftJoin(code, eq(code.botId, bots.id)).orderBy(code.id).get();
    assert.equal(first, { bot: "b1", code: "c1" });
  });

  test("update and delete report their changes; a local table goes to the local database", async () => {
    const db = drizzle(alpha);
    await db.insert(bots).values([{ name: "a" }, { name: "b" }]);
    const updated = await db.update(bots).set({ name: "a2" }).where(eq(bots.name, "a"))
      .returning({ name: bots.name });
    assert.equal(updated, [{ name: "a2" }]);
    await db.delete(bots).where(eq(bots.name, "b"));
    assert.equal(await db.select({ name: bots.name }).from(bots), [{ name: "a2" }]);
    await db.insert(models).values({ name: "m" });
    assert.equal(await drizzle(beta).select().from(models), [], "beta's local database");
    assert.equal(await db.select().from(models), [{ id: 1, name: "m" }]);
    const counts = alpha.getAccessCounts();
    assert.equal(
      [counts.shared.bots, counts.local.models],
      [5, 3],
      "one per statement, and the setup",
    );
  });

  test("denied tables and statements across databases are refused before they run", async () => {
    const db = drizzle(alpha);
    const denied = await rejection(db.select().from(ledger));
    assert.instance(denied, DrizzleQueryError);
    assert.is(routerCode(denied), "TABLE_DENIED");
    const crossing = await rejection(
      db.select().from(bots).innerJoin(models, eq(models.id, bots.id)),
    );
    assert.is(routerCode(crossing), "QUERY_CROSSES_DATABASES");
    const batch = await rejection(db.batch([
      db.insert(bots).values({ name: "x" }),
      db.insert(models).values({ name: "y" }),
    ]));
    assert.is(routerCode(batch), "QUERY_CROSSES_DATABASES");
    assert.equal(await db.select().from(bots), []);
  });

  test("batch() is atomic", async () => {
    const db = drizzle(alpha);
    const [, second] = await db.batch([
      db.insert(bots).values({ name: "a" }),
      db.insert(bots).values({ name: "b" }),
    ]);
    assert.ok(second !== undefined);
    const failing = await rejection(db.batch([
      db.insert(bots).values({ name: "c" }),
      db.insert(bots).values({ id: 1, name: "duplicate id" }),
    ]));
    assert.match(failing.message, /UNIQUE|constraint/i);
    assert.equal((await db.select({ name: bots.name }).from(bots)).map((r) => r.name), ["a", "b"]);
    if (!backend.transactions) return;
    const [inserted, rows] = await db.batch([
      db.insert(bots).values({ name: "d" }).returning({ id: bots.id }),
      db.select({ name: bots.name }).from(bots).where(eq(bots.name, "d")),
    ]);
    assert.equal([inserted, rows], [[{ id: 3 }], [{ name: "d" }]]);
  });

  test("transactions commit, roll back on a throw, and nest as savepoints", async () => {
    const db = drizzle(alpha);
    const body = db.transaction(async (tx) => {
      await tx.insert(bots).values({ name: "kept" });
      await rejection(tx.transaction(async (inner) => {
        await inner.insert(bots).values({ name: "inner" });
        throw new Error("undo the savepoint");
      }));
      return (await tx.select({ name: bots.name }).from(bots)).map((r) => r.name);
    });
    if (!backend.transactions) {
      assert.is(routerCode(await rejection(body)), "UNSUPPORTED");
      return;
    }
    assert.equal(await body, ["kept"]);
    const thrown = await rejection(db.transaction(async (tx) => {
      await tx.insert(bots).values({ name: "undone" });
      throw new Error("boom");
    }));
    assert.is(thrown.message, "boom");
    assert.equal((await db.select({ name: bots.name }).from(bots)).map((r) => r.name), ["kept"]);
  });

  test("a scope option filters SELECTs on shared tables; raw sql runs", async () => {
    await drizzle(alpha).insert(bots).values({ name: "a", menace: "alpha" });
    await drizzle(beta).insert(bots).values({ name: "b", menace: "beta" });
    const names = async (scope: "local" | "global") =>
      (await drizzle(alpha, { scope }).select({ name: bots.name }).from(bots)).map((r) => r.name);
    assert.equal(await names("local"), ["a"]);
    assert.equal(await names("global"), ["b"]);
    assert.equal(await drizzle(alpha).all(sql`select 1 as one`), [[1]]);
  });

  test.run();
}
