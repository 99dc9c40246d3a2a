/**
 * `db-router analyze`: the three blocks on a fixture log, `--json`, `--top`,
 * malformed lines, bad usage, and `--verify` on intact, edited and truncated
 * logs.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AuditChain } from "../src/observe/audit_chain.ts";
import { CLI_BIN, runCli } from "./_support/cli_io.ts";
import { auditFolder } from "./_support/observe_audit.ts";
import { ROOT, runScript } from "./_support/spawn.ts";

const test = suite("db-router analyze");
const FIXTURE = join(ROOT, "tests/fixtures/analyze_audit.log");
const folder = auditFolder("dbr-analyze-");
test.after(folder.remove);

const EXPECTED = `menace  table      op      count
gamma   code       delete      4
alpha   bots       write       3
alpha   bots       read        2
alpha   models     write       2
beta    errors     update      2
beta    bots       insert      1
beta    errors     read        1
gamma   telemetry  read        1

menace  table      count
alpha   bots           5
gamma   code           4
beta    errors         3
alpha   models         2
beta    bots           1
gamma   telemetry      1

Top shared-table writers:
gamma  4
alpha  3
beta   3
`;

test("prints the three blocks, aligned and sorted by count then name; malformed lines go to stderr", async () => {
  const run = await runCli(["analyze", FIXTURE]);
  assert.is(run.code, 0);
  assert.fixture(run.out, EXPECTED);
  assert.is(run.err, "db-router analyze: skipped 4 malformed lines (the first is line 5)\n");
});

test("--json prints the same data", async () => {
  const run = await runCli(["analyze", "--json", FIXTURE]);
  const data = JSON.parse(run.out);
  assert.is(data.records, 16);
  assert.is(data.malformed, 4);
  assert.equal(data.byOperation[0], {
    menace: "gamma",
    table: "code",
    operation: "delete",
    count: 4,
  });
  assert.is(data.byOperation.length, 8);
  assert.equal(data.byTable.map((r: { count: number }) => r.count), [5, 4, 3, 2, 1, 1]);
  assert.equal(data.topSharedWriters, [
    { menace: "gamma", count: 4 },
    { menace: "alpha", count: 3 },
    { menace: "beta", count: 3 },
  ]);
  assert.is(data.verify, undefined);
});

test("--top limits the writers; 0 lists all", async () => {
  const one = (await runCli(["analyze", "--top", "1", FIXTURE])).out;
  assert.ok(one.endsWith("writers:\ngamma  4\n"), one);
  assert.ok((await runCli(["analyze", "--top", "0", FIXTURE])).out.endsWith("beta   3\n"));
});

test("writers count only write operations on tables shared as this process loads the routing", async () => {
  const run = await runScript(CLI_BIN, {
    args: ["analyze", FIXTURE],
    env: { DB_ROUTER_SHARED_TABLES: "models", DB_ROUTER_CONFIG: undefined },
  });
  assert.is(run.code, 0, run.stderr);
  assert.ok(run.stdout.endsWith("writers:\nalpha  5\ngamma  4\nbeta   3\n"), run.stdout);
});

test("records of queueWrite() count as writes; reads and local tables do not", async () => {
  const path = folder.path("queued.log");
  const line = (menace: string, table: string, operation: string) =>
    JSON.stringify({
      menace_id: menace,
      table_name: table,
      operation,
      timestamp: "2024-05-14T12:00:00Z",
    });
  writeFileSync(
    path,
    [
      line("alpha", "bots", "queue"),
      line("alpha", "bots", "queue"),
      line("beta", "bots", "QUEUE"),
      line("beta", "bots", "read"),
      line("beta", "models", "queue"),
    ].join("\n") + "\n",
  );
  const data = JSON.parse((await runCli(["analyze", "--json", path])).out);
  assert.equal(data.topSharedWriters, [
    { menace: "alpha", count: 2 },
    { menace: "beta", count: 1 },
  ]);
});

test("a missing log exits 1 naming it; bad usage exits 2", async () => {
  const missing = await runCli(["analyze", folder.path("none.log")]);
  assert.is(missing.code, 1);
  assert.match(missing.err, `Cannot read audit log "${folder.path("none.log")}": no such file`);
  for (
    const args of [[], ["a.log", "b.log"], ["--top", "-1", FIXTURE], ["--since", "x", FIXTURE]]
  ) {
    assert.is((await runCli(["analyze", ...args])).code, 2, args.join(" "));
  }
});

test("an overlong line and a file without a final newline are handled line by line", async () => {
  const path = folder.path("odd.log");
  const line =
    '{"menace_id":"a","table_name":"bots","operation":"write","timestamp":"2024-05-14T12:00:00Z"}';
  writeFileSync(path, `${"x".repeat(2 * 1024 * 1024)}\n${line}\n${line}`);
  const run = await runCli(["analyze", "--json", path]);
  const data = JSON.parse(run.out);
  assert.equal([data.records, data.malformed], [2, 1]);
});

function chainedLog(name: string, edit: (lines: string[]) => string): string {
  const [a, b] = [new AuditChain(), new AuditChain()];
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) {
    const stamp = `"timestamp":"2024-05-14T12:00:0${i}.000Z"`;
    lines.push(a.link(`{"menace_id":"alpha","table_name":"bots","operation":"write",${stamp}`));
    lines.push(b.link(`{"menace_id":"beta","table_name":"models","operation":"read",${stamp}`));
  }
  const path = folder.path(name);
  writeFileSync(path, edit(lines));
  return path;
}

test("--verify reports an intact log and exits 0", async () => {
  const run = await runCli([
    "analyze",
    "--verify",
    chainedLog("ok.log", (l) => `${l.join("\n")}\n`),
  ]);
  assert.is(run.code, 0, run.err);
  assert.match(run.out, /\n\nIntegrity: ok, 10 lines in 2 writer chains\n$/);
});

test("--verify finds an edited line and exits 1", async () => {
  const path = chainedLog("edited.log", (lines) => {
    lines[2] = lines[2].replace('"write"', '"read"');
    return `${lines.join("\n")}\n`;
  });
  const run = await runCli(["analyze", "--verify", path]);
  assert.is(run.code, 1);
  assert.match(run.out, "Integrity: FAILED, 1 problems in 10 lines");
  assert.is(
    run.err,
    'line 5: Line of "alpha" follows no earlier line of its writer: a line before it was edited or removed\n',
  );
});

test("--verify finds a torn last line and lines cut from the start", async () => {
  const torn = chainedLog("torn.log", (lines) => lines.join("\n").slice(0, -20));
  const tornRun = await runCli(["analyze", "--verify", "--json", torn]);
  assert.is(tornRun.code, 1);
  assert.equal(JSON.parse(tornRun.out).verify.problems, [
    { line: 10, message: "Line is not an audit line (torn or edited)" },
  ]);
  const cut = chainedLog("cut.log", (lines) => `${lines.slice(4).join("\n")}\n`);
  const cutRun = await runCli(["analyze", "--verify", cut]);
  assert.is(cutRun.code, 1);
  assert.match(cutRun.err, /^line 1: Line of "alpha" follows no earlier line/);
  assert.match(cutRun.err, /\nline 2: Line of "beta" follows no earlier line/);
});

test("the executable prints the same text as the in-process run", async () => {
  const run = await runScript(CLI_BIN, {
    args: ["analyze", FIXTURE],
    env: { DB_ROUTER_CONFIG: undefined },
  });
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stdout, EXPECTED);
});

test.run();
