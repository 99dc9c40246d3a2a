/**
 * Catching up with other writers: how far reads lag commits made elsewhere
 * (`maxReadLagMs`, default 100 ms), and that a read pays no file-system call
 * of its own.
 *
 * @module
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import type { StorageAdapter, StoredDatabase } from "../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { BOTS_SCHEMA, startInserter } from "./_support/writers_spawn.ts";

const test = suite(`many writers (${RUNTIME}): read lag`);
const folder = temporaryFolder(`lag-${RUNTIME}-`);
let counter = 0;
const newDir = () => join(folder.dir, `case-${++counter}`);
test.after(folder.remove);

/** The runtime's file storage, counting `version()` and `load()` calls on its databases. */
function countingStorage(): StorageAdapter & { versions: number; loads: number } {
  const inner = fileStorageFor(RUNTIME);
  const counting = {
    ...inner,
    versions: 0,
    loads: 0,
    async open(key: string): Promise<StoredDatabase> {
      const db = await inner.open(key);
      return {
        key: db.key,
        load: () => {
          counting.loads++;
          return db.load();
        },
        changesSince: (version) => db.changesSince(version),
        version: () => {
          counting.versions++;
          return db.version();
        },
        commit: (commit) => db.commit(commit),
        lock: () => db.lock(),
        compact: () => db.compact(),
        stats: () => db.stats(),
        close: (options) => db.close(options),
      };
    },
  };
  return counting;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

test("reads check the version stamp at most once per maxReadLagMs, never once per query", async () => {
  const dir = newDir();
  const storage = countingStorage();
  await using router = new DBRouter("alpha", join(dir, "l.db"), join(dir, "g.db"), {
    storage,
    maxReadLagMs: 100,
  });
  const bots = router.getConnection("bots", "write");
  await bots.exec(BOTS_SCHEMA);
  await router.insert("bots", { name: "one", seq: 1 });
  const before = storage.versions;
  // At least 2000 reads over at least 300 ms, however long that takes on a busy machine: the bound
  // on version checks is computed from the time the reads took, so it holds at any speed.
  const started = performance.now();
  let reads = 0;
  while (reads < 2000 || performance.now() - started < 300) {
    for (let i = 0; i < 50; i++, reads++) await bots.get("SELECT count(*) AS c FROM bots");
    await tick();
  }
  const elapsed = performance.now() - started;
  const checks = storage.versions - before;
  assert.ok(checks >= 1, "the version was checked");
  assert.ok(
    checks <= Math.ceil(elapsed / 100) + 1,
    `${checks} version checks for ${reads} reads in ${elapsed.toFixed(0)} ms`,
  );
  assert.ok(checks < reads / 10, `${checks} version checks for ${reads} reads`);
});

test("with maxReadLagMs 0, every read checks the version and sees another writer's commit at once", async () => {
  const dir = newDir();
  const shared = join(dir, "g.db");
  await using writer = new DBRouter("alpha", join(dir, "a.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  const storage = countingStorage();
  await using reader = new DBRouter("beta", join(dir, "b.db"), shared, {
    storage,
    maxReadLagMs: 0,
  });
  await writer.getConnection("bots", "write").exec(BOTS_SCHEMA);
  const bots = reader.getConnection("bots");
  await bots.get("SELECT 1");
  const before = storage.versions;
  for (let i = 1; i <= 30; i++) {
    await writer.insert("bots", { name: `w${i}`, seq: i });
    assert.equal(await bots.get("SELECT max(seq) AS s FROM bots"), { s: i });
  }
  assert.is(storage.versions - before, 30);
});

test("a reader sees each commit of a writer in another process once maxReadLagMs (100 ms) has passed", async () => {
  const dir = newDir();
  const shared = join(dir, "g.db");
  await using reader = new DBRouter("reader", join(dir, "r.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  await reader.getConnection("bots", "write").exec(BOTS_SCHEMA);
  const other = RUNTIME === "node" ? "bun" : "node";
  const count = 40;
  const child = startInserter(other, { menace: "writer", shared, local: join(dir, "w.db"), count });
  // No clock bound on a busy machine: for each write the child reports resolved, wait 110 ms from
  // the moment this process learned of it, then read. Whatever the reader did meanwhile, its last
  // version check is either older than 100 ms (so this read checks again) or younger than the
  // write's resolution (so it already saw the write): the read must show it.
  const bots = reader.getConnection("bots");
  const checked: number[] = [];
  for (let i = 1; i <= count; i++) {
    await child.waitFor((line) => line === `ok ${i}`, 60_000);
    const learnedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 110));
    while (performance.now() - learnedAt < 110) await tick();
    const row = await bots.get<{ s: number | null }>(
      "SELECT max(seq) AS s FROM bots WHERE source_menace_id = 'writer'",
    );
    assert.ok(
      (row?.s ?? 0) >= i,
      `write ${i} not visible 110 ms after it resolved (saw ${row?.s})`,
    );
    checked.push(i);
  }
  await child.waitFor((line) => line === "closed", 60_000);
  assert.is(checked.length, count);
});

test.run();
