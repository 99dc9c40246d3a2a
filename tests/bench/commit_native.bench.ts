/**
 * Issue 14's commit target, measured so that load on the machine falls on
 * both sides alike: one process holds a router (file storage, page capture)
 * on one copy of a database and a native SQLite driver (WAL,
 * synchronous=FULL) on another copy of the same file, and alternates rounds
 * of `BENCH_COMMITS` one-row inserts (20) on each, `BENCH_ROUNDS` rounds (21;
 * which side goes first alternates). Reported per size (arguments, in MB;
 * default 1 and 100): the median per-commit time of each side over the
 * rounds, and the median of the per-round ratios. The native driver is
 * better-sqlite3 in Node and Deno and `bun:sqlite` in Bun, where `node:sqlite`
 * is also tried. Not a test: `npm run bench -- commit_native`.
 *
 * @module
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DBRouter } from "../../mod.ts";
import { median, printTable } from "../_support/bench_util.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";
import { buildImage } from "../_support/writers_bench_images.ts";
import { NATIVE_DRIVERS, openNative } from "../_support/native_sqlite.ts";

const SCHEMA = "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, " +
  "payload BLOB, source_menace_id TEXT)";
const COMMITS = Number(process.env.BENCH_COMMITS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);

/** A native driver's one-row insert, and its name with SQLite's version. */
interface Native {
  name: string;
  insert(seq: number): void;
  close(): void;
}

async function nativeFor(driver: string, file: string): Promise<Native | undefined> {
  // deno-lint-ignore no-explicit-any
  let db: any;
  try {
    db = await openNative(driver, file);
  } catch {
    return undefined;
  }
  const version = db.prepare("SELECT sqlite_version() AS v").get().v;
  const insert = db.prepare("INSERT INTO bots (name, seq) VALUES (?, ?)");
  return {
    name: `${driver} (SQLite ${version})`,
    insert: (seq) => insert.run("native", seq),
    close: () => db.close(),
  };
}

async function measure(mb: number, base: string, dir: string, driver: string): Promise<string[]> {
  const routerFile = join(dir, `router-${driver.replace(":", "-")}-${mb}.db`);
  const nativeFile = join(dir, `native-${driver.replace(":", "-")}-${mb}.db`);
  copyFileSync(base, routerFile);
  copyFileSync(base, nativeFile);
  const native = await nativeFor(driver, nativeFile);
  if (!native) return [];
  const router = new DBRouter("bench", join(dir, `local-${mb}.db`), routerFile, {
    storage: fileStorageFor(RUNTIME),
    verifyOnOpen: "header",
  });
  let seq = 0;
  const ours = async () => {
    const started = performance.now();
    for (let i = 0; i < COMMITS; i++) await router.insert("bots", { name: "router", seq: seq++ });
    return (performance.now() - started) / COMMITS;
  };
  const theirs = () => {
    const started = performance.now();
    for (let i = 0; i < COMMITS; i++) native.insert(seq++);
    return (performance.now() - started) / COMMITS;
  };
  // Warm-up, not counted: the first write runs the capture's probe.
  await ours();
  theirs();
  const routerMs: number[] = [];
  const nativeMs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let a: number, b: number;
    if (round % 2 === 0) {
      a = await ours();
      b = theirs();
    } else {
      b = theirs();
      a = await ours();
    }
    routerMs.push(a);
    nativeMs.push(b);
    ratios.push(a / b);
  }
  const stats = router.storageStats().shared;
  await router.close();
  native.close();
  console.error(JSON.stringify({ mb, driver, routerMs, nativeMs }));
  return [
    String(mb),
    native.name,
    median(routerMs).toFixed(3),
    median(nativeMs).toFixed(3),
    median(ratios).toFixed(2),
    `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`,
    String(stats.lastCommitBytes),
  ];
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const folder = temporaryFolder(`bench-commit-native-${RUNTIME}-`);
const rows: string[][] = [[
  "MB",
  "native driver, WAL, synchronous=FULL",
  "router ms/commit",
  "native ms/commit",
  "ratio (median of rounds)",
  "ratio range",
  "router bytes/commit",
]];
try {
  for (const mb of sizes.length > 0 ? sizes : [1, 100]) {
    const dir = join(folder.dir, `mb-${mb}`);
    mkdirSync(dir, { recursive: true });
    const base = join(dir, "base.db");
    if (!existsSync(base)) writeFileSync(base, await buildImage(mb, SCHEMA));
    for (const driver of NATIVE_DRIVERS) {
      const row = await measure(mb, base, dir, driver);
      if (row.length > 0) rows.push(row);
    }
  }
  console.log(
    `\n${RUNTIME}, ${COMMITS} one-row commits per round, ${ROUNDS} alternating rounds, ` +
      `load average at the end ${(await loadAverage()) ?? "?"}`,
  );
  printTable(rows);
} finally {
  folder.remove();
}

async function loadAverage(): Promise<string | undefined> {
  try {
    const { readFileSync } = await import("node:fs");
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return undefined;
  }
}
