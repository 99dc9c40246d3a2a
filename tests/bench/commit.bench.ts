/**
 * Cost of a one-row commit into a shared database of 1, 10 and 100 MB
 * through the router (lock, catch up, run, export + page diff, page-log
 * append + fdatasync, unlock), against the baseline of rewriting the whole
 * image durably (write to a temporary file, fsync, rename), measured in the
 * same process. Also splits the engine's part: sql.js `export()` and the page
 * diff. Not a test: `npm run bench -- commit`.
 *
 * Sizes can be given as arguments: `tsx tests/bench/commit.bench.ts 1 10`.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DBRouter } from "../../mod.ts";
import { DEFAULT_DATABASE_OPTIONS } from "../../src/engine/database.ts";
import { acquireDatabase, releaseDatabase } from "../../src/engine/registry.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";
import { buildImage, engineShare } from "../_support/writers_bench_images.ts";

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const MEGABYTES = SIZES.length > 0 ? SIZES : [1, 10, 100];
const SCHEMA = "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, " +
  "payload BLOB, source_menace_id TEXT)";

interface Result {
  mb: number;
  rounds: number;
  commitMs: number[];
  commitBytes: number[];
  storageMs: number[];
  exportMs: number[];
  diffMs: number[];
  rewriteMs: number[];
  rewriteBytes: number;
  noopMs: number[];
  noopFullMs: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const p90 = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.9))];

async function measure(mb: number, dir: string): Promise<Result> {
  const rounds = mb >= 100 ? 10 : 30;
  const image = await buildImage(mb, SCHEMA);
  const path = join(dir, `shared-${mb}.db`);
  writeFileSync(path, image);
  // The engine's share, on its own sql.js copy: export() and the page diff of a one-row change.
  const { exportMs, diffMs } = await engineShare(
    image,
    "INSERT INTO bots (name, seq) VALUES ('engine', ?)",
    rounds,
  );

  // Baseline: a durable rewrite of the whole image, as a saver without a page log does.
  const rewriteMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const temporary = join(dir, "rewrite.tmp");
    const fd = openSync(temporary, "w");
    for (let at = 0; at < image.length;) at += writeSync(fd, image, at, image.length - at);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, join(dir, "rewrite.db"));
    rewriteMs.push(performance.now() - started);
  }

  // Through the router: one-row inserts into the shared table.
  const storage = fileStorageFor(RUNTIME);
  const router = new DBRouter("bench", join(dir, `local-${mb}.db`), path, {
    storage,
    verifyOnOpen: "header",
  });
  const commitMs: number[] = [];
  const commitBytes: number[] = [];
  const storageMs: number[] = [];
  await router.insert("bots", { name: "warm-up", seq: -1 });
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    await router.insert("bots", { name: `row-${round}`, seq: round });
    commitMs.push(performance.now() - started);
    const stats = router.storageStats().shared;
    commitBytes.push(stats.lastCommitBytes);
    storageMs.push(stats.lastCommitMs);
  }
  // A write that changes no row (an UPDATE matching nothing, an INSERT OR IGNORE of a duplicate).
  const noopMs: number[] = [];
  const bots = router.getConnection("bots", "write");
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    await bots.run("UPDATE bots SET name = ? WHERE id < 0", [`none-${round}`]);
    noopMs.push(performance.now() - started);
  }
  // The same through the engine's write path without the no-change check: what it cost before.
  const engine = acquireDatabase(storage, router.sharedPath, DEFAULT_DATABASE_OPTIONS);
  const noopFullMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    await engine.write((db) => db.run("UPDATE bots SET name = ? WHERE id < 0", [`none-${round}`]));
    noopFullMs.push(performance.now() - started);
  }
  await releaseDatabase(storage, engine);
  await router.close();
  return {
    noopMs,
    noopFullMs,
    mb,
    rounds,
    commitMs,
    commitBytes,
    storageMs,
    exportMs,
    diffMs,
    rewriteMs,
    rewriteBytes: image.length,
  };
}

const folder = temporaryFolder(`bench-commit-${RUNTIME}-`);
try {
  const results: Result[] = [];
  for (const mb of MEGABYTES) results.push(await measure(mb, folder.dir));
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
  const rows = [
    [
      "size",
      "commit (median / p90)",
      "bytes written",
      "storage part",
      "export()",
      "page diff",
      "full rewrite",
      "bytes vs rewrite",
      "time vs rewrite",
      "no-op write (before the check)",
    ],
    ...results.map((r) => [
      `${r.mb} MB`,
      `${ms(median(r.commitMs))} / ${ms(p90(r.commitMs))}`,
      kib(median(r.commitBytes)),
      ms(median(r.storageMs)),
      ms(median(r.exportMs)),
      ms(median(r.diffMs)),
      `${ms(median(r.rewriteMs))}, ${kib(r.rewriteBytes)}`,
      `1 : ${Math.round(r.rewriteBytes / median(r.commitBytes))}`,
      `${(median(r.commitMs) / median(r.rewriteMs)).toFixed(2)}x`,
      `${ms(median(r.noopMs))} (${ms(median(r.noopFullMs))})`,
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  console.log(`${RUNTIME}: one-row commit into the shared database (medians of each row's rounds)`);
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
} finally {
  folder.remove();
}
