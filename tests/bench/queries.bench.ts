/**
 * Point selects and one-row inserts through the router against the same
 * statements on raw sql.js (same pragmas: `locking_mode=EXCLUSIVE`,
 * `journal_mode=MEMORY`) and on the runtime's native SQLite on a file (WAL,
 * `synchronous=NORMAL`): better-sqlite3 in Node, `bun:sqlite` in Bun,
 * `node:sqlite` in Deno. The router runs on file storage, on a local table
 * and on a shared one (whose reads check the storage's version stamp at most
 * every `maxReadLagMs`), so what a deployed router pays is what is measured.
 *
 * The baseline is what a careful sql.js user writes: a prepared statement,
 * `bind`, `step`, `getAsObject`, `reset`. A second raw case builds the row
 * from `get()` with the column names read once, as the router does, to show
 * the router's own overhead apart from that saving.
 *
 * Each case is measured in several rounds (the cases interleaved, so a noisy
 * moment hits all of them); the table gives the median over rounds of each
 * round's median, in µs per operation, and the ratio of throughput to raw
 * sql.js in this process (1.00x = as fast; the target for selects is 0.85x).
 *
 * Run: `npm run bench -- queries`, or `node --import tsx tests/bench/queries.bench.ts`.
 *
 * @module
 */
import { measure } from "mitata";
import { join } from "node:path";
import { DBRouter } from "../../mod.ts";
import { median, type NativeDatabase, openNative, printTable } from "../_support/bench_util.ts";
import { rawSqlJs } from "../_support/raw_sqljs.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROWS = 1000;
const BATCH = 100;
const SCHEMA = (table: string) =>
  `CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)`;
const SELECT = (table: string) => `SELECT id, name, source_menace_id FROM ${table} WHERE id = ?`;
const INSERT = (table: string) =>
  `INSERT INTO ${table} (name, source_menace_id) VALUES (?, 'alpha')`;

interface Case {
  name: string;
  kind: "select" | "insert";
  fn: () => unknown;
}

let sink = 0;
let next = 0;
const id = () => (next = (next + 7) % ROWS) + 1;

async function fill(router: DBRouter, table: string): Promise<void> {
  const conn = router.getConnection(table, "write");
  await conn.exec(SCHEMA(table));
  await conn.batch(
    Array.from({ length: ROWS }, (_, i) => ({
      sql: `INSERT INTO ${table} (id, name, source_menace_id) VALUES (?, ?, 'alpha')`,
      params: [i + 1, `bot-${i}`],
    })),
  );
}

const folder = temporaryFolder(`bench-queries-${RUNTIME}-`);
const routers: DBRouter[] = [];
let native: NativeDatabase | undefined;
try {
  const raw = await rawSqlJs(SCHEMA("bots"));
  raw.exec("BEGIN");
  for (let i = 1; i <= ROWS; i++) raw.run("INSERT INTO bots VALUES (?, ?, 'alpha')", [i, `b${i}`]);
  raw.exec("COMMIT");
  const rawSelect = raw.prepare(SELECT("bots"));
  const rawInsert = raw.prepare(INSERT("bots"));
  const rawColumns = rawSelect.getColumnNames();

  const storage = fileStorageFor(RUNTIME);
  const router = new DBRouter(
    "alpha",
    join(folder.dir, "local.db"),
    join(folder.dir, "shared.db"),
    {
      storage,
    },
  );
  routers.push(router);
  await fill(router, "bots"); // shared
  await fill(router, "models"); // local
  const deferred = new DBRouter(
    "beta",
    join(folder.dir, "deferred-local.db"),
    join(folder.dir, "deferred-shared.db"),
    {
      storage,
      durability: "deferred",
    },
  );
  routers.push(deferred);
  await fill(deferred, "models");

  native = await openNative(RUNTIME, join(folder.dir, "native.db"));
  native.exec(SCHEMA("bots"));
  native.exec("BEGIN");
  const fillNative = native.prepare("INSERT INTO bots VALUES (?, ?, 'alpha')");
  for (let i = 1; i <= ROWS; i++) fillNative.run(i, `b${i}`);
  native.exec("COMMIT");
  const nativeSelect = native.prepare(SELECT("bots"));
  const nativeInsert = native.prepare(INSERT("bots"));

  const selectShared = SELECT("bots");
  const selectLocal = SELECT("models");
  const insertShared = INSERT("bots");
  const insertLocal = INSERT("models");
  const cases: Case[] = [
    {
      name: "raw sql.js statement (baseline)",
      kind: "select",
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          rawSelect.bind([id()]);
          if (rawSelect.step()) sink += rawSelect.getAsObject().id as number;
          rawSelect.reset();
        }
      },
    },
    {
      name: "raw sql.js statement, get() + names read once",
      kind: "select",
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          rawSelect.bind([id()]);
          if (rawSelect.step()) {
            const values = rawSelect.get();
            const row: Record<string, unknown> = {};
            for (let c = 0; c < rawColumns.length; c++) row[rawColumns[c]] = values[c];
            sink += row.id as number;
          }
          rawSelect.reset();
        }
      },
    },
    {
      name: "raw sql.js statement, awaited",
      kind: "select",
      fn: async () => {
        for (let i = 0; i < BATCH; i++) {
          const row = await Promise.resolve().then(() => {
            rawSelect.bind([id()]);
            const found = rawSelect.step() ? rawSelect.getAsObject() : undefined;
            rawSelect.reset();
            return found;
          });
          sink += row!.id as number;
        }
      },
    },
    {
      name: "router, local table (file storage)",
      kind: "select",
      fn: async () => {
        for (let i = 0; i < BATCH; i++) {
          const row = await router.getConnection("models").get(selectLocal, [id()]);
          sink += row!.id as number;
        }
      },
    },
    {
      name: "router, shared table (file storage)",
      kind: "select",
      fn: async () => {
        for (let i = 0; i < BATCH; i++) {
          const row = await router.getConnection("bots").get(selectShared, [id()]);
          sink += row!.id as number;
        }
      },
    },
    {
      name: `${native.name}, file, WAL`,
      kind: "select",
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          sink += (nativeSelect.get(id()) as { id: number }).id;
        }
      },
    },
    {
      name: "raw sql.js statement, in memory (baseline)",
      kind: "insert",
      fn: () => {
        for (let i = 0; i < 10; i++) rawInsert.run([`n${i}`]);
      },
    },
    {
      name: "router, local table, deferred durability",
      kind: "insert",
      fn: async () => {
        for (let i = 0; i < 10; i++) {
          await deferred.getConnection("models").run(insertLocal, [`n${i}`]);
        }
      },
    },
    {
      name: "router, local table, commit durability",
      kind: "insert",
      fn: async () => {
        for (let i = 0; i < 10; i++) {
          await router.getConnection("models").run(insertLocal, [`n${i}`]);
        }
      },
    },
    {
      name: "router, shared table, commit durability",
      kind: "insert",
      fn: async () => {
        for (let i = 0; i < 10; i++) {
          await router.getConnection("bots").run(insertShared, [`n${i}`]);
        }
      },
    },
    {
      name: `${native.name}, file, WAL`,
      kind: "insert",
      fn: () => {
        for (let i = 0; i < 10; i++) nativeInsert.run(`n${i}`);
      },
    },
  ];

  const perRound = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, c] of cases.entries()) {
      const stats = await measure(c.fn, { min_cpu_time: (c.kind === "select" ? 300 : 600) * 1e6 });
      perRound[index].push(stats.p50 / (c.kind === "select" ? BATCH : 10) / 1000);
    }
  }
  const us = cases.map((_, index) => median(perRound[index]));
  for (const kind of ["select", "insert"] as const) {
    const baseline = us[cases.findIndex((c) => c.kind === kind)];
    console.log(
      `\n${RUNTIME}: ${kind === "select" ? "point select by primary key" : "one-row insert"}, ` +
        `µs per operation (median of ${ROUNDS} rounds' medians)\n`,
    );
    printTable([
      ["case", "µs / op", "ops/s", "x raw sql.js"],
      ...cases.flatMap((c, index) =>
        c.kind !== kind ? [] : [[
          c.name,
          us[index].toFixed(us[index] < 10 ? 2 : 1),
          Math.round(1e6 / us[index]).toLocaleString("en-US"),
          `${(baseline / us[index]).toFixed(2)}x`,
        ]]
      ),
    ]);
  }
  raw.close();
} finally {
  native?.close();
  await Promise.all(routers.map((r) => r.close()));
  folder.remove();
}
if (sink < 0) console.log(sink);
