/**
 * `syncSharedDb()` and `db-router sync` in one process: records applied once,
 * bad records refused with their reason and never pasted into SQL, failed
 * records replayed, and the command line.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, memoryStorage, type SyncOptions, syncSharedDb } from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { SYNC_SCHEMA } from "../src/queue/apply.ts";
import { encodeRecord } from "../src/queue/record.ts";
import { fileStorage } from "../src/storage/file/adapter.ts";
import type { FileSystem } from "../src/storage/file/file_system.ts";
import {
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";
import { rejection } from "./_support/errors.ts";
import { ROOT, startChild } from "./_support/spawn.ts";

const test = suite(`queue sync (${RUNTIME})`);
const folder = temporaryFolder(`queue-sync-${RUNTIME}-`);
let counter = 0;
let dir = "";
let shared = "";
let queueDir = "";

const SCHEMA = `
CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL, seq INTEGER, source_menace_id TEXT);
CREATE TABLE telemetry (id INTEGER PRIMARY KEY, event TEXT, source_menace_id TEXT);
CREATE TABLE capital_ledger (id INTEGER PRIMARY KEY, amount REAL, source_menace_id TEXT);
CREATE TABLE errors (id INTEGER PRIMARY KEY, message TEXT);`;

test.before.each(() => {
  dir = join(folder.dir, `case-${++counter}`);
  shared = join(dir, "shared", "global.db");
  queueDir = join(dir, "shared", "queue");
  mkdirSync(join(dir, "shared"), { recursive: true });
  // The sqlite3 shell can create what the router refuses to touch (a denied table).
  sql(SCHEMA);
});
test.after(folder.remove);

function sql(statement: string): string {
  return execFileSync("sqlite3", [shared, statement], { encoding: "utf8" }).trim();
}

function rows<T>(statement: string): T[] {
  const out = execFileSync("sqlite3", ["-json", shared, statement], { encoding: "utf8" }).trim();
  return out === "" ? [] : JSON.parse(out);
}

const sync = (options: SyncOptions = {}) =>
  syncSharedDb({ dbPath: shared, queueDir, storage: fileStorageFor(RUNTIME), ...options });

function router(menace: string): DBRouter {
  return new DBRouter(menace, join(dir, `${menace}.db`), shared, {
    storage: fileStorageFor(RUNTIME),
    queueDir,
  });
}

function failedEntries(menace = "alpha"): { reason: string; line: string; from: string }[] {
  const file = join(queueDir, "failed", `${menace}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line));
}

/** Files left in the queue folder, as paths relative to it. */
function leftFiles(): string[] {
  return readdirSync(queueDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(queueDir.length + 1))
    .sort();
}

test("syncSharedDb() applies every queued record once, stamped with its instance, and deletes the claimed files", async () => {
  for (const menace of ["alpha", "beta", "gamma"]) {
    await using r = router(menace);
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => r.queueWrite("bots", { name: `${menace}-${i}`, seq: i }),
      ),
    );
  }
  assert.equal(leftFiles(), ["alpha.jsonl", "beta.jsonl", "gamma.jsonl"]);
  const report = await sync({ batchSize: 7 });
  assert.equal(report, { files: 3, applied: 120, duplicates: 0, failed: 0 });
  assert.equal(
    rows(
      "SELECT source_menace_id AS s, count(*) AS n, count(DISTINCT seq) AS d FROM bots GROUP BY 1",
    ),
    [{ s: "alpha", n: 40, d: 40 }, { s: "beta", n: 40, d: 40 }, { s: "gamma", n: 40, d: 40 }],
  );
  assert.equal(leftFiles(), []);
  assert.equal(await sync(), { files: 0, applied: 0, duplicates: 0, failed: 0 });
  assert.is(sql("SELECT count(*) FROM bots"), "120");
});

test("a record applied twice inserts once; the same data queued twice inserts twice", async () => {
  {
    await using r = router("alpha");
    await r.queueWrite("bots", { name: "same", seq: 1 });
    await r.queueWrite("bots", { name: "same", seq: 1 });
  }
  const lines = readFileSync(join(queueDir, "alpha.jsonl"), "utf8");
  assert.equal(await sync(), { files: 1, applied: 2, duplicates: 0, failed: 0 });
  // The same lines reach the queue again (a copy restored by hand, a retried append).
  appendFileSync(join(queueDir, "alpha.jsonl"), lines + lines);
  assert.equal(await sync(), { files: 1, applied: 0, duplicates: 4, failed: 0 });
  assert.is(sql("SELECT count(*) FROM bots WHERE name = 'same'"), "2");
});

test("a queue file naming a denied table goes to the failed file with its reason; the table stays empty", async () => {
  const denied = await encodeRecord("capital_ledger", { amount: 1e6 }, "alpha");
  const good = await encodeRecord("bots", { name: "fine", seq: 1 }, "alpha");
  mkdirSync(queueDir, { recursive: true });
  appendFileSync(join(queueDir, "alpha.jsonl"), `${denied}\n${good}\n`);
  assert.equal(await sync(), { files: 1, applied: 1, duplicates: 0, failed: 1 });
  const [entry] = failedEntries();
  assert.match(entry.reason, /capital_ledger.*DENY_TABLES/);
  assert.is(entry.line, denied);
  assert.match(entry.from, /^alpha\.\d{15}-[0-9a-f]{8}\.jsonl$/);
  assert.is(sql("SELECT count(*) FROM capital_ledger"), "0");
  assert.is(sql("SELECT name FROM bots"), "fine");
});

test("table and column names with injection attempts are refused and never reach SQL", async () => {
  const attempts = [
    await encodeRecord("bots; DROP TABLE bots; --", { name: "x" }, "alpha"),
    await encodeRecord('bots" (name) VALUES (1); DROP TABLE bots; --', { name: "x" }, "alpha"),
    await encodeRecord("bots", { 'name") VALUES (1); DROP TABLE telemetry; --': "x" }, "alpha"),
    await encodeRecord("bots", { "name, source_menace_id": "x" }, "alpha"),
  ];
  mkdirSync(queueDir, { recursive: true });
  appendFileSync(join(queueDir, "alpha.jsonl"), attempts.join("\n") + "\n");
  const schema = sql("SELECT group_concat(sql, ';') FROM sqlite_master");
  assert.equal(await sync(), { files: 1, applied: 0, duplicates: 0, failed: 4 });
  const reasons = failedEntries().map((entry) => entry.reason);
  assert.is(reasons.length, 4);
  for (const reason of reasons) assert.match(reason, "is not a plain SQL name");
  assert.equal(failedEntries().map((entry) => entry.line), attempts);
  assert.is(
    sql("SELECT group_concat(sql, ';') FROM sqlite_master WHERE name NOT LIKE '_dbrouter%'"),
    schema,
  );
  assert.is(sql("SELECT count(*) FROM bots"), "0");
});

test("every kind of bad record is refused with its reason while the good ones around it are applied", async () => {
  const valid = await encodeRecord("bots", { name: "tampered", seq: 1 }, "alpha");
  const tampered = JSON.stringify({ ...JSON.parse(valid), data: { name: "changed", seq: 1 } });
  const { hash: _, ...unhashed } = JSON.parse(await encodeRecord("bots", { name: "n" }, "alpha"));
  const cases: [string, RegExp][] = [
    ["{not json", /^bad JSON/],
    ["[1, 2]", /expected a JSON object/],
    [JSON.stringify(unhashed), /"hash" is missing/],
    [tampered, /hash does not match/],
    [await encodeRecord("made_up", { a: 1 }, "alpha"), /made_up.*unknown table/],
    [await encodeRecord("models", { a: 1 }, "alpha"), /"models" is a local table/],
    [await encodeRecord("code", { a: 1 }, "alpha"), /"code" does not exist in the shared database/],
    [await encodeRecord("bots", { colour: "red" }, "alpha"), /column "colour" does not exist/],
    [await encodeRecord("errors", { message: "m" }, "alpha"), /"errors" has no source_menace_id/],
    [await encodeRecord("bots", { name: "b" }, "beta"), /"beta" is not the queue file's instance/],
    [await encodeRecord("bots", { seq: 5 }, "alpha"), /NOT NULL constraint failed/],
    [await encodeRecord("bots", { name: { nested: 1 } } as never, "alpha"), /bad value/],
  ];
  const good = (i: number) => encodeRecord("bots", { name: `good-${i}`, seq: i }, "alpha");
  const lines: string[] = [];
  for (const [i, [line]] of cases.entries()) lines.push(await good(i), line);
  lines.push(await good(cases.length));
  mkdirSync(queueDir, { recursive: true });
  appendFileSync(join(queueDir, "alpha.jsonl"), lines.join("\n") + "\n");
  const report = await sync({ batchSize: 5 });
  assert.equal(report, {
    files: 1,
    applied: cases.length + 1,
    duplicates: 0,
    failed: cases.length,
  });
  const failed = failedEntries();
  assert.equal(failed.map((entry) => entry.line), cases.map(([line]) => line));
  for (const [i, [, reason]] of cases.entries()) assert.match(failed[i].reason, reason);
  assert.is(sql("SELECT count(*) FROM bots"), String(cases.length + 1));
  assert.is(sql("SELECT count(*) FROM bots WHERE name NOT LIKE 'good-%'"), "0");
});

test("replayFailed applies failed records whose cause was fixed and keeps the others failed once", async () => {
  const missing = await encodeRecord("code", { body: "x = 1" }, "alpha");
  const hopeless = await encodeRecord("bots", { colour: "red" }, "alpha");
  mkdirSync(queueDir, { recursive: true });
  appendFileSync(join(queueDir, "alpha.jsonl"), `${missing}\n${hopeless}\n`);
  assert.equal(await sync(), { files: 1, applied: 0, duplicates: 0, failed: 2 });
  assert.equal(
    await sync(),
    { files: 0, applied: 0, duplicates: 0, failed: 0 },
    "no retry by default",
  );
  sql("CREATE TABLE code (id INTEGER PRIMARY KEY, body TEXT, source_menace_id TEXT)");
  assert.equal(await sync({ replayFailed: true }), {
    files: 1,
    applied: 1,
    duplicates: 0,
    failed: 1,
  });
  assert.equal(rows("SELECT body, source_menace_id FROM code"), [
    { body: "x = 1", source_menace_id: "alpha" },
  ]);
  const failed = failedEntries();
  assert.is(failed.length, 1);
  assert.is(failed[0].line, hopeless, "the original line, not a wrapped entry");
  assert.match(failed[0].from, /\.replay\.jsonl$/);
});

test("db-router sync --replay-failed retries failed records; without it they stay failed", async () => {
  const missing = await encodeRecord("code", { body: "y = 2" }, "alpha");
  mkdirSync(queueDir, { recursive: true });
  appendFileSync(join(queueDir, "alpha.jsonl"), `${missing}\n`);
  let out = "";
  const io = { out: (t: string) => (out += t), err: () => {}, interactive: false };
  const args = ["sync", "--once", "--db-path", shared, "--queue-dir", queueDir];
  assert.is(await main(args, io), 0);
  assert.match(out, "synced 1 file(s): 0 applied, 0 already applied, 1 failed");
  sql("CREATE TABLE code (id INTEGER PRIMARY KEY, body TEXT, source_menace_id TEXT)");
  out = "";
  assert.is(await main(args, io), 0);
  assert.is(sql("SELECT count(*) FROM code"), "0", "no replay without the flag");
  assert.match(out, /^nothing to sync: no queued records in \S+\n$/, "a pass with nothing says so");
  out = "";
  assert.is(await main([...args, "--replay-failed"], io), 0);
  assert.match(out, "synced 1 file(s): 1 applied, 0 already applied, 0 failed");
  assert.is(sql("SELECT body FROM code"), "y = 2");
  assert.equal(failedEntries(), []);
});

test("a claimed file whose reading ends early is kept, not finished, and a later pass applies the rest", async () => {
  {
    await using r = router("alpha");
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => r.queueWrite("bots", { name: `early-${i}`, seq: i })),
    );
  }
  // A reader that stops after its first 16 KiB chunk, as a faulty stream would.
  const fs = fileSystemFor(RUNTIME);
  const short: FileSystem = {
    ...fs,
    async *readChunks(path) {
      for await (const chunk of fs.readChunks(path)) {
        yield chunk.subarray(0, Math.min(chunk.length, 16_384));
        return;
      }
    },
  };
  const error = await rejection(sync({ storage: fileStorage(short, "short", {}), batchSize: 10 }));
  assert.match(error.message, /reading ended after 16384 of its \d+ bytes/);
  assert.is(readdirSync(join(queueDir, "processing")).length, 1, "the claimed file is kept");
  const applied = Number(sql("SELECT count(*) FROM bots"));
  assert.ok(applied > 0 && applied < 300, `${applied} applied before the short read was noticed`);
  assert.equal(await sync(), { files: 1, applied: 300 - applied, duplicates: 0, failed: 0 });
  assert.is(sql("SELECT count(DISTINCT name) FROM bots"), "300");
});

test("syncSharedDb() works on memory storage too", async () => {
  const storage = memoryStorage();
  await using r = new DBRouter("alpha", "l.db", "shared/global.db", { storage });
  await r.getConnection("bots", "write").exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)",
  );
  await r.queueWrite("bots", { name: "in memory" });
  const report = await syncSharedDb({ dbPath: "shared/global.db", storage });
  assert.equal(report, { files: 1, applied: 1, duplicates: 0, failed: 0 });
  assert.equal(await r.getConnection("bots").all("SELECT name, source_menace_id FROM bots"), [
    { name: "in memory", source_menace_id: "alpha" },
  ]);
});

test("a claimed file left by a dead sync is resumed at the line its database records, or deleted if done", async () => {
  const lines = await Promise.all(
    [1, 2, 3, 4, 5].map((seq) => encodeRecord("bots", { name: `r${seq}`, seq }, "alpha")),
  );
  mkdirSync(join(queueDir, "processing"), { recursive: true });
  const half = "alpha.001700000000000-0000000a.jsonl";
  const done = "alpha.001700000000001-0000000b.jsonl";
  appendFileSync(join(queueDir, "processing", half), lines.join("\n") + "\n");
  appendFileSync(join(queueDir, "processing", done), lines.join("\n") + "\n");
  // What a sync killed after its first batches (3 lines, in batches of 1) of one file, and
  // after marking the other file done but before deleting it, leaves in the database.
  sql(SYNC_SCHEMA);
  sql(`INSERT INTO _dbrouter_sync_progress VALUES ('${half}', 3, 0, '2030-01-01T00:00:00.000Z')`);
  sql(`INSERT INTO _dbrouter_sync_progress VALUES ('${done}', 5, 1, '2030-01-01T00:00:00.000Z')`);
  // Batches of 4 here: the first one (lines 1-4) is resumed from line 4.
  assert.equal(await sync({ batchSize: 4 }), { files: 2, applied: 2, duplicates: 0, failed: 0 });
  assert.is(sql("SELECT group_concat(seq) FROM bots"), "4,5");
  assert.equal(leftFiles(), []);
});

test("db-router sync --once applies the queue and prints a summary; progress shows on a terminal for a large queue", async () => {
  {
    await using r = router("alpha");
    const padding = "p".repeat(200);
    await Promise.all(
      Array.from(
        { length: 6000 },
        (_, i) => r.queueWrite("telemetry", { event: `${i}${padding}` }),
      ),
    );
  }
  let out = "";
  let err = "";
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), interactive: true };
  const args = [
    "sync",
    "--once",
    "--db-path",
    shared,
    "--queue-dir",
    queueDir,
    "--batch-size",
    "200",
  ];
  assert.is(await main(args, io), 0, err);
  assert.match(out, "synced 1 file(s): 6000 applied, 0 already applied, 0 failed");
  assert.match(err, /\rsync: \d+% \([\d.]+ of [\d.]+ MB\), \d+ applied, 0 failed/);
  assert.is(sql("SELECT count(*) FROM telemetry"), "6000");
  {
    await using r = router("alpha");
    await r.queueWrite("telemetry", { event: "small" });
  }
  err = "";
  assert.is(await main(args, io), 0);
  assert.is(err, "", "no progress for a small queue");
});

test("db-router sync refuses bad flags with exit code 2", async () => {
  const io = { out: () => {}, err: () => {}, interactive: false };
  assert.is(await main(["sync", "--interval", "0"], io), 2);
  assert.is(await main(["sync", "--batch-size", "x"], io), 2);
  assert.is(await main(["sync", "--once", "--watch"], io), 2);
  assert.is(await main(["sync", "--bogus"], io), 2);
});

test("db-router sync --watch applies a record soon after it is queued and ends cleanly on SIGTERM", async () => {
  const child = startChild(RUNTIME, join(ROOT, "src/cli/bin.ts"), [
    "sync",
    "--watch",
    "--interval",
    "60",
    "--db-path",
    shared,
    "--queue-dir",
    queueDir,
  ]);
  try {
    const count = async (name: string) => {
      await using reader = router("reader");
      const row = await reader.getConnection("bots").get<{ n: number }>(
        "SELECT count(*) AS n FROM bots WHERE name = ?",
        [name],
      );
      return row!.n;
    };
    const appliedWithin = async (name: string, ms: number) => {
      for (const started = Date.now(); Date.now() - started < ms;) {
        if (await count(name) === 1) return true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    };
    mkdirSync(queueDir, { recursive: true });
    {
      await using r = router("alpha");
      await r.queueWrite("bots", { name: "first" });
    }
    assert.ok(await appliedWithin("first", 20_000), "the first record was applied");
    {
      await using r = router("alpha");
      await r.queueWrite("bots", { name: "second" });
    }
    // Far sooner than the 60 s interval: the change itself started the pass.
    assert.ok(await appliedWithin("second", 5_000), "the watch saw the new record");
  } finally {
    child.kill("SIGTERM");
  }
  const { code, signal, output } = await child.exited;
  // Deno's node:child_process reports the signal it sent even when the child handled it and
  // exited 0; the folded file below shows the clean end either way.
  assert.ok(
    code === 0 || (RUNTIME === "deno" && signal === "SIGTERM"),
    `${code} ${signal}: ${output}`,
  );
  // The sqlite3 shell reads only the base file: the rows are there because close() folded the log.
  assert.is(sql("PRAGMA integrity_check"), "ok");
  assert.is(sql("SELECT count(*) FROM bots"), "2");
});

test.run();
