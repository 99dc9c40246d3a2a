/**
 * Point selects on a shared table while another process writes to it, against
 * the same reads with no writer, in one reading process. The writer is a child
 * process of the same runtime inserting one row at a time (each commit
 * durable) for the whole window; the reader's router checks the storage's
 * version stamp at most every `maxReadLagMs` (100 ms by default) and, when
 * another process committed, catches up: it reads the new pages and reopens
 * the database from the image, so a read that lands on a catch-up waits for it.
 *
 * For each database size: reads per second, and the latency of single reads
 * (median, p99, p99.9, max), for a window of WINDOW_MS each. Not a test:
 * `npm run bench -- contended`.
 *
 * @module
 */
import { join } from "node:path";
import { DBRouter } from "../../mod.ts";
import { median, printTable, quantile } from "../_support/bench_util.ts";
import { ROOT, startChild } from "../_support/spawn.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";
import { BOTS_SCHEMA } from "../_support/writers_spawn.ts";

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 3000);
const ROWS = 1000;
const SIZES_MB = [0, 10];
const WRITER = join(ROOT, "tests/_support/bench_writer_child.ts");
const SELECT = "SELECT id, name, seq FROM bots WHERE id = ?";

interface Window {
  reads: number;
  latencies: number[];
  written?: number;
}

async function readFor(router: DBRouter, until: number): Promise<Window> {
  const latencies: number[] = [];
  let reads = 0;
  for (let i = 0; Date.now() < until; i++) {
    const started = performance.now();
    await router.getConnection("bots").get(SELECT, [(i % ROWS) + 1]);
    latencies.push(performance.now() - started);
    reads++;
  }
  return { reads, latencies };
}

const folder = temporaryFolder(`bench-contended-${RUNTIME}-`);
const rows: string[][] = [];
try {
  for (const mb of SIZES_MB) {
    const shared = join(folder.dir, `shared-${mb}.db`);
    const router = new DBRouter("reader", join(folder.dir, `reader-${mb}.db`), shared, {
      storage: fileStorageFor(RUNTIME),
    });
    const bots = router.getConnection("bots", "write");
    await bots.exec(`${BOTS_SCHEMA}; CREATE TABLE IF NOT EXISTS pad (data BLOB)`);
    await bots.batch([
      ...Array.from({ length: ROWS }, (_, i) => ({
        sql: "INSERT INTO bots (id, name, seq, source_menace_id) VALUES (?, ?, ?, 'reader')",
        params: [i + 1, `bot-${i}`, i],
      })),
      ...Array.from(
        { length: mb },
        () => ({ sql: "INSERT INTO pad VALUES (randomblob(1000000))" }),
      ),
    ]);
    // Warm-up, then the same window without and with a writer.
    await readFor(router, Date.now() + 500);
    const alone = await readFor(router, Date.now() + WINDOW_MS);
    const startAt = Date.now() + 3000;
    const writer = startChild(RUNTIME, WRITER, [
      shared,
      join(folder.dir, `writer-${mb}.db`),
      String(startAt),
      String(WINDOW_MS),
    ]);
    await writer.waitFor((line) => line === "ready");
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
    const contended = await readFor(router, startAt + WINDOW_MS);
    const wrote = await writer.waitFor((line) => line.startsWith("wrote "));
    contended.written = Number(wrote.split(" ")[1]);
    await writer.exited;
    await router.close();
    const us = (ms: number) => (ms * 1000).toFixed(ms < 0.01 ? 2 : 1);
    for (const [label, w] of [["no writer", alone], ["a process writing", contended]] as const) {
      rows.push([
        `${mb === 0 ? "0.1" : mb} MB`,
        label,
        w.written === undefined ? "-" : String(Math.round(w.written / (WINDOW_MS / 1000))),
        Math.round(w.reads / (WINDOW_MS / 1000)).toLocaleString("en-US"),
        `${(w.reads / alone.reads).toFixed(2)}x`,
        us(median(w.latencies)),
        us(quantile(w.latencies, 0.99)),
        us(quantile(w.latencies, 0.999)),
        us(quantile(w.latencies, 1)),
      ]);
    }
  }
} finally {
  folder.remove();
}
console.log(
  `${RUNTIME}: point selects on a shared table for ${WINDOW_MS} ms, with and without ` +
    `another process committing one row at a time (latency in µs)\n`,
);
printTable([
  [
    "database",
    "case",
    "writer commits/s",
    "reads/s",
    "x no writer",
    "median",
    "p99",
    "p99.9",
    "max",
  ],
  ...rows,
]);
