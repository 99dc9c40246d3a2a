/**
 * Issue 18's figures: what recording a commit's rows for `router.watch()`
 * costs a commit. Three routers in one process, on copies of one setting:
 *
 * - `off`: `DB_ROUTER_WATCH=off`, no update hook, no triggers, no note (what
 *   main did before watch existed);
 * - `off, again`: a second router like `off`, on its own files: its ratio to
 *   `off` is the noise of the run (the same code, measured alike);
 * - `on, no listener`: the default, with nobody listening anywhere: on file
 *   storage each commit asks the watchers' registry (`PATH-dbrwatch/`) and
 *   records nothing;
 * - `on, listener elsewhere` (file storage): another process is registered
 *   as a scoped watcher (its registration made here with the registry
 *   itself, so that its catch-ups take no CPU of this process): rows
 *   recorded and a note written with each commit; the watcher looks owners
 *   up itself after its catch-up (`ID.read.watch`);
 * - `on, older watcher elsewhere` (file storage): a registration as a
 *   db-router from before late lookups makes it (`ID.watch`, touched each
 *   round): the writer also looks owners up, reading its changed rows again;
 * - `on, unscoped elsewhere` (file storage): as above, but registered as
 *   unscoped (`scope: "all"` only): no owner lookup, a note of kind `u`;
 * - `on, one listener`: one listener on the table in this router.
 *
 * Workloads: one-row commits (`router.insert`) and one-statement updates of
 * 1 000 rows (which leave the database's size alone), on
 * file storage (durable: each commit is `fdatasync`ed) and on memory storage
 * (no I/O: the CPU cost alone, though memory storage writes no note). Rounds
 * alternate the three routers so that the machine's load, which varies,
 * falls on each alike. Last, the parts, each timed alone over many
 * repetitions (less disturbed by load): the recording of one inserted row
 * (hook, owner lookup, grouping, note) beside the insert itself, and the
 * encoding of a one-page commit with and without its note frame; the figures are medians of per-round means, and the
 * ratios are against `off` in the same run, by wall time and by this
 * process's CPU time (user + system, which other processes' load disturbs
 * less; `fdatasync` waits are in wall time only). Not a test:
 * `npm run bench -- watch`.
 *
 * @module
 */
import { loadavg } from "node:os";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DBRouter, memoryStorage } from "../../mod.ts";
import { loadCapturedSqlJs } from "../../wasm/mod.ts";
import { ChangeRecorder } from "../../src/watch/recorder.ts";
import { encodeNote } from "../../src/watch/note.ts";
import {
  decodeLogHeader,
  encodeCommit,
  encodeLogHeader,
} from "../../src/storage/file/log_format.ts";
import type { SqlJsDatabase } from "../../src/engine/sqljs_types.ts";
import { median, printTable } from "../_support/bench_util.ts";
import {
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  temporaryFolder,
} from "../_support/storage_fixtures.ts";
import { WatcherRegistry } from "../../src/storage/file/watchers.ts";

const SCHEMA = "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, " +
  "seq INTEGER, source_menace_id TEXT)";
const ROUNDS = Number(process.env.WATCH_BENCH_ROUNDS ?? 150);
const COMMITS_PER_ROUND = 30;
const BULK_ROWS = 1000;
const BULK_PER_ROUND = 3;

type Setting =
  | "off"
  | "off, again"
  | "on, no listener"
  | "on, listener elsewhere"
  | "on, older watcher elsewhere"
  | "on, unscoped elsewhere"
  | "on, one listener";
const ALL_SETTINGS: Setting[] = [
  "off",
  "off, again",
  "on, no listener",
  "on, listener elsewhere",
  "on, older watcher elsewhere",
  "on, unscoped elsewhere",
  "on, one listener",
];

const folder = temporaryFolder(`watch-bench-${RUNTIME}-`);
const before = loadavg();
try {
  for (const storageName of ["file", "memory"] as const) {
    // Memory storage is not shared: nobody elsewhere can listen.
    const SETTINGS = ALL_SETTINGS.filter((s) => storageName === "file" || !s.endsWith("elsewhere"));
    const routers = new Map<Setting, DBRouter>();
    const elsewhere: Array<() => Promise<void>> = [];
    const olderFiles: string[] = [];
    let heard = 0;
    for (const setting of SETTINGS) {
      if (setting.startsWith("off")) process.env.DB_ROUTER_WATCH = "off";
      const dir = join(folder.dir, `${storageName}-${setting.replace(/\W+/g, "-")}`);
      const router = new DBRouter("bench", join(dir, "local.db"), join(dir, "shared.db"), {
        storage: storageName === "file" ? fileStorageFor(RUNTIME) : memoryStorage(),
      });
      const conn = router.getConnection("bots", "write");
      await conn.exec(SCHEMA);
      await conn.transaction(async (tx) => {
        for (let i = 0; i < BULK_ROWS; i++) {
          await tx.run("INSERT INTO bots (name, seq, source_menace_id) VALUES (?, ?, 'bench')", [
            `x${i}`,
            i,
          ]);
        }
      });
      delete process.env.DB_ROUTER_WATCH;
      if (setting === "on, one listener") {
        router.watch(
          "bots",
          (change) => void (heard += change.inserted.length + change.updated.length),
        );
      }
      if (setting === "on, older watcher elsewhere") {
        const older = join(`${join(dir, "shared.db")}-dbrwatch`, "0123456789abcdef.watch");
        mkdirSync(dirname(older), { recursive: true });
        writeFileSync(older, "");
        olderFiles.push(older);
      } else if (setting.endsWith("elsewhere")) {
        const registry = new WatcherRegistry(
          fileSystemFor(RUNTIME),
          `${join(dir, "shared.db")}-dbrwatch`,
          5000,
        );
        elsewhere.push(await registry.register(setting === "on, listener elsewhere"));
      }
      routers.set(setting, router);
    }
    const single = new Map<Setting, number[]>(SETTINGS.map((s) => [s, []]));
    const bulk = new Map<Setting, number[]>(SETTINGS.map((s) => [s, []]));
    const singleCpu = new Map<Setting, number[]>(SETTINGS.map((s) => [s, []]));
    const bulkCpu = new Map<Setting, number[]>(SETTINGS.map((s) => [s, []]));
    // A registration changes the registry folder, and for two seconds after a change a writer
    // lists the folder at every commit (its time may hide a later change within one clock
    // tick: `watchers.ts`): a cost of the first seconds after a watcher comes or goes, not of
    // watching, so the rounds start after it.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order, so that no setting always runs first or last in a round.
      const order = SETTINGS.map((_, i) => SETTINGS[(i + round) % SETTINGS.length]);
      // The older watcher's heartbeat, untimed.
      for (const older of olderFiles) utimesSync(older, new Date(), new Date());
      for (const setting of order) {
        const router = routers.get(setting)!;
        let started = performance.now();
        let cpu = process.cpuUsage();
        for (let i = 0; i < COMMITS_PER_ROUND; i++) {
          await router.insert("bots", { name: `b${i}`, seq: i });
        }
        single.get(setting)!.push((performance.now() - started) / COMMITS_PER_ROUND);
        singleCpu.get(setting)!.push(cpuMs(cpu) / COMMITS_PER_ROUND);
        const conn = router.getConnection("bots", "write");
        started = performance.now();
        cpu = process.cpuUsage();
        for (let t = 0; t < BULK_PER_ROUND; t++) {
          await conn.run("UPDATE bots SET seq = seq + 1 WHERE id <= ?", [BULK_ROWS]);
        }
        bulk.get(setting)!.push((performance.now() - started) / BULK_PER_ROUND);
        bulkCpu.get(setting)!.push(cpuMs(cpu) / BULK_PER_ROUND);
        // Untimed: the listener's queue drains on a later task.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    for (const router of routers.values()) await router.close();
    for (const unregister of elsewhere) await unregister();
    const ratio = (figures: Map<Setting, number[]>, setting: Setting) =>
      `${(median(figures.get(setting)!) / median(figures.get("off")!)).toFixed(3)}x`;
    const rows = SETTINGS.map((setting) => [
      setting,
      median(single.get(setting)!).toFixed(3),
      ratio(single, setting),
      median(singleCpu.get(setting)!).toFixed(3),
      ratio(singleCpu, setting),
      median(bulk.get(setting)!).toFixed(2),
      ratio(bulk, setting),
      median(bulkCpu.get(setting)!).toFixed(2),
      ratio(bulkCpu, setting),
    ]);
    console.log(`\n${storageName} storage, ${RUNTIME} (the listener heard ${heard} rowids)`);
    printTable([
      [
        "setting",
        "one-row commit, ms",
        "vs off",
        "its CPU ms",
        "vs off",
        `${BULK_ROWS}-row update, ms`,
        "vs off",
        "its CPU ms",
        "vs off",
      ],
      ...rows,
    ]);
  }
  await parts();
} finally {
  folder.remove();
}
const after = loadavg();
console.log(
  `\nload average (1, 5, 15 min): before ${before.map((n) => n.toFixed(2)).join(" ")}, ` +
    `after ${after.map((n) => n.toFixed(2)).join(" ")}`,
);

/** Milliseconds of this process's CPU time since `since`. */
function cpuMs(since: { user: number; system: number }): number {
  const now = process.cpuUsage(since);
  return (now.user + now.system) / 1000;
}

/** The recording's parts, each timed alone: microseconds per operation, median of 15 runs. */
async function parts(): Promise<void> {
  const { sql } = await loadCapturedSqlJs();
  const db = new sql.Database() as unknown as SqlJsDatabase;
  db.exec(SCHEMA);
  const insert = db.prepare("INSERT INTO bots (name, seq, source_menace_id) VALUES ('b', 1, 'x')");
  const recorder = new ChangeRecorder();
  const time = (operation: () => void, count = 2000) => {
    const runs: number[] = [];
    for (let run = 0; run < 15; run++) {
      const started = performance.now();
      for (let i = 0; i < count; i++) operation();
      runs.push((performance.now() - started) * 1000 / count);
    }
    return median(runs);
  };
  const plain = time(() => insert.run());
  recorder.attach(db, sql);
  const recorded = time(() => {
    insert.run();
    encodeNote(recorder.take(db, true)!);
  });
  insert.free();
  recorder.detach(db);
  const perRow = hookPerRow(db, recorder, sql);
  recorder.dispose();
  db.close();
  const pageSize = 4096;
  // The format this version writes (2: a note is a frame as long as the note).
  const header = decodeLogHeader(encodeLogHeader({
    version: 2,
    pageSize,
    generation: 1,
    salt1: 1,
    salt2: 2,
    baseSize: 0,
    baseIno: 0,
    baseChecksum: [0, 0],
    baseCounter: 0,
    baseMtime: 0,
  }))!;
  const page: Array<[number, Uint8Array]> = [[2, new Uint8Array(pageSize).fill(7)]];
  const note = encodeNote(
    new Map([["bots", [{ owner: "x", inserted: [41], updated: [], deleted: [] }]]]),
  );
  const bare = time(() => encodeCommit(header, header.checksum, page, 2));
  const noted = time(() => encodeCommit(header, header.checksum, page, 2, note));
  console.log(`\nthe update hook, ${RUNTIME}: a 1 000-row UPDATE, microseconds per row`);
  printTable([
    ["hook", "µs per row", "vs none"],
    ...Object.entries(perRow).map(([name, us]) => [
      name,
      us.toFixed(3),
      `${(us / perRow["none (SQLite alone)"]).toFixed(2)}x`,
    ]),
  ]);
  console.log(`\nparts, ${RUNTIME} (microseconds per operation)`);
  printTable([
    ["operation", "without watch", "with watch", "added"],
    [
      "one-row INSERT (sql.js, in memory)",
      plain.toFixed(2),
      recorded.toFixed(2),
      (recorded - plain).toFixed(2),
    ],
    [
      "encode a one-page commit for the log",
      bare.toFixed(2),
      noted.toFixed(2),
      (noted - bare).toFixed(2),
    ],
  ]);
}

/**
 * A 1 000-row UPDATE on a raw database with no hook, sql.js's `updateHook`
 * keeping a tuple per row (what the recorder did before), and the recorder's
 * direct hook: microseconds per row, medians of 15 rounds alternating them.
 */
function hookPerRow(
  db: SqlJsDatabase,
  recorder: ChangeRecorder,
  sql: Parameters<ChangeRecorder["attach"]>[1],
): Record<string, number> {
  db.exec("DELETE FROM bots");
  db.exec(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) " +
      "INSERT INTO bots (name, seq, source_menace_id) SELECT 'r', i, 'x' FROM n",
  );
  const update = db.prepare("UPDATE bots SET seq = seq + 1");
  let tuples: unknown[] = [];
  const variants: Record<string, [() => void, () => void]> = {
    "none (SQLite alone)": [() => {}, () => {}],
    "sql.js updateHook, a tuple per row": [
      () =>
        db.updateHook!((operation, database, table, rowid) => {
          if (database === "main") tuples.push([operation, table, rowid]);
        }),
      () => {
        db.updateHook!(null);
        tuples = [];
      },
    ],
    "the recorder's direct hook": [() => {
      recorder.attach(db, sql);
      recorder.mark(true);
    }, () => recorder.detach(db)],
  };
  const names = Object.keys(variants);
  const runs = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < 15; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length];
      const [on, off] = variants[name];
      on();
      const started = performance.now();
      for (let i = 0; i < 40; i++) update.run();
      runs.get(name)!.push((performance.now() - started) * 1000 / 40 / 1000);
      off();
    }
  }
  update.free();
  return Object.fromEntries(names.map((name) => [name, median(runs.get(name)!)]));
}
