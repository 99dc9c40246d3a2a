/**
 * The audit log: line format, batching by size and time, flushing, failures
 * that are reported instead of lost, and how a router turns it on.
 *
 * @module
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, memoryStorage, RouterError } from "../mod.ts";
import { AuditLogObserver } from "../src/observe/audit.ts";
import { CHAIN_START, lineHash } from "../src/observe/audit_chain.ts";
import type { AccessEvent } from "../src/observe/hooks.ts";
import type { RecordLog } from "../src/storage/types.ts";
import { auditFolder, readAudit, sleep } from "./_support/observe_audit.ts";
import { rejection } from "./_support/errors.ts";

const test = suite("observe: audit log");
const folder = auditFolder("dbr-audit-");
test.after(folder.remove);

const access = (table = "bots", operation = "write"): AccessEvent => ({
  menaceId: "alpha",
  table,
  operation,
  database: table === "models" ? "local" : "shared",
});

/** A record log that keeps lines in memory and counts appends, failing while `failing` is set. */
function recordingLog() {
  const lines: string[] = [];
  const state = { appends: 0, failing: undefined as Error | undefined, lines };
  const log: RecordLog = {
    append(_name, batch) {
      if (state.failing) return Promise.reject(state.failing);
      state.appends++;
      lines.push(...batch);
      return Promise.resolve();
    },
    async *read() {},
  };
  return { log, state };
}

test("each access becomes one JSON line with exactly menace_id, table_name, operation, timestamp", async () => {
  const { log, state } = recordingLog();
  const audit = new AuditLogObserver(log, "audit.log");
  const before = Date.now();
  audit.onAccess(access("bots", "write"));
  audit.onAccess(access("models", "read"));
  await audit.close();
  const [first, second] = state.lines.map((line) => JSON.parse(line));
  assert.equal(Object.keys(first), ["menace_id", "table_name", "operation", "timestamp"]);
  assert.equal([first.menace_id, first.table_name, first.operation], ["alpha", "bots", "write"]);
  assert.equal([second.table_name, second.operation], ["models", "read"]);
  assert.match(first.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const stamped = Date.parse(first.timestamp);
  assert.ok(stamped >= before && stamped <= Date.now(), "the access's own time, in UTC");
});

test("with chain, lines end with prev_hash: 32 zeros first, then the previous line's hash", async () => {
  const { log, state } = recordingLog();
  const audit = new AuditLogObserver(log, "audit.log", { chain: true });
  audit.onAccess(access("bots", "write"));
  audit.onAccess(access("models", "read"));
  await audit.close();
  const [first, second] = state.lines.map((line) => JSON.parse(line));
  assert.equal(Object.keys(first), [
    "menace_id",
    "table_name",
    "operation",
    "timestamp",
    "prev_hash",
  ]);
  assert.is(first.prev_hash, CHAIN_START);
  assert.is(second.prev_hash, lineHash(state.lines[0]));
});

test("nothing is written per access: a full batch starts one append, a partial one waits for the timer", async () => {
  const { log, state } = recordingLog();
  const audit = new AuditLogObserver(log, "audit.log", { batchLines: 10, flushIntervalMs: 30 });
  for (let i = 0; i < 9; i++) audit.onAccess(access());
  await sleep(0);
  assert.is(state.appends, 0, "9 lines wait");
  audit.onAccess(access());
  await sleep(0);
  assert.equal([state.appends, state.lines.length], [1, 10], "the 10th line filled the batch");
  audit.onAccess(access());
  await sleep(5);
  assert.is(state.lines.length, 10, "one line waits for the timer");
  await sleep(60);
  assert.equal([state.appends, state.lines.length], [2, 11], "the timer wrote it");
  await audit.close();
});

test("flush() writes every waiting line, including those added while an append runs", async () => {
  const { log, state } = recordingLog();
  const audit = new AuditLogObserver(log, "audit.log", { batchLines: 5, flushIntervalMs: 10_000 });
  for (let i = 0; i < 12; i++) audit.onAccess(access());
  await audit.flush();
  assert.is(state.lines.length, 12);
  await audit.close();
});

test("a failed append is reported once, rejects flush() with AUDIT_WRITE_FAILED and is retried", async () => {
  const { log, state } = recordingLog();
  const errors: RouterError[] = [];
  const audit = new AuditLogObserver(log, "audit.log", {
    flushIntervalMs: 5,
    onError: (error) => errors.push(error),
  });
  state.failing = new Error("EROFS: read-only file system");
  audit.onAccess(access());
  await sleep(30);
  audit.onAccess(access());
  await sleep(30);
  assert.is(errors.length, 1, "one report for a run of failures");
  assert.is(errors[0].code, "AUDIT_WRITE_FAILED");
  const error = await rejection(() => audit.flush());
  assert.is((error as RouterError).code, "AUDIT_WRITE_FAILED");
  assert.match((error as RouterError).message, 'Cannot write audit log "audit.log": EROFS');
  state.failing = undefined;
  await audit.flush();
  assert.is(state.lines.length, 2, "both lines written once the log is writable again");
  await audit.close();
});

test("lines beyond maxPendingLines are dropped while appends fail, and the loss is reported", async () => {
  const { log, state } = recordingLog();
  const audit = new AuditLogObserver(log, "a.log", { maxPendingLines: 3, flushIntervalMs: 10_000 });
  state.failing = new Error("disk full");
  for (let i = 0; i < 5; i++) audit.onAccess(access());
  const error = await rejection(() => audit.flush());
  assert.match((error as RouterError).message, "disk full (2 lines were dropped)");
  state.failing = undefined;
  await audit.flush();
  assert.is(state.lines.length, 3, "the 3 newest lines");
  await audit.close();
});

test("a router with auditLog writes shared and local accesses at flush() and close()", async () => {
  const path = folder.path("router.log");
  const router = new DBRouter("alpha", "l.db", "s.db", {
    storage: memoryStorage(),
    auditLog: path,
  });
  router.getConnection("bots", "write");
  router.getConnection("models");
  await router.flush();
  assert.equal(readAudit(path).map((r) => r.table_name), ["bots", "models"]);
  router.getConnection("errors", "read");
  await router.close();
  assert.equal(readAudit(path).map((r) => `${r.table_name} ${r.operation}`), [
    "bots write",
    "models read",
    "errors read",
  ]);
});

test("ready() creates the audit file (and its folder) before any access", async () => {
  const path = folder.path("ready/sub/audit.log");
  const router = new DBRouter("alpha", "l.db", "s.db", {
    storage: memoryStorage(),
    auditLog: path,
  });
  await router.ready();
  assert.is(readFileSync(path, "utf8"), "");
  await router.close();
});

test("ready() and flush() reject with AUDIT_WRITE_FAILED for a path that cannot be written", async () => {
  const blocker = folder.path("a-file");
  writeFileSync(blocker, "not a folder");
  const auditLog = `${blocker}/audit.log`;
  const early = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage(), auditLog });
  assert.is((await rejection(() => early.ready()) as RouterError).code, "AUDIT_WRITE_FAILED");
  await early.close();
  const logged: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record: LogRecord) => void logged.push(record) },
    loggers: [
      { category: ["db-router"], sinks: ["memory"], lowestLevel: "warning" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
  try {
    const late = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage(), auditLog });
    late.getConnection("bots");
    const error = await rejection(() => late.flush()) as RouterError;
    assert.is(error.code, "AUDIT_WRITE_FAILED");
    assert.match(error.message, auditLog);
    assert.is((await rejection(() => late.close()) as RouterError).code, "AUDIT_WRITE_FAILED");
    assert.equal(logged.map((r) => [r.category.join("."), r.level]), [[
      "db-router.audit",
      "error",
    ]]);
    assert.is(logged[0].properties.code, "AUDIT_WRITE_FAILED");
  } finally {
    await reset();
  }
});

test("the auditLog option must be a path or false, auditChain a boolean", () => {
  const bad = [{ auditLog: "" }, { auditLog: true }, { auditLog: 3 }, { auditChain: "yes" }];
  for (const options of bad) {
    const [name] = Object.keys(options);
    assert.throws(
      () =>
        new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage(), ...options } as never),
      (e: Error) => e instanceof TypeError && e.message.includes(`"${name}"`),
    );
  }
});

test("prev_hash chains continue across batches", async () => {
  const path = folder.path("chain.log");
  rmSync(path, { force: true });
  const router = new DBRouter("alpha", "l.db", "s.db", {
    storage: memoryStorage(),
    auditLog: path,
    auditChain: true,
  });
  for (let i = 0; i < 2500; i++) router.getConnection("bots");
  await router.close();
  const text = readFileSync(path, "utf8");
  const { runCli } = await import("./_support/cli_io.ts");
  const run = await runCli(["analyze", "--verify", path]);
  assert.is(run.code, 0, run.err);
  assert.match(run.out, `Integrity: ok, 2500 lines in 1 writer chain\n`);
  assert.is(text.split("\n").length, 2501);
});

test.run();
