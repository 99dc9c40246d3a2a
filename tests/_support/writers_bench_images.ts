/**
 * Bare sql.js work for `tests/bench/commit.bench.ts`: building a database of a
 * given size, and timing the engine's share of a commit (`export()` and the
 * page diff) outside the router.
 *
 * @module
 */
import { diffPages } from "../../src/persist/page_diff.ts";
import { loadSqlJs } from "../../wasm/mod.ts";

/**
 * The image of a database with `megabytes` rows of 1 MB in `blobs` and the
 * empty table `schema` creates.
 *
 * @example
 * ```ts ignore
 * const image = await buildImage(10, "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT)");
 * ```
 */
export async function buildImage(megabytes: number, schema: string): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const builder = new SQL.Database();
  try {
    builder.exec(`${schema}; CREATE TABLE blobs (id INTEGER PRIMARY KEY, payload BLOB)`);
    for (let i = 0; i < megabytes; i++) {
      builder.exec("INSERT INTO blobs (payload) VALUES (randomblob(1000000))");
    }
    return builder.export();
  } finally {
    builder.close();
  }
}

/**
 * Milliseconds of `export()` and of the page diff for each of `rounds`
 * one-row inserts (`insert`, binding the round number) into a copy of `image`,
 * with the engine's pragmas.
 *
 * @example
 * ```ts ignore
 * const { exportMs, diffMs } = await engineShare(image, "INSERT INTO bots (seq) VALUES (?)", 10);
 * ```
 */
export async function engineShare(
  image: Uint8Array,
  insert: string,
  rounds: number,
): Promise<{ exportMs: number[]; diffMs: number[] }> {
  const SQL = await loadSqlJs();
  const engine = new SQL.Database(image);
  try {
    engine.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY");
    const pageSize = (image[16] << 8) | image[17];
    let previous = engine.export();
    const exportMs: number[] = [];
    const diffMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      engine.run(insert, [round]);
      let started = performance.now();
      const next = engine.export();
      exportMs.push(performance.now() - started);
      started = performance.now();
      diffPages(previous, next, pageSize);
      diffMs.push(performance.now() - started);
      previous = next;
    }
    return { exportMs, diffMs };
  } finally {
    engine.close();
  }
}
