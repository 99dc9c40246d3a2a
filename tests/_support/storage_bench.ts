/**
 * Measures the file storage adapter of the runtime running it: a one-row
 * commit into a 100 MB database, catching up and loading, and the cost of
 * the write lock. Not a test; run it by hand:
 *
 * ```sh
 * node --import tsx tests/_support/storage_bench.ts
 * node_modules/.bin/deno run -A tests/_support/storage_bench.ts
 * node_modules/.bin/bun tests/_support/storage_bench.ts
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { diffPages } from "../../src/persist/page_diff.ts";
import { loadSqlJs } from "../../wasm/mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./storage_fixtures.ts";
import { catchUp } from "./storage_conformance.ts";

const MEGABYTES = Number(process.argv[2] ?? 100);
const folder = temporaryFolder(`bench-${RUNTIME}-`);
try {
  const SQL = await loadSqlJs();
  const memory = new SQL.Database();
  memory.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, payload BLOB)");
  memory.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, note TEXT)");
  for (let i = 0; i < MEGABYTES; i++) {
    memory.exec(`INSERT INTO blobs (payload) VALUES (randomblob(1000000))`);
  }
  const image = memory.export();
  const pageSize = (image[16] << 8) | image[17];
  const storage = fileStorageFor(RUNTIME);
  const path = join(folder.dir, "bench.db");
  const db = await storage.open(path);
  const reader = await storage.open(path);

  let started = performance.now();
  await db.commit({
    pageSize,
    pageCount: image.length / pageSize,
    pages: diffPages(null, image, pageSize),
  });
  const firstMs = performance.now() - started;
  const since = await reader.load();

  const rounds = 20;
  let bytes = 0;
  let commitMs = 0;
  let exportDiffMs = 0;
  let previous = image;
  for (let round = 1; round <= rounds; round++) {
    memory.exec(`INSERT INTO events (note) VALUES ('event ${round}')`);
    started = performance.now();
    const next = memory.export();
    const pages = diffPages(previous, next, pageSize);
    exportDiffMs += performance.now() - started;
    await db.commit({ pageSize, pageCount: next.length / pageSize, pages });
    bytes += db.stats().lastCommitBytes;
    commitMs += db.stats().lastCommitMs;
    previous = next;
  }

  await reader.version();
  started = performance.now();
  for (let i = 0; i < 100; i++) await reader.version();
  const versionMs = (performance.now() - started) / 100;
  const version = await reader.version();
  started = performance.now();
  const caughtUp = await catchUp(reader, since);
  const sinceMs = performance.now() - started;
  started = performance.now();
  const full = await (await storage.open(path)).load();
  const fullMs = performance.now() - started;
  if (caughtUp.version !== version || full.version !== version) throw new Error("versions differ");

  const lockRounds = 500;
  started = performance.now();
  for (let i = 0; i < lockRounds; i++) await (await db.lock())();
  const lockMs = (performance.now() - started) / lockRounds;

  started = performance.now();
  await db.close({ compact: true });
  const closeMs = performance.now() - started;
  memory.close();

  const row = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);
  console.log(`${RUNTIME}: ${MEGABYTES} MB image (${image.length} bytes, ${pageSize}-byte pages)`);
  row("first commit (whole image, fold)", `${firstMs.toFixed(1)} ms`);
  row("one-row commit: bytes written (mean)", `${(bytes / rounds).toFixed(0)} bytes`);
  row("one-row commit: adapter time (mean)", `${(commitMs / rounds).toFixed(2)} ms`);
  row("one-row commit: export + diff (mean)", `${(exportDiffMs / rounds).toFixed(1)} ms`);
  row("version() (mean)", `${(versionMs * 1000).toFixed(0)} us`);
  row(`load(since) over ${rounds} commits`, `${sinceMs.toFixed(2)} ms`);
  row("load() of base + log", `${fullMs.toFixed(1)} ms`);
  row("lock() + release, uncontended (mean)", `${(lockMs * 1000).toFixed(0)} us`);
  row("close({ compact: true })", `${closeMs.toFixed(1)} ms`);
} finally {
  folder.remove();
}
