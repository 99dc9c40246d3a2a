/**
 * The persistence cases on files, registered once per commit path: the page
 * capture (`persistence.test.ts`) and export + diff (`persistence_fallback.test.ts`,
 * which turns the capture off with `DB_ROUTER_PAGE_CAPTURE=off`, inherited by
 * the processes the cases spawn).
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DBRouter } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";
import { ROOT, runScript } from "./spawn.ts";
import { botsImage } from "./bots_image.ts";
import { rejection } from "./errors.ts";

/** Registers and runs the persistence cases with commits on `commitPath`. */
export function persistenceCases(commitPath: "page-capture" | "export-diff"): void {
  const test = suite(`persistence on files (${commitPath})`);
  const previous = process.env.DB_ROUTER_PAGE_CAPTURE;
  test.before(() => {
    if (commitPath === "export-diff") process.env.DB_ROUTER_PAGE_CAPTURE = "off";
    else delete process.env.DB_ROUTER_PAGE_CAPTURE;
  });
  test.after(() => {
    if (previous === undefined) delete process.env.DB_ROUTER_PAGE_CAPTURE;
    else process.env.DB_ROUTER_PAGE_CAPTURE = previous;
  });

  let dir = "";
  test.before.each(() => {
    dir = mkdtempSync(join(tmpdir(), "dbr-persist-"));
  });
  test.after.each(() => rmSync(dir, { recursive: true, force: true }));

  async function countOnDisk(sharedPath: string, table = "bots"): Promise<number> {
    await using reader = new DBRouter("reader", join(dir, "reader-local.db"), sharedPath, {
      storage: fileStorageFor(RUNTIME),
    });
    const row = await reader.getConnection(table).get<{ c: number }>(
      `SELECT count(*) AS c FROM ${table}`,
    );
    return row!.c;
  }

  function sqlite3(file: string, sql: string): string {
    return execFileSync("sqlite3", [file, sql], { encoding: "utf8" }).trim();
  }

  test("rows written survive close and reopen, on both databases", async () => {
    const local = join(dir, "local.db");
    const shared = join(dir, "shared", "global.db");
    {
      await using router = new DBRouter("alpha", local, shared);
      await router.getConnection("bots", "write").exec(
        "CREATE TABLE bots (name TEXT); INSERT INTO bots VALUES ('b')",
      );
      await router.getConnection("models", "write").exec(
        "CREATE TABLE models (name TEXT); INSERT INTO models VALUES ('m')",
      );
    }
    await using again = new DBRouter("alpha", local, shared, { storage: fileStorageFor(RUNTIME) });
    assert.equal(await again.getConnection("bots").all("SELECT name FROM bots"), [{ name: "b" }]);
    assert.equal(await again.getConnection("models").all("SELECT name FROM models"), [{
      name: "m",
    }]);
  });

  test("after close() each database file is a standard SQLite file that the sqlite3 shell opens", async () => {
    const local = join(dir, "local.db");
    const shared = join(dir, "global.db");
    const router = new DBRouter("alpha", local, shared);
    const bots = router.getConnection("bots", "write");
    await bots.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)");
    for (let i = 0; i < 50; i++) await bots.run("INSERT INTO bots (name) VALUES (?)", [`bot ${i}`]);
    await router.getConnection("models", "write").exec(
      "CREATE TABLE models (x); INSERT INTO models VALUES (1)",
    );
    await router.close();
    assert.is(sqlite3(shared, "PRAGMA integrity_check"), "ok");
    assert.is(sqlite3(shared, "SELECT count(*) FROM bots"), "50");
    assert.is(sqlite3(local, "SELECT x FROM models"), "1");
  });

  test("a write's promise resolves only once it is on disk (durability commit)", async () => {
    const shared = join(dir, "global.db");
    await using router = new DBRouter("alpha", join(dir, "local.db"), shared);
    const bots = router.getConnection("bots", "write");
    await bots.exec("CREATE TABLE bots (x)");
    await bots.run("INSERT INTO bots VALUES (1)");
    assert.is(await countOnDisk(shared), 1);
    await bots.run("INSERT INTO bots VALUES (2)");
    assert.is(await countOnDisk(shared), 2);
  });

  test("with durability deferred, writes reach disk at flush(), not before", async () => {
    const local = join(dir, "local.db");
    await using router = new DBRouter("alpha", local, join(dir, "global.db"), {
      durability: "deferred",
      flushIntervalMs: 60_000,
    });
    const models = router.getConnection("models", "write");
    await models.exec("CREATE TABLE models (x)");
    await models.run("INSERT INTO models VALUES (1)");
    assert.not.ok(
      existsSync(local) && readFileSync(local).length > 0,
      "nothing written before flush",
    );
    await router.flush();
    await using reader = new DBRouter("alpha", local, join(dir, "other.db"), {
      storage: fileStorageFor(RUNTIME),
    });
    assert.equal(await reader.getConnection("models").all("SELECT x FROM models"), [{ x: 1 }]);
  });

  test("with durability deferred, writes reach disk within flushIntervalMs without a flush() call", async () => {
    const local = join(dir, "local.db");
    await using router = new DBRouter("alpha", local, join(dir, "global.db"), {
      durability: "deferred",
      flushIntervalMs: 30,
    });
    await router.getConnection("models", "write").exec(
      "CREATE TABLE models (x); INSERT INTO models VALUES (1)",
    );
    await new Promise((r) => setTimeout(r, 300));
    await using reader = new DBRouter("alpha", local, join(dir, "other.db"), {
      storage: fileStorageFor(RUNTIME),
    });
    assert.equal(await reader.getConnection("models").all("SELECT x FROM models"), [{ x: 1 }]);
  });

  test("parent folders are created", async () => {
    const shared = join(dir, "a", "b", "c", "global.db");
    await using router = new DBRouter("alpha", join(dir, "x", "local.db"), shared);
    await router.getConnection("bots", "write").exec(
      "CREATE TABLE bots (x); INSERT INTO bots VALUES (1)",
    );
    assert.ok(existsSync(shared));
  });

  test("a bare file name and the default paths work, relative to the working directory", async () => {
    const bare = await runScript(join(ROOT, "tests/_support/open_default.ts"), {
      cwd: dir,
      args: ["alpha", "local.db", "shared.db"],
    });
    assert.equal(JSON.parse(bare.stdout), {
      localPath: join(dir, "local.db"),
      sharedPath: join(dir, "shared.db"),
    });
    const defaults = await runScript(join(ROOT, "tests/_support/open_default.ts"), {
      cwd: dir,
      args: ["beta", "-", "-"],
      env: { MENACE_LOCAL_DB_PATH: undefined, MENACE_SHARED_DB_PATH: undefined },
    });
    assert.equal(JSON.parse(defaults.stdout), {
      localPath: join(dir, "menace_beta_local.db"),
      sharedPath: join(dir, "shared", "global.db"),
    });
    assert.is(sqlite3(join(dir, "shared", "global.db"), "SELECT x FROM bots"), "1");
    assert.is(sqlite3(join(dir, "menace_beta_local.db"), "SELECT x FROM models"), "2");
  });

  test("MENACE_LOCAL_DB_PATH and MENACE_SHARED_DB_PATH override the defaults", async () => {
    const out = await runScript(join(ROOT, "tests/_support/open_default.ts"), {
      cwd: dir,
      args: ["gamma", "-", "-"],
      env: { MENACE_LOCAL_DB_PATH: "mine/l.db", MENACE_SHARED_DB_PATH: join(dir, "s", "g.db") },
    });
    assert.equal(JSON.parse(out.stdout), {
      localPath: join(dir, "mine", "l.db"),
      sharedPath: join(dir, "s", "g.db"),
    });
  });

  test("a file that is not a SQLite database raises DATABASE_CORRUPT and is never overwritten", async () => {
    const shared = join(dir, "global.db");
    const garbage = new TextEncoder().encode("this is not a database\n".repeat(300));
    writeFileSync(shared, garbage);
    const router = new DBRouter("alpha", join(dir, "local.db"), shared);
    const ready = await rejection(router.ready());
    assert.is(ready.code, "DATABASE_CORRUPT");
    assert.ok(ready.message.includes(shared), ready.message);
    const write = await rejection(
      router.getConnection("bots", "write").exec("CREATE TABLE bots (x)"),
    );
    assert.is(write.code, "DATABASE_CORRUPT");
    await router.close();
    assert.equal(new Uint8Array(readFileSync(shared)), garbage);
  });

  test("a damaged SQLite file raises DATABASE_CORRUPT and is left as it was", async () => {
    const image = await botsImage();
    const cases: Record<string, Uint8Array> = {
      truncated: image.subarray(0, image.length - 4096 - 100),
      "page scribbled": image.slice(),
    };
    cases["page scribbled"].fill(0x5a, 2 * 4096 + 8, 2 * 4096 + 600);
    for (const [name, bytes] of Object.entries(cases)) {
      const file = join(dir, `${name.replace(" ", "_")}.db`);
      writeFileSync(file, bytes);
      const router = new DBRouter("alpha", join(dir, "local.db"), file);
      const error = await rejection(router.ready());
      assert.is(error.code, "DATABASE_CORRUPT", name);
      await router.close();
      assert.equal(new Uint8Array(readFileSync(file)), bytes, name);
    }
  });

  test("a writer killed at random moments leaves a database that opens with every resolved write", async () => {
    for (let trial = 0; trial < 4; trial++) {
      const shared = join(dir, `kill-${trial}.db`);
      mkdirSync(join(dir, `l${trial}`));
      const { spawn } = await import("node:child_process");
      const { runtimeCommand, currentRuntime } = await import("./spawn.ts");
      const [command, ...args] = runtimeCommand(
        currentRuntime(),
        join(ROOT, "tests/_support/writer.ts"),
        [
          "killed",
          join(dir, `l${trial}`, "local.db"),
          shared,
          "100000",
        ],
      );
      const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      // Let it get going, then kill it at a moment between two lines of output.
      await new Promise<void>((resolve) => {
        const want = 5 + Math.floor(Math.random() * 40);
        const check =
          () => ((out.match(/^ok /gm) ?? []).length >= want ? resolve() : setTimeout(check, 2));
        check();
      });
      await new Promise((r) => setTimeout(r, Math.random() * 15));
      child.kill("SIGKILL");
      await new Promise((r) => child.on("close", r));
      const resolved = (out.match(/^ok (\d+)$/gm) ?? []).map((line) => Number(line.slice(3)));
      const last = resolved.at(-1)!;
      await using reader = new DBRouter("reader", join(dir, `r${trial}.db`), shared, {
        storage: fileStorageFor(RUNTIME),
      });
      const bots = reader.getConnection("bots");
      assert.equal(await bots.get("PRAGMA integrity_check"), { integrity_check: "ok" });
      const names = new Set(
        (await bots.all<{ name: string }>("SELECT name FROM bots")).map((r) => r.name),
      );
      for (let i = 1; i <= last; i++) {
        assert.ok(names.has(`killed-${i}`), `trial ${trial}: resolved write ${i} is lost`);
      }
    }
  });

  test(`stats() says that commits take the ${commitPath} path`, async () => {
    await using router = new DBRouter("alpha", join(dir, "local.db"), join(dir, "global.db"));
    await router.getConnection("bots", "write").exec("CREATE TABLE bots (x)");
    await router.getConnection("models", "write").exec("CREATE TABLE models (x)");
    assert.is(router.storageStats().shared.commitPath, commitPath);
    assert.is(router.storageStats().local.commitPath, commitPath);
  });

  test.run();
}
