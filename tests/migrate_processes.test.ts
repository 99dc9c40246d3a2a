/**
 * Processes of Node, Deno and Bun start at once and migrate one shared
 * database (a sql.js file, then a libSQL `file:` URL): each migration is
 * applied exactly once, by one of them, and all end at the same version.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, type MigrationReport } from "../mod.ts";
import { RACE_MIGRATIONS } from "./_support/migrate_race.ts";
import { type Runtime, startChild } from "./_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`migrate() raced by Node, Deno and Bun processes (tests in ${RUNTIME})`);
const folder = temporaryFolder(`migrate-processes-${RUNTIME}-`);
test.after(folder.remove);

/** Starts one child per runtime, lets them go together, and returns their reports. */
async function race(target: string, runtimes: Runtime[], name: string): Promise<MigrationReport[]> {
  const go = join(folder.dir, `${name}.go`);
  const children = runtimes.map((runtime, i) =>
    startChild(runtime, "tests/_support/migrate_child.ts", [
      target,
      `m-${runtime}-${i}`,
      folder.dir,
      go,
    ])
  );
  try {
    await Promise.all(children.map((child) => child.waitFor((line) => line === "ready", 60_000)));
    writeFileSync(go, "");
    const exits = await Promise.all(children.map((child) => child.exited));
    return exits.map(({ code, output }, i) => {
      assert.is(code, 0, `${runtimes[i]}: ${output}`);
      return JSON.parse(output.trim().split("\n").at(-1)!) as MigrationReport;
    });
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
}

async function check(reports: MigrationReport[], shared: string): Promise<void> {
  const names = RACE_MIGRATIONS.map((m) => m.name);
  assert.equal(reports.flatMap((r) => r.applied).sort(), [...names].sort(), "each once");
  for (const report of reports) assert.is(report.to, names.length);
  await using router = new DBRouter("checker", join(folder.dir, "checker.db"), shared);
  const conn = router.getConnection("bots");
  assert.equal(
    await conn.all("SELECT version, name FROM _dbrouter_migrations ORDER BY version"),
    names.map((name, i) => ({ version: i + 1, name })),
  );
  assert.equal(await conn.get("PRAGMA user_version"), { user_version: names.length });
  assert.equal(await conn.get("SELECT count(*) AS n FROM bots WHERE source_menace_id = 'seed'"), {
    n: 500,
  });
}

test("four processes migrate one sql.js file at once: every migration runs exactly once", async () => {
  const shared = join(folder.dir, "shared.db");
  await check(await race(shared, ["node", "deno", "bun", "node"], "sqljs"), shared);
});

test("three processes migrate one libSQL file at once: every migration runs exactly once", async () => {
  const url = pathToFileURL(join(folder.dir, "shared-libsql.db")).href;
  await check(await race(url, ["node", "deno", "bun"], "libsql"), url);
});

test.run();
