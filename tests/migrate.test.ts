/**
 * `router.migrate()` on the local database and on files that outlive the
 * router, what it refuses, and the `db-router migrate` command.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, memoryStorage, MigrationError, type RouterError } from "../mod.ts";
import { BOTS_MIGRATIONS } from "./_support/backend_cases_migrate.ts";
import { runCli } from "./_support/cli_io.ts";
import { rejection } from "./_support/errors.ts";
import { RUNTIME } from "./_support/storage_fixtures.ts";

const test = suite(`migrate() and db-router migrate (${RUNTIME})`);
let dir = "";
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), "dbr-migrate-"));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

const MODELS: { name: string; up: string }[] = [
  { name: "create_models", up: "CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT)" },
  { name: "models_size", up: "ALTER TABLE models ADD COLUMN size INTEGER" },
];

test("the local database migrates on its own, and its version outlives the router", async () => {
  const local = join(dir, "alpha.db");
  const shared = join(dir, "shared.db");
  {
    await using router = new DBRouter("alpha", local, shared);
    const report = await router.migrate(MODELS.slice(0, 1), { database: "local" });
    assert.equal(report, {
      database: "local",
      namespace: "main",
      from: 0,
      to: 1,
      applied: ["create_models"],
    });
    const conn = router.getConnection("models", "write");
    await conn.run("INSERT INTO models (name) VALUES ('m1')");
    assert.equal(await conn.get("PRAGMA user_version"), { user_version: 1 });
    const bots = router.getConnection("bots");
    assert.equal(await bots.get("PRAGMA user_version"), { user_version: 0 }, "shared untouched");
  }
  await using again = new DBRouter("alpha", local, shared);
  const report = await again.migrate(MODELS, { database: "local" });
  assert.equal([report.from, report.to, report.applied], [1, 2, ["models_size"]]);
  assert.equal(await again.getConnection("models").all("SELECT name, size FROM models"), [
    { name: "m1", size: null },
  ]);
});

test("a database versioned by something else (user_version set, no records) is refused", async () => {
  await using router = new DBRouter("alpha", "a.db", "s.db", { storage: memoryStorage() });
  await router.getConnection("bots", "write").run("PRAGMA user_version = 7");
  const error = await rejection(router.migrate(BOTS_MIGRATIONS));
  assert.instance(error, MigrationError);
  assert.is((error as MigrationError).code, "MIGRATION_AHEAD");
  assert.match(error.message, /user_version is 7 but 0 migrations are recorded/);
  assert.is(await router.getConnection("bots").get("SELECT name FROM sqlite_master"), undefined);
});

test("migrate() after close() rejects with ROUTER_CLOSED", async () => {
  const router = new DBRouter("alpha", "a.db", "s.db", { storage: memoryStorage() });
  await router.close();
  const error = await rejection(router.migrate(BOTS_MIGRATIONS));
  assert.is((error as RouterError).code, "ROUTER_CLOSED");
});

const MODULE = `export const migrations = [
  { name: "create_bots", up: "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)" },
  { name: "seed", up: async (tx) => { await tx.run("INSERT INTO bots (name) VALUES ('from-cli')"); } },
];
export const broken = [
  { name: "create_bots", up: "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)" },
  { name: "typo", up: "CREATE TABLEX nope (x)" },
];
`;

test("db-router migrate applies a module's migrations once, then has nothing to do", async () => {
  const module = join(dir, "migrations.mjs");
  writeFileSync(module, MODULE);
  const shared = join(dir, "shared.db");
  const args = ["migrate", module, "--db-path", shared, "--local-path", join(dir, "cli.db")];
  const first = await runCli(args);
  assert.is(first.code, 0, first.err);
  assert.match(
    first.out,
    /shared database .*shared\.db \(namespace main\): version 0 -> 2, applied create_bots, seed/,
  );
  const second = await runCli(args);
  assert.is(second.code, 0, second.err);
  assert.match(second.out, /at version 2, nothing to apply/);
  await using router = new DBRouter("check", join(dir, "check.db"), shared);
  assert.equal(await router.getConnection("bots").all("SELECT name FROM bots"), [
    { name: "from-cli" },
  ]);
  assert.equal(
    await router.getConnection("bots").all("SELECT menace_id FROM _dbrouter_migrations"),
    [{ menace_id: "cli" }, { menace_id: "cli" }],
  );
});

test("db-router migrate names a failed migration (exit 1) and refuses bad usage (exit 2)", async () => {
  const module = join(dir, "migrations.mjs");
  writeFileSync(module, MODULE);
  const url = pathToFileURL(join(dir, "shared-libsql.db")).href;
  const local = ["--local-path", join(dir, "cli.db")];
  const failed = await runCli(["migrate", module, "--export", "broken", "--db-url", url, ...local]);
  assert.is(failed.code, 1);
  assert.match(failed.err, /Cannot apply migration 2 "typo" to the shared database/);
  const again = await runCli(["migrate", module, "--export", "broken", "--db-url", url, ...local]);
  assert.is(again.code, 1, "create_bots stays applied; typo fails again, and is named again");
  assert.match(again.err, /"typo"/);
  for (
    const args of [
      ["migrate"],
      ["migrate", join(dir, "missing.mjs")],
      ["migrate", module, "--export", "nothing"],
      ["migrate", module, "--database", "elsewhere"],
      ["migrate", module, "--db-path", "x.db", "--db-url", url],
      ["migrate", module, "--bogus"],
    ]
  ) {
    const run = await runCli(args);
    assert.is(run.code, 2, `${args.join(" ")}: ${run.err}`);
  }
});

test.run();
