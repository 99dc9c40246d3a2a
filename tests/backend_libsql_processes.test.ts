/**
 * A Node, a Deno and a Bun process write one libSQL `file:` database at
 * once, through routers, with autocommit inserts and transactions: no row is
 * lost or doubled (each process waits for the others' locks).
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@libsql/client";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BOTS_SCHEMA } from "./_support/backend_conformance.ts";
import { runScript, type Runtime } from "./_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`libSQL file: written by Node, Deno and Bun at once (tests in ${RUNTIME})`);
const folder = temporaryFolder(`libsql-processes-${RUNTIME}-`);
test.after(folder.remove);

test("three runtimes insert into one libSQL file concurrently and every row arrives once", async () => {
  const url = pathToFileURL(join(folder.dir, "shared.db")).href;
  const raw = createClient({ url });
  await raw.execute(BOTS_SCHEMA);
  const writers: Runtime[] = ["node", "deno", "bun"];
  const results = await Promise.all(
    writers.map((runtime) =>
      runScript("tests/_support/libsql_writer.ts", {
        runtime,
        args: [url, `m-${runtime}`, "400", "10"],
        timeoutMs: 60_000,
      })
    ),
  );
  for (const [i, result] of results.entries()) {
    assert.is(result.code, 0, `${writers[i]}: ${result.stderr}`);
  }
  const counts = await raw.execute(
    "SELECT source_menace_id, count(*), count(DISTINCT name) FROM bots GROUP BY 1 ORDER BY 1",
  );
  raw.close();
  assert.equal(
    counts.rows.map((row) => [row[0], row[1], row[2]]),
    [...writers].sort().map((runtime) => [`m-${runtime}`, 400, 400]),
  );
});

test.run();
