/**
 * `_dbrouter_applied` retention: a hash is kept while a second copy of its
 * line could still be queued, then forgotten, so the table stays bounded over
 * many passes. Days pass on an injected clock, not in real time.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { QueueSync, type SyncOptions, syncSharedDb } from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { SYNC_SCHEMA } from "../src/queue/apply.ts";
import { encodeRecord } from "../src/queue/record.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { thrown } from "./_support/errors.ts";

const test = suite(`queue retention (${RUNTIME})`);
const folder = temporaryFolder(`queue-retention-${RUNTIME}-`);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse("2030-01-01T00:00:00.000Z");
let counter = 0;
let shared = "";
let queueDir = "";
let now = START;

test.before.each(() => {
  const dir = join(folder.dir, `case-${++counter}`);
  shared = join(dir, "shared", "global.db");
  queueDir = join(dir, "shared", "queue");
  mkdirSync(queueDir, { recursive: true });
  now = START;
  sql("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, source_menace_id TEXT)");
});
test.after(folder.remove);

function sql(statement: string): string {
  return execFileSync("sqlite3", [shared, statement], { encoding: "utf8" }).trim();
}

const sync = (options: SyncOptions = {}) =>
  syncSharedDb({
    dbPath: shared,
    queueDir,
    storage: fileStorageFor(RUNTIME),
    clock: () => now,
    ...options,
  });

/** Queues `count` new records of alpha (as its router would) and returns their lines. */
async function queue(count: number, tag: string): Promise<string> {
  const lines = await Promise.all(
    Array.from({ length: count }, (_, seq) => encodeRecord("bots", { name: tag, seq }, "alpha")),
  );
  const text = lines.map((line) => line + "\n").join("");
  appendFileSync(join(queueDir, "alpha.jsonl"), text);
  return text;
}

const appliedCount = () => Number(sql("SELECT count(*) FROM _dbrouter_applied"));

test("a line queued again inside the retention is skipped; after it, its hash is gone", async () => {
  const lines = await queue(5, "first");
  assert.equal(await sync(), { files: 1, applied: 5, duplicates: 0, failed: 0 });
  // Daily passes for six days, with other records: the first hashes stay.
  for (let day = 1; day <= 6; day++) {
    now = START + day * DAY;
    await queue(2, `day-${day}`);
    await sync();
  }
  // The same lines reach the queue again (an append that raced a claim, repeated in the next file).
  appendFileSync(join(queueDir, "alpha.jsonl"), lines);
  now = START + 6 * DAY + HOUR;
  assert.equal(await sync(), { files: 1, applied: 0, duplicates: 5, failed: 0 });
  assert.is(sql("SELECT count(*) FROM bots WHERE name = 'first'"), "5");
  // Past 7 days, the pass forgets them: the table holds the last 7 days only.
  now = START + 7 * DAY + 2 * HOUR;
  await queue(1, "day-7");
  await sync();
  assert.is(
    sql("SELECT count(*) FROM _dbrouter_applied WHERE applied_at < '2030-01-02'"),
    "0",
    "the hashes of day 0 are forgotten",
  );
  assert.is(appliedCount(), 13, "the records of days 1 to 7 are kept");
});

test("the table's size is flat over many passes: it holds the retention's worth of hashes", async () => {
  const sizes: number[] = [];
  // 4 passes a day for 20 days, 25 records each, retention 3 days.
  for (let pass = 0; pass < 80; pass++) {
    now = START + pass * 6 * HOUR;
    await queue(25, `pass-${pass}`);
    await sync({ appliedRetentionDays: 3 });
    sizes.push(appliedCount());
  }
  assert.is(sql("SELECT count(*) FROM bots"), String(80 * 25), "every record was applied");
  // After 3 days the table holds 3 days of passes (12, plus the one applied now).
  const settled = sizes.slice(13);
  assert.equal(new Set(settled), new Set([13 * 25]), `sizes after day 3: ${settled.join(" ")}`);
  assert.ok(sizes[5] === 6 * 25, "before the retention, nothing is forgotten");
});

test("a kept-open sync forgets at most once an hour, also in passes that find nothing", async () => {
  const sync = new QueueSync({
    dbPath: shared,
    queueDir,
    storage: fileStorageFor(RUNTIME),
    clock: () => now,
    appliedRetentionDays: 1,
  });
  try {
    await queue(10, "kept");
    await sync.run();
    now = START + DAY + 30 * 60_000;
    await sync.run(); // nothing queued, but the database is open: it forgets the day-old hashes
  } finally {
    await sync.close();
  }
  assert.is(appliedCount(), 0);
});

test("a pass that leaves a claimed file from before it unfinished forgets nothing", async () => {
  await queue(4, "old");
  assert.equal((await sync()).applied, 4);
  // A claimed file that another sync is further into (its progress is past the file's end):
  // this pass cannot finish it, and it could hold second copies of old lines.
  const stuck = "alpha.001893456000000-0000000a.jsonl";
  mkdirSync(join(queueDir, "processing"), { recursive: true });
  appendFileSync(join(queueDir, "processing", stuck), await queue(2, "stuck"));
  rmSync(join(queueDir, "alpha.jsonl"));
  sql(SYNC_SCHEMA);
  sql(`INSERT INTO _dbrouter_sync_progress VALUES ('${stuck}', 9, 0, '2030-01-01T00:00:00.000Z')`);
  now = START + 10 * DAY;
  await sync();
  assert.is(appliedCount(), 4, "kept while an older claimed file is unfinished");
  rmSync(join(queueDir, "processing", stuck));
  now += HOUR;
  await queue(1, "new");
  await sync();
  assert.is(appliedCount(), 1, "forgotten once no claimed file is left: the new hash is kept");
});

test("a file that another sync claimed after the pass began and has not finished also keeps the hashes", async () => {
  await queue(4, "old");
  assert.equal((await sync()).applied, 4);
  now = START + 10 * DAY;
  // Claimed (by another sync) an hour after this pass's clock reading, and further along there.
  const later = `alpha.${String(now + HOUR).padStart(15, "0")}-0000000c.jsonl`;
  mkdirSync(join(queueDir, "processing"), { recursive: true });
  appendFileSync(join(queueDir, "processing", later), await queue(2, "later"));
  rmSync(join(queueDir, "alpha.jsonl"));
  sql(`INSERT INTO _dbrouter_sync_progress VALUES ('${later}', 9, 0, '2030-01-11T00:00:00.000Z')`);
  await sync();
  assert.is(appliedCount(), 4, "kept while a claimed file it found is unfinished");
});

test("finished files' progress rows are kept for the progress retention, then forgotten: flat over many passes", async () => {
  const rows = () => Number(sql("SELECT count(*) FROM _dbrouter_sync_progress"));
  const sizes: number[] = [];
  // A pass every 2 hours for 3 days, one claimed file each; progress kept half a day (6 passes).
  for (let pass = 0; pass < 36; pass++) {
    now = START + pass * 2 * HOUR;
    await queue(3, `pass-${pass}`);
    await sync({ progressRetentionDays: 0.5 });
    sizes.push(rows());
  }
  assert.is(sql("SELECT count(*) FROM bots"), String(36 * 3), "every record was applied");
  // A row finished 12 hours ago or less is kept: this pass's and the 6 before it.
  const settled = sizes.slice(7);
  assert.equal(new Set(settled), new Set([7]), `rows after half a day: ${settled.join(" ")}`);
  assert.equal(
    sizes.slice(0, 7),
    [1, 2, 3, 4, 5, 6, 7],
    "before the retention, nothing is forgotten",
  );
  // The default keeps a day: 13 hours after the last pass, the 6 passes 13 to 23 hours ago keep
  // their rows (half a day would keep none of them).
  now += 13 * HOUR;
  await queue(1, "default");
  await sync();
  assert.is(rows(), 7, "the 6 kept rows (of the passes 13 to 23 hours ago) and this pass's");
});

test("a bad retention is refused: RangeError from code, exit code 2 from the command line", async () => {
  for (const days of [0, -1, Number.NaN, Infinity]) {
    const error = thrown(() =>
      new QueueSync({ dbPath: shared, queueDir, appliedRetentionDays: days })
    );
    assert.instance(error, RangeError);
    assert.match(error.message, `Invalid applied retention ${days} days`);
    const progress = thrown(() =>
      new QueueSync({ dbPath: shared, queueDir, progressRetentionDays: days })
    );
    assert.instance(progress, RangeError);
    assert.match(progress.message, `Invalid progress retention ${days} days`);
  }
  let err = "";
  const io = { out: () => {}, err: (text: string) => (err += text), interactive: false };
  assert.is(await main(["sync", "--applied-retention-days", "0"], io), 2);
  assert.is(await main(["sync", "--applied-retention-days", "soon"], io), 2);
  assert.match(err, 'Invalid --applied-retention-days "soon"');
  assert.is(await main(["sync", "--progress-retention-days", "never"], io), 2);
  assert.match(err, 'Invalid --progress-retention-days "never": expected a number of days above 0');
});

test("db-router sync --progress-retention-days forgets finished files' rows after that long", async () => {
  const rows = () => Number(sql("SELECT count(*) FROM _dbrouter_sync_progress"));
  const io = { out: () => {}, err: () => {}, interactive: false };
  const pass = (...flags: string[]) =>
    main(["sync", "--once", "--db-path", shared, "--queue-dir", queueDir, ...flags], io);
  await queue(2, "first");
  assert.is(await pass(), 0);
  await queue(2, "second");
  assert.is(await pass(), 0);
  assert.is(rows(), 2, "the default (a day) keeps both finished files' rows");
  // 0.00001 days is 0.864 s: wait past it, and the next pass forgets the two older rows.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await queue(2, "third");
  assert.is(await pass("--progress-retention-days", "0.00001"), 0);
  assert.is(rows(), 1, "only the row of the file this pass finished is left");
  assert.is(sql("SELECT count(*) FROM bots"), "6", "every record was applied");
});

test.run();
