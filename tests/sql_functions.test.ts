import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DBRouter, memoryStorage } from "../mod.ts";
import { fileStorageFor, RUNTIME } from "./_support/storage_fixtures.ts";

const test = suite("router.registerFunction (scalar SQL functions)");

const blobSum = (
  blob: unknown,
) => (blob instanceof Uint8Array ? blob.reduce((a, b) => a + b, 0) : null);

test("registerFunction makes a function callable in SQL on the local and the shared database", async () => {
  await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
  router.registerFunction("twice", (x) => (typeof x === "number" ? x * 2 : null));
  router.registerFunction("blob_sum", blobSum);
  assert.equal(await router.getConnection("models").get("SELECT twice(21) AS v"), { v: 42 });
  assert.equal(await router.getConnection("bots").get("SELECT twice(1.5) AS v"), { v: 3 });
  const sum = await router.getConnection("bots").get("SELECT blob_sum(?) AS v", [
    new Uint8Array([1, 2, 3]),
  ]);
  assert.equal(sum, { v: 6 });
});

test("a function registered after the database opened works, and re-registering replaces it", async () => {
  await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
  const bots = router.getConnection("bots");
  assert.equal(await bots.get("SELECT 1 AS one"), { one: 1 });
  router.registerFunction("answer", () => 41);
  assert.equal(await bots.get("SELECT answer() AS v"), { v: 41 });
  router.registerFunction("ANSWER", () => 42);
  assert.equal(await bots.get("SELECT answer() AS v"), { v: 42 });
});

test("functions of the same name and another arity are separate overloads", async () => {
  await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
  router.registerFunction("pick", (a) => a);
  router.registerFunction("pick", (_a, b) => b);
  assert.equal(await router.getConnection("bots").get("SELECT pick(1) AS one, pick(1, 2) AS two"), {
    one: 1,
    two: 2,
  });
});

test("a throw inside the function fails the statement with its message", async () => {
  await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
  router.registerFunction("boom", (_x) => {
    throw new Error("no such vector");
  });
  try {
    await router.getConnection("bots").get("SELECT boom(1)");
    assert.unreachable("the statement should fail");
  } catch (error) {
    assert.match(String(error), /no such vector/);
  }
});

test("a function survives the reload that catches up with another process's commit", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dbr-functions-"));
  const paths = [join(dir, "local_a.db"), join(dir, "shared.db")] as const;
  const options = { storage: fileStorageFor(RUNTIME), maxReadLagMs: 0 };
  const reader = new DBRouter("alpha", ...paths, options);
  // Another storage instance behaves as another process: it commits to the file behind reader's back.
  const writer = new DBRouter("beta", join(dir, "local_b.db"), paths[1], {
    storage: fileStorageFor(RUNTIME),
  });
  try {
    reader.registerFunction("twice", (x) => (typeof x === "number" ? x * 2 : null));
    await reader.getConnection("bots", "write").exec("CREATE TABLE bots (n INTEGER)");
    await writer.getConnection("bots", "write").run("INSERT INTO bots (n) VALUES (?)", [21]);
    const row = await reader.getConnection("bots").get("SELECT twice(n) AS v FROM bots");
    assert.equal(row, { v: 42 }, "the reader reloaded the database and kept the function");
  } finally {
    await Promise.all([reader.close(), writer.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("registerFunction throws a TypeError for a bad name or a non-function, and after close()", async () => {
  const router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
  assert.throws(
    () => router.registerFunction("bad name", () => 1),
    /Invalid SQL function name "bad name"/,
  );
  assert.throws(
    () => router.registerFunction("f", 3 as unknown as () => number),
    /Invalid SQL function "f": expected a function/,
  );
  await router.close();
  assert.throws(
    () => router.registerFunction("f", () => 1),
    (e: Error) => (e as { code?: string }).code === "ROUTER_CLOSED",
  );
});

test.run();
