/**
 * The page log's format 2 (see `src/storage/file/log_format.ts`): allocated
 * ahead and overwritten in place, its end record saying where its commits
 * end; format-1 logs (0.1.0) read and folded; a damaged end record; and the
 * fold that a holding taken from a stalled holder makes before it writes.
 *
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeLogHeader,
  encodeCommit,
  encodeLogHeader,
  LOG_HEADER_BYTES,
} from "../src/storage/file/log_format.ts";
import type { LoadedImage, StoredDatabase } from "../src/storage/types.ts";
import { catchUp, commitOf, makeImage } from "./_support/storage_conformance.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { LOG_ALLOCATION, LOG_FIRST_FRAME, logEnd } from "./_support/log_files.ts";

const FRAME = 24;
const test = suite(`file storage (${RUNTIME}): log format 2`);
const folder = temporaryFolder(`format2-${RUNTIME}-`);
let counter = 0;
const newPath = () => {
  const dir = join(folder.dir, `case-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, "global.db");
};
const storage = (options = {}) => fileStorageFor(RUNTIME, { foldIdleMs: false, ...options });
test.after(folder.remove);

/** `image` with page `page` (1-based, 1 KiB pages) filled with `value`. */
function changed(image: Uint8Array, page: number, value: number): Uint8Array {
  const next = image.slice();
  next.fill(value, (page - 1) * 1024 + 100, page * 1024);
  return next;
}

function same(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A database at `path` with one commit (its first image) and a handle on it. */
async function started(path: string, options = {}) {
  const db = await storage(options).open(path);
  const image = makeImage(1024, 16, 1);
  await db.commit(commitOf(null, image, 1024));
  return { db, image };
}

test("commits overwrite the log's allocation; it grows by doubling, and readers follow", async () => {
  const path = newPath();
  const { db, image: first } = await started(path);
  assert.is(statSync(`${path}-dbrlog`).size, LOG_ALLOCATION, "a new log is allocated ahead");
  const reader: StoredDatabase = await storage().open(path);
  let seen: LoadedImage = await reader.load();
  let image = first;
  const sizes = new Set<number>();
  for (let i = 0; i < 120; i++) {
    const next = changed(image, 2 + (i % 14), i + 1);
    await db.commit(commitOf(image, next, 1024));
    image = next;
    sizes.add(statSync(`${path}-dbrlog`).size);
    assert.is(logEnd(path), LOG_FIRST_FRAME + (i + 1) * (FRAME + 1024), `commit ${i}`);
    if (i % 10 === 9) {
      seen = await catchUp(reader, seen);
      assert.ok(same(seen.image, image), `the reader after commit ${i}`);
    }
  }
  // 120 frames of 1 048 bytes: 125 888 bytes, past 64 KiB once, then doubled.
  assert.equal([...sizes], [LOG_ALLOCATION, 2 * (LOG_FIRST_FRAME + 63 * (FRAME + 1024)) - 128]);
  assert.is(db.stats().compactions, 1, "only the first image was written whole");
  assert.ok(same((await (await storage().open(path)).load()).image, image));
});

test("a format-1 log (0.1.0) is read, and the first commit folds it and writes format 2", async () => {
  const path = newPath();
  const { image: first } = await started(path, { lockKeepMs: false });
  // The same base's log as 0.1.0 wrote it: version 1, frames right after the header, no allocation.
  const fields = decodeLogHeader(readFileSync(`${path}-dbrlog`))!;
  assert.is(fields.version, 2);
  const oldHeader = encodeLogHeader({ ...fields, version: 1 });
  const old = decodeLogHeader(oldHeader)!;
  const second = changed(first, 3, 33);
  const { bytes } = encodeCommit(old, old.checksum, commitOf(first, second, 1024).pages, 16);
  writeFileSync(`${path}-dbrlog`, Buffer.concat([oldHeader, bytes]));
  const reader = await storage().open(path);
  const seen = await reader.load();
  assert.ok(same(seen.image, second), "the format-1 commit is read");
  const writer = await storage().open(path);
  assert.ok(same((await writer.load()).image, second));
  const third = changed(second, 4, 44);
  await writer.commit(commitOf(second, third, 1024));
  assert.is(writer.stats().compactions, 1, "folded before the commit");
  const now = decodeLogHeader(readFileSync(`${path}-dbrlog`))!;
  assert.is(now.version, 2, "the next log is format 2");
  assert.is(logEnd(path), LOG_FIRST_FRAME + FRAME + 1024, "holding the commit alone");
  assert.ok(same(new Uint8Array(readFileSync(path)), second), "the base holds the old commit");
  assert.ok(same((await catchUp(reader, seen)).image, third), "the reader follows the fold");
});

test("a damaged end record: the log is read up to its last whole commit, and the next commit folds", async () => {
  const path = newPath();
  const { db, image: first } = await started(path);
  const second = changed(first, 5, 55);
  await db.commit(commitOf(first, second, 1024));
  const log = new Uint8Array(readFileSync(`${path}-dbrlog`));
  log[LOG_HEADER_BYTES + 17] ^= 1; // in the end record's offset: its checksum fails
  writeFileSync(`${path}-dbrlog`, log);
  const other = await storage().open(path);
  const loaded = await other.load();
  assert.ok(same(loaded.image, second), "the frames are still read");
  assert.match(loaded.version, `-t${log.length}`, "the stamp says the end record is damaged");
  const third = changed(second, 6, 66);
  await other.commit(commitOf(second, third, 1024));
  assert.is(other.stats().compactions, 1, "folded first");
  assert.is(logEnd(path), LOG_FIRST_FRAME + FRAME + 1024);
  assert.ok(same((await (await storage().open(path)).load()).image, third));
});

test("a holding that broke a stale one folds first: a stalled holder's late write lands in a log nobody reads", async () => {
  for (const stale of [false, true]) {
    const path = newPath();
    const { db, image: first } = await started(path, { lockKeepMs: false });
    const second = changed(first, 7, 77);
    await db.commit(commitOf(first, second, 1024));
    const oldLog = statSync(`${path}-dbrlog`).ino;
    if (stale) {
      // The lock as a holder that stopped without releasing it leaves it: its file a minute old.
      const lockDir = `${path}-dbrlock`;
      mkdirSync(lockDir, { recursive: true });
      const top = Math.max(0, ...readdirSync(lockDir).map((name) => parseInt(name, 10) || 0));
      const holding = join(lockDir, `${String(top + 1).padStart(12, "0")}.lock`);
      writeFileSync(holding, "{}\n");
      const old = new Date(Date.now() - 60_000);
      utimesSync(holding, old, old);
    }
    // The stalled holder still has the log open, and writes once it wakes.
    const stalled = await open(`${path}-dbrlog`, "r+");
    const taker = await storage({ lockStaleMs: 1000 }).open(path);
    await taker.load();
    const third = changed(second, 8, 88);
    const release = await taker.lock();
    assert.is(
      statSync(`${path}-dbrlog`).ino !== oldLog,
      stale,
      `stale ${stale}: a new log file as soon as the lock is taken, before any commit`,
    );
    try {
      await taker.commit(commitOf(second, third, 1024));
    } finally {
      await release();
    }
    assert.is(taker.stats().compactions, stale ? 1 : 0, `stale ${stale}: folded first`);
    assert.is(statSync(`${path}-dbrlog`).ino !== oldLog, stale, `stale ${stale}: a new log file`);
    if (stale) {
      await stalled.write(new Uint8Array(4096).fill(9), 0, 4096, LOG_FIRST_FRAME);
      await stalled.write(new Uint8Array(64).fill(9), 0, 64, LOG_HEADER_BYTES);
      assert.ok(same((await (await storage().open(path)).load()).image, third), "unharmed");
    }
    await stalled.close();
  }
});

test.run();
