/**
 * Other SQLite programs on a router's file, with the real `sqlite3` shell: a
 * base it wrote while the page log held commits is refused, never written
 * over; a base it wrote while the log was empty is taken as it is; its WAL
 * file or hot journal is refused; idle folds and `db-router fold` make the
 * file current for it.
 *
 * @module
 */
import { LOG_FIRST_FRAME, logEnd } from "./_support/log_files.ts";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { RouterError } from "../src/errors.ts";
import type { FileStorageOptions } from "../src/storage/file/adapter.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { rejection } from "./_support/errors.ts";
import { commitOf } from "./_support/storage_conformance.ts";
import { runCli } from "./_support/cli_io.ts";
import { BOTS_SCHEMA } from "./_support/writers_spawn.ts";

const test = suite(`file storage (${RUNTIME}): other SQLite programs`);
const folder = temporaryFolder(`foreign-${RUNTIME}-`);
let counter = 0;
const newDir = () => {
  const dir = join(folder.dir, `case-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
test.after(folder.remove);

function sqlite3(file: string, sql: string): string {
  return execFileSync("sqlite3", [file, sql], { encoding: "utf8" }).trim();
}

function router(dir: string, options: FileStorageOptions = {}): DBRouter {
  return new DBRouter("alpha", join(dir, "local.db"), join(dir, "global.db"), {
    storage: fileStorageFor(RUNTIME, options),
    maxReadLagMs: 0,
  });
}

async function names(r: DBRouter): Promise<string[]> {
  const rows = await r.getConnection("bots").all<{ name: string }>(
    "SELECT name FROM bots ORDER BY name",
  );
  return rows.map((row) => row.name);
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A router with `bots` created and folded, then `router-1` committed to the log only. */
async function withUnfoldedCommit(dir: string): Promise<DBRouter> {
  const r = router(dir, { foldIdleMs: false });
  await r.getConnection("bots", "write").exec(BOTS_SCHEMA);
  await r.insert("bots", { name: "router-1", seq: 1 });
  assert.ok(
    logEnd(join(dir, "global.db")) > LOG_FIRST_FRAME,
    "the insert is in the page log, not yet in the file",
  );
  return r;
}

test("sqlite3 writing the file while the log holds commits: the router refuses, nothing of either side is lost", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  const r = await withUnfoldedCommit(dir);
  try {
    sqlite3(shared, "INSERT INTO bots (name, seq) VALUES ('shell-1', 1)");
    const base = readFileSync(shared);
    const log = readFileSync(`${shared}-dbrlog`);
    const error = await rejection(() => r.insert("bots", { name: "router-2", seq: 2 }));
    assert.instance(error, RouterError);
    assert.is((error as RouterError).code, "FOREIGN_WRITE");
    assert.match(error.message, shared);
    // A process that opens the file now is refused too: the base alone lacks router-1.
    const other = new DBRouter("beta", join(dir, "beta.db"), shared, {
      storage: fileStorageFor(RUNTIME),
    });
    const opening = await rejection(() => other.ready());
    assert.is((opening as RouterError).code, "FOREIGN_WRITE");
    await other.close();
    await r.close();
    assert.equal(readFileSync(shared), base, "the shell's file is untouched");
    assert.equal(readFileSync(`${shared}-dbrlog`), log, "the router's log is untouched");
    assert.is(sqlite3(shared, "SELECT group_concat(name) FROM bots"), "shell-1");
  } finally {
    await r.close();
  }
});

test("sqlite3 writing the file while the log is empty: routers take its change and keep it", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  await using r = router(dir, { foldIdleMs: false });
  await r.getConnection("bots", "write").exec(BOTS_SCHEMA);
  await r.insert("bots", { name: "router-1", seq: 1 });
  const folded = await runCli(["fold", shared]);
  assert.is(folded.code, 0, folded.err);
  sqlite3(shared, "INSERT INTO bots (name, seq) VALUES ('shell-1', 1)");
  // The open router reloads: its next write keeps the shell's row.
  await r.insert("bots", { name: "router-2", seq: 2 });
  assert.equal(await names(r), ["router-1", "router-2", "shell-1"]);
  await r.close();
  assert.is(
    sqlite3(shared, "SELECT group_concat(name, ',') FROM (SELECT name FROM bots ORDER BY name)"),
    "router-1,router-2,shell-1",
  );
  assert.is(sqlite3(shared, "PRAGMA integrity_check"), "ok");
});

test("db-router fold makes the file current for sqlite3 while the router stays open", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  await using r = await withUnfoldedCommit(dir);
  assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "0", "the file is stale before the fold");
  const folded = await runCli(["fold", shared]);
  assert.is(folded.code, 0, folded.err);
  assert.match(folded.out, "folded");
  assert.is(logEnd(shared), LOG_FIRST_FRAME);
  assert.is(sqlite3(shared, "SELECT group_concat(name) FROM bots"), "router-1");
  await r.insert("bots", { name: "router-2", seq: 2 });
  assert.equal(await names(r), ["router-1", "router-2"]);
  const again = await runCli(["fold", shared, join(dir, "missing.db")]);
  assert.is(again.code, 1);
  assert.match(again.out, "folded");
  assert.match(again.err, "no such database file");
});

test("a router folds its log after foldIdleMs without commits, so sqlite3 reads every row", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  await using r = router(dir, { foldIdleMs: 200 });
  await r.getConnection("bots", "write").exec(BOTS_SCHEMA);
  for (let i = 1; i <= 3; i++) await r.insert("bots", { name: `router-${i}`, seq: i });
  await until(() => logEnd(shared) === LOG_FIRST_FRAME, "the idle fold");
  assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "3");
  // The router goes on as before after its own fold.
  await r.insert("bots", { name: "router-4", seq: 4 });
  assert.is((await names(r)).length, 4);
});

test("a file only touched (same bytes, new time) while the log holds commits is still read and written", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  const r = await withUnfoldedCommit(dir);
  await r.flush();
  utimesSync(shared, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
  try {
    await r.insert("bots", { name: "router-2", seq: 2 });
    await using other = router(dir);
    assert.equal(await names(other), ["router-1", "router-2"]);
  } finally {
    await r.close();
  }
  assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "2");
});

test("a commit whose file another program wrote after it was read writes nothing", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  for (const withFrames of [false, true]) {
    const r = withFrames ? await withUnfoldedCommit(dir) : router(dir, { foldIdleMs: false });
    if (!withFrames) await r.getConnection("bots", "write").exec(BOTS_SCHEMA);
    await r.close();
    const db = await fileStorageFor(RUNTIME).open(shared);
    const { image } = await db.load();
    const next = image!.slice();
    next[next.length - 1] ^= 1;
    sqlite3(shared, `INSERT INTO bots (name, seq) VALUES ('shell-${withFrames}', 1)`);
    const base = readFileSync(shared);
    const log = readFileSync(`${shared}-dbrlog`);
    const release = await db.lock();
    try {
      const error = await rejection(() => db.commit(commitOf(image, next, 4096)));
      assert.is((error as RouterError).code, "FOREIGN_WRITE");
    } finally {
      await release();
    }
    assert.equal(readFileSync(shared), base);
    assert.equal(readFileSync(`${shared}-dbrlog`), log);
    rmSync(shared);
    rmSync(`${shared}-dbrlog`);
  }
});

/** Starts an interactive sqlite3 shell on `file` that runs `sql` and stays open. */
function openShell(file: string, sql: string) {
  const child = spawn("sqlite3", [file], { stdio: ["pipe", "ignore", "ignore"] });
  child.stdin!.write(`${sql}\n`);
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    quit: async () => {
      child.stdin!.end(".quit\n");
      await exited;
    },
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

test("a WAL file beside the database is refused with FOREIGN_JOURNAL naming it; after the shell closes, its rows are read", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  const r = await withUnfoldedCommit(dir);
  await r.close();
  const shell = openShell(
    shared,
    "PRAGMA journal_mode=WAL; INSERT INTO bots (name, seq) VALUES ('shell-wal', 1);",
  );
  try {
    await until(() => existsSync(`${shared}-wal`) && statSync(`${shared}-wal`).size > 0, "the WAL");
    const base = readFileSync(shared);
    const opened = router(dir);
    const error = await rejection(() => opened.ready());
    assert.instance(error, RouterError);
    assert.is((error as RouterError).code, "FOREIGN_JOURNAL");
    assert.match(error.message, `${shared}-wal`);
    assert.match(error.message, "wal_checkpoint");
    await opened.close();
    assert.equal(readFileSync(shared), base, "the file was not written");
  } finally {
    await shell.quit();
  }
  assert.not.ok(existsSync(`${shared}-wal`), "the shell checkpointed and removed its WAL");
  await using after = router(dir);
  assert.equal(await names(after), ["router-1", "shell-wal"]);
  // The file stays in WAL mode in its header (bytes 18 and 19 are 2) with no WAL: read as it is.
  await after.insert("bots", { name: "router-2", seq: 2 });
  await after.close();
  assert.is(
    sqlite3(shared, "SELECT group_concat(name, ',') FROM (SELECT name FROM bots ORDER BY name)"),
    "router-1,router-2,shell-wal",
  );
  assert.is(sqlite3(shared, "PRAGMA integrity_check"), "ok");
});

test("a write while sqlite3 holds the file open in WAL mode is refused before it runs", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  await using r = await withUnfoldedCommit(dir);
  const shell = openShell(shared, "PRAGMA journal_mode=WAL; SELECT count(*) FROM bots;");
  try {
    await until(() => existsSync(`${shared}-wal`), "the WAL");
    const log = readFileSync(`${shared}-dbrlog`);
    const error = await rejection(() => r.insert("bots", { name: "router-2", seq: 2 }));
    assert.is((error as RouterError).code, "FOREIGN_JOURNAL");
    assert.equal(readFileSync(`${shared}-dbrlog`), log, "nothing was appended");
  } finally {
    await shell.quit();
  }
});

test("a hot journal left by a killed sqlite3 is refused; once sqlite3 rolled it back, the file opens", async () => {
  const dir = newDir();
  const shared = join(dir, "global.db");
  const r = await withUnfoldedCommit(dir);
  await r.close();
  // A transaction too large for a 10-page cache spills to the file, after its journal.
  const shell = openShell(
    shared,
    "PRAGMA cache_size=10; BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) INSERT INTO bots (name, seq) SELECT 'spill', x FROM c;",
  );
  const journal = `${shared}-journal`;
  await until(() => existsSync(journal) && statSync(journal).size >= 8, "the journal");
  await until(() => readFileSync(journal)[0] === 0xd9, "the journal's header");
  await shell.kill();
  const opened = router(dir);
  const error = await rejection(() => opened.ready());
  assert.is((error as RouterError).code, "FOREIGN_JOURNAL");
  assert.match(error.message, journal);
  await opened.close();
  // Opening it in sqlite3 rolls the journal back.
  assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "1");
  await using after = router(dir);
  assert.equal(await names(after), ["router-1"]);
});

test.run();
