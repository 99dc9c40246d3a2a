/**
 * Why the page log is allocated ahead (log format 2): what one `fdatasync`
 * costs after a 4 120-byte frame is appended (the file's size changes, which
 * on ext4 is a journal commit) against written over allocated zeros (format 2:
 * the frame, then the 64-byte end record at offset 64), beside a native
 * driver's one-row commit (WAL, `synchronous=FULL`). A busy-wait of
 * `BENCH_CPU_MS` (0.05, 0.3) stands for the work between commits; the kinds
 * alternate in `BENCH_ROUNDS` (21) rounds of 20, and the figures are medians
 * of the per-round medians. Not a test: `npm run bench -- log_sync`.
 *
 * @module
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { median, printTable } from "../_support/bench_util.ts";
import { NATIVE_DRIVERS, openNative } from "../_support/native_sqlite.ts";
import { RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const CPU_MS = (process.env.BENCH_CPU_MS ?? "0.05,0.3").split(",").map(Number);
const ALLOCATED = 8 * 1024 * 1024;
const frame = new Uint8Array(4120).fill(7);
const endRecord = new Uint8Array(64).fill(3);

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* the work between commits */ }
}

const folder = temporaryFolder(`log-sync-${RUNTIME}-`);
try {
  const appended = openSync(join(folder.dir, "appended"), "a");
  const overwritten = openSync(join(folder.dir, "overwritten"), "w+");
  const zeros = new Uint8Array(1024 * 1024);
  for (let at = 0; at < ALLOCATED; at += zeros.length) {
    writeSync(overwritten, zeros, 0, zeros.length, at);
  }
  fdatasyncSync(overwritten);
  let position = 128;
  // deno-lint-ignore no-explicit-any
  let native: any;
  let driver = "";
  for (const name of NATIVE_DRIVERS) {
    try {
      native = await openNative(name, join(folder.dir, "native.db"));
      driver = name;
      break;
    } catch { /* not in this runtime */ }
  }
  native.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const insert = native.prepare("INSERT INTO t (v) VALUES (?)");
  const kinds: Record<string, () => void> = {
    "append + fdatasync": () => {
      writeSync(appended, frame);
      fdatasyncSync(appended);
    },
    "overwrite + end record + fdatasync": () => {
      writeSync(overwritten, frame, 0, frame.length, position);
      position = position + 2 * frame.length > ALLOCATED ? 128 : position + frame.length;
      writeSync(overwritten, endRecord, 0, endRecord.length, 64);
      fdatasyncSync(overwritten);
    },
    [`${driver} one-row insert`]: () => insert.run("x"),
  };
  const rows: string[][] = [[
    "CPU between commits ms",
    ...Object.keys(kinds).map((k) => `${k} ms`),
  ]];
  for (const cpu of CPU_MS) {
    const perKind = new Map<string, number[]>(Object.keys(kinds).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, run] of Object.entries(kinds)) {
        const times: number[] = [];
        for (let i = 0; i < 20; i++) {
          busy(cpu);
          const started = performance.now();
          run();
          times.push(performance.now() - started);
        }
        perKind.get(name)!.push(median(times));
      }
    }
    rows.push([String(cpu), ...[...perKind.values()].map((times) => median(times).toFixed(3))]);
  }
  console.log(`${RUNTIME}, ${ROUNDS} alternating rounds of 20`);
  printTable(rows);
  closeSync(appended);
  closeSync(overwritten);
  native.close();
} finally {
  folder.remove();
}
