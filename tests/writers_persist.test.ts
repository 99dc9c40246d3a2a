/**
 * What a write costs in storage: a row change commits, a statement that
 * changes no row commits nothing (no export, no page diff), and changes made
 * only by triggers are still persisted.
 *
 * @module
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`many writers (${RUNTIME}): what a write persists`);
const folder = temporaryFolder(`persist-${RUNTIME}-`);
let counter = 0;
let shared = "";
let router: DBRouter;

test.before.each(async () => {
  const dir = join(folder.dir, `case-${++counter}`);
  shared = join(dir, "global.db");
  router = new DBRouter("alpha", join(dir, "local.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  await router.getConnection("bots", "write").exec(`
    CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT UNIQUE, source_menace_id TEXT);
    CREATE TABLE audit (note TEXT);
    CREATE VIEW bot_names AS SELECT name FROM bots;
    CREATE TRIGGER add_bot INSTEAD OF INSERT ON bot_names BEGIN
      INSERT INTO bots (name, source_menace_id) VALUES (NEW.name, 'alpha');
    END;
    CREATE TRIGGER note_rename AFTER UPDATE ON bots BEGIN
      INSERT INTO audit VALUES ('renamed ' || NEW.name);
    END;
    CREATE TABLE tags (id INTEGER PRIMARY KEY, tag TEXT);
    CREATE TRIGGER note_tag BEFORE INSERT ON tags BEGIN
      INSERT INTO audit VALUES ('tag ' || NEW.tag);
    END;
    INSERT INTO bots (id, name, source_menace_id) VALUES (1, 'one', 'alpha');`);
});
test.after.each(() => router.close());
test.after(folder.remove);

const commits = () => router.storageStats().shared.commits;

/** What a new process would read. */
async function onDisk(sql: string): Promise<unknown[]> {
  await using reader = new DBRouter("reader", join(folder.dir, `r${counter}.db`), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  return await reader.getConnection("bots").all(sql);
}

test("an INSERT, UPDATE or DELETE that changes no row commits nothing", async () => {
  const bots = router.getConnection("bots", "write");
  const before = commits();
  assert.is((await bots.run("UPDATE bots SET name = 'x' WHERE id = 99")).changes, 0);
  assert.is((await bots.run("DELETE FROM bots WHERE id = 99")).changes, 0);
  assert.is((await bots.run("INSERT OR IGNORE INTO bots (id, name) VALUES (1, 'dup')")).changes, 0);
  assert.is(
    (await bots.run("INSERT INTO bots (id, name) VALUES (1, 'dup') ON CONFLICT DO NOTHING"))
      .changes,
    0,
  );
  assert.is(commits(), before);
  await bots.run("UPDATE bots SET name = 'uno' WHERE id = 1");
  assert.is(commits(), before + 1);
  assert.equal(await onDisk("SELECT name FROM bots"), [{ name: "uno" }]);
});

test("rows changed by triggers are persisted, even where the statement's own table is a view", async () => {
  const bots = router.getConnection("bots", "write");
  const before = commits();
  await bots.run("INSERT INTO bot_names (name) VALUES ('two')");
  await bots.run("UPDATE bots SET name = 'one again' WHERE id = 1");
  assert.is(commits(), before + 2);
  assert.equal(await onDisk("SELECT name FROM bots ORDER BY id"), [
    { name: "one again" },
    { name: "two" },
  ]);
  assert.equal(await onDisk("SELECT note FROM audit"), [{ note: "renamed one again" }]);
});

test("an ignored insert whose BEFORE trigger changed rows is persisted", async () => {
  const bots = router.getConnection("bots", "write");
  await bots.run("INSERT INTO tags VALUES (1, 'first')");
  const before = commits();
  // The row itself is ignored (changes 0), but its trigger wrote to audit first.
  assert.is((await bots.run("INSERT OR IGNORE INTO tags VALUES (1, 'again')")).changes, 0);
  assert.is(commits(), before + 1);
  assert.equal(await onDisk("SELECT note FROM audit"), [
    { note: "tag first" },
    { note: "tag again" },
  ]);
});

test("a schema statement is persisted even though it changes no row", async () => {
  const bots = router.getConnection("bots", "write");
  await bots.run("CREATE INDEX bots_source ON bots (source_menace_id)");
  await bots.run("PRAGMA user_version = 7");
  assert.equal(await onDisk("SELECT name FROM sqlite_master WHERE name = 'bots_source'"), [
    { name: "bots_source" },
  ]);
  assert.equal(await onDisk("PRAGMA user_version"), [{ user_version: 7 }]);
});

test.run();
