/**
 * IndexedDB storage under Node, Deno and Bun on fake-indexeddb: the shared
 * storage cases, then what is particular to it (page records, incremental
 * loads, atomic and refused commits, the quota, record logs, two "tabs" on
 * one IndexedDB). The same adapter runs in Chromium in `browser_storage.test.ts`.
 *
 * @module
 */
import { IDBFactory, IDBKeyRange, IDBObjectStore } from "fake-indexeddb";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, RouterError, syncSharedDb } from "../mod.ts";
import { browserHost } from "../src/storage/browser/host.ts";
import {
  type IdbImplementation,
  openIdb,
  requestResult,
  transact,
} from "../src/storage/browser/idb.ts";
import {
  indexedDbStorage,
  type IndexedDbStorageOptions,
} from "../src/storage/browser/indexeddb.ts";
import { commitOf, makeImage, testStorageAdapter } from "./_support/storage_conformance.ts";
import { rejection } from "./_support/errors.ts";

/** A fresh, empty fake IndexedDB. */
function fakeIdb(): IdbImplementation {
  return {
    indexedDB: new IDBFactory() as unknown as globalThis.IDBFactory,
    IDBKeyRange: IDBKeyRange as unknown as typeof globalThis.IDBKeyRange,
  };
}

const storage = (implementation = fakeIdb(), options: IndexedDbStorageOptions = {}) =>
  indexedDbStorage({ ...options, implementation });

testStorageAdapter("indexeddb (fake-indexeddb)", () => storage());

const test = suite("indexeddb storage");

test("resolve() turns locations into keys without a working directory", () => {
  const adapter = storage();
  assert.is(adapter.resolve("./shared/global.db"), "shared/global.db");
  assert.is(adapter.resolve("/shared//global.db"), "shared/global.db");
  assert.is(adapter.resolve("shared\\global.db"), "shared/global.db");
  assert.is(adapter.resolve("a/../menace_alpha_local.db"), "menace_alpha_local.db");
  assert.is(adapter.resolve("menace_alpha_local.db"), "menace_alpha_local.db");
  for (const bad of ["", "/", "./", "a\0b"]) {
    assert.throws(() => adapter.resolve(bad), (error: unknown) => error instanceof TypeError);
  }
});

test("a one-page commit puts one page record and the meta record", async () => {
  const idb = fakeIdb();
  const db = await storage(idb).open("data.db");
  const image = makeImage(4096, 16, 1);
  await db.commit(commitOf(null, image, 4096));
  const changed = image.slice();
  changed.fill(7, 5 * 4096, 5 * 4096 + 10);
  await db.commit(commitOf(image, changed, 4096));
  assert.is(db.stats().lastCommitBytes, 4096);
  const { pages, meta } = await rawContents(idb, "data.db");
  assert.is(pages.length, 16);
  assert.equal(pages.filter((page) => page.counter === 2).map((page) => page.page), [6]);
  assert.is(meta?.counter, 2);
  assert.is(await db.version(), `${meta?.epoch}:2`);
});

test("changesSince() returns only the pages committed after the version", async () => {
  const db = await storage().open("data.db");
  const image = makeImage(1024, 8, 2);
  await db.commit(commitOf(null, image, 1024));
  const since = await db.load();
  const next = image.slice();
  next.fill(1, 0, 100);
  await db.commit(commitOf(image, next, 1024));
  const changes = await db.changesSince(since.version);
  assert.equal(changes?.pages.map(([page]) => page), [1], "only the page that changed");
  assert.equal(Array.from(changes!.pages[0][1].subarray(0, 100)), Array(100).fill(1));
  assert.is(changes?.pageCount, 8);
  assert.is(changes?.version, await db.version());
  assert.is(await db.changesSince("elsewhere:1"), undefined, "an unknown stamp: load everything");
});

test("commit() refuses when another handle committed since this one loaded", async () => {
  const adapter = storage();
  const first = await adapter.open("data.db");
  const second = await adapter.open("data.db");
  const image = makeImage(512, 2, 3);
  await first.load();
  await second.commit(commitOf(null, image, 512));
  const error = await rejection(() => first.commit(commitOf(null, makeImage(512, 2, 4), 512)));
  assert.match(String(error), /another tab committed/);
  assert.equal(Array.from((await first.load()).image!), Array.from(image));
});

test("a commit that fails half-way stores none of its pages", async () => {
  const db = await storage().open("data.db");
  const image = makeImage(512, 4, 5);
  const version = await db.commit(commitOf(null, image, 512));
  const error = await failingPuts(
    2,
    new Error("disk gone"),
    () => db.commit(commitOf(image, makeImage(512, 6, 6), 512)),
  );
  assert.match(String(error), /disk gone/);
  assert.is(await db.version(), version);
  assert.equal(Array.from((await db.load()).image!), Array.from(image));
});

test("a full quota fails a router's write with STORAGE_QUOTA and keeps the earlier rows", async () => {
  const router = new DBRouter("alpha", "local.db", "shared.db", { storage: storage() });
  const bots = router.getConnection("bots", "write");
  await bots.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)");
  await bots.run("INSERT INTO bots (name) VALUES ('kept')");
  const error = await failingPuts(
    0,
    quotaError(),
    () => bots.run("INSERT INTO bots (name) VALUES ('lost')"),
  );
  assert.instance(error, RouterError);
  assert.is((error as RouterError).code, "STORAGE_QUOTA");
  assert.match((error as Error).message, /Cannot save database "shared\.db": .*quota/);
  assert.equal(await bots.all("SELECT name FROM bots"), [{ name: "kept" }]);
  await router.close();
});

test("a full quota fails a record append with STORAGE_QUOTA", async () => {
  const records = storage().records!;
  const error = await failingAdds(quotaError(), () => records.append("audit.log", ["line"]));
  assert.is((error as RouterError).code, "STORAGE_QUOTA");
  assert.equal(await collect(records.read("audit.log")), []);
});

test("records: prepare, list, claim and remove", async () => {
  const records = storage().records!;
  await records.prepare!("queue/empty.jsonl");
  await records.append("queue/alpha.jsonl", ["a1", "ä2"]);
  await records.append("./queue/alpha.jsonl", ["a3"]);
  await records.append("queue/deeper/beta.jsonl", ["b1"]);
  const listed = (await records.list!("queue")).sort((a, b) => a.name.localeCompare(b.name));
  assert.equal(listed, [{ name: "alpha.jsonl", size: 10 }, { name: "empty.jsonl", size: 0 }]);
  assert.is(await records.claim!("queue/alpha.jsonl", "claimed/alpha.1"), true);
  assert.is(await records.claim!("queue/alpha.jsonl", "claimed/alpha.2"), false, "claimed once");
  await records.append("queue/alpha.jsonl", ["a4"]);
  assert.equal(await collect(records.read("claimed/alpha.1")), ["a1", "ä2", "a3"]);
  assert.equal(await collect(records.read("queue/alpha.jsonl")), ["a4"]);
  await records.remove!("claimed/alpha.1");
  assert.equal(await collect(records.read("claimed/alpha.1")), []);
});

test("queueWrite() records reach the shared database through syncSharedDb()", async () => {
  const adapter = storage();
  const router = new DBRouter("alpha", undefined, undefined, { storage: adapter });
  await router.getConnection("telemetry", "write").exec(
    "CREATE TABLE telemetry (id INTEGER PRIMARY KEY, event TEXT, source_menace_id TEXT)",
  );
  await router.queueWrite("telemetry", { event: "started" });
  await router.queueWrite("telemetry", { event: "stopped" });
  await router.close();
  assert.equal((await adapter.records!.list!("shared/queue")).map((entry) => entry.name), [
    "alpha.jsonl",
  ]);
  const report = await syncSharedDb({ storage: adapter });
  assert.equal([report.applied, report.failed], [2, 0]);
  const again = new DBRouter("alpha", undefined, undefined, { storage: adapter });
  assert.equal(await again.getConnection("telemetry").all("SELECT event FROM telemetry"), [
    { event: "started" },
    { event: "stopped" },
  ]);
  assert.equal(await adapter.records!.list!("shared/queue"), [], "the queue was consumed");
  await again.close();
});

test("two adapters on one IndexedDB, like two tabs, keep every row of concurrent writes", async () => {
  const idb = fakeIdb();
  const routers = ["alpha", "beta"].map((id) =>
    new DBRouter(id, `menace_${id}_local.db`, "shared/global.db", { storage: storage(idb) })
  );
  await routers[0].getConnection("bots", "write").exec(
    "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)",
  );
  await Promise.all(routers.map(async (router) => {
    for (let i = 0; i < 20; i++) await router.insert("bots", { name: `${router.menaceId}-${i}` });
  }));
  await new Promise((resolve) => setTimeout(resolve, 120));
  for (const router of routers) {
    const rows = await router.query("bots", "SELECT name FROM bots", [], { scope: "all" });
    assert.is(rows.length, 40, `${router.menaceId} sees every row`);
  }
  for (const router of routers) await router.close();
});

test("lock() rejects with LOCK_TIMEOUT while another handle holds it", async () => {
  const idb = fakeIdb();
  const release = await (await storage(idb).open("data.db")).lock();
  const waiting = await storage(idb, { lockTimeoutMs: 50 }).open("data.db");
  const error = await rejection(() => waiting.lock());
  assert.is((error as RouterError).code, "LOCK_TIMEOUT");
  await release();
  await (await waiting.lock())();
});

test("watch() hears commits of this adapter and, over BroadcastChannel, of another", async () => {
  const idb = fakeIdb();
  const writer = storage(idb);
  const other = storage(idb);
  const heard: string[] = [];
  const stopMine = writer.watch((notice) => heard.push(`mine ${notice.key}`));
  const stopOther = other.watch((notice) => heard.push(`other ${notice.key}`));
  await (await writer.open("data.db")).commit(commitOf(null, makeImage(512, 1, 1), 512));
  for (let i = 0; i < 50 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  stopMine();
  stopOther();
  assert.equal(heard.sort(), ["mine data.db", "other data.db"]);
});

test("the browser host stores in IndexedDB when the runtime has it, else in memory", () => {
  const g = globalThis as { indexedDB?: unknown; IDBKeyRange?: unknown };
  const saved = { indexedDB: g.indexedDB, IDBKeyRange: g.IDBKeyRange };
  try {
    Object.assign(g, fakeIdb());
    assert.is(browserHost().defaultStorage().name, "indexeddb");
    delete g.indexedDB;
    assert.is(browserHost().defaultStorage().name, "memory");
  } finally {
    Object.assign(g, saved);
    if (saved.indexedDB === undefined) delete g.indexedDB;
    if (saved.IDBKeyRange === undefined) delete g.IDBKeyRange;
  }
});

test("options: bad values are refused, and no IndexedDB at all is a TypeError", () => {
  assert.throws(() => storage(fakeIdb(), { name: "" }), (e: unknown) => e instanceof TypeError);
  assert.throws(
    () => storage(fakeIdb(), { lockTimeoutMs: 0 }),
    (e: unknown) => e instanceof RangeError,
  );
  const g = globalThis as { indexedDB?: unknown };
  if (g.indexedDB === undefined) {
    assert.throws(() => indexedDbStorage(), /has no indexedDB/);
  }
});

test.run();

async function rawContents(idb: IdbImplementation, key: string) {
  const db = await openIdb(idb.indexedDB, "db-router");
  try {
    return await transact(db, ["meta", "pages"], "readonly", async (tx) => ({
      meta: await requestResult(tx.objectStore("meta").get(key)) as
        | { epoch: string; counter: number }
        | undefined,
      pages: await requestResult(tx.objectStore("pages").getAll()) as {
        page: number;
        counter: number;
      }[],
    }));
  } finally {
    db.close();
  }
}

/** Runs `work` while the `skip`+1st and later `put()` calls throw `error`; returns its rejection. */
async function failingPuts(skip: number, error: Error, work: () => Promise<unknown>) {
  const proto = IDBObjectStore.prototype as unknown as { put: (...args: unknown[]) => unknown };
  const put = proto.put;
  let calls = 0;
  proto.put = function (this: unknown, ...args: unknown[]) {
    if (calls++ >= skip) throw error;
    return put.apply(this, args);
  };
  try {
    return await rejection(work);
  } finally {
    proto.put = put;
  }
}

/** Runs `work` while every `add()` throws `error`; returns its rejection. */
async function failingAdds(error: Error, work: () => Promise<unknown>) {
  const proto = IDBObjectStore.prototype as unknown as { add: (...args: unknown[]) => unknown };
  const add = proto.add;
  proto.add = () => {
    throw error;
  };
  try {
    return await rejection(work);
  } finally {
    proto.add = add;
  }
}

function quotaError(): Error {
  return new DOMException("The quota has been exceeded", "QuotaExceededError");
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}
