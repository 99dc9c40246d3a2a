/**
 * Folds in place (issue 14): a fold writes the log's pages into the base at
 * their offsets, never the whole file; a crash at any point leaves the last
 * committed database (SIGKILL trials with the `sqlite3` shell's
 * `integrity_check`, and a crash injected after each base write); other
 * programs' writes are still detected after such a fold; logs written before
 * page sums are read and folded.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { RouterError } from "../src/errors.ts";
import { fileStorage } from "../src/storage/file/adapter.ts";
import { checksum } from "../src/storage/file/checksum.ts";
import type { FileSystem } from "../src/storage/file/file_system.ts";
import type { StoredDatabase } from "../src/storage/types.ts";
import { changeCounter, mtimeKey } from "../src/storage/file/foreign.ts";
import {
  decodeLogHeader,
  encodeCommit,
  encodeLogHeader,
  PAGE_SUM_FLAG,
} from "../src/storage/file/log_format.ts";
import { commitOf } from "./_support/storage_conformance.ts";
import {
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  spawnChild,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";
import { rejection } from "./_support/errors.ts";
import { LOG_ALLOCATION, LOG_FIRST_FRAME, logEnd } from "./_support/log_files.ts";
import { BOTS_SCHEMA } from "./_support/writers_spawn.ts";

const test = suite(`file storage (${RUNTIME}): folds in place`);
const folder = temporaryFolder(`fold-${RUNTIME}-`);
const FRAME = 24;
let counter = 0;
const newPath = () => {
  const dir = join(folder.dir, `case-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, "global.db");
};
test.after(folder.remove);

function sqlite3(file: string, sql: string): string {
  return execFileSync("sqlite3", [file, sql], { encoding: "utf8" }).trim();
}

/** A real SQLite file of about `pages` 4 KiB pages, written by the shell. */
function shellDatabase(path: string, pages: number): Uint8Array {
  sqlite3(
    path,
    `PRAGMA page_size=4096; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${pages})
     INSERT INTO t SELECT i, randomblob(3900) FROM n;`,
  );
  return new Uint8Array(readFileSync(path));
}

/** `image` with `count` bytes at `page` (1-based) set to `value`. */
function changed(image: Uint8Array, page: number, value: number): Uint8Array {
  const next = image.slice();
  next.fill(value, (page - 1) * 4096 + 200, (page - 1) * 4096 + 300);
  return next;
}

test("the first commit on a file without a log writes a log header and the frames, not the file", async () => {
  const path = newPath();
  const image = shellDatabase(path, 500);
  const before = statSync(path);
  const db = await fileStorageFor(RUNTIME).open(path);
  const release = await db.lock();
  try {
    const loaded = await db.load();
    const next = changed(loaded.image!, 300, 9);
    await db.commit(commitOf(image, next, 4096));
    assert.is(db.stats().lastCommitBytes, LOG_ALLOCATION + FRAME + 4096);
    assert.is(statSync(path).ino, before.ino);
    assert.equal(new Uint8Array(readFileSync(path)), image, "the file is untouched");
    const other = await fileStorageFor(RUNTIME).open(path);
    assertSame((await other.load()).image, next);
  } finally {
    await release();
  }
});

test("a fold writes and reads only the pages the log changed, and sqlite3 reads the result", async () => {
  const path = newPath();
  let image = shellDatabase(path, 2000); // about 8 MB
  const db = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
  const release = await db.lock();
  try {
    image = (await db.load()).image!.slice();
    for (const [round, page] of [5, 700, 1500, 700].entries()) {
      const next = changed(image, page, round + 1);
      await db.commit(commitOf(image, next, 4096));
      image = next;
    }
    const ino = statSync(path).ino;
    await db.compact();
    const fold = db.stats().lastFold!;
    assert.ok(fold.inPlace, JSON.stringify(db.stats()));
    assert.is(fold.pagesWritten, 3);
    assert.is(
      fold.bytesWritten,
      3 * 4096 + 64 + LOG_ALLOCATION,
      "three pages, the marker, the next log",
    );
    assert.is(fold.bytesRead, 3 * 4096, "the three pages it replaced, for the page sum");
    assert.is(statSync(path).ino, ino);
    assertSame(new Uint8Array(readFileSync(path)), image);
    assert.is(logEnd(path), LOG_FIRST_FRAME);
  } finally {
    await release();
  }
  assert.is(sqlite3(path, "PRAGMA integrity_check"), "ok");
});

test("a reader that had read the whole log keeps its image across another process's fold", async () => {
  const path = newPath();
  let image = shellDatabase(path, 50);
  const writer = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
  const reader = await fileStorageFor(RUNTIME).open(path);
  const release = await writer.lock();
  try {
    image = (await writer.load()).image!.slice();
    let next = changed(image, 10, 1);
    await writer.commit(commitOf(image, next, 4096));
    image = next;
    const since = await reader.load();
    await writer.compact();
    next = changed(image, 20, 2);
    await writer.commit(commitOf(image, next, 4096));
    const changes = await reader.changesSince(since.version);
    assert.ok(changes, "caught up from the log, not reloaded");
    assert.equal(changes!.pages.map(([page]) => page), [20]);
  } finally {
    await release();
  }
});

test("a router that read every commit catches up with another's folds in place, never reloading", async () => {
  const path = newPath();
  const dir = join(path, "..");
  await using writer = new DBRouter("alpha", join(dir, "a.db"), path, {
    storage: fileStorageFor(RUNTIME, { compactThresholdBytes: 20_000, foldIdleMs: false }),
  });
  await using reader = new DBRouter("beta", join(dir, "b.db"), path, {
    storage: fileStorageFor(RUNTIME, { foldIdleMs: false }),
    maxReadLagMs: 0,
  });
  await writer.getConnection("bots", "write").exec(BOTS_SCHEMA);
  await writer.insert("bots", { name: "row-0", seq: 0 });
  const count = async () =>
    (await reader.getConnection("bots").all<{ n: number }>("SELECT count(*) AS n FROM bots"))[0].n;
  assert.is(await count(), 1);
  const before = reader.storageStats().shared.catchUps ?? { inPlace: 0, reloaded: 0 };
  for (let i = 1; i <= 12; i++) {
    await writer.insert("bots", { name: `row-${i}`, seq: i });
    assert.is(await count(), i + 1);
  }
  const folds = writer.storageStats().shared.compactions;
  assert.ok(folds >= 3, `${folds} folds`);
  const after = reader.storageStats().shared.catchUps!;
  assert.is(after.reloaded, before.reloaded, "no reload across the folds");
  assert.ok(after.inPlace >= before.inPlace + 12, `${after.inPlace - before.inPlace} in place`);
});

/**
 * A 300-page file made by the shell, commits in the log that grow it, change
 * pages across it and shrink it again, then a fold that stops (as if killed)
 * at its `failAt`-th write of the base or truncation. Returns the last image.
 */
async function crashMidFold(
  path: string,
  failAt: number,
  beforeFold: () => Promise<void> = async () => {},
): Promise<Uint8Array> {
  const original = shellDatabase(path, 300);
  const images: Uint8Array[] = [original];
  let image = original;
  for (const page of [3, 150, 290]) images.push(image = changed(image, page, page & 0xff));
  const grown = new Uint8Array(image.length + 40 * 4096);
  grown.set(image);
  grown.fill(7, image.length + 4096, image.length + 8192);
  images.push(image = grown);
  // A shrink changes a page too (SQLite's header records the page count): a commit of a
  // page count alone would write the file whole, with no log to fold.
  images.push(image = changed(image.slice(0, image.length - 30 * 4096), 1, 0x5a));
  const setup = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
  const release = await setup.lock();
  await setup.load();
  for (let i = 1; i < images.length; i++) {
    await setup.commit(commitOf(images[i - 1], images[i], 4096));
  }
  await release();
  await setup.close();
  await beforeFold();
  const crashing = crashAfter(fileSystemFor(RUNTIME), path, failAt);
  const db = await fileStorage(crashing, "crashing", { foldIdleMs: false }).open(path);
  const held = await db.lock();
  try {
    await db.load();
    const error = await db.compact().then(() => undefined, (error) => error);
    assert.is(error !== undefined, crashing.writes >= failAt, `a crash at ${failAt}: ${error}`);
    assert.ok(crashing.writes > 0, `the fold at ${failAt} wrote to the base`);
  } finally {
    await held();
  }
  return image;
}

test("a crash after any base write of a fold leaves the last commit, and the next writer finishes the fold", async () => {
  for (let failAt = 1; failAt <= 8; failAt++) {
    const path = newPath();
    const image = await crashMidFold(path, failAt);
    const reader = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
    assertSame((await reader.load()).image, image, `read after a crash at write ${failAt}`);
    await reader.close();
    const finisher = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
    const again = await finisher.lock();
    try {
      const loaded = await finisher.load();
      const next = changed(loaded.image!, 2, 99);
      await finisher.commit(commitOf(image, next, 4096));
      await finisher.compact();
      assertSame(new Uint8Array(readFileSync(path)), next, `folded after a crash at ${failAt}`);
    } finally {
      await again();
    }
  }
});

/** Resolves once `path` holds `image`, or fails after 20 s naming where it still differs. */
async function untilFileIs(path: string, image: Uint8Array, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let bytes = new Uint8Array(readFileSync(path));
  while (!sameBytes(bytes, image) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    bytes = new Uint8Array(readFileSync(path));
  }
  assertSame(bytes, image, what);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

test("a process that only reads finishes a fold left by a crash once the log is idle, so PATH is whole again", async () => {
  for (const failAt of [1, 2, 3]) {
    const path = newPath();
    const image = await crashMidFold(path, failAt);
    assert.not.ok(sameBytes(new Uint8Array(readFileSync(path)), image), "PATH is not yet current");
    const reader = await fileStorageFor(RUNTIME, { foldIdleMs: 50 }).open(path);
    try {
      assertSame((await reader.load()).image, image, `read after a crash at write ${failAt}`);
      await untilFileIs(path, image, `PATH finished by a reader after a crash at write ${failAt}`);
    } finally {
      await reader.close();
    }
  }
});

test("a reader that hears of a fold left by a crash through its catch-up finishes it too", async () => {
  const path = newPath();
  let reader: StoredDatabase | undefined;
  let version = "";
  const image = await crashMidFold(path, 4, async () => {
    reader = await fileStorageFor(RUNTIME, { foldIdleMs: 50 }).open(path);
    version = (await reader.load()).version;
  });
  try {
    const changes = await reader!.changesSince(version);
    assert.ok(changes, "the catch-up follows the log past the fold's marker");
    await untilFileIs(path, image, "PATH finished by a reader that caught up");
  } finally {
    await reader!.close();
  }
});

test("with folds on idle off, a reader leaves a fold left by a crash to the next writer", async () => {
  const path = newPath();
  const image = await crashMidFold(path, 3);
  const before = new Uint8Array(readFileSync(path));
  const reader = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
  try {
    assertSame((await reader.load()).image, image, "read after the crash");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertSame(new Uint8Array(readFileSync(path)), before, "PATH untouched by a reader");
  } finally {
    await reader.close();
  }
});

test("after a fold in place, sqlite3 writing the file while the log holds commits is refused; a touched file is read", async () => {
  const path = newPath();
  let image = shellDatabase(path, 100);
  const db = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
  let release = await db.lock();
  image = (await db.load()).image!.slice();
  let next = changed(image, 40, 4);
  await db.commit(commitOf(image, next, 4096));
  await db.compact();
  image = next;
  next = changed(image, 60, 6);
  await db.commit(commitOf(image, next, 4096));
  await release();
  // Touched: same bytes, new time; the page sum recognises it.
  utimesSync(path, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
  assertSame((await (await fileStorageFor(RUNTIME).open(path)).load()).image, next);
  sqlite3(path, "INSERT INTO t (v) VALUES (x'01')");
  const base = readFileSync(path);
  const log = readFileSync(`${path}-dbrlog`);
  const error = await rejection(async () => (await fileStorageFor(RUNTIME).open(path)).load());
  assert.is((error as RouterError).code, "FOREIGN_WRITE");
  release = await db.lock();
  try {
    const refused = await rejection(() => db.commit(commitOf(next, changed(next, 3, 3), 4096)));
    assert.is((refused as RouterError).code, "FOREIGN_WRITE");
  } finally {
    await release();
  }
  assert.equal(readFileSync(path), base, "the file as sqlite3 left it");
  assert.equal(readFileSync(`${path}-dbrlog`), log, "the log as it was");
});

test("a log written before page sums (whole-file checksum) is read, recognised when touched, and folded", async () => {
  const path = newPath();
  const image = shellDatabase(path, 100);
  const info = statSync(path);
  // The header and frames as the previous release wrote them: generation without
  // the page-sum bit, and a checksum of the whole base.
  const header = encodeLogHeader({
    pageSize: 4096,
    generation: 3,
    salt1: 11,
    salt2: 22,
    baseSize: image.length,
    baseIno: info.ino,
    baseChecksum: checksum(image),
    baseCounter: changeCounter(image),
    baseMtime: mtimeKey(info.mtimeMs),
  });
  const decoded = decodeLogHeader(header)!;
  const next = changed(image, 50, 5);
  const { bytes } = encodeCommit(
    decoded,
    decoded.checksum,
    commitOf(image, next, 4096).pages,
    image.length / 4096,
  );
  writeFileSync(`${path}-dbrlog`, Buffer.concat([header, bytes]));
  utimesSync(path, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
  const db = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
  const release = await db.lock();
  try {
    assertSame((await db.load()).image, next, "touched: the whole checksum still recognises it");
    await db.compact();
    const fold = db.stats().lastFold!;
    assert.ok(fold.inPlace);
    assert.is(fold.bytesRead, image.length + 4096, "once: the whole base, to start its page sum");
    const now = decodeLogHeader(readFileSync(`${path}-dbrlog`))!;
    assert.ok((now.generation & PAGE_SUM_FLAG) !== 0, "the new log holds a page sum");
    assert.is(now.generation & ~PAGE_SUM_FLAG, 4);
    assertSame(new Uint8Array(readFileSync(path)), next);
  } finally {
    await release();
  }
  assert.is(sqlite3(path, "PRAGMA integrity_check"), "ok");
});

test("a router killed with SIGKILL at random points, folds included, keeps every acknowledged row", async () => {
  const path = newPath();
  const trials = 12;
  let folded = 0;
  for (let trial = 0; trial < trials; trial++) {
    const child = spawnChild(RUNTIME, ["router-loop", RUNTIME, path]);
    try {
      await child.waitFor((line) => line.startsWith("committed"), 60_000);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
    } finally {
      child.kill("SIGKILL");
    }
    const { output } = await child.exited;
    let resolved = 0;
    for (const match of output.matchAll(/committed (\d+)/g)) resolved = Number(match[1]);
    // The next process reads (and, for the shell, folds) what the killed one left.
    const db = await fileStorageFor(RUNTIME, { foldIdleMs: false }).open(path);
    const release = await db.lock();
    try {
      await db.load();
      await db.compact();
      if (db.stats().lastFold?.inPlace) folded++;
    } finally {
      await release();
    }
    assert.is(sqlite3(path, "PRAGMA integrity_check"), "ok", `trial ${trial}`);
    const [count, top] = sqlite3(path, "SELECT count(*), coalesce(max(seq), 0) FROM bots").split(
      "|",
    )
      .map(Number);
    assert.ok(top >= resolved, `trial ${trial}: ${top} rows kept, ${resolved} acknowledged`);
    assert.is(count, top, `trial ${trial}: rows 1..${top}, none missing`);
  }
  assert.ok(folded > 0, "the trials left logs to fold");
});

test.run();

function assertSame(actual: Uint8Array | null, expected: Uint8Array, what = "bytes"): void {
  assert.ok(actual, `${what}: nothing read`);
  assert.is(actual!.length, expected.length, `${what}: length`);
  const at = actual!.findIndex((byte, i) => byte !== expected[i]);
  assert.is(at, -1, `${what}: first difference at byte ${at} (page ${Math.floor(at / 4096) + 1})`);
}

/**
 * `fs` whose writes to `path` (the base) after the `failAt`-th, truncation
 * included, fail as if the process died there.
 */
function crashAfter(
  fs: FileSystem,
  path: string,
  failAt: number,
): FileSystem & { writes: number } {
  const crashing = {
    ...fs,
    writes: 0,
    async open(file: string, mode: Parameters<FileSystem["open"]>[1]) {
      const handle = await fs.open(file, mode);
      if (file !== path) return handle;
      const step = () => {
        if (++crashing.writes >= failAt) throw new Error(`injected crash at base write ${failAt}`);
      };
      return {
        ...handle,
        async write(buffer: Uint8Array, position: number) {
          step();
          return await handle.write(buffer, position);
        },
        async truncate(length: number) {
          step();
          return await handle.truncate(length);
        },
      };
    },
  };
  return crashing;
}
