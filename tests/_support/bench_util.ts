/**
 * Small helpers shared by `tests/bench/*.bench.ts`: statistics, tables, the
 * runtime's resident memory, and each runtime's native SQLite driver.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { ROOT, type Runtime } from "./spawn.ts";

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The `q`-quantile of `values` (nearest rank), `q` in 0..1. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

/** Prints `rows` (the first is the header) as a Markdown table with aligned columns. */
export function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(rows[0]));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const row of rows.slice(1)) console.log(line(row));
}

/**
 * Runs `argv` (from the project's root) to its end and returns the first line
 * of its standard output that starts with `{`, parsed: the figures a bench's
 * child process reports. Fails with the child's output when it exits non-zero
 * or prints no such line.
 */
export function jsonLineOf<T>(argv: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${argv.join(" ")} exited ${code}:\n${out}`));
      } else resolve(JSON.parse(line) as T);
    });
  });
}

/** Resident set size of this process, in bytes. */
export function residentBytes(): number {
  return process.memoryUsage().rss;
}

/** The part of a native SQLite driver the benches use. */
export interface NativeStatement {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
}

/** A native SQLite database of the runtime. */
export interface NativeDatabase {
  /** The driver, with its version. */
  readonly name: string;
  exec(sql: string): void;
  prepare(sql: string): NativeStatement;
  close(): void;
}

/**
 * Opens `path` with the runtime's native SQLite: better-sqlite3 in Node,
 * `bun:sqlite` in Bun, `node:sqlite` in Deno; in WAL mode with
 * `synchronous=NORMAL`, the usual production setting for a file.
 */
export async function openNative(runtime: Runtime, path: string): Promise<NativeDatabase> {
  // Module names in variables: the type checkers know none of these drivers' types.
  let db: NativeDatabase;
  if (runtime === "bun") {
    const specifier = "bun:sqlite";
    const { Database } = await import(specifier);
    const raw = new Database(path);
    const version = raw.query("SELECT sqlite_version() AS v").get().v;
    db = {
      name: `bun:sqlite (SQLite ${version})`,
      exec: (sql) => raw.exec(sql),
      prepare: (sql) => raw.query(sql),
      close: () => raw.close(),
    };
  } else if (runtime === "deno") {
    const specifier = "node:sqlite";
    const { DatabaseSync } = await import(specifier);
    const raw = new DatabaseSync(path);
    const version = raw.prepare("SELECT sqlite_version() AS v").get().v;
    db = {
      name: `node:sqlite (SQLite ${version})`,
      exec: (sql) => raw.exec(sql),
      prepare: (sql) => raw.prepare(sql),
      close: () => raw.close(),
    };
  } else {
    const specifier = "better-sqlite3";
    const { default: Database } = await import(specifier);
    const raw = new Database(path);
    const version = raw.prepare("SELECT sqlite_version() AS v").get().v;
    const { createRequire } = await import("node:module");
    const pkg = createRequire(import.meta.url)("better-sqlite3/package.json");
    db = {
      name: `better-sqlite3 ${pkg.version} (SQLite ${version})`,
      exec: (sql) => raw.exec(sql),
      prepare: (sql) => raw.prepare(sql),
      close: () => raw.close(),
    };
  }
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  return db;
}
