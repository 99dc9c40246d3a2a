import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCheck } from "../src/cli/check/run.ts";
import { writeAllOrNothing } from "../src/cli/new/write_files.ts";
import { runCli } from "./_support/cli_io.ts";
import { currentRuntime, ROOT, runScript } from "./_support/spawn.ts";

const test = suite("db-router new");
const runtime = currentRuntime();

// Inside the repository, so that the generated files' relative import of mod.ts resolves.
const artifacts = join(ROOT, "tests", "artifacts");
mkdirSync(artifacts, { recursive: true });
const generated = mkdtempSync(join(artifacts, `cli_new_${runtime}_`));
test.after(() => rmSync(generated, { recursive: true, force: true }));

let dir = "";
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), "dbr-new-"));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `folder`, relative, sorted. */
function listing(folder: string): string[] {
  return readdirSync(folder, { recursive: true }).map(String).sort();
}

const CASES = [
  { name: "basic_items", template: "basic", route: "shared" },
  { name: "fts_notes", template: "fts", route: "shared" },
  { name: "vector_docs", template: "vector", route: "shared" },
  { name: "local_items", template: "basic", route: "local" },
  { name: "local_notes", template: "fts", route: "local" },
  { name: "local_docs", template: "vector", route: "local" },
] as const;

for (const c of CASES) {
  test(`the ${c.template} template (${c.route}) generates tests that pass under ${runtime} with uvu`, async () => {
    const out = join(generated, c.name);
    const made = await runCli([
      "new",
      c.name,
      "--template",
      c.template,
      "--route",
      c.route,
      "--out",
      out,
    ]);
    assert.is(made.code, 0, made.err);
    assert.equal(listing(out), [`${c.name}_db.test.ts`, `${c.name}_db.ts`]);
    const module = readFileSync(join(out, `${c.name}_db.ts`), "utf8");
    assert.match(module, `from "../../../../mod.ts";`);
    assert.match(module, "source_menace_id TEXT NOT NULL");
    const run = await runScript(join(out, `${c.name}_db.test.ts`), { timeoutMs: 120_000 });
    // uvu colours its numbers.
    // deno-lint-ignore no-control-regex
    const plain = run.stdout.replace(/\x1b\[[0-9;]*m/g, "");
    const total = /Total:\s+(\d+)/.exec(plain)?.[1];
    assert.is(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.ok(Number(total) >= 4, plain);
    assert.match(plain, new RegExp(`Passed:\\s+${total}\\b`));
  });
}

test("generated modules pass db-router check and type-check with tsc in strict mode", () => {
  assert.equal(runCheck([generated], { cwd: ROOT }).findings, []);
  const tests = readdirSync(generated, { recursive: true }).map(String).filter((f) =>
    f.endsWith(".test.ts")
  );
  assert.is(tests.length, CASES.length);
  // A user's typical settings, not this repository's (whose isolatedDeclarations
  // would also judge the library's own files, which the generated code imports).
  const compilerOptions = {
    strict: true,
    noEmit: true,
    target: "es2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    lib: ["es2023", "esnext.disposable", "dom"],
    types: ["node"],
    allowImportingTsExtensions: true,
    skipLibCheck: true,
  };
  writeFileSync(
    join(generated, "tsconfig.json"),
    JSON.stringify({ compilerOptions, files: tests }),
  );
  const tsc = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), [
    "-p",
    join(generated, "tsconfig.json"),
  ], {
    encoding: "utf8",
  });
  assert.is(tsc.status, 0, `${tsc.stdout}\n${tsc.stderr}`);
});

test('new imports "db-router" outside a db-router checkout, or what --import says', async () => {
  writeFileSync(join(dir, "package.json"), '{ "name": "my-app" }');
  assert.is((await runCli(["new", "app_events", "--out", join(dir, "src", "db")])).code, 0);
  assert.match(
    readFileSync(join(dir, "src", "db", "app_events_db.ts"), "utf8"),
    `} from "db-router";`,
  );
  assert.is(
    (await runCli(["new", "app_logs", "--out", dir, "--import", "npm:db-router@0.1"])).code,
    0,
  );
  assert.match(readFileSync(join(dir, "app_logs_db.test.ts"), "utf8"), `from "npm:db-router@0.1";`);
});

test("new refuses an existing module file: exit 1, both files unchanged, nothing left behind", async () => {
  writeFileSync(join(dir, "alerts_db.ts"), "mine\n");
  const run = await runCli(["new", "alerts", "--out", dir]);
  assert.is(run.code, 1);
  assert.match(run.err, /Cannot create ".*alerts_db\.ts": it already exists/);
  assert.equal(listing(dir), ["alerts_db.ts"]);
  assert.is(readFileSync(join(dir, "alerts_db.ts"), "utf8"), "mine\n");
});

test("new refuses an existing test file without writing the module first", async () => {
  writeFileSync(join(dir, "alerts_db.test.ts"), "mine\n");
  const run = await runCli(["new", "alerts", "--out", dir]);
  assert.is(run.code, 1);
  assert.match(run.err, /alerts_db\.test\.ts": it already exists/);
  assert.equal(listing(dir), ["alerts_db.test.ts"]);
});

test("writing all or nothing: a later file's failure removes the files and folders written before", () => {
  writeFileSync(join(dir, "blocker"), "a file where a folder should be");
  const first = join(dir, "made", "deep", "a.ts");
  let error: unknown;
  try {
    writeAllOrNothing([
      { path: first, content: "a" },
      { path: join(dir, "blocker", "b.ts"), content: "b" },
    ]);
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, "expected the second write to fail");
  assert.not.ok(existsSync(first));
  assert.equal(listing(dir), ["blocker"]);
});

test("new makes a missing --out folder and says what it created", async () => {
  const out = join(dir, "a", "b");
  const run = await runCli(["new", "alerts", "--template", "fts", "--out", out]);
  assert.is(run.code, 0, run.err);
  assert.match(run.out, /Created .*alerts_db\.ts\nCreated .*alerts_db\.test\.ts\n/);
  assert.equal(listing(out), ["alerts_db.test.ts", "alerts_db.ts"]);
  // The exact commands: the folder (outside the working directory: absolute), the packages
  // the test imports (db-router itself too, since the folder is not in a checkout), the run.
  assert.match(
    run.out,
    `\nRun its test:\n  cd ${out}\n  npm install db-router\n  npm install --save-dev uvu tsx\n` +
      `  npx tsx alerts_db.test.ts\n(or, with uvu installed: deno run -A alerts_db.test.ts, ` +
      `or bun alerts_db.test.ts)\n`,
  );
});

const USAGE_ERRORS: [string, string[], RegExp][] = [
  ["a missing name", ["new"], /Missing <name>/],
  ["two names", ["new", "a", "b"], /Too many names: "a", "b"/],
  [
    "a name that is not lowercase snake case",
    ["new", "Bad-Name"],
    /Invalid name "Bad-Name": use lowercase/,
  ],
  ["a name SQLite reserves", ["new", "sqlite_stat"], /SQLite reserves/],
  ["a name too long", ["new", "a".repeat(41)], /longer than 40 characters/],
  [
    "a denied table",
    ["new", "capital_ledger"],
    /Invalid name "capital_ledger": it is in DENY_TABLES/,
  ],
  [
    "a table routed the other way",
    ["new", "models"],
    /it is routed local \(built-in default\); use --route local/,
  ],
  [
    "an unknown template",
    ["new", "x", "--template", "graph"],
    /Invalid --template "graph": expected one of "basic", "fts", "vector"/,
  ],
  ["an unknown route", ["new", "x", "--route", "both"], /Invalid --route "both"/],
  ["an unknown option", ["new", "x", "--force"], /Unknown option '--force'/],
  ["an empty --import", ["new", "x", "--import", " "], /Invalid --import/],
];

for (const [what, argv, message] of USAGE_ERRORS) {
  test(`new exits 2 and writes nothing for ${what}`, async () => {
    const run = await runCli([...argv, "--out", dir]);
    assert.is(run.code, 2, run.err);
    assert.match(run.err, message);
    // An unknown option prints the whole usage; other mistakes point to it.
    assert.match(run.err, /Run "db-router new --help" for usage|\n\nUsage: db-router new /);
    assert.equal(listing(dir), []);
  });
}

test("new exits 2 and writes nothing when --out is a file", async () => {
  writeFileSync(join(dir, "taken"), "");
  const run = await runCli(["new", "alerts", "--out", join(dir, "taken")]);
  assert.is(run.code, 2);
  assert.match(run.err, /Invalid --out ".*taken": it is a file, not a folder/);
  assert.equal(listing(dir), ["taken"]);
});

test("new accepts a table already routed the same way", async () => {
  const run = await runCli(["new", "models", "--route", "local", "--out", dir]);
  assert.is(run.code, 0, run.err);
});

test.run();
