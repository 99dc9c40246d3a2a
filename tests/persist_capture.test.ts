import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import initSqlJs117 from "sql.js-1-17";
import { loadCapturedSqlJs } from "../wasm/mod.ts";
import { applyInPlace } from "../src/persist/apply.ts";
import type { PageCapture } from "../src/persist/capture.ts";
import {
  type CapturedSqlJs,
  type InitSqlJs,
  initWithCapture,
} from "../src/persist/capture_load.ts";
import { pageCaptureWanted } from "../src/persist/capture_switch.ts";
import { handOver } from "../src/persist/hand_over.ts";
import { sameDatabase } from "../src/persist/patch_image.ts";
import type { SqlJsDatabase } from "../src/engine/sqljs_types.ts";

const test = suite("page capture");

/** The builds the capture is tested against: the pinned one and the one Deno users may get. */
const builds: Array<[string, () => Promise<CapturedSqlJs>]> = [
  ["sql.js 1.16.0", () => loadCapturedSqlJs()],
  [
    "sql.js 1.17.0",
    once(() =>
      initWithCapture(
        initSqlJs117 as unknown as InitSqlJs,
        { useOldExtensionFunctions: false },
        readFileSync(new URL("sql-wasm.wasm", import.meta.resolve("sql.js-1-17"))),
      )
    ),
  ],
];

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}

async function captureOf(load: () => Promise<CapturedSqlJs>) {
  const loaded = await load();
  const { sql } = loaded;
  const capture = await loaded.probe();
  if (typeof capture === "string") throw new Error(`no capture: ${capture}`);
  return { sql, capture };
}

function open(sql: CapturedSqlJs["sql"], image?: Uint8Array): SqlJsDatabase {
  const db = new sql.Database(image);
  db.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY;");
  return db;
}

function watch(capture: PageCapture, db: SqlJsDatabase, size: number) {
  const file = capture.watch(db.filename, size);
  if (!file) throw new Error("the database file was not seen opened");
  return file;
}

test("package versions: the alias is sql.js 1.17.0 and the pinned build is 1.16.0", () => {
  const version = (name: string) =>
    JSON.parse(readFileSync(new URL("../package.json", import.meta.resolve(name)), "utf8")).version;
  assert.is(version("sql.js"), "1.16.0");
  assert.is(version("sql.js-1-17"), "1.17.0");
});

for (const [build, load] of builds) {
  test(`${build}: the probe recognises the I/O imports by behaviour`, async () => {
    const { capture } = await captureOf(load);
    const { openat, seek, write, read, truncate } = capture.imports;
    const names = [openat, seek, write, read, truncate];
    assert.is(new Set(names).size, 5, `five different imports: ${names.join(", ")}`);
  });

  test(`${build}: a one-row UPDATE is captured as the one page that export() changed`, async () => {
    const { sql, capture } = await captureOf(load);
    const db = open(sql);
    try {
      db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      db.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO t (v) SELECT printf('row %d', i) FROM n",
      );
      const before = db.export();
      const file = watch(capture, db, before.length);
      db.exec("UPDATE t SET v = 'changed' WHERE id = 1500");
      const pages = file.take(4096)!;
      const after = db.export();
      assert.is(pages.length, 1, `pages ${pages.map(([n]) => n)}`);
      const [page, bytes] = pages[0];
      assert.ok(page > 1);
      assert.equal(bytes, after.subarray((page - 1) * 4096, page * 4096));
      assert.not.equal(bytes, before.subarray((page - 1) * 4096, page * 4096));
      capture.unwatch(file);
    } finally {
      db.close();
    }
  });

  test(`${build}: pages applied in place reach a reader, whose prepared statement stays`, async () => {
    const { sql, capture } = await captureOf(load);
    const writer = open(sql);
    writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
    writer.exec("INSERT INTO t (v) VALUES (randomblob(3000)), (randomblob(3000))");
    const image = writer.export();
    const reader = open(sql, image);
    const written = watch(capture, writer, image.length);
    const applied = watch(capture, reader, image.length);
    const count = reader.prepare("SELECT count(*) FROM t");
    const steps = [
      "INSERT INTO t (v) SELECT randomblob(2000) FROM t",
      "UPDATE t SET v = x'01' WHERE id = 2",
      "CREATE TABLE u (a); INSERT INTO u VALUES (7)",
      "ALTER TABLE u ADD COLUMN b DEFAULT 'b'",
      "DELETE FROM t WHERE id > 1; VACUUM",
      "DROP TABLE u",
    ];
    try {
      for (const step of steps) {
        writer.exec(step);
        const pages = written.take(4096)!;
        applyInPlace(reader, capture, applied, {
          version: "",
          pageSize: 4096,
          pageCount: written.size / 4096,
          pages,
        });
        assert.ok(sameDatabase(reader.export(), writer.export()), `after ${step}`);
        count.step();
        assert.equal(count.get(), writer.exec("SELECT count(*) FROM t")[0].values[0], step);
        count.reset();
        const tables = (db: SqlJsDatabase) =>
          JSON.stringify(db.exec("SELECT name, sql FROM sqlite_master ORDER BY name"));
        assert.is(tables(reader), tables(writer), `schema after ${step}`);
      }
      assert.equal(reader.exec("PRAGMA integrity_check")[0].values, [["ok"]]);
    } finally {
      count.free();
      capture.unwatch(written);
      capture.unwatch(applied);
      writer.close();
      reader.close();
    }
  });

  test(`${build}: an image handed over is the in-memory file itself, not a copy of it`, async () => {
    const { sql } = await captureOf(load);
    const source = open(sql);
    source.exec(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('old'), ('kept')",
    );
    const image = source.export();
    source.close();
    const copied = image.slice();
    const before = image.slice();
    const owning = open(sql, handOver(image));
    const copying = open(sql, copied);
    try {
      for (const db of [owning, copying]) db.exec("UPDATE t SET v = 'new' WHERE id = 1");
      // SQLite wrote into the handed-over image: no second copy of the database was made.
      assert.not.equal(image, before);
      assert.ok(sameDatabase(image, owning.export()));
      assert.equal(owning.exec("SELECT v FROM t ORDER BY id")[0].values, [["new"], ["kept"]]);
      // Without the hand-over, sql.js copies the image and leaves the caller's alone.
      assert.equal(copied, before);
      // Other slices of a handed-over image are ordinary copies.
      const part = image.slice(0, 16);
      part[0] = 0;
      assert.is(image[0], "S".charCodeAt(0));
    } finally {
      owning.close();
      copying.close();
    }
  });
}

test("sql.js's debug build, whose imports keep their real names, is recognised too", async () => {
  const { default: initDebug } = await import("sql.js/dist/sql-wasm-debug.js");
  const capture = await (await initWithCapture(
    initDebug as unknown as InitSqlJs,
    { useOldExtensionFunctions: false, print: () => {}, printErr: () => {} },
    readFileSync(new URL("sql-wasm-debug.wasm", import.meta.resolve("sql.js"))),
  )).probe();
  if (typeof capture === "string") throw new Error(capture);
  const release = await (await loadCapturedSqlJs()).probe() as PageCapture;
  assert.not.equal(capture.imports.write, release.imports.write, "another build, other names");
  assert.match(capture.imports.write, "fd_write");
  assert.match(capture.imports.seek, "fd_seek");
});

test("sameDatabase() sets aside only the backup API's header fields and free-list leaves", async () => {
  const { sql } = await captureOf(builds[0][1]);
  const db = open(sql);
  db.exec("CREATE TABLE t (v); INSERT INTO t VALUES (randomblob(20000)); DELETE FROM t");
  const image = db.export();
  db.close();
  assert.ok(new DataView(image.buffer).getUint32(32) > 0, "the DELETE left a free list");
  const changed = (at: number) => {
    const copy = image.slice();
    copy[at] ^= 0xff;
    return sameDatabase(image, copy);
  };
  assert.is(changed(25), true, "change counter");
  assert.is(changed(41), true, "schema cookie");
  assert.is(changed(95), true, "version-valid-for");
  assert.is(changed(20), false, "reserved bytes per page");
  assert.is(changed(60), false, "user version");
  const trunk = new DataView(image.buffer).getUint32(32);
  assert.is(changed((trunk - 1) * 4096 + 4), false, "the trunk page's leaf count");
  const firstLeaf = new DataView(image.buffer).getUint32((trunk - 1) * 4096 + 8);
  assert.is(changed((firstLeaf - 1) * 4096 + 100), true, "a free-list leaf's contents");
});

test("DB_ROUTER_PAGE_CAPTURE=off turns the capture off; anything else leaves it on", () => {
  assert.is(pageCaptureWanted("off"), false);
  assert.is(pageCaptureWanted(" OFF "), false);
  assert.is(pageCaptureWanted(undefined), true);
  assert.is(pageCaptureWanted("on"), true);
});

test.run();
