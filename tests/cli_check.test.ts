import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { nodeFileSystem, runCheck } from "../src/cli/check/run.ts";
import { CLI_BIN, runCli } from "./_support/cli_io.ts";
import { currentRuntime, ROOT, runScript, runtimeCommand } from "./_support/spawn.ts";

const test = suite("db-router check");

const BAD =
  'import initSqlJs from "sql.js";\nconst SQL = await initSqlJs();\nnew SQL.Database();\n';
const GOOD = 'import { GLOBAL_ROUTER } from "db-router";\nGLOBAL_ROUTER?.getConnection("bots");\n';

let dir = "";
/** Writes `files` (path relative to a fresh project folder named "app") and returns the folder. */
function project(files: Record<string, string>, name = "app"): string {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), "dbr-check-"));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test("check exits 0 and prints no offence for code that uses the router", async () => {
  project({ "src/good.ts": GOOD });
  const run = await runCli(["check", dir]);
  assert.is(run.code, 0);
  assert.is(run.out, "");
  assert.match(run.err, /1 file checked, no direct database access/);
});

test("check prints file:line:column message per offence and exits 1", async () => {
  project({ "src/bad.ts": BAD, "src/good.ts": GOOD });
  const run = await runCli(["check", dir]);
  assert.is(run.code, 1);
  const file = join(dir, "src", "bad.ts");
  assert.equal(run.out.trimEnd().split("\n"), [
    `${file}:1:1 Cannot import "sql.js" outside the router: take connections from the router with router.getConnection(table) instead`,
    `${file}:2:19 Cannot initialise sql.js outside the router: take connections from the router with router.getConnection(table) instead`,
    `${file}:3:1 Cannot open a sql.js Database outside the router: take connections from the router with router.getConnection(table) instead`,
  ]);
  assert.match(run.err, /3 problems \(2 files checked\)/);
});

test("check walks folders but skips node_modules, dist, dot-folders and .d.ts files", async () => {
  project({
    "node_modules/lib/index.js": BAD,
    "dist/out.js": BAD,
    ".cache/x.ts": BAD,
    "src/types.d.ts": 'import type { Database } from "sql.js";\nexport * from "sql.js";\n',
    "src/notes.md": BAD,
    "src/ok.mjs": GOOD,
  });
  const run = await runCli(["check", dir]);
  assert.is(run.code, 0, run.out);
  assert.match(run.err, /1 file checked/);
});

test("check reports a folder it would skip when the folder is named", async () => {
  project({ "dist/out.js": BAD });
  const run = await runCli(["check", join(dir, "dist")]);
  assert.is(run.code, 1);
  assert.is(run.out.split("\n").filter(Boolean).length, 3);
});

test("check reports a file that does not parse as file:line:column and exits 1", async () => {
  project({ "src/broken.ts": "const x = ;\n", "src/bad.cjs": 'const init = require("sql.js");\n' });
  const run = await runCli(["check", dir]);
  assert.is(run.code, 1);
  const lines = run.out.trimEnd().split("\n");
  assert.is(lines.length, 2);
  assert.ok(lines[0].startsWith(`${join(dir, "src", "bad.cjs")}:1:14 Cannot require "sql.js"`));
  assert.is(
    lines[1],
    `${join(dir, "src", "broken.ts")}:1:11 Cannot parse "${
      join(dir, "src", "broken.ts")
    }": Unexpected token`,
  );
});

test("check reports an unreadable file or folder and exits 1", () => {
  project({ "src/a.ts": GOOD, "src/b.ts": GOOD, "locked/c.ts": GOOD });
  const denied = Object.assign(new Error("EACCES: permission denied, open 'x'"), {
    code: "EACCES",
  });
  const fs = {
    ...nodeFileSystem,
    readText: (path: string) => {
      if (path.endsWith("b.ts")) throw denied;
      return nodeFileSystem.readText(path);
    },
    list: (path: string) => {
      if (path.endsWith("locked")) throw denied;
      return nodeFileSystem.list(path);
    },
  };
  const report = runCheck([dir], { cwd: join(dir, "..", "elsewhere"), fs });
  assert.equal(report.findings.map((f) => [f.kind, f.message]), [
    ["unreadable", `Cannot read "${join(dir, "locked")}": EACCES: permission denied`],
    ["unreadable", `Cannot read "${join(dir, "src", "b.ts")}": EACCES: permission denied`],
  ]);
  assert.is(report.checked, 1);
});

test("check exits 2 for an unknown option, printed with the usage", async () => {
  const run = await runCli(["check", "--fix", dir]);
  assert.is(run.code, 2);
  assert.match(run.err, /Unknown option '--fix'/);
  assert.match(run.err, /\n\nUsage: db-router check /);
});

test("check exits 2 for a path that does not exist", async () => {
  const run = await runCli(["check", join(dir, "missing")]);
  assert.is(run.code, 2);
  assert.match(run.err, /Cannot check ".*missing": no such file or directory/);
});

test("check exits 2 for a named file that is not JavaScript or TypeScript", async () => {
  project({ "notes.txt": BAD });
  const run = await runCli(["check", join(dir, "notes.txt")]);
  assert.is(run.code, 2);
  assert.match(run.err, /not a JavaScript or TypeScript file/);
});

test("check --allow exempts files by glob from the project root", async () => {
  project({ "scripts/migrate_1.ts": BAD, "src/bad.ts": BAD });
  const run = await runCli(["check", "--allow", "scripts/migrate_*.ts", dir]);
  assert.is(run.code, 1);
  assert.not.match(run.out, /migrate_1/);
  assert.match(run.out, /src[/\\]bad\.ts:1:1/);
  assert.match(run.err, /1 allowlisted/);
});

test("the built-in allowlist exempts src/engine/** in the db-router package only", async () => {
  project({ "src/engine/own.ts": BAD }, "db-router");
  assert.is((await runCli(["check", dir])).code, 0);
  project({ "src/engine/own.ts": BAD }, "some-app");
  assert.is((await runCli(["check", dir])).code, 1);
});

test(`check with no paths checks the working directory (child process, ${currentRuntime()})`, async () => {
  project({ "src/bad.ts": BAD, "node_modules/x/index.js": BAD });
  const run = await runScript(CLI_BIN, { args: ["check"], cwd: dir });
  assert.is(run.code, 1, run.stderr);
  assert.equal(run.stdout.trimEnd().split("\n").map((l) => l.split(" ")[0]), [
    join("src", "bad.ts") + ":1:1",
    join("src", "bad.ts") + ":2:19",
    join("src", "bad.ts") + ":3:1",
  ]);
  const clean = await runScript(CLI_BIN, { args: ["check", "package.json", "--help"], cwd: dir });
  assert.is(clean.code, 0);
  assert.match(clean.stdout, /^Usage: db-router check/);
});

test(`examples/pre-commit refuses a commit that stages direct sql.js use (git, ${currentRuntime()})`, () => {
  project({ "src/good.ts": GOOD, "src/bad.ts": BAD, "src/types.d.ts": "export {};\n" });
  const hook = join(dir, ".git", "hooks", "pre-commit");
  const git = (...args: string[]) =>
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, DB_ROUTER: runtimeCommand(currentRuntime(), CLI_BIN).join(" ") },
    });
  assert.is(git("init", "-q").status, 0);
  copyFileSync(join(ROOT, "examples", "pre-commit"), hook);
  spawnSync("chmod", ["+x", hook]);
  git("add", "package.json", "src/good.ts", "src/types.d.ts");
  const good = git("commit", "-q", "-m", "good");
  assert.is(good.status, 0, good.stderr);
  git("add", "src/bad.ts");
  const bad = git("commit", "-q", "-m", "bad");
  assert.is(bad.status, 1);
  // git passes a hook's standard output on to its own standard error.
  assert.match(bad.stderr, /src[/\\]bad\.ts:1:1 Cannot import "sql\.js"/);
  assert.match(bad.stderr, /pre-commit: direct sql\.js use found/);
});

test.run();
