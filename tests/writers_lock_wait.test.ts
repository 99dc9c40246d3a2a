/**
 * Reads while this process's write waits for the cross-process lock that
 * another process holds (a long transaction there, or a holder that died and
 * is only taken over after `lockStaleMs`): they run on committed data at
 * once, and only the write waits.
 *
 * @module
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { BOTS_SCHEMA, startInserter } from "./_support/writers_spawn.ts";
import { ROOT, startChild } from "./_support/spawn.ts";

const test = suite(`many writers (${RUNTIME}): reads while a write waits for the lock`);
const folder = temporaryFolder(`lock-wait-${RUNTIME}-`);
const CHILD = join(ROOT, "tests/_support/writers_child.ts");
const OTHER = RUNTIME === "node" ? "bun" : "node";
const STALE_MS = 1000;
let counter = 0;
const newDir = () => join(folder.dir, `case-${++counter}`);
test.after(folder.remove);

const NAMES = "SELECT name FROM bots ORDER BY name";

test("reads see committed rows, and never wait, while a write waits for another process's transaction", async () => {
  const dir = newDir();
  const shared = join(dir, "g.db");
  // A generous timeout: the write must still be waiting when the reads are done.
  const storage = fileStorageFor(RUNTIME, { lockStaleMs: STALE_MS, lockTimeoutMs: 60_000 });
  await using router = new DBRouter("alpha", join(dir, "a.db"), shared, {
    storage,
    // Every read checks the version, so a read that catches up is tested too.
    maxReadLagMs: 0,
  });
  const bots = router.getConnection("bots", "write");
  await bots.exec(BOTS_SCHEMA);
  await router.insert("bots", { name: "mine", seq: 1 });

  // Another process commits a row, then one holds the lock inside a transaction with a row of its own.
  const writer = startInserter(OTHER, {
    menace: "other",
    shared,
    local: join(dir, "o.db"),
    count: 1,
    staleMs: STALE_MS,
  });
  await writer.waitFor((line) => line === "closed");
  const holder = startChild(OTHER, CHILD, [
    "hold",
    "holder",
    shared,
    join(dir, "h.db"),
    String(STALE_MS),
  ]);
  try {
    await holder.waitFor((line) => line === "holding");
    let settled = false;
    const write = router.insert("bots", { name: "pending", seq: 2 }).finally(() => {
      settled = true;
    });
    write.catch(() => {}); // awaited below; a rejection must not end the run before the asserts
    for (let i = 0; i < 20; i++) {
      const names = await bots.all<{ name: string }>(NAMES);
      assert.not.ok(settled, `read ${i} waited for the write to settle`);
      // What the other process committed, and neither its open transaction nor the waiting write.
      assert.equal(names.map((row) => row.name), ["mine", "other-1"], `read ${i}`);
    }
    holder.kill("SIGKILL");
    await holder.exited;
    await write;
  } finally {
    holder.kill("SIGKILL");
  }
  // The killed holder's transaction is gone; the write went in after it.
  const names = await bots.all<{ name: string }>(NAMES);
  assert.equal(names.map((row) => row.name), ["mine", "other-1", "pending"]);
});

test("reads run while a transaction waits for the lock, and wait while its body runs", async () => {
  const dir = newDir();
  const shared = join(dir, "g.db");
  const storage = fileStorageFor(RUNTIME, { lockStaleMs: STALE_MS, lockTimeoutMs: 60_000 });
  await using router = new DBRouter("alpha", join(dir, "a.db"), shared, { storage });
  const bots = router.getConnection("bots", "write");
  await bots.exec(BOTS_SCHEMA);
  await router.insert("bots", { name: "mine", seq: 1 });
  const holder = startChild(OTHER, CHILD, [
    "hold",
    "holder",
    shared,
    join(dir, "h.db"),
    String(STALE_MS),
  ]);
  const order: string[] = [];
  let transaction: Promise<void> = Promise.resolve();
  try {
    await holder.waitFor((line) => line === "holding");
    let inside!: () => void;
    const bodyStarted = new Promise<void>((resolve) => (inside = resolve));
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    transaction = bots.transaction(async (tx) => {
      await tx.run("INSERT INTO bots (name, seq) VALUES ('tx', 2)");
      inside();
      await gate;
      order.push("commit");
    });
    transaction.catch(() => {}); // awaited below
    const rows = await bots.all("SELECT name FROM bots");
    order.push(`read while waiting: ${rows.length}`);
    holder.kill("SIGKILL");
    await holder.exited;
    await bodyStarted;
    const during = bots.all("SELECT name FROM bots").then((rows) => {
      order.push(`read during body: ${rows.length}`);
    });
    finish();
    await Promise.all([transaction, during]);
  } finally {
    holder.kill("SIGKILL");
  }
  // The read issued inside the body waited for the commit, and saw it.
  assert.equal(order, ["read while waiting: 1", "commit", "read during body: 2"]);
});

test("a write that waits for the lock keeps its order after a write already running in this process", async () => {
  const dir = newDir();
  const shared = join(dir, "g.db");
  const storage = fileStorageFor(RUNTIME, { lockStaleMs: STALE_MS, lockTimeoutMs: 60_000 });
  await using router = new DBRouter("alpha", join(dir, "a.db"), shared, { storage });
  const bots = router.getConnection("bots", "write");
  await bots.exec(BOTS_SCHEMA);
  const holder = startChild(OTHER, CHILD, [
    "hold",
    "holder",
    shared,
    join(dir, "h.db"),
    String(STALE_MS),
  ]);
  let writes: Promise<unknown>[] = [];
  try {
    await holder.waitFor((line) => line === "holding");
    writes = [1, 2, 3].map((seq) => router.insert("bots", { name: `w${seq}`, seq }));
    assert.equal(await bots.all("SELECT name FROM bots"), []);
    holder.kill("SIGKILL");
    await holder.exited;
    await Promise.all(writes);
  } finally {
    holder.kill("SIGKILL");
  }
  assert.equal(await bots.all("SELECT name, seq FROM bots ORDER BY id"), [
    { name: "w1", seq: 1 },
    { name: "w2", seq: 2 },
    { name: "w3", seq: 3 },
  ]);
});

test.run();
