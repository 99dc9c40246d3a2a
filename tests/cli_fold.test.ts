/**
 * `db-router fold`: folding a database's page log into its file for other
 * SQLite programs, from another process while a router runs, and its usage.
 *
 * @module
 */
import { LOG_FIRST_FRAME, logEnd } from "./_support/log_files.ts";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { CLI_BIN, runCli } from "./_support/cli_io.ts";
import { currentRuntime, runScript } from "./_support/spawn.ts";
import { fileStorageFor, temporaryFolder } from "./_support/storage_fixtures.ts";
import { BOTS_SCHEMA } from "./_support/writers_spawn.ts";

const runtime = currentRuntime();
const test = suite(`db-router fold (${runtime})`);
const folder = temporaryFolder(`cli-fold-${runtime}-`);
test.after(folder.remove);

const sqlite3 = (file: string, sql: string) =>
  execFileSync("sqlite3", [file, sql], { encoding: "utf8" }).trim();

test("fold in another process makes the file current for sqlite3 while a router keeps writing", async () => {
  const shared = join(folder.dir, "a", "global.db");
  await using router = new DBRouter("alpha", join(folder.dir, "a", "local.db"), shared, {
    storage: fileStorageFor(runtime, { foldIdleMs: false }),
    maxReadLagMs: 0,
  });
  await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
  for (let i = 1; i <= 5; i++) await router.insert("bots", { name: `bot-${i}`, seq: i });
  assert.ok(logEnd(shared) > LOG_FIRST_FRAME, "the rows are in the log");
  assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "0", "the file alone is stale");
  const run = await runScript(CLI_BIN, { args: ["fold", shared] });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, `${shared}: folded (`);
  assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "5");
  assert.is(sqlite3(shared, "PRAGMA integrity_check"), "ok");
  // The router takes the fold as another process's commit and goes on.
  await router.insert("bots", { name: "bot-6", seq: 6 });
  const rows = await router.getConnection("bots").all("SELECT count(*) AS n FROM bots");
  assert.equal(rows, [{ n: 6 }]);
  const again = await runCli(["fold", shared]);
  assert.is(again.code, 0, again.err);
  assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "6");
  const idle = await runCli(["fold", shared]);
  assert.match(idle.out, `${shared}: nothing to fold`);
});

test("fold without a file is a usage error (exit 2); a missing file exits 1 naming it", async () => {
  const bare = await runCli(["fold"]);
  assert.is(bare.code, 2);
  assert.match(bare.err, "fold needs at least one FILE");
  const missing = join(folder.dir, "nowhere", "x.db");
  const run = await runCli(["fold", missing]);
  assert.is(run.code, 1);
  assert.match(run.err, `"${missing}": no such database file`);
  const help = await runCli(["fold", "--help"]);
  assert.is(help.code, 0);
  assert.match(help.out, "Usage: db-router fold FILE...");
});

test.run();
