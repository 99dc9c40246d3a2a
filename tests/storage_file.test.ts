/**
 * The file storage adapters: the shared storage cases for this runtime's own
 * adapter and for the `node:fs` one, then the on-disk format and its crash
 * safety. Cross-process cases are in `storage_file_processes.test.ts`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fileStorage } from "../src/storage/file/adapter.ts";
import type { StorageAdapter } from "../src/storage/types.ts";
import { loadSqlJs } from "../wasm/mod.ts";
import {
  catchUp,
  commitOf,
  makeImage,
  testStorageAdapter,
} from "./_support/storage_conformance.ts";
import {
  countingReads,
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  type Runtime,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";
import { rejection } from "./_support/errors.ts";
import {
  LOG_ALLOCATION,
  LOG_FIRST_FRAME,
  logEnd,
  moveLogEnd,
  tearLogTail,
} from "./_support/log_files.ts";

const FRAME = 24;
const adapters: Runtime[] = RUNTIME === "node" ? ["node"] : [RUNTIME, "node"];

for (const runtime of adapters) {
  const folder = temporaryFolder(`conformance-${runtime}-`);
  testStorageAdapter(`${runtime} files`, () => fileStorageFor(runtime), {
    location: (name) => join(folder.dir, name),
    cleanup: folder.remove,
  });
  fileCases(runtime);
}

function fileCases(runtime: Runtime): void {
  const test = suite(`file storage (${runtime}): format and crash safety`);
  const folder = temporaryFolder(`format-${runtime}-`);
  let counter = 0;
  const newPath = () => join(folder.dir, `db-${++counter}`, "data.db");
  const storage = (options = {}) => fileStorageFor(runtime, options);
  test.after(folder.remove);

  test("resolve() makes a relative location absolute against the working directory", () => {
    const adapter = storage();
    assert.is(adapter.resolve("shared/global.db"), join(process.cwd(), "shared/global.db"));
    assert.is(adapter.resolve("/tmp/x/../y.db"), "/tmp/y.db");
    assert.throws(() => adapter.resolve(""), (error: unknown) => error instanceof TypeError);
  });

  test("open() creates the parent folders", async () => {
    const path = join(folder.dir, "deep", "er", "data.db");
    await storage().open(path);
    assert.ok(statSync(join(folder.dir, "deep", "er")).isDirectory());
    assert.not.ok(existsSync(path), "the database itself appears only at the first commit");
  });

  test("a one-page commit writes one frame and leaves the base untouched", async () => {
    const path = newPath();
    const db = await storage().open(path);
    const image = makeImage(4096, 64, 1);
    await db.commit(commitOf(null, image, 4096));
    const base = statSync(path);
    const baseBytes = readFileSync(path);
    assert.is(logEnd(path), LOG_FIRST_FRAME);
    const logSize = statSync(`${path}-dbrlog`).size;
    const next = image.slice();
    next[5 * 4096 + 17] ^= 0xff;
    await db.commit(commitOf(image, next, 4096));
    assert.is(db.stats().lastCommitBytes, FRAME + 4096);
    assert.is(logEnd(path), LOG_FIRST_FRAME + FRAME + 4096);
    assert.is(statSync(`${path}-dbrlog`).size, logSize, "written into the log's allocation");
    assert.is(statSync(path).ino, base.ino, "the base is the same file");
    assert.ok(readFileSync(path).equals(baseBytes), "with the same bytes");
    assert.ok(same((await (await storage().open(path)).load()).image, next));
  });

  test("changesSince() reads only the new frames and version() only the log's header and end", async () => {
    const path = newPath();
    const image = makeImage(4096, 100, 2);
    const writer = await storage().open(path);
    await writer.commit(commitOf(null, image, 4096));
    const spy = countingReads(fileSystemFor(runtime));
    const reader = await fileStorage(spy, "spy").open(path);
    const since = await reader.load();
    const next = image.slice();
    next.fill(3, 4096 * 50, 4096 * 50 + 100);
    await writer.commit(commitOf(image, next, 4096));
    spy.bytesRead = 0;
    await reader.version();
    assert.ok(spy.bytesRead <= LOG_FIRST_FRAME, `version() read ${spy.bytesRead} bytes`);
    spy.bytesRead = 0;
    const caughtUp = await catchUp(reader, since);
    // The header and end record, the new frame, and room for a fold marker after it.
    const most = LOG_FIRST_FRAME + FRAME + 4096 + 64;
    assert.ok(spy.bytesRead <= most, `changesSince() read ${spy.bytesRead} bytes`);
    assert.ok(same(caughtUp.image, next));
  });

  test("frames torn off at the log's tail are discarded, and the next commit folds past them", async () => {
    const { path, images } = await threeCommits(storage());
    tearLogTail(path, 100);
    const db = await storage().open(path);
    const loaded = await db.load();
    assert.ok(same(loaded.image, images[1]), "the torn third commit is not applied");
    const fourth = images[1].slice();
    fourth.fill(4, 0, 1000);
    await db.commit(commitOf(images[1], fourth, 1024));
    assert.is(db.stats().compactions, 1, "a commit after a torn tail folds first");
    assert.is(logEnd(path), LOG_FIRST_FRAME + FRAME + 1024, "then goes to the new log");
    assert.ok(same((await (await storage().open(path)).load()).image, fourth));
  });

  test("a flipped byte in a frame discards its commit and every later one", async () => {
    const { path, images } = await threeCommits(storage());
    const log = readFileSync(`${path}-dbrlog`);
    const flipped = Uint8Array.from(log);
    flipped[logEnd(path) - 10] ^= 1; // in the third commit's page
    writeFileSync(`${path}-dbrlog`, flipped);
    assert.ok(same((await (await storage().open(path)).load()).image, images[1]));
    flipped[LOG_FIRST_FRAME + FRAME + 3] ^= 1; // in the second commit's first page
    writeFileSync(`${path}-dbrlog`, flipped);
    assert.ok(same((await (await storage().open(path)).load()).image, images[0]));
  });

  test("a log with a damaged header is never replayed", async () => {
    const { path, images } = await threeCommits(storage());
    const log = readFileSync(`${path}-dbrlog`);
    log[20] ^= 1; // a salt byte: the header's own checksum fails
    writeFileSync(`${path}-dbrlog`, log);
    const db = await storage().open(path);
    assert.ok(same((await db.load()).image, images[0]), "the base alone");
    const next = images[0].slice();
    next.fill(6, 0, 10);
    await db.commit(commitOf(images[0], next, 1024));
    assert.ok(same((await (await storage().open(path)).load()).image, next));
  });

  test("a fold stopped between its two renames does not replay the old log", async () => {
    const { path, images } = await threeCommits(storage());
    const oldLog = readFileSync(`${path}-dbrlog`);
    // A commit that folds: it changes the page that the old log's last commit wrote.
    const folding = await storage({ compactThresholdBytes: 1 }).open(path);
    await folding.load();
    const fourth = images[2].slice();
    fourth.fill(44, 2 * 1024, 3 * 1024);
    // A new page size: the one commit that still replaces the base whole.
    await folding.commit(commitOf(null, fourth, 512));
    assert.is(folding.stats().compactions, 1);
    assert.not.ok(folding.stats().lastFold!.inPlace);
    // The crash: the new base is in place, the old log is still there, and the
    // new log (which names the new base) still waits at its temporary name.
    writeFileSync(`${path}-dbrlog-next`, readFileSync(`${path}-dbrlog`));
    writeFileSync(`${path}-dbrlog`, oldLog);
    const db = await storage().open(path);
    const loaded = await db.load();
    assert.ok(same(loaded.image, fourth), "the new base alone, not the old frames on top");
    const fifth = fourth.slice();
    fifth.fill(55, 0, 10);
    await db.commit(commitOf(fourth, fifth, 1024));
    assert.is(logEnd(path), LOG_FIRST_FRAME, "the next commit replaced the old log");
    assert.ok(same((await (await storage().open(path)).load()).image, fifth));
  });

  test("a fold stopped before its renames leaves the previous state", async () => {
    const { path, images } = await threeCommits(storage());
    writeFileSync(`${path}-dbrtmp`, makeImage(1024, 3, 99));
    writeFileSync(
      `${path}-dbrlog-next`,
      readFileSync(`${path}-dbrlog`).subarray(0, LOG_FIRST_FRAME),
    );
    const db = await storage().open(path);
    assert.ok(same((await db.load()).image, images[2]));
    const release = await db.lock();
    await db.compact();
    await release();
    assert.not.ok(existsSync(`${path}-dbrtmp`), "no next base is left behind");
    assert.not.ok(existsSync(`${path}-dbrlog-next`), "no next log is left behind");
    assert.ok(same((await (await storage().open(path)).load()).image, images[2]));
  });

  test("compaction writes the log's pages into the base in place, reading none of the rest", async () => {
    const { path, images } = await threeCommits(storage());
    const before = statSync(path);
    const db = await storage().open(path);
    await db.load();
    await db.close({ compact: true });
    assert.is(db.stats().compactions, 1);
    assert.is(statSync(path).ino, before.ino, "the same file, written in place");
    const fold = db.stats().lastFold!;
    assert.ok(fold.inPlace);
    assert.ok(fold.pagesWritten <= 3, `${fold.pagesWritten} pages written`);
    // The pages, a fold marker and the next log's first allocation.
    const most = 3 * 1024 + 64 + LOG_ALLOCATION;
    assert.ok(fold.bytesWritten <= most, `${fold.bytesWritten} bytes written`);
    assert.ok(same(new Uint8Array(readFileSync(path)), images[2]));
    assert.is(logEnd(path), LOG_FIRST_FRAME);
  });

  test("close({ compact: true }) leaves a standard SQLite file that sql.js and sqlite3 open", async () => {
    const SQL = await loadSqlJs();
    const path = newPath();
    const memory = new SQL.Database();
    memory.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)");
    for (let i = 0; i < 100; i++) memory.exec(`INSERT INTO t (note) VALUES ('row ${i}')`);
    const db = await storage().open(path);
    let image = memory.export();
    await db.commit(commitOf(null, image, pageSizeOf(image)));
    for (let i = 0; i < 10; i++) {
      memory.exec(`INSERT INTO t (note) VALUES ('${"x".repeat(500)}')`);
      const next = memory.export();
      await db.commit(commitOf(image, next, pageSizeOf(next)));
      image = next;
    }
    memory.close();
    assert.ok(logEnd(path) > LOG_FIRST_FRAME, "commits went to the log");
    await db.close({ compact: true });
    assert.is(logEnd(path), LOG_FIRST_FRAME);
    const bytes = new Uint8Array(readFileSync(path));
    assert.is(new TextDecoder().decode(bytes.subarray(0, 16)), "SQLite format 3\0");
    const reopened = new SQL.Database(bytes);
    assert.equal(reopened.exec("PRAGMA integrity_check")[0].values, [["ok"]]);
    assert.equal(reopened.exec("SELECT count(*) FROM t")[0].values, [[110]]);
    reopened.close();
    const shell = spawnSync("sqlite3", [path, "PRAGMA integrity_check; SELECT count(*) FROM t;"]);
    if (!shell.error) assert.is(String(shell.stdout), "ok\n110\n");
  });

  test("close({ compact: true }) of a database with an empty log takes no lock", async () => {
    const path = newPath();
    const db = await storage({ lockTimeoutMs: 300 }).open(path);
    await db.commit(commitOf(null, makeImage(1024, 2, 1), 1024));
    const holder = await storage().open(path);
    const release = await holder.lock();
    try {
      await db.close({ compact: true });
      assert.is(db.stats().compactions, 1, "only the first commit's fold");
    } finally {
      await release();
    }
  });

  test("commit() refuses when another handle committed since this one loaded", async () => {
    const path = newPath();
    const first = await storage().open(path);
    const second = await storage().open(path);
    const image = makeImage(1024, 2, 1);
    await first.commit(commitOf(null, image, 1024));
    const seen = await second.load();
    const next = image.slice();
    next[0] ^= 1;
    await first.commit(commitOf(image, next, 1024));
    const other = image.slice();
    other[1] ^= 1;
    const error = await rejection(() => second.commit(commitOf(seen.image, other, 1024)));
    assert.match(String(error), "another process committed");
    await second.load();
    await second.commit(commitOf(next, other, 1024));
  });

  test("an append that another writer got ahead of fails and is never read", async () => {
    const { path, images } = await threeCommits(storage());
    const fs = fileSystemFor(runtime);
    // Another writer commits between this commit's checks and its own write.
    const racing = {
      ...fs,
      async open(file: string, mode: Parameters<typeof fs.open>[1]) {
        if (mode === "readWrite" && file.endsWith("-dbrlog")) {
          moveLogEnd(path, new Uint8Array(FRAME + 1024).fill(7));
        }
        return await fs.open(file, mode);
      },
    };
    const db = await fileStorage(racing, "racing").open(path);
    await db.load();
    const fourth = images[2].slice();
    fourth.fill(4, 0, 10);
    const error = await rejection(() => db.commit(commitOf(images[2], fourth, 1024)));
    assert.match(String(error), "another process wrote to it");
    const fresh = await storage().open(path);
    assert.ok(same((await fresh.load()).image, images[2]), "neither the junk nor the commit");
    await fresh.commit(commitOf(images[2], fourth, 1024));
    assert.ok(same((await (await storage().open(path)).load()).image, fourth));
  });

  test("a load that races the first commit reads that commit, never a missing base with its log", async () => {
    const path = newPath();
    const image = makeImage(1024, 3, 8);
    const writer = await storage().open(path);
    const fs = fileSystemFor(runtime);
    let raced = false;
    // The writer's first commit lands after the reader found no base, before it opens the log.
    const racing = {
      ...fs,
      async open(file: string, mode: Parameters<typeof fs.open>[1]) {
        if (!raced && file.endsWith("-dbrlog")) {
          raced = true;
          await writer.commit(commitOf(null, image, 1024));
        }
        return await fs.open(file, mode);
      },
    };
    const loaded = await (await fileStorage(racing, "racing").open(path)).load();
    assert.ok(raced);
    assert.ok(same(loaded.image, image));
    assert.is(loaded.version, await writer.version());
  });

  test("version() changes when another handle folds, even to a log of the same size", async () => {
    const path = newPath();
    const writer = await storage().open(path);
    const reader = await storage().open(path);
    const image = makeImage(1024, 4, 1);
    await writer.commit(commitOf(null, image, 1024));
    const since = await reader.load();
    assert.is(logEnd(path), LOG_FIRST_FRAME);
    const next = image.slice();
    next.fill(2, 0, 100);
    await writer.commit(commitOf(image, next, 1024));
    await writer.compact();
    assert.is(logEnd(path), LOG_FIRST_FRAME);
    assert.is.not(await reader.version(), since.version);
    assert.is(await reader.changesSince(since.version), undefined, "a fold: no changes to read");
    const caughtUp = await reader.load();
    assert.ok(same(caughtUp.image, next));
    assert.is(caughtUp.version, await writer.version());
  });

  test("the log folds by itself once it passes compactThresholdBytes", async () => {
    const path = newPath();
    const db = await storage({ compactThresholdBytes: 3 * (FRAME + 1024) }).open(path);
    let image = makeImage(1024, 8, 1);
    await db.commit(commitOf(null, image, 1024));
    for (let round = 1; round <= 4; round++) {
      const next = image.slice();
      next.fill(round, round * 1024, round * 1024 + 10);
      await db.commit(commitOf(image, next, 1024));
      image = next;
      const end = logEnd(path);
      if (round <= 3) assert.is(end, LOG_FIRST_FRAME + round * (FRAME + 1024), `round ${round}`);
      else {assert.is(
          end,
          LOG_FIRST_FRAME + FRAME + 1024,
          "the fourth commit folded, then began the log",
        );}
    }
    const stats = db.stats();
    assert.is(stats.commits, 5);
    assert.is(stats.compactions, 2);
    // The fourth commit folds the log in place first (its three pages, a
    // marker, the next log's first allocation).
    const fold = 3 * 1024 + 64 + LOG_ALLOCATION;
    assert.is(stats.bytesWritten, 8 * 1024 + LOG_ALLOCATION + 4 * (FRAME + 1024) + fold);
    assert.is(stats.lastCommitBytes, FRAME + 1024 + fold);
    assert.ok(stats.lastCommitMs > 0);
    assert.ok(same((await (await storage().open(path)).load()).image, image));
  });

  test("records: a torn last line is not read, and the next append keeps its lines whole", async () => {
    const adapter = storage();
    const log = join(folder.dir, "records", "torn.jsonl");
    await adapter.records!.append(log, ["a", "b"]);
    writeFileSync(log, "a\nb\npar", { flag: "w" });
    assert.equal(await collect(adapter.records!.read(log)), ["a", "b"]);
    await adapter.records!.append(log, ["c"]);
    assert.equal(await collect(adapter.records!.read(log)), ["a", "b", "par", "c"]);
  });

  test("records: a line that is empty or holds a newline is refused with a TypeError", async () => {
    const adapter = storage();
    const log = join(folder.dir, "records", "bad.jsonl");
    assert.instance(await rejection(() => adapter.records!.append(log, ["ok", "a\nb"])), TypeError);
    assert.instance(await rejection(() => adapter.records!.append(log, ["ok", ""])), TypeError);
    assert.not.ok(existsSync(log), "nothing of either batch was written");
  });

  test("records: blank lines in the file are skipped", async () => {
    const adapter = storage();
    const log = join(folder.dir, "records", "blank.jsonl");
    writeFileSync(log, "a\n\nb\n\n");
    assert.equal(await collect(adapter.records!.read(log)), ["a", "b"]);
  });

  test("options: a lockStaleMs that is not positive is refused with a RangeError", () => {
    assert.throws(
      () => storage({ lockStaleMs: 0 }),
      (error: unknown) => error instanceof RangeError,
    );
  });

  test.run();

  /** Three commits of 1 KiB pages: a fold, then two appends. */
  async function threeCommits(adapter: StorageAdapter) {
    const path = newPath();
    const db = await adapter.open(path);
    const first = makeImage(1024, 4, 1);
    const second = first.slice();
    second.fill(2, 1024, 1100);
    const third = second.slice();
    third.fill(3, 2 * 1024, 2 * 1024 + 50);
    await db.commit(commitOf(null, first, 1024));
    await db.commit(commitOf(first, second, 1024));
    await db.commit(commitOf(second, third, 1024));
    assert.is(logEnd(path), LOG_FIRST_FRAME + 2 * (FRAME + 1024));
    return { path, images: [first, second, third] };
  }
}

function pageSizeOf(image: Uint8Array): number {
  const raw = (image[16] << 8) | image[17];
  return raw === 1 ? 65536 : raw;
}

function same(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}
