/**
 * `QueueSync` into Cloudflare D1 (Miniflare's `workerd`): each batch is one
 * atomic `batch()` with its hashes and progress, so records land once, refused
 * ones go to the failed file with their reason, two syncs at once apply each
 * record once, and a sync killed in the middle (its process and `workerd`,
 * SIGKILL) is resumed by the next without a record applied twice or lost.
 *
 * @module
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { d1Backend, type D1Database, DBRouter, memoryStorage, QueueSync } from "../mod.ts";
import { encodeRecord } from "../src/queue/record.ts";
import { runCli } from "./_support/cli_io.ts";
import { codeOf } from "./_support/errors.ts";
import { startChild } from "./_support/spawn.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`QueueSync into D1 (Miniflare, tests in ${RUNTIME})`);
const folder = temporaryFolder(`queue-d1-${RUNTIME}-`);
const TELEMETRY =
  "CREATE TABLE telemetry (id INTEGER PRIMARY KEY, event TEXT CHECK (event <> 'refused'), seq INTEGER, source_menace_id TEXT)";
let counter = 0;
let dir = "";
let queueDir = "";
let miniflare: Miniflare | undefined;
let db: D1Database;

function startMiniflare(persist?: string): Miniflare {
  return new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
    compatibilityDate: "2025-09-01",
    d1Databases: { DB: "sync-target" },
    ...(persist !== undefined && { d1Persist: persist }),
  });
}

test.before.each(async () => {
  dir = join(folder.dir, `case-${++counter}`);
  queueDir = join(dir, "queue");
  miniflare = startMiniflare();
  db = (await miniflare.getD1Database("DB")) as D1Database;
  await db.prepare(TELEMETRY).run();
});
test.after.each(async () => {
  await miniflare?.dispose();
  miniflare = undefined;
});
test.after(folder.remove);

/** Queues `events` as `menace` (`seq` 1, 2, ...), on a router whose own shared side is sql.js. */
async function queue(menace: string, events: string[], table = "telemetry"): Promise<void> {
  await using router = new DBRouter(menace, join(dir, `${menace}.db`), join(dir, "s.db"), {
    storage: fileStorageFor(RUNTIME),
    queueDir,
  });
  for (let at = 0; at < events.length; at += 200) {
    await Promise.all(
      events.slice(at, at + 200).map((event, i) =>
        router.queueWrite(table, { event, seq: at + i + 1 })
      ),
    );
  }
}

async function rows(target: D1Database = db): Promise<string[]> {
  const { results = [] } = await target.prepare(
    "SELECT source_menace_id || ':' || event AS row FROM telemetry ORDER BY id",
  ).all();
  return results.map((r) => String(r.row));
}

function sync(options: { batchSize?: number; name?: string } = {}): QueueSync {
  return new QueueSync({
    backend: d1Backend(db, { name: options.name }),
    queueDir,
    storage: fileStorageFor(RUNTIME),
    batchSize: options.batchSize,
  });
}

async function runOnce(options: { batchSize?: number; name?: string } = {}) {
  const s = sync(options);
  try {
    return await s.run();
  } finally {
    await s.close();
  }
}

test("records land in D1 once, however often the sync runs, and the queue files are deleted", async () => {
  await queue("alpha", ["a1", "a2", "a3"]);
  await queue("beta", ["b1"]);
  assert.equal(await runOnce({ batchSize: 2 }), { files: 2, applied: 4, duplicates: 0, failed: 0 });
  assert.equal((await rows()).sort(), ["alpha:a1", "alpha:a2", "alpha:a3", "beta:b1"]);
  assert.equal(await runOnce(), { files: 0, applied: 0, duplicates: 0, failed: 0 });
  assert.is((await rows()).length, 4);
  assert.equal(readdirSync(join(queueDir, "processing")), []);
  const progress = await db.prepare("SELECT lines, done FROM _dbrouter_sync_progress ORDER BY file")
    .all();
  assert.equal(progress.results, [{ lines: 3, done: 1 }, { lines: 1, done: 1 }]);
});

test("values keep their types through the batched insert: INTEGER, REAL, TEXT, 1 for true, NULL", async () => {
  await using router = new DBRouter("alpha", join(dir, "alpha.db"), join(dir, "s.db"), {
    storage: fileStorageFor(RUNTIME),
    queueDir,
  });
  await router.queueWrite("telemetry", { event: "int", seq: 3 });
  await router.queueWrite("telemetry", { event: "real", seq: 2.5 });
  await router.queueWrite("telemetry", { event: "text", seq: "7" });
  await router.queueWrite("telemetry", { event: "bool", seq: true });
  await router.queueWrite("telemetry", { event: null, seq: null });
  await router.flush();
  assert.equal(await runOnce(), { files: 1, applied: 5, duplicates: 0, failed: 0 });
  const { results } = await db.prepare(
    "SELECT event, seq, typeof(seq) AS type FROM telemetry ORDER BY id",
  ).all();
  // seq is an INTEGER column: "7" becomes 7 by affinity, as with a bound value.
  assert.equal(results, [
    { event: "int", seq: 3, type: "integer" },
    { event: "real", seq: 2.5, type: "real" },
    { event: "text", seq: 7, type: "integer" },
    { event: "bool", seq: 1, type: "integer" },
    { event: null, seq: null, type: "null" },
  ]);
});

test("a line queued twice, in one file or in a later one, inserts once and counts as a duplicate", async () => {
  await queue("alpha", ["once"]);
  const file = join(queueDir, "alpha.jsonl");
  const line = readFileSync(file, "utf8").trim();
  appendFileSync(file, `${line}\n`);
  assert.equal(await runOnce(), { files: 1, applied: 1, duplicates: 1, failed: 0 });
  appendFileSync(file, `${line}\n`); // the same record again, in the instance's next queue file
  assert.equal(await runOnce(), { files: 1, applied: 0, duplicates: 1, failed: 0 });
  assert.equal(await rows(), ["alpha:once"]);
});

test("refused records go to the failed file with their reason; the rest of their batch is applied", async () => {
  await queue("alpha", ["ok1", "refused", "ok2"]); // 'refused' breaks the table's CHECK in D1
  // A router refuses to queue a denied table: a line written by hand (with a true hash) is the test.
  const denied = await encodeRecord("capital_ledger", { event: "denied" }, "alpha");
  await queue("alpha", ["missing"], "errors");
  const file = join(queueDir, "alpha.jsonl");
  const edited = readFileSync(file, "utf8").trim().split("\n")[0].replace("ok1", "forged");
  appendFileSync(file, `${edited}\nnot json\n${denied}\n`);
  const report = await runOnce({ batchSize: 50 });
  assert.equal(report, { files: 1, applied: 2, duplicates: 0, failed: 5 });
  assert.equal(await rows(), ["alpha:ok1", "alpha:ok2"]);
  const failed = readFileSync(join(queueDir, "failed", "alpha.jsonl"), "utf8").trim().split("\n")
    .map((l) => JSON.parse(l).reason as string);
  assert.is(failed.length, 5);
  assert.match(failed.join("\n"), /CHECK constraint failed/);
  assert.match(failed.join("\n"), /capital_ledger/);
  assert.match(failed.join("\n"), /table "errors" does not exist in the shared database/);
  assert.match(failed.join("\n"), /hash does not match/);
  assert.match(failed.join("\n"), /bad JSON/);
  // Nothing refused reached D1: no capital_ledger table, no forged row, no hash of a refused record.
  const applied = await db.prepare("SELECT count(*) AS n FROM _dbrouter_applied").first();
  assert.equal(applied, { n: 2 });
});

test("two syncs at once (no lock between them: two bindings) apply each record once", async () => {
  await queue("alpha", Array.from({ length: 120 }, (_, i) => `a${i}`));
  await queue("beta", Array.from({ length: 80 }, (_, i) => `b${i}`));
  const reports = await Promise.all([
    runOnce({ batchSize: 7, name: "ONE" }),
    runOnce({ batchSize: 11, name: "TWO" }),
  ]);
  const all = await rows();
  assert.is(all.length, 200);
  assert.is(new Set(all).size, 200);
  assert.is(reports[0].applied + reports[1].applied, 200);
  assert.is(reports[0].failed + reports[1].failed, 0);
});

test("a sync killed mid-pass (its process and workerd, SIGKILL) is resumed: every record once", async () => {
  const total = 600;
  await queue("alpha", Array.from({ length: total }, (_, i) => `e${i}`));
  const persist = join(dir, "d1");
  const setup = startMiniflare(persist);
  await ((await setup.getD1Database("DB")) as D1Database).prepare(TELEMETRY).run();
  await setup.dispose();
  const child = startChild(RUNTIME, "tests/_support/d1_sync_child.ts", [persist, queueDir, "2"]);
  await child.waitFor((line) => line === "batch 5", 120_000);
  const descendants = descendantsOf(child.pid);
  child.kill("SIGKILL");
  for (const pid of descendants) killQuietly(pid);
  const exited = await child.exited;
  assert.is(exited.signal, "SIGKILL", exited.output);
  assert.not.ok(child.lines().some((line) => line.startsWith("pass")), "killed before the end");

  const resumed = startMiniflare(persist);
  try {
    const target = (await resumed.getD1Database("DB")) as D1Database;
    const before = (await rows(target)).length;
    assert.ok(before >= 10 && before < total, `interrupted part-way: ${before} of ${total}`);
    const s = new QueueSync({
      backend: d1Backend(target),
      queueDir,
      storage: fileStorageFor(RUNTIME),
      batchSize: 64,
    });
    const report = await s.run();
    await s.close();
    assert.is(report.failed, 0);
    assert.is(report.applied, total - before);
    const all = await rows(target);
    assert.is(all.length, total);
    assert.equal(new Set(all), new Set(Array.from({ length: total }, (_, i) => `alpha:e${i}`)));
  } finally {
    await resumed.dispose();
  }
});

test("db-router sync --d1-local applies queued records to a D1 database Miniflare keeps in a folder", async () => {
  await queue("alpha", ["c1", "c2"]);
  const persist = join(dir, "d1-cli");
  const setup = startMiniflare(persist);
  await ((await setup.getD1Database("DB")) as D1Database).prepare(TELEMETRY).run();
  await setup.dispose();
  const args = ["sync", "--once", "--queue-dir", queueDir];
  const run = await runCli([...args, "--d1-local", persist, "--d1-database", "sync-target"]);
  assert.is(run.code, 0, run.err);
  assert.match(run.out, "synced 1 file(s): 2 applied");
  const after = startMiniflare(persist);
  try {
    assert.equal(await rows((await after.getD1Database("DB")) as D1Database), [
      "alpha:c1",
      "alpha:c2",
    ]);
  } finally {
    await after.dispose();
  }
  assert.is((await runCli([...args, "--d1-local", persist])).code, 2, "no --d1-database");
  assert.is((await runCli([...args, "--d1-database", "x"])).code, 2, "no --d1-local");
  const both = await runCli([
    ...args,
    "--d1-local",
    persist,
    "--d1-database",
    "x",
    "--db-path",
    "s.db",
  ]);
  assert.is(both.code, 2);
  assert.match(both.err, "--d1-local excludes --db-path and --db-url");
});

test("queueWrite() on a D1 router refuses a denied table before anything is queued", async () => {
  await using router = new DBRouter("alpha", join(dir, "alpha.db"), d1Backend(db), {
    storage: memoryStorage(),
    queueDir,
  });
  assert.is(codeOf(() => router.queueWrite("capital_ledger", { event: "x" })), "TABLE_DENIED");
  assert.not.ok(existsSync(queueDir), "nothing was queued");
});

/** The pids of `pid`'s descendants (workerd under Miniflare), read from /proc. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while the list was read.
    }
  }
  const found: number[] = [];
  const visit = (p: number) => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Ended with its parent.
  }
}

test.run();
