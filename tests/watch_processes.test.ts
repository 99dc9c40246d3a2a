/**
 * `router.watch()` across real processes: a Node, a Deno and a Bun process
 * write one shared file at once while each watches it, and each hears every
 * commit of the others exactly once, in commit order.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { ROOT, type Runtime, startChild } from "./_support/spawn.ts";

const test = suite(`watch (${RUNTIME}): processes`);
const folder = temporaryFolder(`watch-processes-${RUNTIME}-`);
const CHILD = join(ROOT, "tests/_support/watch_child.ts");
const RUNTIMES: Runtime[] = ["node", "deno", "bun"];
test.after(folder.remove);

interface Heard {
  own: number[];
  foreign: number[];
  global: number[];
  resyncs: number;
  other: number;
  stats: unknown;
}

test("Node, Deno and Bun processes writing one file each hear every commit of the others once", async () => {
  const shared = join(folder.dir, "global.db");
  const count = 25;
  const total = count * RUNTIMES.length;
  const children = RUNTIMES.map((runtime) =>
    startChild(runtime, CHILD, [
      runtime,
      shared,
      join(folder.dir, `${runtime}.db`),
      String(count),
      String(total),
    ])
  );
  try {
    // Bounded, generously: a loaded machine starts Deno and Bun slowly. Then all write at once.
    await Promise.all(children.map((child) => child.waitFor((line) => line === "ready", 300_000)));
    writeFileSync(`${shared}.go`, "");
    // Each child prints "heard" once it has heard every row (bounded in the child too).
    const lines = await Promise.all(
      children.map((child) => child.waitFor((line) => line.startsWith("heard "), 300_000)),
    );
    const heard = new Map(
      lines.map((line, i) => [RUNTIMES[i], JSON.parse(line.slice(6)) as Heard]),
    );
    // Only now may they close (which folds the log): none is left behind a fold.
    writeFileSync(`${shared}.done`, "");
    await Promise.all(children.map((child) => child.waitFor((line) => line === "closed", 120_000)));
    await using reader = new DBRouter("reader", join(folder.dir, "reader.db"), shared, {
      storage: fileStorageFor(RUNTIME),
    });
    const rows = await reader.getConnection("bots").all<{ id: number; owner: string }>(
      "SELECT id, source_menace_id AS owner FROM bots ORDER BY id",
    );
    assert.is(rows.length, total);
    for (const runtime of RUNTIMES) {
      const got = heard.get(runtime)!;
      const mine = rows.filter((r) => r.owner === runtime).map((r) => r.id);
      const others = rows.filter((r) => r.owner !== runtime).map((r) => r.id);
      assert.is(got.resyncs, 0, `${runtime} heard no resync: ${JSON.stringify(got.stats)}`);
      assert.is(got.other, 0, `${runtime} heard only inserts`);
      assert.equal(got.own, mine, `${runtime} heard its own commits once each`);
      // In commit order, which for these inserts is rowid order; each exactly once.
      assert.equal(got.foreign, others, `${runtime} heard the others' commits once each, in order`);
      assert.equal(got.global, others, `${runtime}'s global scope heard only the others' rows`);
    }
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
});

test.run();
