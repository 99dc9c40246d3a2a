/**
 * The built package's split (`config/bundle.mjs`): importing the package and
 * a first read run only `dist/mod.js` and `dist/chunks/core.js`, and the code
 * a first read does not need (browser storage's database and Worker code, the
 * remote drivers, the page-capture probe, the fold, the file lock, the
 * migration runner, the queue's appliers) is not in the core, where Node and
 * Bun would parse it at every start (BENCHMARKS.md, issue 15).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter } from "../mod.ts";
import { ensureBuilt } from "./_support/package_build.ts";
import { ROOT, runtimeCommand } from "./_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`package split (${RUNTIME})`);
const DIST = join(ROOT, "dist");
const CHUNKS = join(DIST, "chunks");
const CORE = join(CHUNKS, "core.js");

/** A declaration of `name` as esbuild writes it: `function name(`, `var name = class`. */
function declared(name: string): RegExp {
  return new RegExp(`(?:function ${name}\\(|\\b${name} = class\\b|class ${name}\\b)`);
}

/** Code that must stay out of the core: what marks it, and the module it comes from. */
const LAZY: Array<[RegExp, string]> = [
  [declared("D1Driver"), "src/remote/d1_driver.ts"],
  [declared("LibsqlDriver"), "src/remote/libsql_driver.ts"],
  [declared("RemoteConnection"), "src/remote/remote_connection.ts"],
  [declared("IdbDatabase"), "src/storage/browser/idb_database.ts"],
  [declared("OpfsDatabase"), "src/storage/browser/opfs_database.ts"],
  [declared("OpfsFiles"), "src/storage/browser/opfs_files.ts"],
  [declared("acquireLock"), "src/storage/browser/web_lock.ts"],
  [declared("probeCapture"), "src/persist/probe.ts"],
  [declared("PageCapture"), "src/persist/capture.ts"],
  [declared("foldInPlace"), "src/storage/file/fold.ts"],
  [declared("acquireFileLock"), "src/storage/file/lock.ts"],
  [declared("runMigrations"), "src/migrate/run.ts"],
  [declared("applyClaimedFile"), "src/queue/claimed_file.ts"],
  [declared("applyBatchAtomic"), "src/queue/apply_atomic.ts"],
];

test.before(() => ensureBuilt());

test("the core holds none of the code imported at first use, and a chunk holds each", () => {
  const core = readFileSync(CORE, "utf8");
  const lazy = readdirSync(CHUNKS)
    .filter((name) => name !== "core.js")
    .map((name) => readFileSync(join(CHUNKS, name), "utf8"));
  for (const [marker, source] of LAZY) {
    assert.not.match(core, marker, `${source} is imported statically again`);
    assert.ok(lazy.some((code) => marker.test(code)), `${source}: no chunk has ${marker}`);
  }
  // The entry is the public exports only, re-exported from the core.
  const entry = readFileSync(join(DIST, "mod.js"), "utf8");
  assert.match(entry, /^\/\/ @bun\nexport \{[^}]*\} from "\.\/chunks\/core\.js";\s*$/);
});

test("each built file runs as written: Bun does not transpile it (`// @bun`)", async () => {
  // Bun's transpiler prints the code again (comments dropped, statements rewritten), so a
  // function's source text is the file's own only where it ran the file untouched.
  const files = [join(DIST, "mod.js"), ...readdirSync(CHUNKS).map((name) => join(CHUNKS, name))];
  for (const file of files) assert.ok(readFileSync(file, "utf8").startsWith("// @bun\n"), file);
  // The tests run in Node through tsx, whose loader transpiles what it imports; Deno and Node
  // themselves run the files as written. Bun is the runtime this is about.
  if (RUNTIME !== "bun") return;
  const core = await import(pathToFileURL(CORE).href);
  const text = readFileSync(CORE, "utf8");
  for (const name of ["DBRouter", "explainRoute", "parseScope"]) {
    assert.ok(text.includes(String(core[name])), `${name}'s source is not the core's text`);
  }
  const [probe] = readdirSync(CHUNKS).filter((name) => name.startsWith("probe-"));
  const lazy = await import(pathToFileURL(join(CHUNKS, probe)).href);
  const chunk = readFileSync(join(CHUNKS, probe), "utf8");
  const exported = Object.values(lazy).filter((value) => typeof value === "function");
  assert.ok(exported.length > 0, `${probe} exports no function`);
  for (const fn of exported) assert.ok(chunk.includes(String(fn)), `${probe}: ${fn.name}`);
});

test("importing the package imports nothing of sql.js: it loads at the first open", () => {
  const core = readFileSync(CORE, "utf8");
  assert.not.match(core, /^\s*import\b[^;(]*["']sql\.js["']/m, "a static import of sql.js");
  if (RUNTIME === "deno") return; // Deno keeps no CommonJS cache to look in; the check above holds
  // In a fresh process: after the import, sql.js's module is not in the CommonJS cache (Node and
  // Bun put it there however it is loaded, ES import included); after a first open it is.
  const folder = temporaryFolder(`split-sqljs-${RUNTIME}-`);
  const probe = join(folder.dir, "probe.mjs");
  try {
    writeFileSync(
      probe,
      [
        `import { createRequire } from "node:module";`,
        `const require = createRequire(${JSON.stringify(pathToFileURL(CORE).href)});`,
        `const sqljs = require.resolve("sql.js");`,
        `const { DBRouter } = await import(${
          JSON.stringify(pathToFileURL(join(DIST, "mod.js")).href)
        });`,
        `const before = sqljs in require.cache;`,
        `const router = new DBRouter("alpha", ${JSON.stringify(join(folder.dir, "local.db"))}, ${
          JSON.stringify(join(folder.dir, "shared.db"))
        });`,
        `await router.getConnection("bots", "write").exec("CREATE TABLE bots (id INTEGER PRIMARY KEY)");`,
        `console.log(JSON.stringify({ before, after: sqljs in require.cache }));`,
        `await router.close();`,
      ].join("\n"),
    );
    const command = RUNTIME === "node" ? ["node", probe] : runtimeCommand(RUNTIME, probe, []);
    const out = execFileSync(command[0], command.slice(1), { encoding: "utf8", stdio: "pipe" });
    const line = out.split("\n").find((l) => l.startsWith("{"));
    assert.equal(JSON.parse(line!), { before: false, after: true });
  } finally {
    folder.remove();
  }
});

test("every lazy chunk loads, importing what it shares from the core", async () => {
  const core = await import(pathToFileURL(CORE).href);
  for (const name of readdirSync(CHUNKS)) await import(pathToFileURL(join(CHUNKS, name)).href);
  assert.type(core.DBRouter, "function");
});

test("the package's first read runs with only mod.js and chunks/core.js", async () => {
  const folder = temporaryFolder(`split-${RUNTIME}-`);
  // Inside the checkout, so that sql.js and async-mutex resolve from its node_modules.
  const copy = join(ROOT, "tests", "artifacts", `split-${RUNTIME}-${process.pid}`);
  try {
    {
      await using router = new DBRouter(
        "alpha",
        join(folder.dir, "local.db"),
        join(folder.dir, "shared.db"),
      );
      const bots = router.getConnection("bots", "write");
      await bots.exec(
        "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)",
      );
      await bots.run("INSERT INTO bots (id, name, source_menace_id) VALUES (1, 'first', 'alpha')");
    }
    mkdirSync(join(copy, "chunks"), { recursive: true });
    copyFileSync(join(DIST, "mod.js"), join(copy, "mod.js"));
    copyFileSync(CORE, join(copy, "chunks", "core.js"));
    const child = join(ROOT, "tests", "_support", "startup_child.mjs");
    const args = ["router", pathToFileURL(join(copy, "mod.js")).href, folder.dir];
    // Plain JavaScript: Node runs it without tsx, as a consumer of the package does.
    const command = RUNTIME === "node"
      ? ["node", child, ...args]
      : runtimeCommand(RUNTIME, child, args);
    let out = "";
    try {
      out = execFileSync(command[0], command.slice(1), { encoding: "utf8", stdio: "pipe" });
    } catch (error) {
      // close() may import the fold's chunk, absent here: the first row is what is checked.
      out = String((error as { stdout?: string }).stdout ?? "");
    }
    const line = out.split("\n").find((l) => l.startsWith("{"));
    assert.ok(line, `no first row printed: ${out}`);
    assert.type(JSON.parse(line!).first, "number");
  } finally {
    rmSync(copy, { recursive: true, force: true });
    folder.remove();
  }
});

test.run();

test("Bun's entry: the bytecode core under the Bun that built it, else the ES core; one core for the entry, kysely and drizzle", () => {
  const bunDir = join(DIST, "bun");
  const shim = readFileSync(join(bunDir, "mod.js"), "utf8");
  const bunVersion = execFileSync(join(ROOT, "node_modules", ".bin", "bun"), ["--version"], {
    encoding: "utf8",
  }).trim();
  assert.ok(
    shim.includes(`const BYTECODE_BUN = ${JSON.stringify(bunVersion)};`),
    "built by this Bun",
  );
  assert.ok(readFileSync(join(bunDir, "core.cjs"), "utf8").startsWith("// @bun @bytecode"));
  assert.ok(statSync(join(bunDir, "core.cjs.jsc")).size > 100_000, "the bytecode");
  // Every public export of the ES entry, by name.
  const names = (text: string) =>
    [...text.matchAll(/^\s+(\w+),$/gm)].map((m) => m[1]).concat(
      [...text.matchAll(/^export let (\w+) =/gm)].map((m) => m[1]),
    ).sort();
  assert.equal(names(shim), names(readFileSync(join(DIST, "mod.js"), "utf8")));
  if (RUNTIME !== "bun") return; // the children below are Bun's; once is enough
  const folder = temporaryFolder(`split-bun-${RUNTIME}-`);
  // Inside the checkout, so that kysely and drizzle-orm resolve from its node_modules.
  const dir = join(ROOT, "tests", "artifacts", `split-bun-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const url = (path: string) => JSON.stringify(pathToFileURL(join(bunDir, path)).href);
  const script = join(dir, "bun_entry.mjs");
  writeFileSync(
    script,
    `import { createRequire } from "node:module";
const entry = await import(${url("mod.js")});
const { RouterDialect } = await import(${url("src/kysely/mod.js")});
const { drizzle } = await import(${url("src/drizzle/mod.js")});
const { Kysely } = await import("kysely");
const loaded = Object.keys(createRequire(import.meta.url).cache);
const router = entry.initDbRouter("alpha", "alpha.db", "shared/global.db", {
  storage: entry.memoryStorage(),
});
const liveAfterInit = entry.GLOBAL_ROUTER === router;
// Another copy of the core in the same process (the ES one, when the entry took the bytecode):
// its global router is its own.
const es = await import(${JSON.stringify(pathToFileURL(CORE).href)});
const other = es.DBRouter === entry.DBRouter ? undefined : es.initDbRouter("beta", "beta.db", "shared/beta.db", {
  storage: es.memoryStorage(),
});
const ownAfterOther = entry.GLOBAL_ROUTER === router && (!other || es.GLOBAL_ROUTER === other);
await other?.close();
await router.getConnection("bots", "write").exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)");
entry.SHARED_TABLES.add("bun_extra");
await router.getConnection("bun_extra", "write").exec("CREATE TABLE bun_extra (x)");
const db = new Kysely({ dialect: new RouterDialect({ router }) });
await db.insertInto("bots").values({ name: "k" }).execute();
const extra = await db.selectFrom("bun_extra").selectAll().execute();
const denied = await db.selectFrom("capital_ledger").selectAll().execute().catch((e) => e);
const rows = await drizzle(router).all("select name from bots");
await router.close();
console.log(JSON.stringify({
  bytecode: loaded.some((path) => path.endsWith("/dist/bun/core.cjs")),
  liveAfterInit,
  ownAfterOther,
  liveAfterClose: entry.GLOBAL_ROUTER === undefined,
  extra,
  sameError: denied instanceof entry.RouterError,
  rows,
}));
`,
  );
  try {
    for (const bytecode of [true, false]) {
      const out = execFileSync(join(ROOT, "node_modules", ".bin", "bun"), [script], {
        cwd: folder.dir,
        encoding: "utf8",
        env: { ...process.env, DB_ROUTER_BUN_BYTECODE: bytecode ? "" : "off" },
      });
      assert.equal(JSON.parse(out.trim().split("\n").pop()!), {
        bytecode,
        liveAfterInit: true,
        ownAfterOther: true,
        liveAfterClose: true,
        extra: [],
        sameError: true,
        rows: [["k"]],
      }, `DB_ROUTER_BUN_BYTECODE=${bytecode ? "" : "off"}`);
    }
    // A Bun application bundled with `bun build` (or --compile) takes the ES core: Bun's CommonJS
    // build is a function only its loader calls, and the entry names it so that bundlers skip it.
    const app = join(dir, "app.mjs");
    writeFileSync(
      app,
      `import { initDbRouter, memoryStorage } from ${JSON.stringify(join(bunDir, "mod.js"))};
const router = initDbRouter("alpha", "a.db", "shared/g.db", { storage: memoryStorage() });
await router.getConnection("bots", "write").exec("CREATE TABLE bots (id INTEGER PRIMARY KEY)");
console.log(JSON.stringify(await router.getConnection("bots").all("SELECT 7 AS x")));
await router.close();
`,
    );
    const bun = join(ROOT, "node_modules", ".bin", "bun");
    execFileSync(bun, ["build", "--target=bun", app, `--outdir=${join(dir, "out")}`], {
      stdio: "pipe",
    });
    const bundled = join(dir, "out", "app.js");
    assert.not.ok(readFileSync(bundled, "utf8").includes("@bun-cjs"), "the CommonJS core bundled");
    const out = execFileSync(bun, [bundled], { cwd: folder.dir, encoding: "utf8" });
    assert.equal(JSON.parse(out.trim().split("\n").pop()!), [{ x: 7 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    folder.remove();
  }
});
