/**
 * The write lock kept between commits (issue 14): a handle that commits again
 * within `lockKeepMs` resumes its holding instead of taking a new one (no new
 * holding file, the log handle kept open); the holding is released once
 * idle, when the handle closes, when the process ends, when another handle of
 * this process asks, and when another process leaves a wait marker; commits
 * made across resumed holdings read back whole.
 *
 * @module
 */
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { commitOf } from "./_support/storage_conformance.ts";
import {
  fileStorageFor,
  RUNTIME,
  spawnChild,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";

const test = suite(`file storage (${RUNTIME}): the lock kept between commits`);
const folder = temporaryFolder(`kept-lock-${RUNTIME}-`);
let counter = 0;
const newPath = () => join(folder.dir, `case-${++counter}.db`);
test.after(folder.remove);

const PAGE = 1024;

/** An image of `pages` pages of 1 KiB, each filled with `value` after a SQLite-like header. */
function imageOf(pages: number, value: number): Uint8Array {
  const image = new Uint8Array(pages * PAGE).fill(value);
  image.set(new TextEncoder().encode("SQLite format 3\0"), 0);
  image[16] = PAGE >> 8;
  image[17] = PAGE & 0xff;
  new DataView(image.buffer).setUint32(28, pages);
  return image;
}

/** The holding files (`N.lock`) in the lock folder of `path`. */
function holdings(path: string): string[] {
  return readdirSync(`${path}-dbrlock`).filter((name) => name.endsWith(".lock")).sort();
}

/** Whether the holding file `name` of `path` is marked released (time 0). */
function released(path: string, name: string): boolean {
  return statSync(join(`${path}-dbrlock`, name)).mtimeMs === 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every few ms for up to `ms`; resolves whether it became true. */
async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

test("commits in a row resume one holding, which is released once idle", async () => {
  const path = newPath();
  const db = await fileStorageFor(RUNTIME).open(path);
  let image = imageOf(4, 1);
  let release = await db.lock();
  await db.commit(commitOf(null, image, PAGE));
  await release();
  const [first] = holdings(path);
  assert.ok(first, "a holding file");
  assert.not.ok(released(path, first), "kept, not released, right after the commit");
  for (let value = 2; value <= 6; value++) {
    release = await db.lock();
    const next = imageOf(4, value);
    await db.commit(commitOf(image, next, PAGE));
    image = next;
    await release();
    assert.equal(holdings(path), [first], `commit ${value}: the same holding, none taken anew`);
  }
  assert.ok(await eventually(() => released(path, first)), "released once idle");
  const other = await fileStorageFor(RUNTIME).open(path);
  assert.equal((await other.load()).image, image, "every commit made under the kept holding");
  await db.close();
});

test("an idle kept holding is released after lockKeepMs, and the next commit takes a new one", async () => {
  const path = newPath();
  const db = await fileStorageFor(RUNTIME, { lockKeepMs: 5 }).open(path);
  const image = imageOf(2, 1);
  let release = await db.lock();
  await db.commit(commitOf(null, image, PAGE));
  await release();
  const [first] = holdings(path);
  assert.ok(await eventually(() => released(path, first)), "released once idle");
  release = await db.lock();
  const next = imageOf(2, 2);
  await db.commit(commitOf(image, next, PAGE));
  await release();
  const [second] = holdings(path);
  assert.is.not(second, first, "a new holding");
  assert.equal((await (await fileStorageFor(RUNTIME).open(path)).load()).image, next);
  await db.close();
});

test("lockKeepMs: false releases after every commit; a bad value is refused by name", async () => {
  const path = newPath();
  const db = await fileStorageFor(RUNTIME, { lockKeepMs: false }).open(path);
  let image = imageOf(2, 1);
  let release = await db.lock();
  await db.commit(commitOf(null, image, PAGE));
  await release();
  const [first] = holdings(path);
  assert.ok(released(path, first), "released when the release resolved");
  release = await db.lock();
  const next = imageOf(2, 2);
  await db.commit(commitOf(image, next, PAGE));
  image = next;
  await release();
  assert.is.not(holdings(path)[0], first, "a new holding for the next commit");
  await db.close();
  for (const bad of [-1, 0, Number.NaN]) {
    let error: unknown;
    try {
      fileStorageFor(RUNTIME, { lockKeepMs: bad });
    } catch (thrown) {
      error = thrown;
    }
    assert.instance(error, RangeError);
    assert.match(String(error), `lockKeepMs: ${bad} is not a positive number`);
  }
});

test("closing the handle releases its kept holding at once", async () => {
  const path = newPath();
  const db = await fileStorageFor(RUNTIME).open(path);
  const release = await db.lock();
  await db.commit(commitOf(null, imageOf(2, 1), PAGE));
  await release();
  const [first] = holdings(path);
  assert.not.ok(released(path, first));
  await db.close();
  assert.ok(released(path, first), "released when close() resolved");
});

test("another handle of this process asking makes the keeper let go at once", async () => {
  const path = newPath();
  // Kept for a minute unless let go, and a 5 s timeout: b gets the lock only if a lets go at once.
  const options = { lockTimeoutMs: 5000, lockKeepMs: 60_000 };
  const a = await fileStorageFor(RUNTIME, options).open(path);
  const b = await fileStorageFor(RUNTIME, options).open(path);
  const image = imageOf(2, 1);
  let release = await a.lock();
  await a.commit(commitOf(null, image, PAGE));
  await release();
  const [first] = holdings(path);
  // b takes it while a keeps it: a's holding ends and b's begins.
  release = await b.lock();
  const [taken] = holdings(path);
  assert.is.not(taken, first, "b holds a new holding");
  const loaded = await b.load();
  const next = imageOf(2, 2);
  await b.commit(commitOf(loaded.image, next, PAGE));
  await release();
  // a commits after b: a new holding again, and a sees b's commit first.
  release = await a.lock();
  assert.is.not(holdings(path)[0], taken, "a took the lock back from b's kept holding");
  await release();
  await a.close();
  await b.close();
  assert.equal((await (await fileStorageFor(RUNTIME).open(path)).load()).image, next);
});

test("another process's wait marker ends the kept holding at the next commit", async () => {
  const path = newPath();
  const db = await fileStorageFor(RUNTIME).open(path);
  let image = imageOf(2, 1);
  let release = await db.lock();
  // Past the folder's last change by more than a clock tick, so that the marker changes its time.
  await sleep(10);
  await db.commit(commitOf(null, image, PAGE));
  await release();
  const [first] = holdings(path);
  const marker = join(`${path}-dbrlock`, "0123456789abcdef.wait");
  writeFileSync(marker, "pid 0\n");
  release = await db.lock();
  try {
    const [taken] = holdings(path);
    assert.is.not(taken, first, "the marker ended the kept holding: a new one was taken");
    const next = imageOf(2, 2);
    await db.commit(commitOf(image, next, PAGE));
    image = next;
  } finally {
    await release();
  }
  await db.close();
  assert.equal((await (await fileStorageFor(RUNTIME).open(path)).load()).image, image);
});

test("a process that ends while it keeps the lock leaves it free at once", async () => {
  const path = newPath();
  const child = spawnChild(RUNTIME, ["exit-keeping", RUNTIME, path, "60000"]);
  await child.waitFor((line) => line === "kept");
  const { code } = await child.exited;
  assert.is(code, 0);
  const [holding] = holdings(path);
  assert.ok(released(path, holding), "the exit hook released the kept holding");
  const db = await fileStorageFor(RUNTIME, { lockStaleMs: 60000, lockTimeoutMs: 1000 }).open(path);
  const release = await db.lock();
  await release();
  await db.close();
});

test.run();
