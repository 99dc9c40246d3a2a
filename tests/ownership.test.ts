/**
 * Ownership of shared rows through the router's scoped helpers: two
 * instances on one shared file, each with its own storage adapter (so its own
 * in-memory copy, as in two processes), cannot overwrite or delete each
 * other's rows unless they say `scope: "all"`.
 *
 * @module
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, type Row } from "../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`ownership (${RUNTIME})`);
const folder = temporaryFolder(`owner-${RUNTIME}-`);
let counter = 0;
let alpha: DBRouter;
let beta: DBRouter;

test.before.each(async () => {
  const dir = join(folder.dir, `case-${++counter}`);
  const shared = join(dir, "global.db");
  // maxReadLagMs 0: each router sees the other's commits at once, so results are exact.
  const options = () => ({ storage: fileStorageFor(RUNTIME), maxReadLagMs: 0 });
  alpha = new DBRouter("alpha", join(dir, "alpha.db"), shared, options());
  beta = new DBRouter("beta", join(dir, "beta.db"), shared, options());
  await alpha.getConnection("bots", "write").exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)",
  );
  await alpha.insert("bots", { id: 1, name: "alpha-1" });
  await beta.insert("bots", { id: 2, name: "beta-2" });
});
test.after.each(async () => {
  await alpha.close();
  await beta.close();
});
test.after(folder.remove);

const everything = (router: DBRouter): Promise<Row[]> =>
  router.query("bots", "SELECT id, name, source_menace_id FROM bots ORDER BY id", [], {
    scope: "all",
  });
const ORIGINAL = [
  { id: 1, name: "alpha-1", source_menace_id: "alpha" },
  { id: 2, name: "beta-2", source_menace_id: "beta" },
];

test("insert() stamps each row with its writer's id, and refuses a row in another's name", async () => {
  assert.equal(await everything(beta), ORIGINAL);
  assert.throws(
    () => alpha.insert("bots", { id: 3, name: "forged", source_menace_id: "beta" }),
    (error: Error) => error instanceof TypeError,
  );
  assert.equal(await everything(beta), ORIGINAL);
});

test("upsert() leaves another instance's row untouched and updates the caller's own", async () => {
  const other = await alpha.upsert("bots", { id: 2, name: "taken" }, ["id"]);
  assert.is(other.changes, 0);
  const own = await alpha.upsert("bots", { id: 1, name: "alpha-renamed" }, ["id"]);
  assert.is(own.changes, 1);
  assert.equal(await everything(beta), [
    { id: 1, name: "alpha-renamed", source_menace_id: "alpha" },
    ORIGINAL[1],
  ]);
});

test("insert() with the key of another instance's row fails and leaves that row as it was", async () => {
  try {
    await alpha.insert("bots", { id: 2, name: "clash" });
    assert.unreachable("the insert should fail");
  } catch (error) {
    assert.match((error as Error).message, "UNIQUE constraint failed");
  }
  assert.equal(await everything(beta), ORIGINAL);
});

test("update() and delete() without a scope touch only the caller's rows", async () => {
  const updated = await alpha.update("bots", { name: "x" }, {});
  assert.is(updated.changes, 1, "only alpha's row");
  const deleted = await alpha.delete("bots", { id: 2 });
  assert.is(deleted.changes, 0, "beta's row is not alpha's to delete");
  assert.equal(await everything(beta), [
    { id: 1, name: "x", source_menace_id: "alpha" },
    ORIGINAL[1],
  ]);
});

test('update() and delete() with scope "all" change another instance\'s rows', async () => {
  const updated = await alpha.update("bots", { name: "by alpha" }, { id: 2 }, { scope: "all" });
  assert.is(updated.changes, 1);
  assert.equal(await everything(beta), [
    ORIGINAL[0],
    { id: 2, name: "by alpha", source_menace_id: "beta" },
  ]);
  const deleted = await alpha.delete("bots", { id: 2 }, { scope: "all" });
  assert.is(deleted.changes, 1);
  assert.equal(await everything(beta), [ORIGINAL[0]]);
});

test('scope "global" changes only the other instances\' rows', async () => {
  const updated = await beta.update("bots", { name: "by beta" }, {}, { scope: "global" });
  assert.is(updated.changes, 1);
  assert.equal(await everything(alpha), [
    { id: 1, name: "by beta", source_menace_id: "alpha" },
    ORIGINAL[1],
  ]);
});

test("update() cannot hand rows to another owner, even with scope all", async () => {
  assert.throws(
    () => alpha.update("bots", { source_menace_id: "beta" }, { id: 1 }, { scope: "all" }),
    (error: Error) => error instanceof TypeError,
  );
  assert.equal(await everything(beta), ORIGINAL);
});

test("queueWrite() refuses a record in another instance's name", () => {
  assert.throws(
    () => alpha.queueWrite("bots", { name: "forged", source_menace_id: "beta" }),
    (error: Error) => error instanceof TypeError,
  );
});

test.run();
