/**
 * The observers a router attaches by itself: when the audit log is on and
 * where it goes (option, environment, config file), in this process and in
 * child processes that end without `close()`.
 *
 * @module
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, memoryStorage, RouterError } from "../mod.ts";
import { CHAIN_START } from "../src/observe/audit_chain.ts";
import { AuditLogObserver } from "../src/observe/audit.ts";
import { chooseAuditLog, defaultObservers } from "../src/observe/defaults.ts";
import type { RouterObserver } from "../src/observe/hooks.ts";
import type { StorageAdapter } from "../src/storage/types.ts";
import { auditFolder, readAudit } from "./_support/observe_audit.ts";
import { ROOT, runScript } from "./_support/spawn.ts";

const test = suite("observe: default observers");
const folder = auditFolder("dbr-defaults-");
test.after(folder.remove);

function build(options: {
  env?: Record<string, string>;
  auditLog?: string | false;
  auditChain?: boolean;
  config?: string;
  storage?: StorageAdapter;
  hostStorage?: StorageAdapter;
}): RouterObserver[] {
  const hostStorage = options.hostStorage ?? memoryStorage();
  return defaultObservers({
    host: { env: (name) => options.env?.[name], defaultStorage: () => hostStorage },
    storage: options.storage ?? memoryStorage(),
    auditLog: options.auditLog,
    auditChain: options.auditChain,
    configAuditLog: options.config,
  });
}

const audits = (observers: RouterObserver[]) =>
  observers.filter((o): o is AuditLogObserver => o instanceof AuditLogObserver);

test("chooseAuditLog: the option, else DB_ROUTER_AUDIT_LOG, else the config file; false turns it off", () => {
  assert.is(chooseAuditLog(undefined, undefined, undefined), undefined);
  assert.is(chooseAuditLog(undefined, undefined, "c.log"), "c.log");
  assert.is(chooseAuditLog(undefined, "e.log", "c.log"), "e.log");
  assert.is(chooseAuditLog(undefined, "  ", "c.log"), "c.log");
  assert.is(chooseAuditLog("o.log", "e.log", "c.log"), "o.log");
  assert.is(chooseAuditLog(false, "e.log", "c.log"), undefined);
});

test("with the audit log off, no audit observer is attached at all", () => {
  const observers = build({});
  assert.is(audits(observers).length, 0);
  assert.is(observers.length, 1, "only the access log (no MeterProvider registered)");
});

test("DB_ROUTER_AUDIT_LOG or the config file attaches one audit observer; auditLog: false wins over both", () => {
  assert.is(audits(build({ env: { DB_ROUTER_AUDIT_LOG: "e.log" } }))[0].path, "e.log");
  assert.is(audits(build({ config: "c.log" }))[0].path, "c.log");
  assert.is(
    audits(build({ env: { DB_ROUTER_AUDIT_LOG: "e.log" }, config: "c.log" }))[0].path,
    "e.log",
  );
  assert.is(audits(build({ env: { DB_ROUTER_AUDIT_LOG: "e.log" }, auditLog: false })).length, 0);
});

test("DB_ROUTER_AUDIT_CHAIN=1 adds prev_hash; the auditChain option wins; a bad value is CONFIG_INVALID", async () => {
  const firstLine = async (options: Parameters<typeof build>[0]) => {
    const hostStorage = memoryStorage();
    const [audit] = audits(build({ auditLog: "a.log", hostStorage, ...options }));
    audit.onAccess({ menaceId: "a", table: "bots", operation: "read", database: "shared" });
    await audit.close();
    for await (const line of hostStorage.records!.read("a.log")) return JSON.parse(line);
  };
  assert.is((await firstLine({})).prev_hash, undefined);
  assert.is((await firstLine({ env: { DB_ROUTER_AUDIT_CHAIN: "1" } })).prev_hash, CHAIN_START);
  assert.is((await firstLine({ env: { DB_ROUTER_AUDIT_CHAIN: "ON" } })).prev_hash, CHAIN_START);
  const off = await firstLine({ env: { DB_ROUTER_AUDIT_CHAIN: "on" }, auditChain: false });
  assert.is(off.prev_hash, undefined);
  assert.throws(
    () => build({ auditLog: "a.log", env: { DB_ROUTER_AUDIT_CHAIN: "maybe" } }),
    (e: Error) => e instanceof ConfigError && e.source === "DB_ROUTER_AUDIT_CHAIN",
  );
});

test("audit lines go to a durable router storage's records, else to the host's default storage", async () => {
  const durable: StorageAdapter = {
    ...memoryStorage(),
    capabilities: { durable: true, sharedAcrossProcesses: false, incremental: false },
  };
  const host = memoryStorage();
  const event = { menaceId: "a", table: "bots", operation: "read", database: "shared" } as const;
  for (const [storage, where] of [[durable, durable], [memoryStorage(), host]] as const) {
    const [audit] = audits(build({ auditLog: "audit.log", storage, hostStorage: host }));
    audit.onAccess(event);
    await audit.close();
    const lines = [];
    for await (const line of where.records!.read("audit.log")) lines.push(line);
    assert.is(lines.length, 1);
  }
});

test("a storage without records cannot hold the audit log: UNSUPPORTED", () => {
  const bare: StorageAdapter = { ...memoryStorage(), records: undefined };
  try {
    build({ auditLog: "a.log", storage: bare, hostStorage: bare });
    assert.unreachable("should throw");
  } catch (error) {
    assert.is((error as RouterError).code, "UNSUPPORTED");
  }
});

const child = join(ROOT, "tests/_support/observe_child.ts");
const clean = {
  DB_ROUTER_AUDIT_LOG: undefined,
  DB_ROUTER_AUDIT_CHAIN: undefined,
  DB_ROUTER_CONFIG: undefined,
  DB_ROUTER_LOG_LEVEL: undefined,
};

test("a process that ends without close() still writes every audit line (DB_ROUTER_AUDIT_LOG)", async () => {
  const path = folder.path("exit.log");
  const run = await runScript(child, {
    args: ["exit", "alpha", "1234"],
    env: { ...clean, DB_ROUTER_AUDIT_LOG: path },
  });
  assert.is(run.code, 0, run.stderr);
  assert.is(readAudit(path).length, 1234);
});

test("the config file's audit_log, relative to the working directory, and the variable wins over it", async () => {
  const cwd = folder.path("app");
  mkdirSync(join(cwd, "config"), { recursive: true });
  writeFileSync(
    join(cwd, "config/db_router_tables.json"),
    JSON.stringify({ audit_log: "logs/c.log" }),
  );
  const fromConfig = await runScript(child, { args: ["close", "alpha", "10"], cwd, env: clean });
  assert.is(fromConfig.code, 0, fromConfig.stderr);
  assert.is(readAudit(join(cwd, "logs/c.log")).length, 10);
  const fromEnv = await runScript(child, {
    args: ["close", "beta", "10"],
    cwd,
    env: { ...clean, DB_ROUTER_AUDIT_LOG: "logs/e.log" },
  });
  assert.is(fromEnv.code, 0, fromEnv.stderr);
  assert.is(readAudit(join(cwd, "logs/e.log")).length, 10);
  assert.is(readAudit(join(cwd, "logs/c.log")).length, 10, "nothing more in the config's log");
});

test("a child's ready() reports an unwritable audit path and the failed timed batch is logged at ERROR", async () => {
  const blocker = folder.path("blocker");
  writeFileSync(blocker, "");
  const run = await runScript(child, {
    args: ["ready", "alpha", "3", `${blocker}/a.log`],
    env: clean,
  });
  const first = JSON.parse(run.stdout.split("\n")[0]);
  assert.is(first.error.code, "AUDIT_WRITE_FAILED");
  assert.match(run.stderr, /"level":"ERROR","logger":"db-router.audit"/);
  assert.is(existsSync(`${blocker}/a.log`), false);
});

test.run();
