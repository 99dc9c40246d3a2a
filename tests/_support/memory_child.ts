/**
 * A fresh process for `tests/bench/memory.bench.ts`: opens FILE (a database
 * of about 100 MB) and prints one JSON line of resident memory, in bytes,
 * after garbage collection, at each step:
 *
 * - `empty FILE DIR`: sql.js loaded and an empty database queried (the floor);
 * - `raw FILE DIR`: raw sql.js holding the image (`new SQL.Database(bytes)`,
 *   the input dropped), after a point select and after a one-row insert;
 * - `router FILE DIR`: the router with FILE as its shared database on file
 *   storage, after a point select and after a one-row insert (a commit).
 *
 * `peak` is the process's high-water mark (VmHWM) at the end.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DBRouter } from "../../mod.ts";
import { loadSqlJs } from "../../wasm/mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";

const [mode, file, dir] = process.argv.slice(2);
const SELECT = "SELECT name FROM bots WHERE id = ?";
const INSERT = "INSERT INTO bots (name, source_menace_id) VALUES ('new', 'alpha')";

function collect(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(full: boolean): void } };
  for (let i = 0; i < 3; i++) g.Bun ? g.Bun.gc(true) : g.gc?.();
}

function status(field: "VmRSS" | "VmHWM"): number {
  const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) =>
    l.startsWith(`${field}:`)
  );
  return Number(line?.match(/(\d+)/)?.[1] ?? NaN) * 1024;
}

function rss(): number {
  collect();
  return status("VmRSS");
}

const figures: Record<string, number> = {};
const SQL = await loadSqlJs();
if (mode === "empty") {
  const db = new SQL.Database();
  db.exec("SELECT 1");
  figures.opened = rss();
  figures.written = figures.opened;
  db.close();
} else if (mode === "raw") {
  let bytes: Uint8Array | null = readFileSync(file);
  const db = new SQL.Database(bytes);
  bytes = null;
  db.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY;");
  const select = db.prepare(SELECT);
  select.bind([1]);
  select.step();
  select.reset();
  figures.opened = rss();
  db.run(INSERT);
  figures.written = rss();
  select.free();
  db.close();
} else {
  const router = new DBRouter("alpha", join(dir, "local.db"), file, {
    storage: fileStorageFor(RUNTIME),
  });
  await router.getConnection("bots").get(SELECT, [1]);
  figures.opened = rss();
  await router.getConnection("bots", "write").run(INSERT);
  figures.written = rss();
  await router.close();
}
figures.peak = status("VmHWM");
console.log(JSON.stringify(figures));
