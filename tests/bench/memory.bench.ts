/**
 * Resident memory of a process holding a database of about 100 MB: opened
 * through the router (shared database on file storage) against raw sql.js
 * holding the same image, each in a fresh child process of the runtime
 * running this file, after garbage collection. The router keeps, besides
 * sql.js's own copy of the database, the image it last persisted (the
 * "shadow" that page diffs compare against), and a commit holds a third,
 * transient copy: `export()`'s output.
 *
 * Not a test: `npm run bench -- memory`.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonLineOf, median, printTable } from "../_support/bench_util.ts";
import { ROOT } from "../_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";
import { buildImage } from "../_support/writers_bench_images.ts";

const MEGABYTES = Number(process.env.BENCH_MEGABYTES ?? 100);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3);
const CHILD = join(ROOT, "tests/_support/memory_child.ts");

type Figures = { opened: number; written: number; peak: number };

function run(mode: string, file: string, dir: string): Promise<Figures> {
  const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
  const args = [mode, file, dir];
  const argv = RUNTIME === "deno"
    ? [bin("deno"), "run", "--allow-all", "--v8-flags=--expose-gc", CHILD, ...args]
    : RUNTIME === "bun"
    ? [bin("bun"), CHILD, ...args]
    : [process.execPath, "--expose-gc", "--import", "tsx", CHILD, ...args];
  return jsonLineOf<Figures>(argv);
}

const folder = temporaryFolder(`bench-memory-${RUNTIME}-`);
try {
  const image = await buildImage(
    MEGABYTES,
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT); " +
      "INSERT INTO bots (name, source_menace_id) VALUES ('first', 'alpha')",
  );
  const results: Record<string, Figures[]> = { empty: [], raw: [], router: [] };
  for (let round = 0; round < SAMPLES; round++) {
    for (const mode of Object.keys(results)) {
      const file = join(folder.dir, `${mode}-${round}.db`);
      writeFileSync(file, image);
      results[mode].push(await run(mode, file, folder.dir));
    }
  }
  const of = (mode: string, key: keyof Figures) => median(results[mode].map((f) => f[key]));
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const image_ = image.length;
  console.log(
    `${RUNTIME}: resident memory in MiB with a ${mib(image_)} MiB database ` +
      `(medians of ${SAMPLES} fresh processes; "over floor" subtracts the process with an empty database)\n`,
  );
  const floor = of("empty", "opened");
  const rawOver = of("raw", "opened") - floor;
  printTable([
    ["case", "opened", "over floor", "x image", "after a commit", "peak (VmHWM)", "x raw sql.js"],
    ...(["empty", "raw", "router"] as const).map((mode) => [
      mode === "empty"
        ? "sql.js, empty database (floor)"
        : mode === "raw"
        ? "raw sql.js holding the image (baseline)"
        : "router, shared database on file storage",
      mib(of(mode, "opened")),
      mib(of(mode, "opened") - floor),
      ((of(mode, "opened") - floor) / image_).toFixed(2),
      mib(of(mode, "written")),
      mib(of(mode, "peak")),
      mode === "empty" ? "-" : `${((of(mode, "opened") - floor) / rawOver).toFixed(2)}x`,
    ]),
  ]);
} finally {
  folder.remove();
}
