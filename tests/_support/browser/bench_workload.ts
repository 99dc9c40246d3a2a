/**
 * The browser storage benchmark's workload (issue 20), the same for every
 * engine: one-row commits one after another on a small database, growth to
 * about 10 MB in one transaction, the same one-row commits at 10 MB, then
 * 10 000 point selects by primary key.
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
  const selects = 10_000;
  started = performance.now();
  let seed = 7;
  for (let i = 0; i < selects; i++) {
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
