/**
 * The queue across processes: syncs killed with SIGKILL at random moments,
 * and several syncs and queueing instances of Node, Deno and Bun at once.
 * Each record must be in the shared table exactly once.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, QueueSync } from "../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { ROOT, startChild } from "./_support/spawn.ts";

const test = suite(`queue sync (${RUNTIME}): processes`);
const folder = temporaryFolder(`queue-proc-${RUNTIME}-`);
const CHILD = join(ROOT, "tests/_support/queue_child.ts");
const RUNTIMES = ["node", "deno", "bun"] as const;
const STALE_MS = 300;
let counter = 0;
let shared = "";
let queueDir = "";

test.before.each(() => {
  const dir = join(folder.dir, `case-${++counter}`);
  shared = join(dir, "shared", "global.db");
  queueDir = join(dir, "shared", "queue");
  mkdirSync(join(dir, "shared"), { recursive: true });
  sql("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, source_menace_id TEXT)");
});
test.after(folder.remove);

function sql(statement: string): string {
  return execFileSync("sqlite3", [shared, statement], { encoding: "utf8" }).trim();
}

/** Runs a sync pass in this process until nothing is left, with the short stale bound. */
async function syncToTheEnd(): Promise<void> {
  const sync = new QueueSync({
    dbPath: shared,
    queueDir,
    storage: fileStorageFor(RUNTIME, { lockStaleMs: STALE_MS }),
  });
  try {
    await sync.run();
  } finally {
    await sync.close();
  }
  const left = readdirSync(join(queueDir, "processing"));
  assert.equal(left, [], "every claimed file was finished and deleted");
}

/**
 * Each name, with how many rows carry it, as the `sqlite3` shell reads the
 * file once a fold has brought it up to date. A sync killed mid-fold leaves
 * the file part-written until a router finishes the fold (README, "Folds"):
 * other programs read the file only after a fold, so this folds
 * first, under the routers' write lock, as `db-router fold` does.
 */
async function namesInTable(): Promise<Map<string, number>> {
  const storage = fileStorageFor(RUNTIME, { lockStaleMs: STALE_MS, foldIdleMs: false });
  const db = await storage.open(storage.resolve(shared));
  try {
    const release = await db.lock();
    try {
      await db.load();
      await db.compact();
    } finally {
      await release();
    }
  } finally {
    await db.close();
  }
  const out = sql("SELECT name || ' ' || count(*) FROM bots GROUP BY name");
  return new Map(
    out.split("\n").filter(Boolean).map((line) => {
      const [name, count] = line.split(" ");
      return [name, Number(count)];
    }),
  );
}

/** What a failed run of the kill test needs to be understood: where the missing records went. */
async function diagnosis(expected: Set<string>, names: Map<string, number>): Promise<string> {
  const missing = [...expected].filter((name) => !names.has(name));
  const reasons = new Map<string, number>();
  for (const menace of ["alpha", "beta"]) {
    const file = join(queueDir, "failed", `${menace}.jsonl`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").trim().split("\n")) {
      const reason = JSON.parse(line).reason as string;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  await using reader = new DBRouter("reader", join(queueDir, "..", "reader.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  const seen = await reader.getConnection("bots").get<{ n: number }>(
    "SELECT count(DISTINCT name) AS n FROM bots",
  );
  return [
    `${missing.length} of ${expected.size} records missing, e.g. ${missing.slice(0, 20).join(" ")}`,
    `through a router the table has ${seen?.n} names (the base file alone: ${names.size})`,
    `failed-file reasons: ${JSON.stringify([...reasons])}`,
    `progress: ${sql("SELECT file || ' ' || lines || ' ' || done FROM _dbrouter_sync_progress")}`,
    `applied hashes: ${sql("SELECT count(*) FROM _dbrouter_applied")}`,
    `files: ${readdirSync(join(queueDir, "..")).join(" ")}`,
  ].join("\n");
}

test("syncs killed at random moments lose no record and apply none twice", async () => {
  const expected = new Set<string>();
  const bad = new Set<string>();
  for (const menace of ["alpha", "beta"]) {
    await using router = new DBRouter(menace, join(queueDir, "..", `${menace}.db`), shared, {
      storage: fileStorageFor(RUNTIME),
      queueDir,
    });
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 2000; i++) {
      const name = `${menace}-${i}`;
      // Every hundredth record names a column the table lacks: it must end up failed, once or more.
      if (i % 100 === 0) {
        bad.add(name);
        writes.push(router.queueWrite("bots", { name, colour: "red" }));
      } else {
        expected.add(name);
        writes.push(router.queueWrite("bots", { name, seq: i }));
      }
    }
    await Promise.all(writes);
  }
  let interrupted = 0;
  for (let trial = 0; trial < 6; trial++) {
    const runtime = RUNTIMES[trial % RUNTIMES.length];
    const child = startChild(runtime, CHILD, [
      "sync",
      shared,
      queueDir,
      "20",
      String(STALE_MS),
      "1",
      "0",
    ]);
    // Most are killed after a random number of batches, some at a random time after their start,
    // all by their 25th batch: six trials of at most 26 batches of 20 leave work for the next
    // trial (a fast runtime finishes all 4 000 records within the 800 ms of a timed trial).
    if (trial % 3 === 2) {
      const last = child.waitFor((line) => line === "batch 25").catch(() => undefined);
      await Promise.race([
        new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600)),
        last,
      ]);
    } else {
      const want = 1 + Math.floor(Math.random() * 25);
      await child.waitFor((line) => line === `batch ${want}`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
    }
    child.kill("SIGKILL");
    await child.exited;
    if (!child.lines().includes("closed")) interrupted++;
    // Whatever was applied so far was applied once.
    for (const [name, count] of await namesInTable()) {
      assert.is(count, 1, `trial ${trial}: ${name} applied ${count} times`);
      assert.ok(expected.has(name), `trial ${trial}: ${name} should not be in the table`);
    }
  }
  assert.ok(interrupted >= 4, `only ${interrupted} of 6 syncs were killed while working`);
  await syncToTheEnd();
  const names = await namesInTable();
  if (names.size !== expected.size) assert.unreachable(await diagnosis(expected, names));
  for (const name of expected) assert.is(names.get(name), 1, name);
  const failed = new Set<string>();
  for (const menace of ["alpha", "beta"]) {
    const file = join(queueDir, "failed", `${menace}.jsonl`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").trim().split("\n")) {
      const entry = JSON.parse(line);
      assert.match(entry.reason, 'column "colour" does not exist');
      failed.add(JSON.parse(entry.line).data.name);
    }
  }
  assert.equal([...failed].sort(), [...bad].sort(), "every bad record is in a failed file");
});

test("Node, Deno and Bun syncs running while Node, Deno and Bun instances queue apply each record once", async () => {
  const perInstance = 600;
  const appenders = RUNTIMES.map((runtime) =>
    startChild(runtime, CHILD, [
      "queue",
      `q-${runtime}`,
      shared,
      queueDir,
      String(perInstance),
      "15",
    ])
  );
  const syncs = RUNTIMES.map((runtime) =>
    startChild(runtime, CHILD, ["sync", shared, queueDir, "25", String(STALE_MS), "40", "30"])
  );
  await Promise.all(
    [...appenders, ...syncs].map((child) => child.waitFor((line) => line === "closed", 120_000)),
  );
  const applied = syncs
    .flatMap((child) => child.lines())
    .filter((line) => line.startsWith("pass "))
    .reduce((sum, line) => sum + JSON.parse(line.slice(5)).applied, 0);
  assert.ok(applied > 0, "the syncs applied records while the instances were queueing");
  await syncToTheEnd();
  const names = await namesInTable();
  assert.is(names.size, RUNTIMES.length * perInstance);
  for (const runtime of RUNTIMES) {
    for (let i = 1; i <= perInstance; i++) {
      assert.is(names.get(`q-${runtime}-${i}`), 1, `q-${runtime}-${i}`);
    }
  }
  assert.equal(
    readdirSync(queueDir).filter((name) => name.endsWith(".jsonl")),
    [],
    "no queue file left",
  );
});

test.run();
