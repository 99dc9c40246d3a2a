/**
 * The same router calls on each shared backend, in one process: a point
 * select and a one-row insert through `getConnection()`, and `getConnection()`
 * itself, on sql.js (memory storage, and file storage with commit
 * durability), libSQL (`file:` URL, native binding) and D1 (Miniflare: each
 * call is an HTTP round trip to a local `workerd`, so it measures Miniflare's
 * transport more than D1), against a bare sql.js prepared statement.
 * Not a test: `npm run bench -- backends`.
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Miniflare } from "miniflare";
import {
  d1Backend,
  DBRouter,
  libsqlBackend,
  memoryStorage,
  type SharedBackend,
} from "../../mod.ts";
import { rawSqlJs } from "../_support/raw_sqljs.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";

const SCHEMA =
  "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)";
const ROWS = 1000;
const SELECTS = 3000;
const INSERTS = 300;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const p90 = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)];
const us = (ms: number) => (ms * 1000).toFixed(ms < 0.01 ? 2 : 1);

interface Figures {
  name: string;
  getConnectionNs: number;
  select: number[];
  insert: number[];
}

async function measure(
  name: string,
  shared: string | SharedBackend,
  options: ConstructorParameters<typeof DBRouter>[3],
): Promise<Figures> {
  const router = new DBRouter("alpha", "bench-local.db", shared, options);
  const conn = router.getConnection("bots", "write");
  await conn.exec(SCHEMA);
  await conn.batch(
    Array.from({ length: ROWS }, (_, i) => ({
      sql: "INSERT INTO bots (id, name, source_menace_id) VALUES (?, ?, 'alpha')",
      params: [i + 1, `bot-${i}`],
    })),
  );
  // Warm-up first: the first router in the process would otherwise pay for the JIT.
  for (let i = 0; i < 100_000; i++) router.getConnection(i & 1 ? "bots" : "errors");
  const started = performance.now();
  for (let i = 0; i < 100_000; i++) router.getConnection(i & 1 ? "bots" : "errors");
  const getConnectionNs = ((performance.now() - started) / 100_000) * 1e6;
  const select: number[] = [];
  for (let i = 0; i < SELECTS; i++) {
    const t = performance.now();
    await router.getConnection("bots").get("SELECT name FROM bots WHERE id = ?", [(i % ROWS) + 1]);
    select.push(performance.now() - t);
  }
  const insert: number[] = [];
  for (let i = 0; i < INSERTS; i++) {
    const t = performance.now();
    await router.insert("bots", { name: `new-${i}` });
    insert.push(performance.now() - t);
  }
  await router.close();
  return { name, getConnectionNs, select, insert };
}

const folder = temporaryFolder(`bench-backends-${RUNTIME}-`);
const results: Figures[] = [];
try {
  const raw = await rawSqlJs(SCHEMA);
  for (let i = 1; i <= ROWS; i++) {
    raw.run("INSERT INTO bots (id, name) VALUES (?, ?)", [i, `b${i}`]);
  }
  const statement = raw.prepare("SELECT name FROM bots WHERE id = ?");
  const rawSelect: number[] = [];
  for (let i = 0; i < SELECTS; i++) {
    const t = performance.now();
    statement.bind([(i % ROWS) + 1]);
    statement.step();
    statement.getAsObject();
    statement.reset();
    rawSelect.push(performance.now() - t);
  }
  const rawInsert: number[] = [];
  const insert = raw.prepare("INSERT INTO bots (name, source_menace_id) VALUES (?, 'alpha')");
  for (let i = 0; i < INSERTS; i++) {
    const t = performance.now();
    insert.run([`new-${i}`]);
    rawInsert.push(performance.now() - t);
  }
  results.push({
    name: "bare sql.js statement",
    getConnectionNs: NaN,
    select: rawSelect,
    insert: rawInsert,
  });
  raw.close();

  results.push(await measure("router, sql.js, memory", "shared.db", { storage: memoryStorage() }));
  results.push(
    await measure("router, sql.js, file", join(folder.dir, "shared.db"), {
      storage: fileStorageFor(RUNTIME),
    }),
  );
  const url = pathToFileURL(join(folder.dir, "libsql.db")).href;
  results.push(
    await measure("router, libSQL file:", libsqlBackend({ url }), { storage: memoryStorage() }),
  );
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null); } }",
    compatibilityDate: "2025-09-01",
    d1Databases: ["DB"],
  });
  try {
    const db = await mf.getD1Database("DB");
    results.push(
      await measure("router, D1 (Miniflare)", d1Backend(db), { storage: memoryStorage() }),
    );
  } finally {
    await mf.dispose();
  }
} finally {
  folder.remove();
}

console.log(`${RUNTIME}: µs per call, median / p90 (${SELECTS} point selects, ${INSERTS} inserts)`);
console.log("| backend | getConnection (ns) | point select | insert |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of results) {
  const gc = Number.isNaN(r.getConnectionNs) ? "-" : r.getConnectionNs.toFixed(0);
  console.log(
    `| ${r.name} | ${gc} | ${us(median(r.select))} / ${us(p90(r.select))} | ` +
      `${us(median(r.insert))} / ${us(p90(r.insert))} |`,
  );
}
