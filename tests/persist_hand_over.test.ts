/**
 * Issue 14, item 2 (no second copy): with the page capture, the image that
 * storage's `load()` returns becomes SQLite's in-memory file itself
 * (`src/persist/hand_over.ts`), so opening never holds two copies of the
 * database; without the capture, that image is the shadow that commits are
 * diffed against, and must stay as loaded.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { DEFAULT_DATABASE_OPTIONS, EngineDatabase } from "../src/engine/database.ts";
import { setPageCaptureEnabled } from "../src/persist/capture_switch.ts";
import { memoryStorage } from "../src/storage/memory.ts";
import type { StorageAdapter } from "../src/storage/types.ts";
import { ROOT, runScript } from "./_support/spawn.ts";
import { temporaryFolder } from "./_support/storage_fixtures.ts";

const CHILD = join(ROOT, "tests/_support/hand_over_pending_child.ts");

const test = suite("page capture: the loaded image is handed over");

test.after.each(() => setPageCaptureEnabled(undefined));

/** A stored database of 200 rows, and a memory adapter that remembers every image it loaded. */
async function storageWithImages(): Promise<{ storage: StorageAdapter; loaded: Uint8Array[] }> {
  const memory = memoryStorage();
  const source = new EngineDatabase(memory, "shared.db", DEFAULT_DATABASE_OPTIONS);
  await source.write((db) =>
    db.exec(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); " +
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) " +
        "INSERT INTO t (v) SELECT printf('row %d', i) FROM n",
    ), true);
  await source.close();
  const loaded: Uint8Array[] = [];
  const storage: StorageAdapter = {
    ...memory,
    async open(key) {
      const stored = await memory.open(key);
      return {
        ...stored,
        async load() {
          const result = await stored.load();
          if (result.image) loaded.push(result.image);
          return result;
        },
      };
    },
  };
  return { storage, loaded };
}

for (const capture of [true, false]) {
  const path = capture ? "page capture" : "export + diff";
  test(
    `${path}: a commit ${
      capture ? "writes into the loaded image" : "leaves the loaded image as it was"
    }, and a reopen reads it`,
    async () => {
      setPageCaptureEnabled(capture);
      const { storage, loaded } = await storageWithImages();
      const engine = new EngineDatabase(storage, "shared.db", DEFAULT_DATABASE_OPTIONS);
      try {
        await engine.ready();
        assert.is(engine.stats().commitPath, capture ? "page-capture" : "export-diff");
        assert.is(loaded.length, 1);
        const image = loaded[0];
        const before = image.slice();
        await engine.write((db) => db.exec("UPDATE t SET v = 'changed' WHERE id = 1"), true);
        if (capture) {
          // SQLite wrote into it: the engine made no copy of the database at open.
          assert.not.equal(image, before);
        } else {
          // It is the shadow that the next commit's diff starts from.
          assert.equal(image, before);
        }
        await engine.write((db) => db.exec("UPDATE t SET v = 'again' WHERE id = 2"), true);
      } finally {
        await engine.close();
      }
      const again = new EngineDatabase(storage, "shared.db", DEFAULT_DATABASE_OPTIONS);
      try {
        const rows = await again.read((db) =>
          db.exec("SELECT v FROM t WHERE id <= 3 ORDER BY id")[0].values
        );
        assert.equal(rows, [["changed"], ["again"], ["row 3"]]);
        assert.is(loaded.length, 2);
      } finally {
        await again.close();
      }
    },
  );
}

test("a database opened before the probe has run hands its image over too, and its first write settles it", async () => {
  const folder = temporaryFolder("dbr-hand-over-");
  try {
    const file = join(folder.dir, "image.db");
    execFileSync("sqlite3", [
      file,
      "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('marker-before')",
    ]);
    // A fresh process: the probe runs once per process, at its first write or catch-up.
    const child = await runScript(CHILD, { args: [file], timeoutMs: 120_000 });
    assert.is(child.code, 0, child.stderr);
    const report = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
    assert.is(report.probedAtOpen, false);
    assert.is(report.pathAtOpen, "pending");
    assert.is(report.markerFound, true);
    // SQLite read the loaded image itself: it was not copied at open.
    assert.is(report.readAfterChange, "marker-AFTER!");
    // The first write ran the probe and reloaded from storage, which never held the change.
    assert.is(report.pathAfterWrite, "page-capture");
    assert.is(report.loads, 2);
    assert.equal(report.rowsAfterWrite, ["marker-before", "written"]);
  } finally {
    folder.remove();
  }
});

test.run();
