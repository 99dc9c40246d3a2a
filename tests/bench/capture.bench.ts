/**
 * Issue 14's figures: at 1, 10 and 100 MB (more with arguments:
 * `tsx tests/bench/capture.bench.ts 1 10 100 1000`), through the public API,
 * with the page capture and with export + diff (`DB_ROUTER_PAGE_CAPTURE=off`),
 * each in a fresh child process so that its memory is its own: loading sql.js
 * and the capture's probe, open (with the first read), RSS above the
 * process's baseline after opening, one read and one commit (after two full
 * collections 200 ms apart, and in brackets right after one `gc()`), point
 * selects, a one-row commit (time and bytes written), a 10 000-row
 * transaction, and a catch-up read (the first read after another handle
 * committed one row, `maxReadLagMs: 0`). Beside them, on copies of the same
 * file in the same run: better-sqlite3 (WAL, synchronous=FULL) and
 * node:sqlite (WAL, synchronous=FULL) where the runtime has them.
 * Point selects are also compared in one child holding both engines, on two
 * copies of the file, in `BENCH_POINT_ROUNDS` alternating rounds (15; CPU time
 * beside wall time; `BENCH_POINTS=off` leaves it out).
 * `BENCH_ROUNDS` sets the commits and catch-ups timed per size (15; fewer for
 * 1 GB, whose export + diff commits take seconds each); `BENCH_PATHS=page-capture`
 * leaves export + diff out; `BENCH_BASE_DIR` names a folder of prebuilt
 * `base-<MB>.db` files to copy instead of building each size through sql.js.
 * Not a test: `npm run bench -- capture`.
 *
 * @module
 */
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DBRouter, memoryStorage } from "../../mod.ts";
import { loadCapturedSqlJs } from "../../wasm/mod.ts";
import { jsonLineOf, median, printTable, residentBytes } from "../_support/bench_util.ts";
import { currentRuntime, runtimeCommand } from "../_support/spawn.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";
import { buildImage } from "../_support/writers_bench_images.ts";
import { NATIVE_DRIVERS, openNative } from "../_support/native_sqlite.ts";

const SCHEMA = "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, " +
  "payload BLOB, source_menace_id TEXT)";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const POINT_SELECTS = 2000;
/** Rounds of {@linkcode POINT_SELECTS} selects per engine in the interleaved comparison. */
const POINT_ROUNDS = Number(process.env.BENCH_POINT_ROUNDS ?? 15);
/**
 * `BENCH_IDLE_FOLD=off` turns the background fold off: at 1 GB on a loaded machine, a fold held the
 * write lock for over a minute and the bench's next write failed with `LOCK_TIMEOUT`.
 */
const STORAGE_OPTIONS = process.env.BENCH_IDLE_FOLD === "off" ? { foldIdleMs: false as const } : {};
/** `BENCH_PATHS=page-capture` leaves export + diff out (at 1 GB it takes minutes per size). */
const PATHS = (process.env.BENCH_PATHS ?? "page-capture,export-diff").split(",")
  .filter((path): path is "page-capture" | "export-diff" =>
    path === "page-capture" || path === "export-diff"
  );
const TRANSACTION_ROWS = 10_000;
/** `BENCH_POINTS=off` leaves out the interleaved point-select comparison. */
const POINTS = process.env.BENCH_POINTS !== "off";

/** What one child reports. */
interface EngineFigures {
  path: "page-capture" | "export-diff" | "pending";
  openMs: number;
  baselineMb: number;
  rssAboveBaselineMb: number;
  /** Right after `gc()`, before the runtime has returned what the collection freed. */
  rssRightAfterGcMb: number;
  /** Loading sql.js, and the capture's probe within it (once per process). */
  sqlJsLoadMs: number;
  probeMs: number;
  pointSelectUs: number;
  commitMs: number;
  commitBytes: number;
  transactionMs: number;
  catchUpMs: number;
  catchUps: { inPlace: number; reloaded: number };
}

interface NativeFigures {
  name: string;
  openMs: number;
  pointSelectUs: number;
  commitMs: number;
  transactionMs: number;
}

if (process.argv[2] === "--child") {
  console.log(JSON.stringify(await child(process.argv[3])));
} else if (process.argv[2] === "--points") {
  console.log(JSON.stringify(await pointSelects(process.argv[3], process.argv[4])));
} else {
  await parent(process.argv.slice(2).map(Number).filter((n) => n > 0));
}

async function child(file: string): Promise<EngineFigures> {
  // sql.js loaded (and the capture probed) through a throwaway router: the baseline includes them.
  let started = performance.now();
  // The probe runs when the capture is first read (at a first write or catch-up): read it here,
  // so that its time is reported and kept out of the figures below.
  const captured = await loadCapturedSqlJs();
  await captured.probe();
  const probeMs = captured.probeMs;
  const sqlJsLoadMs = performance.now() - started;
  const warm = new DBRouter("warm", "warm-local.db", "warm-shared.db", {
    storage: memoryStorage(),
  });
  await warm.ready();
  await warm.close();
  await settle();
  const baseline = residentBytes();
  const dir = join(file, "..");
  started = performance.now();
  // The default read lag: point selects as an application makes them (the reader below has 0).
  const router = new DBRouter("bench", join(dir, "local.db"), file, {
    storage: fileStorageFor(RUNTIME, STORAGE_OPTIONS),
    verifyOnOpen: "header",
  });
  const bots = router.getConnection("bots", "write");
  await bots.get("SELECT count(*) AS c FROM bots");
  const openMs = performance.now() - started;
  await router.insert("bots", { name: "first", seq: 0 });
  collectGarbage();
  const rssRightAfterGc = residentBytes() - baseline;
  await settle();
  const rss = residentBytes() - baseline;

  const ids = (await bots.all<{ id: number }>("SELECT id FROM bots")).map((row) => row.id);
  started = performance.now();
  for (let i = 0; i < POINT_SELECTS; i++) {
    await bots.get("SELECT name, seq FROM bots WHERE id = ?", [ids[(i * 7) % ids.length]]);
  }
  const pointSelectUs = (performance.now() - started) * 1000 / POINT_SELECTS;

  const commitMs: number[] = [];
  const commitBytes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    started = performance.now();
    await router.insert("bots", { name: `row-${round}`, seq: round });
    commitMs.push(performance.now() - started);
    commitBytes.push(router.storageStats().shared.lastCommitBytes);
  }
  started = performance.now();
  await bots.transaction(async (tx) => {
    for (let i = 0; i < TRANSACTION_ROWS; i++) {
      await tx.run("INSERT INTO bots (name, seq) VALUES (?, ?)", ["tx", i]);
    }
  });
  const transactionMs = performance.now() - started;

  // Another handle on the same file, as another process has it: its first read after each commit.
  const reader = new DBRouter("reader", join(dir, "reader-local.db"), file, {
    storage: fileStorageFor(RUNTIME, STORAGE_OPTIONS),
    verifyOnOpen: "header",
    maxReadLagMs: 0,
  });
  const seen = reader.getConnection("bots");
  await seen.get("SELECT count(*) AS c FROM bots");
  const catchUpMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await router.insert("bots", { name: `more-${round}`, seq: round });
    started = performance.now();
    await seen.get("SELECT count(*) AS c FROM bots");
    catchUpMs.push(performance.now() - started);
  }
  const stats = reader.storageStats().shared;
  await reader.close();
  await router.close();
  return {
    path: stats.commitPath!,
    openMs,
    baselineMb: baseline / 2 ** 20,
    rssAboveBaselineMb: rss / 2 ** 20,
    rssRightAfterGcMb: rssRightAfterGc / 2 ** 20,
    sqlJsLoadMs,
    probeMs,
    pointSelectUs,
    commitMs: median(commitMs),
    commitBytes: median(commitBytes),
    transactionMs,
    catchUpMs: median(catchUpMs),
    catchUps: stats.catchUps!,
  };
}

/** What the point-select child reports: per select, medians over rounds. */
interface PointFigures {
  rounds: number;
  captureUs: number;
  diffUs: number;
  captureCpuUs: number;
  diffCpuUs: number;
  /** The median over rounds of page capture's CPU time over export + diff's. */
  cpuRatio: number;
}

/**
 * Point selects on two copies of one file, one opened with the page capture
 * and one with export + diff, in the same process, in alternating rounds
 * (which goes first alternates too), so that load on the machine falls on
 * both alike. CPU time beside wall time: on a loaded machine it is the
 * steadier figure.
 */
async function pointSelects(captureFile: string, diffFile: string): Promise<PointFigures> {
  const open = async (file: string, capture: boolean) => {
    process.env.DB_ROUTER_PAGE_CAPTURE = capture ? "on" : "off";
    const dir = join(file, "..");
    const router = new DBRouter(capture ? "capture" : "diff", join(dir, "points-local.db"), file, {
      storage: fileStorageFor(RUNTIME, STORAGE_OPTIONS),
      verifyOnOpen: "header",
    });
    const bots = router.getConnection("bots", "write");
    // A write, so that the capture's probe has run and the database is the one commits use.
    await router.insert("bots", { name: "points", seq: 0 });
    const ids = (await bots.all<{ id: number }>("SELECT id FROM bots")).map((row) => row.id);
    return { router, bots, ids };
  };
  const engines = [await open(captureFile, true), await open(diffFile, false)];
  const wall: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  const ratios: number[] = [];
  const selects = async (engine: (typeof engines)[number], which: number) => {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < POINT_SELECTS; i++) {
      await engine.bots.get("SELECT name, seq FROM bots WHERE id = ?", [
        engine.ids[(i * 7) % engine.ids.length],
      ]);
    }
    wall[which].push((performance.now() - started) * 1000 / POINT_SELECTS);
    const used = process.cpuUsage(cpuStart);
    cpu[which].push((used.user + used.system) / POINT_SELECTS);
  };
  // One warm-up round each, not counted.
  for (const [which, engine] of engines.entries()) await selects(engine, which);
  wall.forEach((w) => w.pop());
  cpu.forEach((c) => c.pop());
  for (let round = 0; round < POINT_ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) await selects(engines[which], which);
    ratios.push(cpu[0][round] / cpu[1][round]);
  }
  for (const engine of engines) await engine.router.close();
  return {
    rounds: POINT_ROUNDS,
    captureUs: median(wall[0]),
    diffUs: median(wall[1]),
    captureCpuUs: median(cpu[0]),
    diffCpuUs: median(cpu[1]),
    cpuRatio: median(ratios),
  };
}

async function parent(sizes: number[]): Promise<void> {
  const folder = temporaryFolder(`bench-capture-${RUNTIME}-`);
  const rows: string[][] = [[
    "MB",
    "engine",
    "open + read ms",
    "RSS above baseline (right after gc)",
    "point select µs",
    "one-row commit ms",
    "bytes written",
    `${TRANSACTION_ROWS}-row tx ms`,
    "catch-up read ms",
  ]];
  const pointRows: string[][] = [[
    "MB",
    "rounds",
    "page capture µs (CPU µs)",
    "export + diff µs (CPU µs)",
    "CPU ratio, median of rounds",
  ]];
  try {
    for (const mb of sizes.length > 0 ? sizes : [1, 10, 100]) {
      const base = join(folder.dir, `base-${mb}.db`);
      // BENCH_BASE_DIR: a folder of prebuilt base-<MB>.db files of the same shape (building 1 GB
      // through sql.js takes minutes on a loaded machine).
      const prebuilt = process.env.BENCH_BASE_DIR &&
        join(process.env.BENCH_BASE_DIR, `base-${mb}.db`);
      if (prebuilt && existsSync(prebuilt)) copyFileSync(prebuilt, base);
      else writeFileSync(base, await buildImage(mb, SCHEMA));
      const size = statSync(base).size;
      for (const mode of PATHS) {
        const file = join(folder.dir, `${mode}-${mb}`, "shared.db");
        mkdirSync(join(file, ".."), { recursive: true });
        copyFileSync(base, file);
        const previous = process.env.DB_ROUTER_PAGE_CAPTURE;
        process.env.DB_ROUTER_PAGE_CAPTURE = mode === "export-diff" ? "off" : "on";
        const nodeOptions = process.env.NODE_OPTIONS;
        process.env.NODE_OPTIONS = `${nodeOptions ?? ""} --expose-gc`.trim();
        const command = runtimeCommand(currentRuntime(), new URL(import.meta.url).pathname, [
          "--child",
          file,
        ]);
        if (currentRuntime() === "deno") command.splice(2, 0, "--v8-flags=--expose-gc");
        const figures = await jsonLineOf<EngineFigures>(command);
        // Each child's figures as they come, in case a long run is cut short.
        console.error(JSON.stringify({ mb, ...figures }));
        if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
        else process.env.NODE_OPTIONS = nodeOptions;
        if (previous === undefined) delete process.env.DB_ROUTER_PAGE_CAPTURE;
        else process.env.DB_ROUTER_PAGE_CAPTURE = previous;
        rows.push([
          String(mb),
          `db-router, ${figures.path} (catch-ups ${figures.catchUps.inPlace} in place, ${figures.catchUps.reloaded} reloads; sql.js load ${
            figures.sqlJsLoadMs.toFixed(0)
          } ms, probe ${figures.probeMs.toFixed(0)} ms)`,
          figures.openMs.toFixed(1),
          `${figures.rssAboveBaselineMb.toFixed(0)} MB = ${
            (figures.rssAboveBaselineMb * 2 ** 20 / size).toFixed(2)
          }x file (${(figures.rssRightAfterGcMb * 2 ** 20 / size).toFixed(2)}x)`,
          figures.pointSelectUs.toFixed(1),
          figures.commitMs.toFixed(2),
          String(figures.commitBytes),
          figures.transactionMs.toFixed(0),
          figures.catchUpMs.toFixed(2),
        ]);
      }
      if (POINTS) {
        const files = ["points-capture", "points-diff"].map((name) => {
          const file = join(folder.dir, `${name}-${mb}`, "shared.db");
          mkdirSync(join(file, ".."), { recursive: true });
          copyFileSync(base, file);
          return file;
        });
        const command = runtimeCommand(currentRuntime(), new URL(import.meta.url).pathname, [
          "--points",
          ...files,
        ]);
        const points = await jsonLineOf<PointFigures>(command);
        console.error(JSON.stringify({ mb, points }));
        pointRows.push([
          String(mb),
          String(points.rounds),
          `${points.captureUs.toFixed(2)} (${points.captureCpuUs.toFixed(2)})`,
          `${points.diffUs.toFixed(2)} (${points.diffCpuUs.toFixed(2)})`,
          points.cpuRatio.toFixed(2),
        ]);
      }
      for (const driver of NATIVE_DRIVERS) {
        const file = join(folder.dir, `${driver.replace(":", "-")}-${mb}.db`);
        copyFileSync(base, file);
        const figures = await native(driver, file).catch(() => undefined);
        if (!figures) continue;
        console.error(JSON.stringify({ mb, ...figures }));
        rows.push([
          String(mb),
          `${figures.name}, WAL, synchronous=FULL`,
          figures.openMs.toFixed(1),
          "-",
          figures.pointSelectUs.toFixed(1),
          figures.commitMs.toFixed(3),
          "-",
          figures.transactionMs.toFixed(0),
          "-",
        ]);
      }
    }
  } finally {
    folder.remove();
  }
  printTable(rows);
  if (pointRows.length > 1) {
    console.log("\nPoint selects, both engines in one process, alternating rounds:");
    printTable(pointRows);
  }
}

/** The same work through a native driver, where this runtime has it. */
async function native(driver: string, file: string): Promise<NativeFigures> {
  let started = performance.now();
  const db = await openNative(driver, file);
  let name = driver;
  const count = db.prepare("SELECT count(*) AS c FROM bots");
  count.get();
  const openMs = performance.now() - started;
  name = `${name} (SQLite ${db.prepare("SELECT sqlite_version() AS v").get().v})`;
  const insert = db.prepare("INSERT INTO bots (name, seq) VALUES (?, ?)");
  insert.run("first", 0);
  const ids = db.prepare("SELECT id FROM bots").all().map((row: { id: number }) => row.id);
  const select = db.prepare("SELECT name, seq FROM bots WHERE id = ?");
  started = performance.now();
  for (let i = 0; i < POINT_SELECTS; i++) select.get(ids[(i * 7) % ids.length]);
  const pointSelectUs = (performance.now() - started) * 1000 / POINT_SELECTS;
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    started = performance.now();
    insert.run(`row-${round}`, round);
    times.push(performance.now() - started);
  }
  started = performance.now();
  db.exec("BEGIN");
  for (let i = 0; i < TRANSACTION_ROWS; i++) insert.run("tx", i);
  db.exec("COMMIT");
  const transactionMs = performance.now() - started;
  db.close();
  return { name, openMs, pointSelectUs, commitMs: median(times), transactionMs };
}

/**
 * Lets the runtime return what a collection freed: V8 (Node, Deno) frees dead
 * array buffers in a concurrent sweep after `gc()` returns, so RSS read right
 * after it still counts them; two collections 200 ms apart leave time for it.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A full garbage collection where the runtime offers one (Node with
 * `--expose-gc`, which the parent passes in `NODE_OPTIONS`; Bun; Deno with
 * `--v8-flags=--expose-gc`), so that RSS counts live memory, not the image
 * that opening read and handed to sql.js.
 */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}
