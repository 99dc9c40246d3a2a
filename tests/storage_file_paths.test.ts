/**
 * Database paths in file storage: one file reached through symbolic links has
 * one key (one lock, one in-process database), also across real processes;
 * and a path that cannot be a database fails with a clear error.
 *
 * @module
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { RouterError } from "../src/errors.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { rejection, thrown } from "./_support/errors.ts";
import { BOTS_SCHEMA, startInserter } from "./_support/writers_spawn.ts";

const test = suite(`file storage (${RUNTIME}): paths`);
const folder = temporaryFolder(`paths-${RUNTIME}-`);
let counter = 0;
const newDir = () => {
  const dir = join(folder.dir, `case-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
test.after(folder.remove);

/** `dir/real/global.db`, a symlink `dir/link.db` to it and a symlinked folder `dir/linked`. */
function linkedPaths(dir: string) {
  const realDir = join(dir, "real");
  mkdirSync(realDir);
  const real = join(realDir, "global.db");
  writeFileSync(real, new Uint8Array(0));
  symlinkSync(real, join(dir, "link.db"));
  symlinkSync(realDir, join(dir, "linked"));
  return { real, fileLink: join(dir, "link.db"), viaFolder: join(dir, "linked", "global.db") };
}

test("a symlink to the file, or to a folder on the way, resolves to the real file", () => {
  const dir = newDir();
  const { real, fileLink, viaFolder } = linkedPaths(dir);
  const storage = fileStorageFor(RUNTIME);
  assert.is(storage.resolve(fileLink), real);
  assert.is(storage.resolve(viaFolder), real);
  // A file that does not exist yet, in a symlinked folder: the folder is resolved.
  assert.is(storage.resolve(join(dir, "linked", "new.db")), join(dir, "real", "new.db"));
  assert.is(storage.resolve(join(dir, "linked", "a", "b.db")), join(dir, "real", "a", "b.db"));
});

test("local and shared that are one file through a symlink are refused", () => {
  const dir = newDir();
  const { real, fileLink } = linkedPaths(dir);
  const error = thrown(() =>
    new DBRouter("alpha", fileLink, real, { storage: fileStorageFor(RUNTIME) })
  );
  assert.instance(error, TypeError);
  assert.match(error.message, "local and shared are both");
});

test("routers in one process reaching one file through a symlink share its database", async () => {
  const dir = newDir();
  const { real, fileLink } = linkedPaths(dir);
  const storage = fileStorageFor(RUNTIME);
  await using a = new DBRouter("a", join(dir, "a.db"), real, { storage });
  await using b = new DBRouter("b", join(dir, "b.db"), fileLink, { storage });
  assert.is(b.sharedPath, a.sharedPath);
  await a.getConnection("bots", "write").exec(BOTS_SCHEMA);
  await a.insert("bots", { name: "from-a", seq: 1 });
  // Same in-memory database: seen at once, whatever the read lag.
  const rows = await b.getConnection("bots").all("SELECT name FROM bots");
  assert.equal(rows, [{ name: "from-a" }]);
});

test("processes writing through a symlinked file, a symlinked folder and the real path lose nothing", async () => {
  const dir = newDir();
  const { real, fileLink, viaFolder } = linkedPaths(dir);
  const count = 100;
  const startAt = Date.now() + 3000;
  const writers = [["real", real], ["link", fileLink], ["folder", viaFolder]] as const;
  const children = writers.map(([menace, shared]) =>
    startInserter(RUNTIME, {
      menace,
      shared,
      local: join(dir, `local-${menace}.db`),
      count,
      start: startAt,
    })
  );
  await Promise.all(children.map((child) => child.waitFor((line) => line === "closed", 120_000)));
  for (const child of children) {
    const acknowledged = child.lines().filter((line) => line.startsWith("ok ")).length;
    assert.is(acknowledged, count);
  }
  await using reader = new DBRouter("reader", join(dir, "reader.db"), real, {
    storage: fileStorageFor(RUNTIME),
  });
  const rows = await reader.getConnection("bots").all<{ source_menace_id: string; n: number }>(
    "SELECT source_menace_id, count(DISTINCT seq) AS n FROM bots GROUP BY source_menace_id ORDER BY 1",
  );
  assert.equal(rows, [
    { source_menace_id: "folder", n: count },
    { source_menace_id: "link", n: count },
    { source_menace_id: "real", n: count },
  ]);
});

test("a directory given as a database path fails at ready() with DATABASE_OPEN_FAILED and the path", async () => {
  const dir = newDir();
  const shared = join(dir, "shared.db");
  mkdirSync(shared);
  const router = new DBRouter("alpha", join(dir, "local.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  try {
    const error = await rejection(() => router.ready());
    assert.instance(error, RouterError);
    assert.is((error as RouterError).code, "DATABASE_OPEN_FAILED");
    assert.match(error.message, `"${shared}"`);
    assert.match(error.message, "is a directory");
  } finally {
    await router.close();
  }
});

test("a database path whose parent is a file fails at ready() with DATABASE_OPEN_FAILED", async () => {
  const dir = newDir();
  const file = join(dir, "plain.txt");
  writeFileSync(file, "not a folder");
  const local = join(file, "local.db");
  const router = new DBRouter("alpha", local, join(dir, "shared.db"), {
    storage: fileStorageFor(RUNTIME),
  });
  try {
    const error = await rejection(() => router.ready());
    assert.instance(error, RouterError);
    assert.is((error as RouterError).code, "DATABASE_OPEN_FAILED");
    assert.match(error.message, `"${local}"`);
  } finally {
    await router.close();
  }
});

test("the storage adapter's open() reports a directory before anything reads it", async () => {
  const dir = newDir();
  const error = await rejection(() => fileStorageFor(RUNTIME).open(dir));
  assert.instance(error, RouterError);
  assert.is((error as RouterError).code, "DATABASE_OPEN_FAILED");
  assert.match(error.message, dir);
});

test.run();
