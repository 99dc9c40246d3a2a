/**
 * `router.queueWrite()`: what it refuses at once, what a queue line holds, and
 * when lines reach the queue file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, memoryStorage, RouterError, type StorageAdapter } from "../mod.ts";
import { fileRecords } from "../src/storage/file/records.ts";
import {
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";
import { thrown } from "./_support/errors.ts";

const test = suite(`queueWrite (${RUNTIME})`);
const folder = temporaryFolder(`queue-write-${RUNTIME}-`);
let counter = 0;
let dir = "";
test.before.each(() => {
  dir = join(folder.dir, `case-${++counter}`);
});
test.after(folder.remove);

const open = (options: { storage?: StorageAdapter; queueDir?: string } = {}) =>
  new DBRouter("alpha", join(dir, "local.db"), join(dir, "shared", "global.db"), {
    storage: options.storage ?? fileStorageFor(RUNTIME),
    queueDir: options.queueDir,
  });

const queueLines = (file = join(dir, "shared", "queue", "alpha.jsonl")): string[] =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((line) => line !== "") : [];

test("one call appends one line with table, data, source_menace_id, queued_at, id and their hash", async () => {
  await using router = open();
  await router.queueWrite("bots", { name: "scraper", runs: 3, ok: true, note: null });
  const lines = queueLines();
  assert.is(lines.length, 1, "the record is queued once");
  const record = JSON.parse(lines[0]);
  assert.equal(Object.keys(record).sort(), [
    "data",
    "hash",
    "id",
    "queued_at",
    "source_menace_id",
    "table",
    "v",
  ]);
  assert.is(record.table, "bots");
  assert.equal(record.data, { name: "scraper", runs: 3, ok: true, note: null });
  assert.is(record.source_menace_id, "alpha");
  assert.match(record.queued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const content = JSON.stringify([
    record.v,
    record.id,
    record.table,
    record.source_menace_id,
    record.queued_at,
    record.data,
  ]);
  assert.is(record.hash, createHash("sha256").update(content).digest("hex"));
});

test("a column named __proto__ is queued as a column, not taken for the record's prototype", async () => {
  await using router = open();
  // What JSON.parse makes of such a key: an own property (an object literal would set the prototype).
  await router.queueWrite("bots", JSON.parse('{"name": "odd", "__proto__": "kept"}'));
  const record = JSON.parse(queueLines()[0]);
  assert.ok(Object.hasOwn(record.data, "__proto__"));
  assert.is(record.data["__proto__"], "kept");
  assert.equal(Object.keys(record.data), ["name", "__proto__"]);
});

test("the same data queued twice is two records with their own ids and hashes", async () => {
  await using router = open();
  await Promise.all([
    router.queueWrite("bots", { name: "same" }),
    router.queueWrite("bots", { name: "same" }),
  ]);
  const [a, b] = queueLines().map((line) => JSON.parse(line));
  assert.equal(a.data, b.data);
  assert.is.not(a.id, b.id);
  assert.is.not(a.hash, b.hash);
});

test("denied, unknown and local tables throw at once with their codes, and nothing is queued", async () => {
  await using router = open();
  const cases = {
    capital_ledger: "TABLE_DENIED",
    made_up: "TABLE_UNKNOWN",
    models: "TABLE_NOT_SHARED",
  };
  for (const [table, code] of Object.entries(cases)) {
    const error = thrown(() => router.queueWrite(table, { x: 1 }));
    assert.instance(error, RouterError, table);
    assert.is((error as RouterError).code, code, table);
  }
  await router.flush();
  assert.equal(queueLines(), []);
  assert.equal(router.getAccessCounts(), { shared: {}, local: {} });
});

test("a bad column name or a value JSON cannot hold exactly is a TypeError, and nothing is queued", async () => {
  await using router = open();
  const bad = [
    { "name; DROP TABLE bots": 1 },
    { n: 1n },
    { n: new Uint8Array(2) },
    { n: Number.NaN },
    { n: Number.POSITIVE_INFINITY },
    { n: { nested: 1 } },
    { n: undefined },
  ];
  for (const record of bad) {
    assert.throws(
      () => router.queueWrite("bots", record as never),
      (error: Error) => error instanceof TypeError,
      JSON.stringify(record, (_, v) => (typeof v === "bigint" ? `${v}n` : v)),
    );
  }
  await router.flush();
  assert.equal(queueLines(), []);
});

test("records queued in one turn of the event loop share one append; awaited ones get one each", async () => {
  const inner = fileStorageFor(RUNTIME);
  let appends = 0;
  const storage: StorageAdapter = {
    ...inner,
    records: {
      ...inner.records!,
      append(name, lines) {
        appends++;
        return inner.records!.append(name, lines);
      },
    },
  };
  await using router = open({ storage });
  const burst = Array.from({ length: 200 }, (_, i) => router.queueWrite("bots", { seq: i }));
  await Promise.all(burst);
  assert.is(appends, 1);
  for (let i = 0; i < 3; i++) await router.queueWrite("bots", { seq: 200 + i });
  assert.is(appends, 4);
  const seqs = queueLines().map((line) => JSON.parse(line).data.seq);
  assert.equal(seqs, Array.from({ length: 203 }, (_, i) => i), "in order, each once");
  assert.equal(router.getAccessCounts(), { shared: { bots: 203 }, local: {} });
});

test("close() appends what was queued without waiting; afterwards queueWrite throws ROUTER_CLOSED", async () => {
  const router = open();
  for (let i = 0; i < 5; i++) void router.queueWrite("telemetry", { seq: i });
  await router.close();
  assert.is(queueLines().length, 5);
  const error = thrown(() => router.queueWrite("telemetry", { seq: 9 }));
  assert.is((error as RouterError).code, "ROUTER_CLOSED");
});

test("the queue folder is the queueDir option, else DB_ROUTER_QUEUE_DIR, else queue/ beside the shared database", async () => {
  const saved = process.env.DB_ROUTER_QUEUE_DIR;
  try {
    delete process.env.DB_ROUTER_QUEUE_DIR;
    await using byDefault = open();
    assert.is(byDefault.queueDir, join(dir, "shared", "queue"));
    process.env.DB_ROUTER_QUEUE_DIR = join(dir, "from-env");
    await using fromEnv = open();
    assert.is(fromEnv.queueDir, join(dir, "from-env"));
    await using fromOption = open({ queueDir: join(dir, "from-option") });
    assert.is(fromOption.queueDir, join(dir, "from-option"));
    await fromEnv.queueWrite("bots", { where: "env" });
    await fromOption.queueWrite("bots", { where: "option" });
    assert.is(JSON.parse(queueLines(join(dir, "from-env", "alpha.jsonl"))[0]).data.where, "env");
    assert.is(
      JSON.parse(queueLines(join(dir, "from-option", "alpha.jsonl"))[0]).data.where,
      "option",
    );
  } finally {
    if (saved === undefined) delete process.env.DB_ROUTER_QUEUE_DIR;
    else process.env.DB_ROUTER_QUEUE_DIR = saved;
  }
});

test("a failed append rejects its promise and the next flush() with PERSIST_FAILED", async () => {
  const blocker = join(folder.dir, `file-${counter}.txt`);
  writeFileSync(blocker, "not a folder");
  await using router = open({ queueDir: join(blocker, "queue") });
  const write = router.queueWrite("bots", { name: "lost" });
  void router.queueWrite("bots", { name: "also lost" }); // not awaited: must not crash the process
  const error = await write.then(() => undefined, (e) => e);
  assert.is((error as RouterError).code, "PERSIST_FAILED");
  const flushed = await router.flush().then(() => undefined, (e) => e);
  assert.is((flushed as RouterError).code, "PERSIST_FAILED");
  await router.flush(); // the failure was reported once
});

test("an append that a claim moves away while it is being written is repeated in the new log", async () => {
  const fs = fileSystemFor(RUNTIME);
  const log = join(folder.dir, `race-${counter}`, "alpha.jsonl");
  const claimed = join(folder.dir, `race-${counter}`, "processing", "alpha.1.jsonl");
  let claims = 0;
  // A sync claims the log between the append's open and its write, once.
  const racing = {
    ...fs,
    async open(path: string, mode: Parameters<typeof fs.open>[1]) {
      const handle = await fs.open(path, mode);
      return {
        ...handle,
        async write(buffer: Uint8Array, position: number) {
          if (mode === "append" && claims++ === 0) await records.claim!(log, claimed);
          return await handle.write(buffer, position);
        },
      };
    },
  };
  const records = fileRecords(racing, (name) => name, false, { staleMs: 5000, timeoutMs: 60000 });
  await records.append(log, ["one", "two"]);
  assert.is(claims, 2, "written twice");
  assert.equal(readFileSync(claimed, "utf8"), "one\ntwo\n", "the claimed log got the first write");
  assert.equal(readFileSync(log, "utf8"), "one\ntwo\n", "and the new log the repeat");
});

test("storage without records refuses queueWrite with UNSUPPORTED", async () => {
  const { records: _, ...storage } = memoryStorage();
  await using router = open({ storage });
  const error = thrown(() => router.queueWrite("bots", { name: "x" }));
  assert.is((error as RouterError).code, "UNSUPPORTED");
});

test.run();
