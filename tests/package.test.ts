/**
 * The built npm package (`npm ci` runs `prepare`, which writes `dist/`): its
 * executable runs as `npx db-router`, and its bundled module works in this
 * runtime.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { currentRuntime, ROOT } from "./_support/spawn.ts";

const test = suite(`built package (${currentRuntime()})`);
const BIN = join(ROOT, "dist", "src", "cli", "bin.js");
const MOD = join(ROOT, "dist", "mod.js");

test.before(() => {
  if (!existsSync(BIN) || !existsSync(MOD)) {
    throw new Error(`${BIN} or ${MOD} is missing: run "npm run prepare" (npm ci runs it)`);
  }
});

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
    env: { ...process.env, DB_ROUTER_CONFIG: "", DB_ROUTER_SHARED_TABLES: "" },
  });
  const { tables } = JSON.parse(out) as { tables: { table: string; route: string }[] };
  assert.equal(tables.find((e) => e.table === "bots")?.route, "shared");
});

test("the package ships the pre-commit hook that its comment says to copy", () => {
  const listing = execFileSync("npm", ["pack", "--dry-run", "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, npm_config_ignore_scripts: "true" },
  });
  const [{ files }] = JSON.parse(listing) as [{ files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  assert.ok(paths.includes("examples/pre-commit"), paths.join(" "));
  assert.ok(paths.includes("dist/src/cli/bin.js"));
  const hook = readFileSync(join(ROOT, "examples", "pre-commit"), "utf8");
  assert.match(hook, /cp node_modules\/db-router\/examples\/pre-commit /);
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

test.run();
