/**
 * Writers killed with SIGKILL at random moments, one after another on one
 * shared database, in Node, Deno and Bun: each next writer recovers the lock
 * and log the killed one left, the database stays intact, and every write
 * whose promise resolved is there.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { startInserter } from "./_support/writers_spawn.ts";

const test = suite(`many writers (${RUNTIME}): SIGKILL`);
const folder = temporaryFolder(`kill-${RUNTIME}-`);
const RUNTIMES = ["node", "deno", "bun"] as const;
const TRIALS = 24;
const STALE_MS = 300;
test.after(folder.remove);

/** Reads the database as a new process would: integrity, and each writer's seq values. */
async function inspect(
  shared: string,
): Promise<{ integrity: string; seqs: Map<string, number[]> }> {
  // Its close() folds the log under the lock, which a killed writer may hold: same stale bound.
  await using reader = new DBRouter("reader", join(folder.dir, "reader.db"), shared, {
    storage: fileStorageFor(RUNTIME, { lockStaleMs: STALE_MS }),
  });
  const bots = reader.getConnection("bots");
  const integrity = (await bots.get<{ integrity_check: string }>("PRAGMA integrity_check"))!;
  const rows = await bots.all<{ name: string; seq: number }>("SELECT name, seq FROM bots");
  const seqs = new Map<string, number[]>();
  for (const { name, seq } of rows) {
    const writer = name.slice(0, name.lastIndexOf("-"));
    seqs.set(writer, [...(seqs.get(writer) ?? []), seq]);
  }
  return { integrity: integrity.integrity_check, seqs };
}

test(`${TRIALS} writers killed at random moments lose no resolved write and leave the database intact`, async () => {
  const shared = join(folder.dir, "global.db");
  const resolved = new Map<string, number>();
  for (let trial = 0; trial < TRIALS; trial++) {
    const runtime = RUNTIMES[trial % RUNTIMES.length];
    const menace = `t${trial}-${runtime}`;
    const child = startInserter(runtime, {
      menace,
      shared,
      local: join(folder.dir, `${menace}.db`),
      count: 100000,
      staleMs: STALE_MS,
      payload: 9000,
    });
    // Every third trial is killed at a random time after its start (during start-up,
    // lock recovery or its first writes); the others after a random number of writes.
    if (trial % 3 === 2) {
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
    } else {
      const want = 1 + Math.floor(Math.random() * 25);
      await child.waitFor((line) => line === `ok ${want}`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
    }
    child.kill("SIGKILL");
    const { signal } = await child.exited;
    assert.is(signal, "SIGKILL", `trial ${trial}: the writer was still running when killed`);
    const oks = child.lines().filter((line) => line.startsWith("ok ")).length;
    resolved.set(menace, oks);

    const { integrity, seqs } = await inspect(shared);
    assert.is(integrity, "ok", `trial ${trial}: integrity_check`);
    for (const [writer, count] of resolved) {
      const have = new Set(seqs.get(writer) ?? []);
      for (let seq = 1; seq <= count; seq++) {
        assert.ok(have.has(seq), `trial ${trial}: resolved write ${seq} of ${writer} is lost`);
      }
      // At most the one write in flight at the kill may have landed too, and nothing twice.
      assert.ok(have.size <= count + 1, `trial ${trial}: ${writer} has ${have.size} rows`);
      assert.is(have.size, (seqs.get(writer) ?? []).length, `trial ${trial}: ${writer} duplicates`);
    }
  }
  // One last writer that ends normally: its close folds everything into a standard SQLite file.
  const last = startInserter(RUNTIME, {
    menace: "last",
    shared,
    local: join(folder.dir, "last.db"),
    count: 3,
    staleMs: STALE_MS,
  });
  await last.waitFor((line) => line === "closed");
  assert.is(
    execFileSync("sqlite3", [shared, "PRAGMA integrity_check"], { encoding: "utf8" }).trim(),
    "ok",
  );
  const total = [...resolved.values()].reduce((sum, count) => sum + count, 0) + 3;
  const rows = Number(
    execFileSync("sqlite3", [shared, "SELECT count(*) FROM bots"], { encoding: "utf8" }),
  );
  assert.ok(rows >= total && rows <= total + TRIALS, `${rows} rows for ${total} resolved writes`);
});

test.run();
