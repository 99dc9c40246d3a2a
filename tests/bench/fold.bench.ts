/**
 * Issue 14, folds: what folding a page log costs, in place (now) against
 * rewriting the whole file (before: read base and log, write the image to
 * `PATH-dbrtmp`, `fsync`, rename), on copies of the same files in the same
 * run. Per size (10 and 100 MB; more with arguments: `tsx
 * tests/bench/fold.bench.ts 10 100 1000`): a database written by the `sqlite3`
 * shell, then `BENCH_COMMITS` (200) one-page commits at random pages through
 * file storage, then a fold: wall and CPU time (the time the write lock is
 * held), bytes written and read, and RSS growth during the fold. Also the
 * first commit on a file without a log (before: a whole fold). Not a test:
 * `npm run bench -- fold`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fold } from "../../src/storage/file/fold.ts";
import { databaseFiles } from "../../src/storage/file/log_format.ts";
import { readSnapshot } from "../../src/storage/file/snapshot.ts";
import { commitOf } from "../_support/storage_conformance.ts";
import { printTable, residentBytes } from "../_support/bench_util.ts";
import {
  fileStorageFor,
  fileSystemFor,
  RUNTIME,
  temporaryFolder,
} from "../_support/storage_fixtures.ts";

const COMMITS = Number(process.env.BENCH_COMMITS ?? 200);
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const folder = temporaryFolder(`fold-bench-${RUNTIME}-`);
const fs = fileSystemFor(RUNTIME);
const rows: string[][] = [[
  "MB",
  "fold",
  "wall ms",
  "CPU ms",
  "bytes written",
  "bytes read",
  "RSS growth MB",
  "first commit, no log: ms",
  "its bytes",
]];

try {
  for (const mb of sizes.length > 0 ? sizes : [10, 100]) await measure(mb);
} finally {
  folder.remove();
}
console.log(`\n${RUNTIME}, ${COMMITS} one-page commits before each fold; load ${loadAverage()}`);
printTable(rows);

async function measure(mb: number): Promise<void> {
  const dir = join(folder.dir, `${mb}`);
  mkdirSync(dir, { recursive: true });
  const source = join(dir, "source.db");
  const pages = Math.round((mb * 1024 * 1024) / 4096);
  execFileSync("sqlite3", [
    source,
    `PRAGMA page_size=4096; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${pages})
     INSERT INTO t SELECT i, randomblob(3900) FROM n;`,
  ]);
  // The first commit on a file without a log.
  const inPlacePath = join(dir, "in-place.db");
  const wholePath = join(dir, "whole.db");
  copyFileSync(source, inPlacePath);
  const db = await fileStorageFor(RUNTIME, { foldIdleMs: false, compactThresholdBytes: 1e12 })
    .open(inPlacePath);
  const release = await db.lock();
  let image = (await db.load()).image!;
  const next = touch(image, 2);
  const first = commitOf(image, next, 4096);
  const firstStarted = performance.now();
  await db.commit(first);
  const firstMs = performance.now() - firstStarted;
  const firstBytes = db.stats().lastCommitBytes;
  image = next;
  // Before: the same first commit folded, writing the whole image.
  copyFileSync(source, wholePath);
  const wholeFirst = await timed(() =>
    fold(fs, databaseFiles(wholePath), next, 4096, 1).then((r) => r.bytesWritten)
  );
  for (let i = 0; i < COMMITS; i++) {
    // One page changed in place (a copy and a diff of 1 GB per commit would dominate the run).
    const page = 2 + Math.floor(Math.random() * (image.length / 4096 - 2));
    const at = (page - 1) * 4096;
    image[at + 100] = (image[at + 100] + 1) & 0xff;
    const bytes = image.slice(at, at + 4096);
    await db.commit({ pageSize: 4096, pageCount: image.length / 4096, pages: [[page, bytes]] });
  }
  // The same files, for the fold as it was.
  copyFileSync(inPlacePath, wholePath);
  copyFileSync(`${inPlacePath}-dbrlog`, `${wholePath}-dbrlog`);
  const inPlace = await timed(async () => {
    await db.compact();
    return db.stats().lastFold!.bytesWritten;
  });
  const read = db.stats().lastFold!.bytesRead;
  await release();
  image = new Uint8Array(0);
  const whole = await timed(async () => {
    const snapshot = await readSnapshot(fs, databaseFiles(wholePath));
    const result = await fold(fs, databaseFiles(wholePath), snapshot.image!, 4096, 2);
    return result.bytesWritten;
  });
  const logBytes = statSync(`${wholePath}-dbrlog`).size;
  if (!existsSync(inPlacePath) || !same(inPlacePath, wholePath)) {
    throw new Error(`${mb} MB: the two folds left different files`);
  }
  const wholeRead = statSync(source).size + logBytes;
  rows.push([
    `${mb}`,
    "in place",
    inPlace.wall.toFixed(1),
    inPlace.cpu.toFixed(1),
    `${inPlace.bytes}`,
    `${read}`,
    (inPlace.rss / 1048576).toFixed(1),
    firstMs.toFixed(1),
    `${firstBytes}`,
  ]);
  rows.push([
    `${mb}`,
    "whole (before)",
    whole.wall.toFixed(1),
    whole.cpu.toFixed(1),
    `${whole.bytes}`,
    `~${wholeRead}`,
    (whole.rss / 1048576).toFixed(1),
    wholeFirst.wall.toFixed(1),
    `${wholeFirst.bytes}`,
  ]);
}

/** `image` with page `page` changed. */
function touch(image: Uint8Array, page: number): Uint8Array {
  const next = image.slice();
  const at = (page - 1) * 4096 + 100;
  next[at] = (next[at] + 1) & 0xff;
  return next;
}

async function timed(
  work: () => Promise<number>,
): Promise<{ wall: number; cpu: number; bytes: number; rss: number }> {
  const rssBefore = residentBytes();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let peak = rssBefore;
  const sampler = setInterval(() => peak = Math.max(peak, residentBytes()), 5);
  try {
    const bytes = await work();
    const wall = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    peak = Math.max(peak, residentBytes());
    return { wall, cpu: (cpu.user + cpu.system) / 1000, bytes, rss: peak - rssBefore };
  } finally {
    clearInterval(sampler);
  }
}

function same(a: string, b: string): boolean {
  return readFileSync(a).equals(readFileSync(b));
}

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}
