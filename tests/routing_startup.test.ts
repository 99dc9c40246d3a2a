import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runScript } from "./_support/spawn.ts";

const test = suite("routing start-up (child processes)");
const script = join(ROOT, "tests/_support/print_routing.ts");
const clean = {
  DB_ROUTER_CONFIG: undefined,
  DB_ROUTER_SHARED_TABLES: undefined,
  DB_ROUTER_LOCAL_TABLES: undefined,
  DB_ROUTER_DENY_TABLES: undefined,
};

interface Printed {
  routes?: Record<string, { route: string; layer: string | null; source?: string; reason: string }>;
  configFile?: string | null;
  error?: { name: string; code: string; message: string };
}

async function start(
  cwd: string,
  env: Record<string, string | undefined>,
  tables: string[],
): Promise<Printed> {
  const result = await runScript(script, { cwd, env: { ...clean, ...env }, args: tables });
  const line = result.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(
      `child printed no JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`,
    );
  }
}

let dir = "";
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), "dbr-startup-"));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test("config/db_router_tables.json in the working directory is merged on import", async () => {
  mkdirSync(join(dir, "config"));
  writeFileSync(
    join(dir, "config/db_router_tables.json"),
    JSON.stringify({ shared: ["alerts", "models"], deny: ["bots"] }),
  );
  const out = await start(dir, {}, ["alerts", "models", "bots", "errors"]);
  assert.is(out.error, undefined);
  assert.is(out.configFile, join(dir, "config/db_router_tables.json"));
  assert.equal(out.routes!.alerts.route, "shared");
  assert.equal(out.routes!.alerts.layer, "config");
  assert.equal(out.routes!.models.route, "shared");
  assert.equal(out.routes!.bots.route, "denied");
  assert.equal(out.routes!.errors.layer, "default");
});

test("without a config file the defaults apply", async () => {
  const out = await start(dir, {}, ["bots"]);
  assert.is(out.configFile, null);
  assert.equal(
    out.routes!.bots,
    { table: "bots", route: "shared", layer: "default", reason: out.routes!.bots.reason } as never,
  );
});

test("DB_ROUTER_CONFIG names another file, and env lists override it", async () => {
  const file = join(dir, "other.json");
  writeFileSync(file, JSON.stringify({ local: ["alerts"], shared: ["session"] }));
  const out = await start(dir, {
    DB_ROUTER_CONFIG: file,
    DB_ROUTER_SHARED_TABLES: " alerts ,",
    DB_ROUTER_DENY_TABLES: "session, code",
  }, ["alerts", "session", "code"]);
  assert.is(out.error, undefined);
  assert.equal([out.routes!.alerts.route, out.routes!.alerts.layer, out.routes!.alerts.source], [
    "shared",
    "env",
    "DB_ROUTER_SHARED_TABLES",
  ]);
  assert.equal([out.routes!.session.route, out.routes!.session.source], [
    "denied",
    "DB_ROUTER_DENY_TABLES",
  ]);
  assert.is(out.routes!.code.route, "denied");
});

test("an invalid config file fails the import with its name and field, and nothing applies", async () => {
  mkdirSync(join(dir, "config"));
  const file = join(dir, "config/db_router_tables.json");
  writeFileSync(file, JSON.stringify({ shared: ["alerts", "bad name"] }));
  const out = await start(dir, {}, []);
  assert.is(out.error?.code, "CONFIG_INVALID");
  assert.ok(out.error!.message.includes(file), out.error!.message);
  assert.ok(out.error!.message.includes("shared.1"), out.error!.message);
});

test("a malformed config file fails the import", async () => {
  const file = join(dir, "broken.json");
  writeFileSync(file, '{"shared": ["alerts"');
  const out = await start(dir, { DB_ROUTER_CONFIG: file }, []);
  assert.is(out.error?.code, "CONFIG_INVALID");
  assert.match(out.error!.message, /malformed JSON/);
});

test("DB_ROUTER_CONFIG naming a missing file fails the import", async () => {
  const out = await start(dir, { DB_ROUTER_CONFIG: join(dir, "nope.json") }, []);
  assert.is(out.error?.code, "CONFIG_INVALID");
  assert.match(out.error!.message, /no such file/);
});

test("an empty DB_ROUTER_CONFIG counts as unset: the default file applies", async () => {
  mkdirSync(join(dir, "config"));
  writeFileSync(join(dir, "config/db_router_tables.json"), JSON.stringify({ local: ["alerts"] }));
  const out = await start(dir, { DB_ROUTER_CONFIG: "" }, ["alerts"]);
  assert.is(out.error, undefined);
  assert.is(out.routes!.alerts.route, "local");
  assert.is(out.routes!.alerts.layer, "config");
});

test("an invalid env list fails the import naming the variable", async () => {
  const out = await start(dir, { DB_ROUTER_LOCAL_TABLES: "ok,drop table" }, []);
  assert.is(out.error?.code, "CONFIG_INVALID");
  assert.match(out.error!.message, /DB_ROUTER_LOCAL_TABLES/);
});

test.run();
