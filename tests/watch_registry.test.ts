/**
 * Knowing whether anyone watches a file-stored database: commits record
 * their rows (and write a note) only while some process is registered in
 * `PATH-dbrwatch/`. Separate file storage instances stand for separate
 * processes (each has its own in-process database); a child process checks
 * a registration left by a process that was killed.
 *
 * @module
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, SHARED_TABLES, type TableChange } from "../mod.ts";
import { WatcherRegistry } from "../src/storage/file/watchers.ts";
import { statIfPresent } from "../src/storage/file/file_system.ts";
import {
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";
import { ROOT, startChild } from "./_support/spawn.ts";

const test = suite(`watch (${RUNTIME}): who watches`);
const folder = temporaryFolder(`watch-registry-${RUNTIME}-`);
test.after(folder.remove);

const SCHEMA = "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, " +
  "source_menace_id TEXT)";
/** One page frame of the log (24-byte header and a 4 KiB page). */
const FRAME = 24 + 4096;

function router(name: string, shared: string): DBRouter {
  return new DBRouter(name, join(folder.dir, `${name}.db`), shared, {
    storage: fileStorageFor(RUNTIME),
  });
}

function watchFiles(shared: string): string[] {
  const dir = `${shared}-dbrwatch`;
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".watch")) : [];
}

async function until(done: () => boolean): Promise<void> {
  const started = Date.now();
  while (!done() && Date.now() - started < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("without a watcher anywhere, a commit writes no note; with one, it does, and the watcher hears its rows", async () => {
  const shared = join(folder.dir, "one.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  await writer.insert("bots", { name: "a" });
  assert.is(writer.storageStats().shared.lastCommitBytes, FRAME, "one page, no note frame");
  assert.equal(watchFiles(shared), []);

  await using watcher = router("watcher", shared);
  const heard: TableChange[] = [];
  const stop = watcher.watch("bots", (change) => void heard.push(change));
  // A read settles once the watcher is registered.
  await watcher.getConnection("bots").all("SELECT 1");
  assert.is(watchFiles(shared).length, 1);
  await writer.insert("bots", { name: "b" });
  const bytes = writer.storageStats().shared.lastCommitBytes;
  assert.ok(bytes > FRAME, "the note went with it");
  assert.ok(bytes < FRAME + 200, `in a frame as long as the note, not a page (${bytes} bytes)`);
  await until(() => heard.length > 0);
  assert.equal(heard.map((c) => [c.kind, c.inserted]), [["rows", [2]]]);

  stop();
  await until(() => watchFiles(shared).length === 0);
  assert.equal(watchFiles(shared), [], "unsubscribing removes the registration");
  await writer.insert("bots", { name: "c" });
  assert.is(writer.storageStats().shared.lastCommitBytes, FRAME, "nobody watches again");
});

test("a router whose only watcher is its own writes no note; its listener hears its rows, and a watcher elsewhere brings the note back", async () => {
  const shared = join(folder.dir, "own.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  const mine: TableChange[] = [];
  writer.watch("bots", (change) => void mine.push(change), { scope: "local" });
  await writer.getConnection("bots").all("SELECT 1");
  assert.is(watchFiles(shared).length, 1, "registered, for the others to see");
  await writer.insert("bots", { name: "a" });
  assert.is(writer.storageStats().shared.lastCommitBytes, FRAME, "nobody else watches: no note");
  await until(() => mine.length > 0);
  assert.equal(mine.map((c) => [c.kind, c.inserted, c.fromThisProcess]), [["rows", [1], true]]);

  await using other = router("other", shared);
  const theirs: TableChange[] = [];
  other.watch("bots", (change) => void theirs.push(change));
  await other.getConnection("bots").all("SELECT 1");
  await writer.insert("bots", { name: "b" });
  assert.ok(writer.storageStats().shared.lastCommitBytes > FRAME, "another router watches: a note");
  await until(() => theirs.length > 0 && mine.length > 1);
  assert.equal(theirs.map((c) => [c.kind, c.inserted]), [["rows", [2]]]);
  assert.equal(mine.map((c) => c.inserted), [[1], [2]]);
});

test("statIfPresent: null for a missing path, the folder's or file's information otherwise", async () => {
  const fs = fileSystemFor(RUNTIME);
  const dir = join(folder.dir, "stat-if-present");
  assert.is(await statIfPresent(fs, dir), null);
  assert.is(await statIfPresent(fs, join(dir, "inner")), null, "under a missing folder");
  await fs.mkdir(dir);
  const info = await statIfPresent(fs, dir);
  assert.is(info?.isDirectory, true);
  assert.is(info?.mtimeMs, statSync(dir).mtimeMs);
  const handle = await fs.open(join(dir, "file"), "createNew");
  await handle.write(new Uint8Array(5), 0);
  await handle.close();
  const file = await statIfPresent(fs, join(dir, "file"));
  assert.equal([file?.isDirectory, file?.size], [false, 5]);
});

/** The kinds of the notes in the log of `shared`: `t` (owners looked up) or `u` (not). */
function noteKinds(shared: string): string[] {
  const log = readFileSync(`${shared}-dbrlog`, "latin1");
  return [...log.matchAll(/\{"v":1,"([tu])":/g)].map((match) => match[1]);
}

test("with only unscoped watchers elsewhere, a writer looks no owners up and notes it (u); they hear the rows", async () => {
  const shared = join(folder.dir, "unscoped.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  await using watcher = router("watcher", shared);
  const heard: TableChange[] = [];
  watcher.watch("bots", (change) => void heard.push(change));
  await watcher.getConnection("bots").all("SELECT 1");
  assert.equal(watchFiles(shared).map((name) => name.endsWith(".all.watch")), [true]);
  await writer.insert("bots", { name: "a" });
  await until(() => heard.length > 0);
  assert.equal(heard.map((c) => [c.kind, c.inserted]), [["rows", [1]]]);
  assert.equal(noteKinds(shared), ["u"]);
});

test("a table named like an object's own properties (__proto__, constructor) is heard elsewhere", async () => {
  // The note was once built as a plain object keyed by table: `"__proto__"` set its prototype
  // instead, the note named no table, and watchers elsewhere heard nothing at all.
  const names = ["__proto__", "constructor"];
  for (const name of names) SHARED_TABLES.add(name);
  try {
    const shared = join(folder.dir, "proto.db");
    await using writer = router("writer", shared);
    await using watcher = router("watcher", shared);
    for (const name of names) {
      await writer.getConnection(name, "write").exec(
        `CREATE TABLE IF NOT EXISTS "${name}" (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)`,
      );
    }
    const heard: TableChange[] = [];
    for (const name of names) watcher.watch(name, (change) => void heard.push(change));
    await watcher.getConnection("__proto__").all("SELECT 1");
    await writer.insert("__proto__", { name: "a" });
    await writer.insert("constructor", { name: "b" });
    await writer.insert("constructor", { name: "c" });
    await until(() => heard.length >= 3);
    assert.equal(heard.map((c) => [c.table, c.kind, c.inserted]), [
      ["__proto__", "rows", [1]],
      ["constructor", "rows", [1]],
      ["constructor", "rows", [2]],
    ]);
  } finally {
    for (const name of names) SHARED_TABLES.delete(name);
  }
});

test("a scoped watcher elsewhere, beside an unscoped one, gets owner-filtered rows: the writer looks no owners up (u), the watcher does", async () => {
  const shared = join(folder.dir, "scoped-shared.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  await using unscoped = router("unscoped", shared);
  unscoped.watch("bots", () => {});
  await unscoped.getConnection("bots").all("SELECT 1");
  await using scoped = router("scoped", shared);
  const local: TableChange[] = [];
  const global: TableChange[] = [];
  scoped.watch("bots", (change) => void local.push(change), { scope: "local" });
  scoped.watch("bots", (change) => void global.push(change), { scope: "global" });
  await scoped.getConnection("bots").all("SELECT 1");
  assert.equal(watchFiles(shared).map((name) => name.replace(/^[0-9a-f]+/, "")).sort(), [
    ".all.watch",
    ".read.watch",
  ]);
  await writer.insert("bots", { name: "theirs" });
  await scoped.insert("bots", { name: "mine" });
  await until(() => global.length > 0 && local.length > 0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(global.map((c) => [c.kind, c.inserted]), [["rows", [1]]]);
  assert.equal(local.map((c) => [c.kind, c.inserted]), [["rows", [2]]]);
  // The writer's note has no owners; the scoped router's own commit looks them up for its listeners.
  assert.equal(noteKinds(shared), ["u", "t"]);
});

test("a registration of an older db-router (ID.watch, maybe scoped) still makes writers look owners up (t)", async () => {
  const shared = join(folder.dir, "older.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  mkdirSync(`${shared}-dbrwatch`, { recursive: true });
  writeFileSync(join(`${shared}-dbrwatch`, "0123456789abcdef.watch"), "");
  await writer.insert("bots", { name: "a" });
  assert.equal(noteKinds(shared), ["t"]);
});

test("a scoped watcher elsewhere tells each commit of a catch-up by the owner the row had then, or hears a resync", async () => {
  const shared = join(folder.dir, "late-owners.db");
  await using writer = router("writer", shared);
  const conn = writer.getConnection("bots", "write");
  await conn.exec(SCHEMA);
  // The reader catches up only when it writes (its poll waits a minute).
  await using reader = new DBRouter("reader", join(folder.dir, "reader.db"), shared, {
    storage: fileStorageFor(RUNTIME),
    maxReadLagMs: 60_000,
  });
  const local: TableChange[] = [];
  const global: TableChange[] = [];
  reader.watch("bots", (change) => void local.push(change), { scope: "local" });
  reader.watch("bots", (change) => void global.push(change), { scope: "global" });
  await reader.getConnection("bots").all("SELECT 1");
  const catchUp = async () => {
    await reader.getConnection("bots", "write").run("DELETE FROM bots WHERE name = 'none'");
    await new Promise((resolve) => setTimeout(resolve, 50));
  };

  // 1: inserted, then updated in a later commit that keeps the owner: both told as the writer's.
  await writer.insert("bots", { name: "a" });
  await conn.run("UPDATE bots SET name = 'a2' WHERE id = 1");
  await catchUp();
  assert.equal(global.map((c) => [c.kind, c.inserted, c.updated]), [
    ["rows", [1], []],
    ["rows", [], [1]],
  ]);
  assert.equal(local, []);

  // 2: inserted, then handed to the reader by a later commit of the same catch-up: the insert's
  // owner cannot be told (a resync, not the reader's row), the update's is the reader's.
  global.length = 0;
  await writer.insert("bots", { name: "b" });
  await conn.run("UPDATE bots SET source_menace_id = 'reader' WHERE id = 2");
  await catchUp();
  assert.equal(local.map((c) => [c.kind, c.inserted, c.updated]), [
    ["resync", [], []],
    ["rows", [], [2]],
  ]);
  assert.equal(global.map((c) => [c.kind, c.inserted, c.updated]), [["resync", [], []]]);

  // 3: inserted, then deleted in the same catch-up: the delete tells the owner.
  local.length = 0;
  global.length = 0;
  await writer.insert("bots", { name: "c" });
  await conn.run("DELETE FROM bots WHERE id = 3");
  await catchUp();
  assert.equal(global.map((c) => [c.kind, c.inserted, c.deleted]), [
    ["rows", [3], []],
    ["rows", [], [3]],
  ]);
  assert.equal(local, []);
  assert.ok(noteKinds(shared).every((kind) => kind === "u"), "the writer looked no owners up");
});

test("a process watching unscoped registers again as scoped when a scoped listener comes", async () => {
  const shared = join(folder.dir, "upgrade.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  await using watcher = router("watcher", shared);
  const all: TableChange[] = [];
  const stopAll = watcher.watch("bots", (change) => void all.push(change));
  await watcher.getConnection("bots").all("SELECT 1");
  await writer.insert("bots", { name: "a" });
  // Caught up first: a scoped listener would hear a resync for a note without owners.
  await until(() => all.length > 0);
  const global: TableChange[] = [];
  const stopGlobal = watcher.watch("bots", (change) => void global.push(change), {
    scope: "global",
  });
  await watcher.getConnection("bots").all("SELECT 1");
  assert.is(watchFiles(shared).length, 2);
  await writer.insert("bots", { name: "b" });
  await until(() => global.length > 0);
  assert.equal(global.map((c) => [c.kind, c.inserted]), [["rows", [2]]]);
  assert.ok(watchFiles(shared).some((name) => name.endsWith(".read.watch")), "registered scoped");
  assert.equal(noteKinds(shared), ["u", "u"]);
  stopAll();
  stopGlobal();
  await until(() => watchFiles(shared).length === 0);
  assert.equal(watchFiles(shared), []);
});

test("closing a watching router removes its registration", async () => {
  const shared = join(folder.dir, "close.db");
  const watcher = router("closing", shared);
  watcher.watch("bots", () => {});
  await watcher.getConnection("bots").all("SELECT 1");
  assert.is(watchFiles(shared).length, 1);
  await watcher.close();
  assert.equal(watchFiles(shared), []);
});

test("a registration whose heartbeat stopped (a watcher that died) is removed by the next writer", async () => {
  const shared = join(folder.dir, "dead.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  const fs = fileSystemFor(RUNTIME);
  // A registration left behind: its heartbeat is older than the lock's stale time (5 s).
  const registry = new WatcherRegistry(fs, `${shared}-dbrwatch`, 5000);
  const unregister = await registry.register();
  const [file] = watchFiles(shared);
  await writer.insert("bots", { name: "while alive" });
  assert.ok(writer.storageStats().shared.lastCommitBytes > FRAME, "recorded while it lives");
  await unregister(); // stops its heartbeat and removes it: put the file back, old
  const path = join(`${shared}-dbrwatch`, file);
  await (await fs.open(path, "createNew")).close();
  const old = new Date(Date.now() - 60_000);
  utimesSync(path, old, old);
  // The folder changed just now: the writer lists it again, and finds the file stale.
  await writer.insert("bots", { name: "after death" });
  assert.is(writer.storageStats().shared.lastCommitBytes, FRAME);
  assert.equal(watchFiles(shared), [], "the dead registration was removed");
});

test("with DB_ROUTER_WATCH=off a writer never checks the registry: a dead registration stays", async () => {
  const shared = join(folder.dir, "off.db");
  process.env.DB_ROUTER_WATCH = "off";
  let writer: DBRouter;
  try {
    writer = router("writer", shared);
    await writer.ready();
  } finally {
    delete process.env.DB_ROUTER_WATCH;
  }
  await using _ = writer;
  await writer.getConnection("bots", "write").exec(SCHEMA);
  const dir = `${shared}-dbrwatch`;
  const fs = fileSystemFor(RUNTIME);
  await fs.mkdir(dir);
  const path = join(dir, "dead.watch");
  await (await fs.open(path, "createNew")).close();
  const old = new Date(Date.now() - 60_000);
  utimesSync(path, old, old);
  await writer.insert("bots", { name: "off" });
  assert.is(writer.storageStats().shared.lastCommitBytes, FRAME);
  assert.equal(watchFiles(shared), ["dead.watch"], "a writer that checked would remove it");
});

test("a process that exits without closing leaves its registration dead; the next writer removes it", async () => {
  const shared = join(folder.dir, "exit.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  const child = startChild(RUNTIME, join(ROOT, "tests/_support/watch_exit_child.ts"), [
    shared,
    join(folder.dir, "leaver.db"),
  ]);
  await child.waitFor((line) => line === "registered", 120_000);
  const { code } = await child.exited;
  assert.is(code, 0);
  const files = watchFiles(shared);
  assert.is(files.length, 1);
  assert.is(statSync(join(`${shared}-dbrwatch`, files[0])).mtimeMs, 0, "marked dead at exit");
  await writer.insert("bots", { name: "after exit" });
  assert.is(writer.storageStats().shared.lastCommitBytes, FRAME, "no note for a dead watcher");
  assert.equal(watchFiles(shared), []);
});

test("a watcher that registers while a commit is under way hears a resync for it, then rows", async () => {
  const shared = join(folder.dir, "in-flight.db");
  await using writer = router("writer", shared);
  await writer.getConnection("bots", "write").exec(SCHEMA);
  await using watcher = router("watcher", shared);
  const heard: TableChange[] = [];
  let registered!: () => void;
  const watching = new Promise<void>((resolve) => (registered = resolve));
  // The transaction holds the lock, past the writer's check that nobody watches.
  let started!: () => void;
  const begun = new Promise<void>((resolve) => (started = resolve));
  const inFlight = writer.getConnection("bots", "write").transaction(async (tx) => {
    started();
    await watching;
    await tx.run("INSERT INTO bots (name) VALUES ('in flight')");
  });
  await begun;
  watcher.watch("bots", (change) => void heard.push(change));
  await watcher.getConnection("bots").all("SELECT 1");
  registered();
  await inFlight;
  await writer.insert("bots", { name: "after" });
  await until(() => heard.length >= 2);
  assert.equal(heard.map((c) => [c.kind, c.inserted]), [["resync", []], ["rows", [2]]]);
});

test.run();
