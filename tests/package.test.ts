/**
 * The npm package as users get it: the build in `dist/` (its executable runs
 * as `npx db-router`, its bundled module works in this runtime), and the
 * packed tarball installed into an empty project outside the checkout, where
 * the README's first example runs in this runtime, `npx db-router` works, the
 * optional peers are absent and their absence is explained, and `deno lint`
 * loads the `./lint` plugin. Also a Deno project that links this checkout
 * as a local JSR package and runs the example with no `node_modules`.
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CONSUMER_HOME, ensureBuilt, ensureConsumer } from "./_support/package_build.ts";
import { expectedOutput, runnableExample } from "./_support/readme_example.ts";
import { currentRuntime, ROOT, type Runtime } from "./_support/spawn.ts";

const runtime = currentRuntime();
const test = suite(`built package (${runtime})`);
const BIN = join(ROOT, "dist", "src", "cli", "bin.js");
const MOD = join(ROOT, "dist", "mod.js");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
/** Generous: the machine is shared, and the first install may fetch from the npm registry. */
const TIMEOUT_MS = 240_000;
const cleanEnv = { ...process.env, DB_ROUTER_CONFIG: "", DB_ROUTER_SHARED_TABLES: "" };

let consumer = "";
test.before(() => {
  consumer = ensureConsumer(); // packs, which builds dist/ too
  ensureBuilt();
});

/** Runs `command` in `cwd`; the exit code and both outputs, never a throw. */
function exec(command: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv) {
  const run = spawnSync(command[0], command.slice(1), {
    cwd,
    env,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
  });
  return { code: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "" };
}

/** How `runtime` runs a module that imports the package by `specifier`. */
function consumerRun(who: Runtime, file: string): string[] {
  if (who === "deno") return [DENO, "run", "--allow-all", file];
  if (who === "bun") return [BUN, file];
  return [who === runtime && runtime === "node" ? process.execPath : "node", file];
}

/** Deno reaches npm packages by `npm:` specifiers; Node and Bun by the bare name. */
const packageSpecifier = (who: Runtime) => (who === "deno" ? "npm:db-router" : "db-router");

/** A fresh folder in the consumer project (databases are made in the working directory). */
function runFolder(name: string): string {
  return mkdtempSync(join(consumer, `${name}-${runtime}-`));
}

function jsonLines(text: string): unknown[] {
  return text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

test("the executable has its execute bits, so npx and a shell can start it", () => {
  const mode = statSync(BIN).mode;
  assert.is(mode & 0o111, 0o111, `mode ${mode.toString(8)}`);
  const out = execFileSync(BIN, ["--help"], { encoding: "utf8" });
  assert.match(out, /^Usage: db-router <command>/);
});

test("npx db-router runs the package's executable", () => {
  const out = execFileSync("npx", ["--no-install", "db-router", "tables", "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    env: cleanEnv,
  });
  const { tables } = JSON.parse(out) as { tables: { table: string; route: string }[] };
  assert.equal(tables.find((e) => e.table === "bots")?.route, "shared");
});

test("the package ships the pre-commit hook, the license, and no install script", () => {
  const listing = execFileSync("npm", ["pack", "--dry-run", "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, npm_config_ignore_scripts: "true" },
  });
  const [{ files }] = JSON.parse(listing) as [{ files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  for (const path of ["examples/pre-commit", "dist/src/cli/bin.js", "LICENSE"]) {
    assert.ok(paths.includes(path), `${path} in ${paths.join(" ")}`);
  }
  assert.ok(paths.includes("dist/src/lint/plugin.js"), "the ./lint export's file");
  const hook = readFileSync(join(ROOT, "examples", "pre-commit"), "utf8");
  assert.match(hook, /cp node_modules\/db-router\/examples\/pre-commit /);
  const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  for (const hook of ["preinstall", "install", "postinstall", "prepare"]) {
    assert.is(scripts[hook], undefined, `npm warns consumers about a "${hook}" script`);
  }
});

test("the bundled module routes, stores and reads back rows", async () => {
  const built = await import(pathToFileURL(MOD).href) as typeof import("../mod.ts");
  const storage = built.memoryStorage();
  await using router = new built.DBRouter("alpha", "alpha.db", "shared/global.db", { storage });
  const bots = router.getConnection("bots", "write");
  await bots.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)");
  await bots.run("INSERT INTO bots (name, source_menace_id) VALUES (?, ?)", ["scraper", "alpha"]);
  assert.equal(await bots.all("SELECT name FROM bots"), [{ name: "scraper" }]);
  assert.throws(() => router.getConnection("capital_ledger"), /capital_ledger/);
  assert.equal(router.getAccessCounts().shared, { bots: 1 });
});

test("the built kysely and drizzle subpaths share the bundle's router, routing sets and errors", async () => {
  const built = await import(pathToFileURL(MOD).href) as typeof import("../mod.ts");
  const { RouterDialect } = await import(
    pathToFileURL(join(ROOT, "dist", "src", "kysely", "mod.js")).href
  ) as typeof import("../src/kysely/mod.ts");
  const { drizzle } = await import(
    pathToFileURL(join(ROOT, "dist", "src", "drizzle", "mod.js")).href
  ) as typeof import("../src/drizzle/mod.ts");
  const { Kysely } = await import("kysely");
  const storage = built.memoryStorage();
  await using router = new built.DBRouter("alpha", "alpha.db", "shared/global.db", { storage });
  await router.getConnection("bots", "write").exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)",
  );
  built.SHARED_TABLES.add("built_extra");
  try {
    await router.getConnection("built_extra", "write").exec("CREATE TABLE built_extra (x)");
    // deno-lint-ignore no-explicit-any
    const db = new Kysely<any>({ dialect: new RouterDialect({ router }) });
    await db.insertInto("bots").values({ name: "k" }).execute();
    assert.equal(await db.selectFrom("built_extra").selectAll().execute(), [], "the bundle's sets");
    const denied = await db.selectFrom("capital_ledger").selectAll().execute().catch((e) => e);
    assert.instance(denied, built.RouterError, "the bundle's RouterError");
    assert.equal(await drizzle(router).all("select name from bots"), [["k"]]);
  } finally {
    built.SHARED_TABLES.delete("built_extra");
  }
});

test("installed from the tarball: the optional peers are not installed, nor LogTape", () => {
  const modules = join(consumer, "node_modules");
  assert.ok(existsSync(join(modules, "db-router", "package.json")));
  const peers = ["@libsql/client", "libsql", "@babel/parser", "kysely", "drizzle-orm"];
  for (const absent of [...peers, "@logtape/logtape"]) {
    assert.not.ok(existsSync(join(modules, absent)), `${absent} was installed`);
  }
  const manifest = JSON.parse(readFileSync(join(modules, "db-router", "package.json"), "utf8"));
  for (const subpath of [".", "./lint", "./kysely", "./drizzle", "./package.json"]) {
    assert.ok(subpath in manifest.exports, `exports["${subpath}"]`);
  }
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    // Every condition's file: types, Bun's entry ("bun"), and the default.
    const files = typeof target === "string" ? [target] : Object.values(target as object);
    for (const file of files) {
      assert.ok(existsSync(join(modules, "db-router", file)), `${subpath} -> ${file}`);
    }
  }
  // Bun's bytecode travels with its CommonJS file.
  assert.ok(existsSync(join(modules, "db-router", "dist", "bun", "core.cjs.jsc")));
});

test(`installed from the tarball: the README's first example runs in ${runtime}`, () => {
  const dir = runFolder("readme");
  const { script, expected } = runnableExample(packageSpecifier(runtime));
  writeFileSync(join(dir, "example.mjs"), script);
  const run = exec(consumerRun(runtime, "example.mjs"), dir);
  assert.is(run.code, 0, run.stderr);
  assert.equal(jsonLines(run.stdout), expectedOutput(expected));
  assert.ok(existsSync(join(dir, "shared", "global.db")), "the shared database is on disk");
});

test(`installed from the tarball: db-router/kysely without kysely fails naming it in ${runtime}`, () => {
  const dir = runFolder("kysely");
  const specifier = `${packageSpecifier(runtime)}/kysely`;
  writeFileSync(
    join(dir, "kysely.mjs"),
    `try { await import(${JSON.stringify(specifier)}); console.log("imported"); }
catch (error) { console.log(String(error.message)); }
`,
  );
  const run = exec(consumerRun(runtime, "kysely.mjs"), dir);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /kysely/);
  assert.not.match(run.stdout, /^imported/);
});

test("installed from the tarball: npx db-router tables lists the routes", () => {
  const run = exec(["npx", "--no-install", "db-router", "tables", "--json"], consumer);
  assert.is(run.code, 0, run.stderr);
  const { tables } = JSON.parse(run.stdout) as { tables: { table: string; route: string }[] };
  assert.equal(tables.find((e) => e.table === "bots")?.route, "shared");
  assert.equal(tables.find((e) => e.table === "capital_ledger")?.route, "denied");
});

test("without @babel/parser, db-router check exits 1 and names the package to install", () => {
  const run = exec(["npx", "--no-install", "db-router", "check", "."], consumer);
  assert.is(run.code, 1, run.stderr);
  assert.match(
    run.stderr,
    'db-router check: Cannot check files: the package "@babel/parser" is not installed (install it: npm install @babel/parser)',
  );
  assert.is(run.stdout, "");
});

test(`without @libsql/client, a libSQL shared database fails with PACKAGE_MISSING in ${runtime}`, () => {
  const dir = runFolder("libsql");
  writeFileSync(
    join(dir, "libsql.mjs"),
    `import { DBRouter, memoryStorage, RouterError } from ${
      JSON.stringify(packageSpecifier(runtime))
    };
const router = new DBRouter("alpha", "local.db", "file:shared.db", { storage: memoryStorage() });
try {
  await router.getConnection("bots").all("SELECT 1");
  console.log(JSON.stringify(null));
} catch (error) {
  console.log(JSON.stringify([error instanceof RouterError, error.code, error.message]));
}
await router.close().catch(() => {});
`,
  );
  const run = exec(consumerRun(runtime, "libsql.mjs"), dir);
  assert.is(run.code, 0, run.stderr);
  assert.equal(jsonLines(run.stdout), [[
    true,
    "PACKAGE_MISSING",
    'Cannot use the libSQL backend: the package "@libsql/client" is not installed (install it: npm install @libsql/client)',
  ]]);
});

test("a consumer's deno lint loads the plugin from the package's ./lint file", () => {
  const dir = runFolder("lint");
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({ lint: { plugins: ["../node_modules/db-router/dist/src/lint/plugin.js"] } }),
  );
  writeFileSync(join(dir, "db.ts"), 'import initSqlJs from "sql.js";\nexport { initSqlJs };\n');
  const run = exec([DENO, "lint", "db.ts"], dir, { ...cleanEnv, NO_COLOR: "1" });
  assert.is(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout + run.stderr, /db-router\/no-direct-database/);
  assert.match(run.stdout + run.stderr, /Cannot import "sql.js" outside the router/);
});

// Deno matches `npm:db-router` against the version range the project's package.json names; a
// `file:` tarball (the consumer above) is no range, so there Deno stops with "Could not find
// constraint" (denoland/deno#18701). A registry install writes a range: this project names one and
// shares the consumer's node_modules (what npm installed from the tarball).
test("a consumer's deno lint loads the plugin as npm:db-router/lint when package.json names a version", () => {
  const dir = mkdtempSync(join(CONSUMER_HOME, `lint-npm-${runtime}-`));
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  symlinkSync(join(consumer, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ private: true, type: "module", dependencies: { "db-router": `^${version}` } }),
  );
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({ lint: { plugins: ["npm:db-router/lint"] } }),
  );
  writeFileSync(join(dir, "db.ts"), 'import initSqlJs from "sql.js";\nexport { initSqlJs };\n');
  const run = exec([DENO, "lint", "db.ts"], dir, { ...cleanEnv, NO_COLOR: "1" });
  assert.is(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout + run.stderr, /db-router\/no-direct-database/);
  assert.match(run.stdout + run.stderr, /Cannot import "sql.js" outside the router/);
});

test("a Deno project links this checkout as a local JSR package and runs the example, no node_modules", () => {
  const dir = mkdtempSync(join(CONSUMER_HOME, `deno-link-${runtime}-`));
  const { name, version } = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  // "db-router" is mapped to the JSR package, so the README's import runs unchanged.
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({
      imports: { "db-router": `jsr:${name}@^${version}` },
      links: [ROOT],
      nodeModulesDir: "none",
    }),
  );
  const { script, expected } = runnableExample("db-router");
  writeFileSync(join(dir, "main.ts"), script);
  // npm dependencies come into a cache of the test's own, from the npm registry (first run only).
  const denoDir = join(CONSUMER_HOME, "deno-dir");
  mkdirSync(denoDir, { recursive: true });
  const run = exec([DENO, "run", "--allow-all", "main.ts"], dir, {
    ...cleanEnv,
    DENO_DIR: denoDir,
    NO_COLOR: "1",
  });
  assert.is(run.code, 0, run.stderr);
  assert.equal(jsonLines(run.stdout), expectedOutput(expected));
  assert.not.ok(existsSync(join(dir, "node_modules")), "the project has no node_modules");
});

test.run();
