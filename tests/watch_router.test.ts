/**
 * `router.watch()` in one process: what a listener hears of each commit
 * (kinds, rowids, once per commit), scope, the async iterator form,
 * unsubscribe and close, a slow or throwing listener, and commits of another
 * "process" (a second storage adapter on the same files, which shares
 * nothing in memory with the first), across a fold too.
 *
 * @module
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, memoryStorage, type TableChange } from "../mod.ts";
import { codeOf } from "./_support/errors.ts";
import { MAX_QUEUED_CHANGES, Subscription } from "../src/watch/subscription.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`watch (${RUNTIME}): one process`);
const folder = temporaryFolder(`watch-${RUNTIME}-`);
let counter = 0;
const newDir = () => join(folder.dir, `case-${++counter}`);
test.after(folder.remove);

const SCHEMA = "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)";

/** Waits (bounded, generously: the machine is loaded) until `done()` holds. */
async function until(done: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > limitMs) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function memoryRouter(id = "alpha", storage = memoryStorage()): DBRouter {
  return new DBRouter(id, "local.db", "shared/global.db", { storage });
}

/** The changes a listener hears, without the flag that differs between paths. */
function rowsOf(changes: TableChange[]) {
  return changes.map((c) => ({
    kind: c.kind,
    inserted: c.inserted,
    updated: c.updated,
    deleted: c.deleted,
  }));
}

test("a listener hears each commit once: inserts, updates and deletes, with their rowids", async () => {
  await using router = memoryRouter();
  const bots = router.getConnection("bots", "write");
  await bots.exec(SCHEMA);
  const heard: TableChange[] = [];
  const stop = router.watch("bots", (change) => void heard.push(change));
  await bots.run("INSERT INTO bots (name) VALUES ('a'), ('b'), ('c')");
  await bots.run("UPDATE bots SET name = 'B' WHERE id = 2");
  await bots.run("DELETE FROM bots WHERE id = 1");
  await bots.transaction(async (tx) => {
    await tx.run("INSERT INTO bots (id, name) VALUES (10, 'x')");
    await tx.run("UPDATE bots SET name = 'C' WHERE id = 3");
  });
  await bots.run("UPDATE bots SET name = name WHERE id = 999"); // no row: no commit
  await until(() => heard.length >= 4, "four changes");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(rowsOf(heard), [
    { kind: "rows", inserted: [1, 2, 3], updated: [], deleted: [] },
    { kind: "rows", inserted: [], updated: [2], deleted: [] },
    { kind: "rows", inserted: [], updated: [], deleted: [1] },
    { kind: "rows", inserted: [10], updated: [3], deleted: [] },
  ]);
  assert.ok(heard.every((c) => c.fromThisProcess && c.table === "bots"));
  stop();
  await bots.run("INSERT INTO bots (name) VALUES ('after')");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(heard.length, 4, "nothing after unsubscribe");
});

test("each listener's rowids are its own: one that changes its arrays changes nobody else's", async () => {
  await using router = memoryRouter();
  const bots = router.getConnection("bots", "write");
  await bots.exec(SCHEMA);
  const first: TableChange[] = [];
  const second: TableChange[] = [];
  router.watch("bots", (change) => {
    (change.inserted as number[]).push(99);
    (change.inserted as number[]).reverse();
    first.push(change);
  });
  router.watch("bots", (change) => void second.push(change));
  await bots.run("INSERT INTO bots (name) VALUES ('a'), ('b')");
  await bots.run("INSERT INTO bots (name) VALUES ('c')");
  await until(() => first.length >= 2 && second.length >= 2, "two changes each");
  assert.equal(first.map((c) => c.inserted), [[99, 2, 1], [99, 3]]);
  assert.equal(second.map((c) => c.inserted), [[1, 2], [3]]);
});

test("DELETE without WHERE is heard row by row (SQLite's truncate optimisation calls no hook)", async () => {
  await using router = memoryRouter();
  const conn = router.getConnection("bots", "write");
  await conn.exec(SCHEMA);
  await conn.exec("CREATE TABLE telemetry (x)"); // no source_menace_id column
  const plain = router.getConnection("telemetry", "write");
  await conn.run("INSERT INTO bots (name) VALUES ('a'), ('b')");
  await plain.run("INSERT INTO telemetry VALUES (1), (2), (3)");
  const bots: TableChange[] = [];
  const plains: TableChange[] = [];
  router.watch("bots", (c) => void bots.push(c));
  router.watch("telemetry", (c) => void plains.push(c));
  await conn.run("DELETE FROM bots");
  await plain.run("DELETE FROM telemetry");
  await until(() => bots.length === 1 && plains.length === 1, "both deletes");
  assert.equal(bots[0].deleted, [1, 2]);
  assert.equal(plains[0].deleted, [1, 2, 3]);
});

test("a rolled-back transaction or a failed statement is not heard; a table created later, in the local database, is", async () => {
  await using router = memoryRouter();
  const conn = router.getConnection("bots", "write");
  await conn.exec(SCHEMA);
  const heard: TableChange[] = [];
  const fresh: TableChange[] = [];
  router.watch("bots", (c) => void heard.push(c));
  router.watch("events", (c) => void fresh.push(c));
  await conn.transaction(async (tx) => {
    await tx.run("INSERT INTO bots (name) VALUES ('gone')");
    throw new Error("roll back");
  }).catch(() => {});
  await conn.run("INSERT INTO bots (id, name) VALUES (1, 'x')");
  await conn.run("INSERT INTO bots (id, name) VALUES (1, 'dup')").catch(() => {});
  // "events" is a local table: the local database is watched the same way.
  const events = router.getConnection("events", "write");
  await events.exec("CREATE TABLE events (v)");
  await events.run("INSERT INTO events VALUES (1)");
  await events.run("DELETE FROM events");
  await until(() => heard.length >= 1 && fresh.length >= 2, "the changes");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(rowsOf(heard), [{ kind: "rows", inserted: [1], updated: [], deleted: [] }]);
  assert.equal(rowsOf(fresh), [
    { kind: "rows", inserted: [1], updated: [], deleted: [] },
    { kind: "rows", inserted: [], updated: [], deleted: [1] },
  ]);
});

test("scope: local hears this instance's rows, global other instances', by source_menace_id", async () => {
  const storage = memoryStorage();
  await using alpha = memoryRouter("alpha", storage);
  await using beta = new DBRouter("beta", "local-b.db", "shared/global.db", { storage });
  await alpha.getConnection("bots", "write").exec(SCHEMA);
  const local: TableChange[] = [];
  const global: TableChange[] = [];
  const all: TableChange[] = [];
  alpha.watch("bots", (c) => void local.push(c), { scope: "local" });
  alpha.watch("bots", (c) => void global.push(c), { scope: "global" });
  alpha.watch("bots", (c) => void all.push(c));
  await alpha.insert("bots", { id: 1, name: "mine" });
  await beta.insert("bots", { id: 2, name: "theirs" });
  // One commit with both owners' rows: each scope hears its part.
  await beta.getConnection("bots", "write").run(
    "UPDATE bots SET name = name || '!' WHERE id IN (1, 2)",
  );
  // A delete is heard with the owner the row had.
  await beta.getConnection("bots", "write").run("DELETE FROM bots WHERE id = 1");
  await until(() => all.length >= 4, "four commits");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(rowsOf(local), [
    { kind: "rows", inserted: [1], updated: [], deleted: [] },
    { kind: "rows", inserted: [], updated: [1], deleted: [] },
    { kind: "rows", inserted: [], updated: [], deleted: [1] },
  ]);
  assert.equal(rowsOf(global), [
    { kind: "rows", inserted: [2], updated: [], deleted: [] },
    { kind: "rows", inserted: [], updated: [2], deleted: [] },
  ]);
  assert.equal(all[2].updated, [1, 2]);
});

test("the async iterator yields changes in order; break unsubscribes; close() ends it", async () => {
  const router = memoryRouter();
  const conn = router.getConnection("bots", "write");
  await conn.exec(SCHEMA);
  const changes = router.watch("bots");
  await conn.run("INSERT INTO bots (id) VALUES (1)");
  await conn.run("INSERT INTO bots (id) VALUES (2)");
  const seen: number[] = [];
  for await (const change of changes) {
    seen.push(...change.inserted);
    if (seen.length === 2) break;
  }
  assert.equal(seen, [1, 2]);
  assert.equal(await changes.next(), { value: undefined, done: true }, "ended by break");
  const open = router.watch("bots", { scope: "all" });
  const pending = open.next();
  await router.close();
  assert.equal(await pending, { value: undefined, done: true }, "ended by close()");
});

test("close() ends listeners: nothing is heard after it", async () => {
  const storage = memoryStorage();
  const watcher = memoryRouter("alpha", storage);
  await using writer = memoryRouter("beta", storage);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  const heard: TableChange[] = [];
  watcher.watch("bots", (c) => void heard.push(c));
  await writer.insert("bots", { id: 1 });
  await until(() => heard.length === 1, "the first insert");
  await watcher.close();
  await writer.insert("bots", { id: 2 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(heard.length, 1);
});

test("a slow listener does not hold commits up; a throwing one is logged and kept", async () => {
  await using router = memoryRouter();
  const conn = router.getConnection("bots", "write");
  await conn.exec(SCHEMA);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow: number[] = [];
  router.watch("bots", async (c) => {
    await gate;
    slow.push(...c.inserted);
  });
  const thrower: number[] = [];
  router.watch("bots", (c) => {
    thrower.push(...c.inserted);
    throw new Error("listener bug");
  });
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    for (let id = 1; id <= 5; id++) await conn.run("INSERT INTO bots (id) VALUES (?)", [id]);
    // All five commits resolved while the slow listener still waits on its first change.
    assert.equal(slow, []);
    await until(() => thrower.length === 5, "the throwing listener's five changes");
    assert.ok(logged.length >= 5, "each throw is logged");
    assert.match(String(logged[0][0]), 'watch listener of table "bots" threw');
    release();
    await until(() => slow.length === 5, "the slow listener's backlog");
    assert.equal(slow, [1, 2, 3, 4, 5]);
  } finally {
    console.error = error;
  }
});

test("storage no other process shares records rows only while someone listens here", async () => {
  await using router = memoryRouter();
  const conn = router.getConnection("bots", "write");
  await conn.exec(SCHEMA);
  const triggers = async () =>
    (await conn.all("SELECT name FROM sqlite_temp_master WHERE type = 'trigger'")).length;
  assert.is(await triggers(), 0, "no listener: no triggers (nor hook)");
  const heard: TableChange[] = [];
  const stop = router.watch("bots", (c) => void heard.push(c));
  assert.ok(await triggers() > 0, "a listener: triggers");
  await conn.run("INSERT INTO bots (id) VALUES (1)");
  await until(() => heard.length === 1, "the insert");
  stop();
  assert.is(await triggers(), 0, "the last listener gone: none");
});

test("shared storage: reads set no triggers; the first write does, and its deletes reach others with their owners", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  {
    await using setup = new DBRouter("beta", join(dir, "s.db"), shared, {
      storage: fileStorageFor(RUNTIME),
    });
    await setup.getConnection("bots", "write").exec(SCHEMA);
    await setup.insert("bots", { id: 1, name: "one" });
  }
  // Two adapters share nothing in memory: each is what another process would be.
  await using reader = new DBRouter("beta", join(dir, "b.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  await using watcher = new DBRouter("alpha", join(dir, "a.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  const conn = reader.getConnection("bots", "write");
  const triggers = async () =>
    (await conn.all("SELECT name FROM sqlite_temp_master WHERE type = 'trigger'")).length;
  assert.is(await triggers(), 0, "opened by a read: no triggers yet");
  await watcher.ready();
  const theirs: TableChange[] = [];
  watcher.watch("bots", (c) => void theirs.push(c), { scope: "global" });
  await conn.run("DELETE FROM bots WHERE id = 1");
  assert.ok(await triggers() > 0, "the first write attached them");
  await until(() => theirs.length >= 1, "the delete");
  assert.is(theirs[0].kind, "rows");
  assert.equal(theirs[0].deleted, [1], "beta's row, global to alpha: its owner was recorded");
});

test("a listener's queue past 10 000 changes is replaced by one resync, then goes on", async () => {
  const heard: TableChange[] = [];
  const subscription = new Subscription("bots", "all", "alpha", (c) => void heard.push(c));
  const rows = (rowid: number) =>
    new Map([["bots", [{ owner: null, inserted: [rowid], updated: [], deleted: [] }]]]);
  // All queued before the listener runs (delivery waits for a later task).
  for (let rowid = 1; rowid <= MAX_QUEUED_CHANGES + 5; rowid++) {
    subscription.commit(rows(rowid), true);
  }
  await until(() => heard.length >= 5, "the queue");
  assert.equal(heard.map((c) => c.kind === "resync" ? "resync" : c.inserted[0]), [
    "resync",
    MAX_QUEUED_CHANGES + 2,
    MAX_QUEUED_CHANGES + 3,
    MAX_QUEUED_CHANGES + 4,
    MAX_QUEUED_CHANGES + 5,
  ]);
});

test("a table on libSQL cannot be watched (UNSUPPORTED); the router's local tables can", async () => {
  const dir = newDir();
  await using router = new DBRouter("alpha", "local.db", `file:${join(dir, "shared.db")}`, {
    storage: memoryStorage(),
  });
  assert.is(codeOf(() => router.watch("bots", () => {})), "UNSUPPORTED");
  const events = router.getConnection("events", "write");
  await events.exec("CREATE TABLE events (v)");
  const heard: TableChange[] = [];
  router.watch("events", (c) => void heard.push(c));
  await events.run("INSERT INTO events VALUES (1)");
  await until(() => heard.length === 1, "the local insert");
  assert.equal(heard[0].inserted, [1]);
});

test("bad input: an unknown or denied table, a bad scope, after close()", async () => {
  const router = memoryRouter();
  assert.is(codeOf(() => router.watch("bots ", () => {})), "TABLE_UNKNOWN");
  assert.throws(
    () => router.watch("bots", () => {}, { scope: "mine" as "local" }),
    (e: unknown) => e instanceof TypeError && /Invalid scope "mine"/.test(e.message),
  );
  await router.close();
  assert.is(codeOf(() => router.watch("bots", () => {})), "ROUTER_CLOSED");
});

test("another process's commits are heard once each, in order, with their rowids", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  // Two adapters share nothing in memory: each is what another process would be.
  await using watcher = new DBRouter("alpha", join(dir, "a.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  await using writer = new DBRouter("beta", join(dir, "b.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  await writer.getConnection("bots", "write").exec(SCHEMA);
  await watcher.ready();
  const heard: TableChange[] = [];
  const theirs: TableChange[] = [];
  watcher.watch("bots", (c) => void heard.push(c));
  watcher.watch("bots", (c) => void theirs.push(c), { scope: "global" });
  const conn = writer.getConnection("bots", "write");
  for (let id = 1; id <= 20; id++) await writer.insert("bots", { id, name: `b${id}` });
  await conn.run("UPDATE bots SET name = 'x' WHERE id <= 3");
  await conn.run("DELETE FROM bots WHERE id > 18");
  await until(() => heard.length >= 22, "22 commits");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.is(heard.length, 22);
  assert.equal(heard.slice(0, 20).map((c) => c.inserted[0]), [...Array(20)].map((_, i) => i + 1));
  assert.equal(heard[20].updated, [1, 2, 3]);
  assert.equal(heard[21].deleted, [19, 20]);
  assert.ok(heard.every((c) => c.kind === "rows" && !c.fromThisProcess));
  assert.is(theirs.length, 22, "beta's rows are global to alpha");
  // The watcher's own commit is heard once, as its own, and not again through storage.
  await watcher.insert("bots", { id: 100 });
  await until(() => heard.length >= 23, "its own commit");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.is(heard.length, 23);
  assert.ok(heard[22].fromThisProcess);
  assert.equal(heard[22].inserted, [100]);
});

test("commits folded away before a catch-up are heard as a resync", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  await using watcher = new DBRouter("alpha", join(dir, "a.db"), shared, {
    storage: fileStorageFor(RUNTIME),
    maxReadLagMs: 60_000, // no poll before the fold
  });
  // Every commit of this writer folds: its log never holds a commit for the watcher to read.
  await using writer = new DBRouter("beta", join(dir, "b.db"), shared, {
    storage: fileStorageFor(RUNTIME, { compactThresholdBytes: 1 }),
  });
  await writer.getConnection("bots", "write").exec(SCHEMA);
  await watcher.ready();
  const heard: TableChange[] = [];
  watcher.watch("bots", (c) => void heard.push(c));
  await writer.insert("bots", { id: 1 });
  await writer.insert("bots", { id: 2 });
  // A write catches up first, under the lock.
  await watcher.insert("bots", { id: 3 });
  await until(() => heard.length >= 2, "the resync and the own commit");
  assert.equal(heard[0].kind, "resync");
  assert.equal(heard[1].inserted, [3]);
});

test.run();
