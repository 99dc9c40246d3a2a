/**
 * `syncSharedDb()` and `db-router sync` into a remote shared database:
 * queued records land in libSQL once, refused ones in the failed file. D1 has
 * its own file, `queue_d1.test.ts`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  d1Backend,
  type D1Database,
  DBRouter,
  libsqlBackend,
  QueueSync,
  syncSharedDb,
} from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`sync into a remote shared database (${RUNTIME})`);
const folder = temporaryFolder(`remote-sync-${RUNTIME}-`);
let counter = 0;
let dir = "";
let url = "";
let queueDir = "";

test.before.each(async () => {
  dir = join(folder.dir, `case-${++counter}`);
  url = pathToFileURL(join(folder.dir, `shared-${counter}.db`)).href;
  queueDir = join(dir, "queue");
  const raw = createClient({ url });
  await raw.execute(
    "CREATE TABLE telemetry (id INTEGER PRIMARY KEY, event TEXT, source_menace_id TEXT)",
  );
  raw.close();
});
test.after(folder.remove);

/** Queues `events` as `menace`, on a router whose own shared side is local sql.js. */
async function queue(menace: string, events: string[], table = "telemetry"): Promise<void> {
  await using router = new DBRouter(menace, join(dir, `${menace}.db`), join(dir, "s.db"), {
    storage: fileStorageFor(RUNTIME),
    queueDir,
  });
  for (const event of events) await router.queueWrite(table, { event });
}

async function rows(): Promise<string[]> {
  const raw = createClient({ url });
  const result = await raw.execute(
    "SELECT source_menace_id || ':' || event AS row FROM telemetry ORDER BY id",
  );
  raw.close();
  return result.rows.map((r) => String(r[0]));
}

test("syncSharedDb() applies queued records to libSQL once, however often it runs", async () => {
  await queue("alpha", ["a1", "a2"]);
  await queue("beta", ["b1"]);
  const options = { backend: libsqlBackend({ url }), queueDir, storage: fileStorageFor(RUNTIME) };
  const report = await syncSharedDb(options);
  assert.equal(report, { files: 2, applied: 3, duplicates: 0, failed: 0 });
  assert.equal((await rows()).sort(), ["alpha:a1", "alpha:a2", "beta:b1"]);
  assert.equal(await syncSharedDb(options), { files: 0, applied: 0, duplicates: 0, failed: 0 });
  assert.is((await rows()).length, 3);
});

test("a record for a table missing from libSQL goes to the failed file with its reason", async () => {
  await queue("alpha", ["kept"]);
  await queue("alpha", ["lost"], "errors");
  const report = await syncSharedDb({
    backend: libsqlBackend({ url }),
    queueDir,
    storage: fileStorageFor(RUNTIME),
  });
  assert.equal([report.applied, report.failed], [1, 1]);
  const failed = readFileSync(join(queueDir, "failed", "alpha.jsonl"), "utf8");
  assert.match(failed, /table \\"errors\\" does not exist in the shared database/);
  assert.equal(await rows(), ["alpha:kept"]);
});

test("db-router sync --db-url, or DB_ROUTER_SHARED_URL, targets libSQL", async () => {
  const io = {
    out: (t: string) => void (out += t),
    err: (t: string) => void (err += t),
    interactive: false,
  };
  let out = "";
  let err = "";
  await queue("alpha", ["cli"]);
  assert.is(await main(["sync", "--once", "--db-url", url, "--queue-dir", queueDir], io), 0, err);
  assert.match(out, "synced 1 file(s): 1 applied");
  await queue("beta", ["env"]);
  const before = process.env.DB_ROUTER_SHARED_URL;
  process.env.DB_ROUTER_SHARED_URL = url;
  try {
    assert.is(await main(["sync", "--once", "--queue-dir", queueDir], io), 0, err);
  } finally {
    if (before === undefined) delete process.env.DB_ROUTER_SHARED_URL;
    else process.env.DB_ROUTER_SHARED_URL = before;
  }
  assert.equal(await rows(), ["alpha:cli", "beta:env"]);
  const usage = (args: string[]) => main(["sync", "--once", ...args], io);
  assert.is(await usage(["--db-url", "shared.db"]), 2);
  assert.is(await usage(["--db-url", url, "--db-path", "x.db"]), 2);
});

test("a D1 backend is taken (synced by atomic batches, tests/queue_d1.test.ts) without any I/O until run()", () => {
  const fake = { prepare: () => assert.unreachable(), batch: () => assert.unreachable() };
  const sync = new QueueSync({ backend: d1Backend(fake as unknown as D1Database), queueDir });
  assert.is(sync.dbPath, "d1:DB");
});

test.run();
