/**
 * The browser storage benchmark's workload (issue 20), the same for every
 * engine: one-row commits one after another on a small database, growth to
 * about 10 MB in one transaction, the same one-row commits at 10 MB, then
 * point selects by primary key (at least 10 000, and at least a second of
 * them).
 *
 * @module
 */

/** What the workload needs from an engine. */
export interface BenchEngine {
  /** Runs one statement (an autocommit commit outside BEGIN). */
  run(sql: string, params?: unknown[]): Promise<void> | void;
  /** Runs a query and returns its first row. */
  get(sql: string, params?: unknown[]): Promise<unknown> | unknown;
}

/** Figures of one engine. */
export interface WorkloadFigures {
  smallCommitsPerSecond: number;
  bigCommitsPerSecond: number;
  selectsPerSecond: number;
  bytes: number;
}

/** Rows of 4000 random bytes added to reach about 10 MB. */
const GROWTH_ROWS = 2560;

/** Runs the workload with `commits` one-row commits per phase. */
export async function runWorkload(engine: BenchEngine, commits: number): Promise<WorkloadFigures> {
  await engine.run(
    "CREATE TABLE IF NOT EXISTS models (id INTEGER PRIMARY KEY, name TEXT, data BLOB)",
  );
  const insert = "INSERT INTO models (name) VALUES (?)";
  let started = performance.now();
  for (let i = 0; i < commits; i++) await engine.run(insert, [`small-${i}`]);
  const smallCommitsPerSecond = commits / ((performance.now() - started) / 1000);
  await engine.run("BEGIN");
  for (let i = 0; i < GROWTH_ROWS; i++) {
    await engine.run("INSERT INTO models (name, data) VALUES ('blob', randomblob(4000))");
  }
  await engine.run("COMMIT");
  started = performance.now();
  for (let i = 0; i < commits; i++) await engine.run(insert, [`big-${i}`]);
  const bigCommitsPerSecond = commits / ((performance.now() - started) / 1000);
  const rows = Number(
    Object.values(await engine.get("SELECT max(id) AS n FROM models") as object)[0],
  );
  // At least 10 000 selects and at least a second of them: at 100k/s, 10 000 took 0.1 s, where
  // one burst of load on a shared machine moved the figure several times over.
  started = performance.now();
  let seed = 7;
  let selects = 0;
  for (; selects < 10_000 || performance.now() - started < 1000; selects++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    await engine.get("SELECT name FROM models WHERE id = ?", [1 + (seed % rows)]);
  }
  const selectsPerSecond = selects / ((performance.now() - started) / 1000);
  const size = await engine.get(
    "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
  ) as object;
  return {
    smallCommitsPerSecond,
    bigCommitsPerSecond,
    selectsPerSecond,
    bytes: Number(Object.values(size)[0]),
  };
}
