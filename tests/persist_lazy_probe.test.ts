/**
 * The page-capture probe runs at a process's first write or catch-up, not
 * when a database opens (issue 15, cold start): a fresh process opens two
 * engines on one file and reads, and the probe has not run; the first write
 * runs it and commits through the capture; the other engine, opened before
 * the probe, settles at its first catch-up and then catches up in place. With
 * a probe that fails, both fall back to export + diff and nothing is lost.
 * Real child processes in the runtime running the test (the probe's state is
 * per process), the file checked by the `sqlite3` shell.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { DBRouter } from "../mod.ts";
import { ROOT, runScript } from "./_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`page capture: probed lazily (${RUNTIME})`);
const CHILD = join(ROOT, "tests/_support/lazy_probe_child.ts");

async function run(mode: "ok" | "fail") {
  const folder = temporaryFolder("dbr-lazy-probe-");
  try {
    const file = join(folder.dir, "shared.db");
    {
      await using router = new DBRouter("alpha", join(folder.dir, "local.db"), file);
      const bots = router.getConnection("bots", "write");
      await bots.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)");
      await bots.run("INSERT INTO bots (name) VALUES ('first')");
    }
    const child = await runScript(CHILD, { args: [file, mode], timeoutMs: 120_000 });
    assert.is(child.code, 0, child.stderr);
    const integrity = execFileSync("sqlite3", [file, "PRAGMA integrity_check"], {
      encoding: "utf8",
    });
    const rows = execFileSync("sqlite3", [file, "SELECT name FROM bots ORDER BY id"], {
      encoding: "utf8",
    });
    return {
      report: JSON.parse(child.stdout.trim().split("\n").at(-1)!),
      stderr: child.stderr,
      integrity: integrity.trim(),
      rows: rows.trim().split("\n"),
    };
  } finally {
    folder.remove();
  }
}

const ALL = ["first", "second", "third", "fourth"];

test("opening and reading do not run the probe; the first write does, and commits its pages", async () => {
  const { report, stderr, integrity, rows } = await run("ok");
  assert.equal(report.readsBeforeWrite, [["first"], ["first"]]);
  assert.is(report.probedAfterReads, false);
  assert.is(report.pathBeforeWrite, "pending");
  assert.is(report.probedAfterWrite, true);
  assert.is(report.captureAfterWrite, "object", stderr);
  assert.is(report.writerPath, "page-capture");
  assert.ok(report.firstCommitBytes > 0, "the first write was committed");
  assert.equal(report.readerAfterFirst, ["first", "second"]);
  assert.equal(report.readerAfterSecond, ["first", "second", "third"]);
  assert.is(report.readerPath, "page-capture");
  // The settling catch-up reloads; the next one is in place.
  assert.equal(report.readerCatchUps, { inPlace: 1, reloaded: 1 });
  assert.equal(report.writerAfterReaderWrite, ALL);
  assert.is(integrity, "ok");
  assert.equal(rows, ALL);
  assert.not.match(stderr, /page capture is off/);
});

test("a probe that fails at the first write falls back to export + diff, losing nothing", async () => {
  const { report, stderr, integrity, rows } = await run("fail");
  assert.is(report.probedAfterReads, false);
  assert.is(report.captureAfterWrite, "string");
  assert.match(stderr, /page capture is off \(the sql\.js module has no _malloc\/_free\)/);
  assert.is(report.writerPath, "export-diff");
  assert.equal(report.readerAfterFirst, ["first", "second"]);
  assert.equal(report.readerAfterSecond, ["first", "second", "third"]);
  assert.is(report.readerPath, "export-diff");
  assert.equal(report.writerAfterReaderWrite, ALL);
  assert.is(integrity, "ok");
  assert.equal(rows, ALL);
});

test.run();
