/**
 * Claimed queue files resumed and shared: a sync that resumes a dead sync's
 * file with another batch size, two syncs on one file at once, a recorded
 * progress ahead of or at the end of what a reader sees, torn and empty lines,
 * a replay racing the appends to its failed file. Each record must be applied
 * exactly once, and every claimed file must end deleted.
 *
 * A dead sync is a reader that throws (what a crash leaves is the committed
 * batches, nothing else); a reader that saw a file before appends that raced
 * its claim is a reader that ends early.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { QueueSync, type SyncOptions, type SyncReport, syncSharedDb } from "../mod.ts";
import { SYNC_SCHEMA } from "../src/queue/apply.ts";
import { claimedName } from "../src/queue/layout.ts";
import { encodeRecord } from "../src/queue/record.ts";
import { fileStorage } from "../src/storage/file/adapter.ts";
import type { FileSystem } from "../src/storage/file/file_system.ts";
import type { StorageAdapter } from "../src/storage/types.ts";
import {
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  temporaryFolder,
} from "./_support/storage_fixtures.ts";
import { rejection } from "./_support/errors.ts";
import { ROOT, startChild } from "./_support/spawn.ts";

const test = suite(`queue sync (${RUNTIME}): resumed and shared claimed files`);
const folder = temporaryFolder(`queue-resume-${RUNTIME}-`);
const CHILD = join(ROOT, "tests/_support/queue_child.ts");
let counter = 0;
let shared = "";
let queueDir = "";

test.before.each(() => {
  const dir = join(folder.dir, `case-${++counter}`);
  shared = join(dir, "shared", "global.db");
  queueDir = join(dir, "shared", "queue");
  mkdirSync(join(queueDir, "processing"), { recursive: true });
  sql(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL, seq INTEGER, source_menace_id TEXT);" +
      SYNC_SCHEMA,
  );
});
test.after(folder.remove);

function sql(statement: string): string {
  return execFileSync("sqlite3", [shared, statement], { encoding: "utf8" }).trim();
}

const sync = (options: SyncOptions = {}) =>
  syncSharedDb({ dbPath: shared, queueDir, storage: fileStorageFor(RUNTIME), ...options });

/** The lines of `count` records `{ name: "<prefix>-i", seq: i }`; those at `bad` name a missing column. */
function records(prefix: string, count: number, bad: ReadonlySet<number> = new Set()) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      encodeRecord(
        "bots",
        bad.has(i) ? { name: `${prefix}-${i}`, colour: "red" } : { name: `${prefix}-${i}`, seq: i },
        "alpha",
      )),
  );
}

/** A new claimed file `processing/<name>` holding `text`. */
function claim(text: string, replay = false): string {
  const name = claimedName("alpha", replay, 1_700_000_000_000 + counter);
  appendFileSync(join(queueDir, "processing", name), text);
  return name;
}

/** Progress rows, as a dead sync leaves them (written while no sync has the database open). */
function setProgress(...entries: [name: string, lines: number, done?: number, at?: string][]) {
  sql(
    entries.map(([name, lines, done = 0, at = "2030-01-01T00:00:00.000Z"]) =>
      `INSERT INTO _dbrouter_sync_progress VALUES ('${name}', ${lines}, ${done}, '${at}');`
    ).join(""),
  );
}

/** How many rows carry each name starting with `prefix-`. */
function namesIn(prefix: string): Map<string, number> {
  const out = sql(
    `SELECT name || ' ' || count(*) FROM bots WHERE name LIKE '${prefix}-%' GROUP BY name`,
  );
  return new Map(
    out.split("\n").filter(Boolean).map((line) => {
      const [name, count] = line.split(" ");
      return [name, Number(count)];
    }),
  );
}

/** The names of `prefix` at `indices`, each once. */
function once(prefix: string, indices: number[]): Map<string, number> {
  return new Map(indices.map((i) => [`${prefix}-${i}`, 1]));
}

/** The record names in the failed file (with how many entries each has). */
function failedNames(): Map<string, number> {
  const file = join(queueDir, "failed", "alpha.jsonl");
  const names = new Map<string, number>();
  if (!existsSync(file)) return names;
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const name = JSON.parse(JSON.parse(line).line).data.name as string;
    names.set(name, (names.get(name) ?? 0) + 1);
  }
  return names;
}

function processingLeft(): string[] {
  return readdirSync(join(queueDir, "processing"));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

function sum(reports: SyncReport[]): Omit<SyncReport, "files"> {
  return {
    applied: reports.reduce((n, r) => n + r.applied, 0),
    duplicates: reports.reduce((n, r) => n + r.duplicates, 0),
    failed: reports.reduce((n, r) => n + r.failed, 0),
  };
}

/** A small seeded random generator (mulberry32), so that a failing trial can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What a sync's reader of claimed files sees: at most `lines` lines (a read from
 * before appends that raced the claim), then the end, or with `die`, a throw (the
 * sync is killed there, after the batches it committed); `pause` runs before
 * each line, to interleave two syncs.
 */
interface ReadView {
  lines?: number;
  die?: boolean;
  pause?: () => Promise<void>;
}

/** The runtime's file storage, whose claimed files read as `view` says. */
function viewing(view: ReadView): StorageAdapter {
  const base = fileStorageFor(RUNTIME);
  const records = base.records!;
  return {
    ...base,
    records: {
      ...records,
      async *read(name: string) {
        if (!name.includes("/processing/")) return yield* records.read(name);
        let seen = 0;
        for await (const line of records.read(name)) {
          if (seen === view.lines) break;
          await view.pause?.();
          seen++;
          yield line;
        }
        if (view.die) throw new Error("killed");
      },
    },
  };
}

test("a file resumed with a smaller, equal or larger batch size, or batches of 1, applies each remaining line once and is deleted", async () => {
  const total = 10;
  const bad = new Set([2, 8, 9]);
  for (const batchSize of [1, 2, 3, 4, 9, 10, 11, 500]) {
    const starts = [0, 1, 2, 3, 7, 8, 9, 10];
    const expected = new Map<string, number>();
    const failed = new Map<string, number>();
    const progress: [string, number][] = [];
    for (const from of starts) {
      const prefix = `b${batchSize}-from${from}`;
      const name = claim((await records(prefix, total, bad)).join("\n") + "\n");
      if (from > 0) progress.push([name, from]);
      for (const i of range(from, total)) (bad.has(i) ? failed : expected).set(`${prefix}-${i}`, 1);
    }
    setProgress(...progress);
    const report = await sync({ batchSize });
    assert.equal(
      report,
      { files: starts.length, applied: expected.size, duplicates: 0, failed: failed.size },
      `batch size ${batchSize}`,
    );
    const refused = [...failedNames()].filter(([name]) => name.startsWith(`b${batchSize}-`));
    assert.equal(
      new Map(refused),
      failed,
      `batch size ${batchSize}: each refused line failed once`,
    );
    for (const from of starts) {
      const prefix = `b${batchSize}-from${from}`;
      assert.equal(
        namesIn(prefix),
        once(prefix, range(from, total).filter((i) => !bad.has(i))),
        prefix,
      );
    }
    assert.equal(processingLeft(), [], `batch size ${batchSize}: every file deleted`);
  }
});

test("a sync killed after some batches is resumed by syncs of other batch sizes: each line applied once, refused once, and the file deleted", async () => {
  const total = 13;
  const bad = new Set([0, 5, 12]);
  const cases = [
    [4, 6, 1],
    [4, 9, 50],
    [1, 5, 3],
    [3, 13, 2],
    [7, 3, 7],
    [50, 10, 4],
    [2, 0, 13],
  ];
  for (const [index, [first, killedAt, second]] of cases.entries()) {
    const prefix = `c${index}`;
    claim((await records(prefix, total, bad)).join("\n") + "\n");
    // The first sync reads killedAt lines and dies: only its full batches are committed.
    const killed = syncSharedDb({
      dbPath: shared,
      queueDir,
      storage: viewing({ lines: killedAt, die: true }),
      batchSize: first,
    });
    assert.match((await rejection(killed)).message, "killed");
    const committed = Math.floor(killedAt / first) * first;
    assert.is(
      sql("SELECT lines FROM _dbrouter_sync_progress WHERE done = 0"),
      committed === 0 ? "" : String(committed),
      `${prefix}: the progress of the dead sync`,
    );
    const report = await sync({ batchSize: second });
    const rest = range(committed, total);
    assert.equal(report, {
      files: 1,
      applied: rest.filter((i) => !bad.has(i)).length,
      duplicates: 0,
      failed: rest.filter((i) => bad.has(i)).length,
    }, prefix);
    assert.equal(namesIn(prefix), once(prefix, range(0, total).filter((i) => !bad.has(i))), prefix);
    const refused = [...failedNames()].filter(([name]) => name.startsWith(`${prefix}-`));
    assert.equal(
      new Map(refused),
      once(prefix, [...bad]),
      `${prefix}: each refused line failed once`,
    );
    assert.equal(processingLeft(), [], prefix);
  }
});

test("a progress at the end of the file, not yet marked done, finishes it without applying anything", async () => {
  const lines = await records("end", 5);
  const torn = (await records("torn", 1))[0].slice(0, 40);
  for (const batchSize of [1, 4, 5, 6, 500]) {
    const exact = claim(lines.join("\n") + "\n");
    const tornTail = claim(lines.join("\n") + "\n" + torn);
    const emptyLines = claim("\n\n" + lines.join("\n\n") + "\n\n");
    setProgress([exact, 5], [tornTail, 5], [emptyLines, 5]);
    assert.equal(
      await sync({ batchSize }),
      { files: 3, applied: 0, duplicates: 0, failed: 0 },
      `batch size ${batchSize}`,
    );
    assert.equal(processingLeft(), []);
    assert.is(sql("SELECT count(*) FROM bots"), "0");
    assert.is(sql("SELECT count(*) FROM _dbrouter_sync_progress WHERE done = 0"), "0");
  }
});

test("a progress ahead of what a reader sees (appends that raced the claim) leaves the file to a reader that sees them", async () => {
  const cases = [[1, 4, 3], [3, 2, 500], [7, 500, 1], [2, 5, 5], [6, 1, 2]];
  for (const [index, [killer, early, late]] of cases.entries()) {
    const prefix = `a${index}`;
    const lines = await records(prefix, 7, new Set([6]));
    const name = claim(lines.join("\n") + "\n");
    // A sync that saw all 7 lines applies its full batches and dies before it marks the file done.
    const killed = sync({ storage: viewing({ die: true }), batchSize: killer });
    assert.match((await rejection(killed)).message, "killed");
    const progress = Math.floor(7 / killer) * killer;
    assert.is(
      sql(`SELECT lines FROM _dbrouter_sync_progress WHERE file = '${name}'`),
      `${progress}`,
    );
    // Lines 5 and 6 raced the claim: their appender wrote them to the claimed file too late for the
    // next reader, and again to a new queue file since the claimed file was no longer at its path.
    appendFileSync(join(queueDir, "alpha.jsonl"), lines.slice(5).join("\n") + "\n");
    const report = await sync({ storage: viewing({ lines: 5 }), batchSize: early });
    assert.is(report.applied, 0, `${prefix}: nothing is left to apply up to line 5`);
    assert.equal(
      processingLeft(),
      [name],
      `${prefix}: the file is left to a reader that sees more`,
    );
    assert.equal(namesIn(prefix), once(prefix, range(0, 6)), prefix);
    // A reader that sees the whole file finishes it.
    const final = await sync({ batchSize: late });
    assert.is(final.applied, 0, prefix);
    assert.equal(namesIn(prefix), once(prefix, range(0, 6)), prefix);
    assert.ok((failedNames().get(`${prefix}-6`) ?? 0) >= 1, `${prefix}: the refused line failed`);
    assert.equal(processingLeft(), [], prefix);
    assert.is(sql("SELECT count(*) FROM _dbrouter_sync_progress WHERE done = 0"), "0", prefix);
  }
});

test("two syncs in one process on one claimed file, with other batch sizes, apply each line once and delete it", async () => {
  const trials: {
    batches: [number, number];
    dead?: [batch: number, at: number];
    raced?: number;
    sharedEngine?: boolean;
  }[] = [
    { batches: [1, 7] },
    { batches: [3, 4], dead: [5, 12] },
    { batches: [5, 50], raced: 3 },
    { batches: [2, 1000], dead: [1, 20], raced: 5 },
    { batches: [1, 1], raced: 1 },
    { batches: [13, 6], dead: [4, 33] },
    { batches: [40, 3], raced: 10 },
    { batches: [7, 2], sharedEngine: true },
    { batches: [1, 9], dead: [6, 39], sharedEngine: true },
    { batches: [64, 1], dead: [3, 7] },
  ];
  const total = 40;
  const bad = new Set([0, 3, 19, 20, 39]);
  for (const [index, trial] of trials.entries()) {
    const prefix = `t${index}`;
    const message = `${prefix} ${JSON.stringify(trial)}`;
    const lines = await records(prefix, total, bad);
    claim(lines.join("\n") + "\n");
    let committed = 0;
    if (trial.dead) {
      const [batchSize, at] = trial.dead;
      const killed = sync({ storage: viewing({ lines: at, die: true }), batchSize });
      assert.match((await rejection(killed)).message, "killed");
      committed = Math.floor(at / batchSize) * batchSize;
    }
    const raced = trial.raced ?? 0;
    if (raced > 0) {
      appendFileSync(join(queueDir, "alpha.jsonl"), lines.slice(total - raced).join("\n") + "\n");
    }
    const next = random(index + 1);
    const pause = async () => {
      const draw = next();
      if (draw < 0.25) await new Promise((resolve) => setTimeout(resolve, 0));
      else for (let i = 0; i < draw * 20; i++) await Promise.resolve();
    };
    const engine = trial.sharedEngine ? viewing({ pause }) : undefined;
    const syncs = trial.batches.map((batchSize, i) =>
      new QueueSync({
        dbPath: shared,
        queueDir,
        batchSize,
        // The first one read the file before the raced lines reached it.
        storage: engine ??
          viewing({ pause, lines: i === 0 && raced > 0 ? total - raced : undefined }),
      })
    );
    let reports: SyncReport[];
    try {
      reports = await Promise.all(syncs.map((s) => s.run()));
    } finally {
      for (const s of syncs) await s.close();
    }
    assert.equal(processingLeft(), [], `${message}: the claimed files are finished`);
    assert.equal(
      namesIn(prefix),
      once(prefix, range(0, total).filter((i) => !bad.has(i))),
      message,
    );
    const refused = new Map([...failedNames()].filter(([n]) => n.startsWith(`${prefix}-`)));
    if (raced === 0) {
      // Each line was applied by one sync only.
      assert.equal(sum(reports), {
        applied: range(committed, total).filter((i) => !bad.has(i)).length,
        duplicates: 0,
        failed: range(committed, total).filter((i) => bad.has(i)).length,
      }, message);
      assert.equal(refused, once(prefix, [...bad]), `${message}: each refused line failed once`);
    } else {
      assert.equal([...refused.keys()].sort(), [...once(prefix, [...bad]).keys()].sort(), message);
    }
    assert.equal(await sync(), { files: 0, applied: 0, duplicates: 0, failed: 0 }, message);
  }
});

test("a file of no complete line (a torn one, empty ones) is finished, and a resume counts only complete non-empty lines", async () => {
  const [first, second, third, fourth] = await records("e", 4);
  const torn = (await records("torn", 1))[0].slice(0, 50);
  claim(torn);
  claim(`\n\n\n${torn}`);
  claim("\n\n");
  // Progress 2 of a file with empty lines means its first two records, not its first two lines.
  const spaced = claim(`\n${first}\n\n\n${second}\n${third}\n\n${fourth}\n\n${torn}`);
  setProgress([spaced, 2]);
  assert.equal(await sync({ batchSize: 3 }), { files: 4, applied: 2, duplicates: 0, failed: 0 });
  assert.equal(namesIn("e"), once("e", [2, 3]));
  assert.equal(processingLeft(), []);
  assert.equal(failedNames(), new Map());
});

test("a done file left in processing/ for more than a day (its sync died before deleting it) is deleted, not applied again", async () => {
  const lines = await records("old", 4, new Set([1]));
  const name = claim(lines.join("\n") + "\n");
  // A sync killed between marking the file done and deleting it.
  const base = fileStorageFor(RUNTIME);
  const storage = {
    ...base,
    records: { ...base.records!, remove: () => Promise.reject(new Error("killed")) },
  };
  assert.match((await rejection(sync({ storage }))).message, "killed");
  assert.is(
    sql(`SELECT lines || ' ' || done FROM _dbrouter_sync_progress WHERE file = '${name}'`),
    "4 1",
  );
  // The next pass comes two days later.
  sql(
    "UPDATE _dbrouter_sync_progress SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days')",
  );
  assert.equal(await sync(), { files: 1, applied: 0, duplicates: 0, failed: 0 });
  assert.equal(processingLeft(), []);
  assert.equal(namesIn("old"), once("old", [0, 2, 3]));
  assert.equal(failedNames(), once("old", [1]), "the refused line failed once");
});

test("a replay that claims the failed file while a sync appends to it loses no failed line", async () => {
  for (const moment of ["after the open", "after the write"]) {
    const prefix = moment === "after the open" ? "open" : "write";
    // A failed file from an earlier pass.
    appendFileSync(
      join(queueDir, "alpha.jsonl"),
      (await records(`${prefix}-old`, 1, new Set([0])))[0] + "\n",
    );
    assert.equal(await sync(), { files: 1, applied: 0, duplicates: 0, failed: 1 });
    const lines = await records(prefix, 9, new Set([1, 4, 8]));
    claim(lines.join("\n") + "\n");
    // A replay claims failed/alpha.jsonl while this sync's first append to it is at `moment`.
    const fs = fileSystemFor(RUNTIME);
    let raced = false;
    const race = async (path: string) => {
      if (raced) return;
      raced = true;
      const to = join(queueDir, "processing", claimedName("alpha", true));
      await fs.rename(path, to);
    };
    const racing: FileSystem = {
      ...fs,
      async open(path, mode) {
        const handle = await fs.open(path, mode);
        if (mode !== "append" || !path.endsWith("/failed/alpha.jsonl")) return handle;
        if (moment === "after the open") await race(path);
        return {
          ...handle,
          async write(buffer, position) {
            const wrote = await handle.write(buffer, position);
            if (moment === "after the write") await race(path);
            return wrote;
          },
        };
      },
    };
    const report = await sync({ storage: fileStorage(racing, "racing", {}), batchSize: 2 });
    assert.ok(raced, moment);
    assert.equal(report, { files: 1, applied: 6, duplicates: 0, failed: 3 }, moment);
    // Each refused line is in the new failed file, and in the claimed one if it landed there.
    const claimed = processingLeft();
    assert.is(claimed.length, 1, moment);
    const inClaimed = readFileSync(join(queueDir, "processing", claimed[0]), "utf8");
    assert.match(inClaimed, `${prefix}-old-0`, moment);
    for (const i of [1, 4, 8]) assert.is(failedNames().get(`${prefix}-${i}`), 1, `${moment}: ${i}`);
    // The replay refuses them again: each is failed still, at least once, and nothing is left.
    const replay = await sync({ replayFailed: true, batchSize: 3 });
    assert.is(replay.applied, 0, moment);
    assert.equal(processingLeft(), [], moment);
    for (const name of [`${prefix}-old-0`, `${prefix}-1`, `${prefix}-4`, `${prefix}-8`]) {
      assert.ok((failedNames().get(name) ?? 0) >= 1, `${moment}: ${name}`);
    }
    assert.equal(namesIn(prefix), once(prefix, [0, 2, 3, 5, 6, 7]), moment);
  }
});

test("replays claiming the failed file again and again while a sync appends to it lose no failed line", async () => {
  const total = 120;
  const bad = new Set(range(0, total).filter((i) => i % 4 === 1));
  const lines = await records("busy", total, bad);
  const name = claim(lines.join("\n") + "\n");
  const writer = new QueueSync({
    dbPath: shared,
    queueDir,
    batchSize: 2,
    storage: fileStorageFor(RUNTIME),
  });
  // The replayer does not see the writer's file, so that its passes are replays only.
  const base = fileStorageFor(RUNTIME);
  const logs = base.records!;
  const replayer = new QueueSync({
    dbPath: shared,
    queueDir,
    batchSize: 3,
    replayFailed: true,
    storage: {
      ...base,
      records: {
        ...logs,
        list: async (folder) => (await logs.list!(folder)).filter((e) => e.name !== name),
      },
    },
  });
  let replays = 0;
  try {
    let writing = true;
    const written = writer.run().finally(() => (writing = false));
    while (writing) {
      await replayer.run();
      replays++;
    }
    assert.equal(await written, {
      files: 1,
      applied: total - bad.size,
      duplicates: 0,
      failed: bad.size,
    });
  } finally {
    await writer.close();
    await replayer.close();
  }
  assert.ok(replays > 1, `${replays} replay passes`);
  await sync();
  assert.equal(processingLeft(), []);
  assert.equal(namesIn("busy"), once("busy", range(0, total).filter((i) => !bad.has(i))));
  const failed = failedNames();
  assert.equal([...failed.keys()].sort(), [...once("busy", [...bad]).keys()].sort());
});

test("two sync processes with other batch sizes on one claimed file apply each line once, refuse each bad one once, and delete it", async () => {
  const total = 900;
  const bad = new Set(range(0, total).filter((i) => i % 50 === 7));
  claim((await records("proc", total, bad)).join("\n") + "\n");
  const started = (batch: number) =>
    startChild(RUNTIME, CHILD, ["sync", shared, queueDir, String(batch), "5000", "1", "0"]);
  const small = started(3);
  await small.waitFor((line) => line === "batch 1");
  const large = started(40);
  const children = [small, large];
  await Promise.all(children.map((child) => child.waitFor((line) => line === "closed")));
  await Promise.all(children.map((child) => child.exited));
  const reports = children.map((child) =>
    JSON.parse(child.lines().find((line) => line.startsWith("pass "))!.slice(5)) as SyncReport
  );
  assert.equal(sum(reports), { applied: total - bad.size, duplicates: 0, failed: bad.size });
  assert.equal(processingLeft(), []);
  assert.equal(namesIn("proc"), once("proc", range(0, total).filter((i) => !bad.has(i))));
  assert.equal(failedNames(), once("proc", [...bad]));
});

test.run();
