/**
 * The structured access log: environment settings, the JSON and key=value
 * formats, LogTape routing (application-configured or the fallback sink), and
 * which accesses are logged.
 *
 * @module
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, DBRouter, memoryStorage } from "../mod.ts";
import { accessLogObserver } from "../src/observe/access_log.ts";
import { RouterLog } from "../src/observe/log.ts";
import { parseLogSettings } from "../src/observe/log_env.ts";
import { formatJsonRecord, formatKvRecord } from "../src/observe/log_format.ts";
import { ROOT, runScript } from "./_support/spawn.ts";

const test = suite("observe: access log");
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const shared = {
  menaceId: "alpha",
  table: "bots",
  operation: "write",
  database: "shared",
} as const;
const local = { menaceId: "alpha", table: "models", operation: "read", database: "local" } as const;
const env = (values: Record<string, string>) => (name: string) => values[name];

/** Configures LogTape as an application would, with `records` as its only sink. */
async function configureApp(records: LogRecord[], lowestLevel: "info" | "warning") {
  await configure({
    reset: true,
    sinks: { memory: (record: LogRecord) => void records.push(record) },
    loggers: [
      { category: ["db-router"], sinks: ["memory"], lowestLevel },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
}

const record = (properties: Record<string, unknown>, message = "bots read"): LogRecord => ({
  category: ["db-router", "access"],
  level: "info",
  rawMessage: message,
  message: [message],
  timestamp: Date.UTC(2024, 4, 14, 12),
  properties,
});

test.after.each(() => reset());

test("parseLogSettings: unset or blank variables give WARNING and json", () => {
  assert.equal(parseLogSettings(env({})), { level: "warning", format: "json" });
  assert.equal(parseLogSettings(env({ DB_ROUTER_LOG_LEVEL: " ", DB_ROUTER_LOG_FORMAT: "" })), {
    level: "warning",
    format: "json",
  });
});

test("parseLogSettings: level names in any case, WARN and CRITICAL included", () => {
  const cases: Array<[string, string]> = [
    ["DEBUG", "debug"],
    ["info", "info"],
    ["Warning", "warning"],
    ["WARN", "warning"],
    [" error ", "error"],
    ["CRITICAL", "fatal"],
  ];
  for (const [raw, level] of cases) {
    assert.is(parseLogSettings(env({ DB_ROUTER_LOG_LEVEL: raw })).level, level, raw);
  }
  assert.is(parseLogSettings(env({ DB_ROUTER_LOG_FORMAT: "KV" })).format, "kv");
});

test("parseLogSettings: a bad level or format is a ConfigError naming the variable", () => {
  for (
    const [name, value] of [["DB_ROUTER_LOG_LEVEL", "verbose"], ["DB_ROUTER_LOG_FORMAT", "xml"]]
  ) {
    try {
      parseLogSettings(env({ [name]: value }));
      assert.unreachable("should throw");
    } catch (error) {
      assert.instance(error, ConfigError);
      assert.is((error as ConfigError).code, "CONFIG_INVALID");
      assert.is((error as ConfigError).source, name);
      assert.match((error as ConfigError).message, `"${value}"`);
    }
  }
});

test("formatJsonRecord writes one JSON object with timestamp, level, logger, message, then properties", () => {
  assert.is(
    formatJsonRecord(record({ menace_id: "alpha", table_name: "bots", count: 2n })),
    '{"timestamp":"2024-05-14T12:00:00.000Z","level":"INFO","logger":"db-router.access",' +
      '"message":"bots read","menace_id":"alpha","table_name":"bots","count":"2"}\n',
  );
});

test("formatKvRecord quotes values with spaces, quotes, =, backslashes, control characters or none", () => {
  assert.is(
    formatKvRecord(
      record({
        a: "plain",
        b: "two words",
        c: 'say "hi"',
        d: "k=v",
        e: "a\\b",
        f: "",
        g: "x\ny",
        n: 3,
      }),
    ),
    'timestamp=2024-05-14T12:00:00.000Z level=INFO logger=db-router.access message="bots read" ' +
      'a=plain b="two words" c="say \\"hi\\"" d="k=v" e="a\\\\b" f="" g="x\\ny" n=3\n',
  );
});

test("without an application configuration, the fallback sink gets records at or above DB_ROUTER_LOG_LEVEL", () => {
  const seen: LogRecord[] = [];
  const info = new RouterLog({ level: "info", format: "json" }, (r) => void seen.push(r));
  accessLogObserver(info).onAccess!(shared);
  assert.is(seen.length, 1);
  assert.equal(seen[0].category, ["db-router", "access"]);
  assert.equal(seen[0].properties, {
    menace_id: "alpha",
    table_name: "bots",
    operation: "write",
    database: "shared",
  });
  assert.match(new Date(seen[0].timestamp).toISOString(), ISO_UTC);
  assert.is(formatJsonRecord(seen[0]).includes('"message":"alpha write bots (shared)"'), true);

  const quiet = new RouterLog({ level: "warning", format: "json" }, (r) => void seen.push(r));
  assert.is(quiet.enabled("access", "info"), false);
  accessLogObserver(quiet).onAccess!(shared);
  quiet.emit("audit", "error", "{reason}", { reason: "disk full" });
  assert.equal(seen.map((r) => r.level), ["info", "error"]);
});

test("local accesses are silent unless the audit log is on", () => {
  const seen: LogRecord[] = [];
  const log = new RouterLog({ level: "debug", format: "json" }, (r) => void seen.push(r));
  accessLogObserver(log).onAccess!(local);
  assert.is(seen.length, 0);
  accessLogObserver(log, { includeLocal: true }).onAccess!(local);
  assert.is(seen[0].properties.database, "local");
});

test("an application's LogTape configuration receives the records and silences the fallback sink", async () => {
  const app: LogRecord[] = [];
  const fallback: LogRecord[] = [];
  const log = new RouterLog({ level: "debug", format: "json" }, (r) => void fallback.push(r));
  await configureApp(app, "info");
  accessLogObserver(log).onAccess!(shared);
  assert.is(fallback.length, 0);
  assert.is(app.length, 1);
  assert.equal(app[0].category, ["db-router", "access"]);
  assert.is(app[0].properties.table_name, "bots");
  assert.is(app[0].message.join(""), "alpha write bots (shared)");
});

test("enabled() follows the application's level, and a new configuration, at once", async () => {
  const app: LogRecord[] = [];
  const log = new RouterLog({ level: "debug", format: "json" });
  await configureApp(app, "warning");
  assert.is(log.enabled("access", "info"), false);
  accessLogObserver(log).onAccess!(shared);
  assert.is(app.length, 0);
  await configureApp(app, "info");
  assert.is(log.enabled("access", "info"), true);
  await reset();
  assert.is(log.enabled("access", "info"), true, "the fallback at DEBUG again");
});

test("a router logs its shared accesses through LogTape, and local ones too with the audit log on", async () => {
  const app: LogRecord[] = [];
  await configureApp(app, "info");
  const dir = mkdtempSync(join(tmpdir(), "dbr-log-"));
  try {
    const plain = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
    plain.getConnection("bots", "write");
    plain.getConnection("models");
    assert.equal(app.map((r) => r.properties.table_name), ["bots"]);
    await plain.close();
    const audited = new DBRouter("beta", "l.db", "s.db", {
      storage: memoryStorage(),
      auditLog: join(dir, "audit.log"),
    });
    audited.getConnection("models");
    assert.equal(app.map((r) => r.properties.table_name), ["bots", "models"]);
    assert.is(app[1].properties.menace_id, "beta");
    await audited.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const child = join(ROOT, "tests/_support/observe_child.ts");
const quietEnv = {
  DB_ROUTER_LOG_LEVEL: undefined,
  DB_ROUTER_LOG_FORMAT: undefined,
  DB_ROUTER_AUDIT_LOG: undefined,
  DB_ROUTER_CONFIG: undefined,
};

test("DB_ROUTER_LOG_LEVEL=INFO with DB_ROUTER_LOG_FORMAT=kv prints shared accesses as key=value on stderr", async () => {
  const run = await runScript(child, {
    args: ["close", "alpha", "5"],
    env: { ...quietEnv, DB_ROUTER_LOG_LEVEL: "INFO", DB_ROUTER_LOG_FORMAT: "kv" },
  });
  const lines = run.stderr.trim().split("\n");
  assert.is(lines.length, 3, run.stderr); // bots write, bots read, errors write; models and events are local
  // The fallback sink is db-router's own: LogTape was never loaded (it costs start-up time).
  const done = run.stdout.split("\n").map((l) => l && JSON.parse(l)).find((o) => o && "done" in o);
  assert.equal(done, { done: 5, logtapeLoaded: false });
  for (const line of lines) {
    assert.match(
      line,
      /^timestamp=\S+Z level=INFO logger=db-router.access message="alpha \w+ \w+ \(shared\)" menace_id=alpha table_name=\w+ operation=\w+ database=shared$/,
    );
  }
});

test("with nothing set, a router prints nothing; a bad level stops it with CONFIG_INVALID", async () => {
  const silent = await runScript(child, { args: ["close", "alpha", "5"], env: quietEnv });
  assert.is(silent.stderr, "");
  const bad = await runScript(child, {
    args: ["close", "alpha", "5"],
    env: { ...quietEnv, DB_ROUTER_LOG_LEVEL: "loud" },
  });
  const out = JSON.parse(bad.stdout.trim().split("\n")[0]);
  assert.is(out.error.code, "CONFIG_INVALID");
  assert.match(out.error.message, "DB_ROUTER_LOG_LEVEL");
});

test.run();
