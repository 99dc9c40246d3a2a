/**
 * File storage across real processes of Node, Deno and Bun: the write lock's
 * exclusion and its recovery from killed holders, and concurrent records.
 *
 * @module
 */
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RouterError } from "../src/errors.ts";
import {
  crashCount,
  crashImage,
  fileStorageFor,
  RUNTIME,
  type Runtime,
  spawnChild,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";
import { rejection } from "./_support/errors.ts";

const test = suite(`file storage (${RUNTIME}): processes`);
const folder = temporaryFolder(`processes-${RUNTIME}-`);
const ALL: Runtime[] = ["node", "deno", "bun"];
const STALE_MS = 1000;
let counter = 0;
const newPath = (name = "data.db") => join(folder.dir, `case-${++counter}`, name);
test.after(folder.remove);

for (const holder of new Set<Runtime>([RUNTIME, "node"])) {
  test(`lock() waits for a live ${holder} holder and takes over ${STALE_MS} ms after it is killed`, async () => {
    const path = newPath();
    const child = spawnChild(holder, ["hold-lock", holder, path, String(STALE_MS)]);
    try {
      await child.waitFor((line) => line === "locked");
      // Longer than STALE_MS: the holder's heartbeat keeps its lock fresh.
      const options = { lockStaleMs: STALE_MS, lockTimeoutMs: 2 * STALE_MS };
      const busy = await fileStorageFor(RUNTIME, options).open(path);
      const error = await rejection(() => busy.lock());
      assert.instance(error, RouterError);
      assert.is((error as RouterError).code, "LOCK_TIMEOUT");
      assert.match((error as RouterError).message, "pid", "the message names the holder");
    } finally {
      child.kill("SIGKILL");
    }
    const killedAt = performance.now();
    await child.exited;
    const db = await fileStorageFor(RUNTIME, { lockStaleMs: STALE_MS }).open(path);
    const release = await db.lock();
    const waited = performance.now() - killedAt;
    await release();
    // The last heartbeat was at most STALE_MS / 5 before the kill.
    assert.ok(waited >= 0.8 * STALE_MS - 50, `taken only ${waited.toFixed(0)} ms after the kill`);
    // The promise is lockStaleMs + 20 ms (one poll), which a loaded machine cannot time; this bound
    // is generous but still fails a takeover that waits for the lock timeout or a long backoff.
    assert.ok(waited <= 2 * STALE_MS + 3000, `taken ${waited.toFixed(0)} ms after the kill`);
  });
}

test("a holder that ends normally without releasing leaves the lock free at once", async () => {
  const path = newPath();
  const child = spawnChild(RUNTIME, ["exit-holding", RUNTIME, path, "60000"]);
  await child.waitFor((line) => line === "locked");
  const { code } = await child.exited;
  assert.is(code, 0);
  const db = await fileStorageFor(RUNTIME, { lockStaleMs: 60000, lockTimeoutMs: 1000 }).open(path);
  const release = await db.lock();
  await release();
});

test("Node, Deno and Bun processes and two adapters in this one never hold the lock at once", async () => {
  const path = newPath();
  const markers = join(folder.dir, `markers-${counter}.txt`);
  const rounds = 20;
  const startAt = Date.now() + 1500;
  const children = ALL.map((runtime) =>
    spawnChild(runtime, [
      "lock-loop",
      runtime,
      path,
      markers,
      String(rounds),
      runtime,
      String(startAt),
    ])
  );
  const local = [0, 1].map(async (index) => {
    const db = await fileStorageFor(RUNTIME).open(path);
    await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
    for (let round = 0; round < rounds; round++) {
      const release = await db.lock();
      writeFileSync(markers, `begin here-${index}\n`, { flag: "a" });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      writeFileSync(markers, `end here-${index}\n`, { flag: "a" });
      await release();
    }
  });
  await Promise.all([
    ...local,
    ...children.map((child) => child.waitFor((line) => line === "done", 60000)),
  ]);
  assertNoOverlap(readFileSync(markers, "utf8"), 5 * rounds);
});

test("processes that find one stale lock at once admit a single holder", async () => {
  for (let trial = 0; trial < 2; trial++) {
    const path = newPath();
    const markers = join(folder.dir, `stale-${counter}.txt`);
    // A lock left by a holder that died long ago.
    mkdirSync(`${path}-dbrlock`, { recursive: true });
    writeFileSync(`${path}-dbrlock/000000000007.lock`, "{}\n");
    const old = new Date(Date.now() - 60000);
    utimesSync(`${path}-dbrlock/000000000007.lock`, old, old);
    const startAt = Date.now() + 1500;
    const children = [0, 1, 2, 3].map((index) =>
      spawnChild(RUNTIME, [
        "lock-loop",
        RUNTIME,
        path,
        markers,
        "1",
        `p${index}`,
        String(startAt),
        "150",
      ])
    );
    await Promise.all(children.map((child) => child.waitFor((line) => line === "done", 60000)));
    assertNoOverlap(readFileSync(markers, "utf8"), 4);
  }
});

test("Node, Deno and Bun processes appending records at once lose, tear and mix no line", async () => {
  const log = newPath("queue.jsonl");
  const batches = 150;
  const startAt = Date.now() + 1500;
  const children = ALL.map((runtime) =>
    spawnChild(runtime, ["append", runtime, log, String(batches), runtime, String(startAt)])
  );
  await Promise.all(children.map((child) => child.waitFor((line) => line === "done", 60000)));
  const lines: string[] = [];
  for await (const line of fileStorageFor(RUNTIME).records!.read(log)) lines.push(line);
  assert.is(lines.length, ALL.length * batches * 5);
  const next = new Map<string, number>(ALL.map((runtime) => [runtime, 0]));
  for (let at = 0; at < lines.length; at += 5) {
    const [id, batch] = lines[at].split(":");
    assert.is(Number(batch), next.get(id), `batches of ${id} arrive in order`);
    next.set(id, Number(batch) + 1);
    for (let line = 0; line < 5; line++) {
      assert.is(lines[at + line], `${id}:${batch}:${line}`, "a batch's lines stay together");
    }
  }
});

test("a writer killed with SIGKILL mid-commit leaves every resolved commit and no torn one", async () => {
  const path = newPath();
  for (let trial = 0; trial < 3; trial++) {
    const child = spawnChild(RUNTIME, ["commit-loop", RUNTIME, path]);
    let resolved = 0;
    try {
      await child.waitFor((line) => line.startsWith("committed"));
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 200));
    } finally {
      child.kill("SIGKILL");
    }
    const { output } = await child.exited;
    for (const match of output.matchAll(/committed (\d+)/g)) resolved = Number(match[1]);
    const { image } = await fileStorageFor(RUNTIME).open(path).then((db) => db.load());
    const count = crashCount(image);
    assert.ok(count >= resolved, `trial ${trial}: ${count} commits kept, ${resolved} resolved`);
    assert.equal(Array.from(image!), Array.from(crashImage(count)), `trial ${trial}: image`);
  }
});

test.run();

/** Checks that `markers` is `pairs` begin/end pairs, none inside another. */
function assertNoOverlap(markers: string, pairs: number): void {
  const lines = markers.trim().split("\n");
  assert.is(lines.length, 2 * pairs, "every round left its two markers");
  for (let at = 0; at < lines.length; at += 2) {
    const [begin, id] = lines[at].split(" ");
    assert.is(begin, "begin", `line ${at + 1} starts a holding`);
    assert.is(lines[at + 1], `end ${id}`, `line ${at + 2} ends the same holding`);
  }
}
