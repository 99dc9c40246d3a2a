/**
 * The example Worker on 127.0.0.1 (Miniflare, in this process) holds the D1
 * database; a Node, a Deno and a Bun process write through its HTTP API at
 * once, and no row is lost, doubled or stamped with the wrong owner.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type RunningWorker, startWorker } from "../examples/cloudflare-worker/local.ts";
import { runScript, type Runtime } from "./_support/spawn.ts";
import { RUNTIME } from "./_support/storage_fixtures.ts";

const test = suite(`Worker with D1, written by Node, Deno and Bun at once (tests in ${RUNTIME})`);
const WRITERS: Runtime[] = ["node", "deno", "bun"];
const PER_WRITER = 40;
let worker: RunningWorker;

test.before(async () => {
  worker = await startWorker();
  const setup = await fetch(new URL("/setup", worker.url), { method: "POST" });
  assert.is(setup.status, 200, await setup.text());
});
test.after(() => worker?.close());

test("three runtimes insert through the Worker concurrently and every row arrives once", async () => {
  const results = await Promise.all(
    WRITERS.map((runtime) =>
      runScript("tests/_support/worker_writer.ts", {
        runtime,
        args: [worker.url.href, `m-${runtime}`, String(PER_WRITER), "4"],
        timeoutMs: 60_000,
      })
    ),
  );
  for (const [i, result] of results.entries()) {
    assert.is(result.code, 0, `${WRITERS[i]} writer: ${result.stderr}`);
    assert.match(result.stdout, `done ${PER_WRITER}`);
  }
  const counts = await worker.db.prepare(
    "SELECT source_menace_id AS menace, count(*) AS n, count(DISTINCT name) AS names " +
      "FROM bots GROUP BY source_menace_id ORDER BY source_menace_id",
  ).all();
  assert.equal(
    counts.results,
    [...WRITERS].sort().map((runtime) => ({
      menace: `m-${runtime}`,
      n: PER_WRITER,
      names: PER_WRITER,
    })),
  );
  const mismatched = await worker.db.prepare(
    "SELECT count(*) AS n FROM bots WHERE name NOT LIKE source_menace_id || '-%'",
  ).first();
  assert.equal(mismatched, { n: 0 }, "each row carries its writer's menace id");
});

test("scope through the Worker: each instance sees its own rows as local and the others' as global", async () => {
  const rows = async (menace: string, scope: string) => {
    const response = await fetch(new URL(`/rows?table=bots&scope=${scope}`, worker.url), {
      headers: { "x-menace-id": menace },
    });
    assert.is(response.status, 200);
    return await response.json() as { source_menace_id: string }[];
  };
  const local = await rows("m-deno", "local");
  assert.is(local.length, PER_WRITER);
  assert.ok(local.every((r) => r.source_menace_id === "m-deno"));
  const global = await rows("m-deno", "global");
  assert.is(global.length, 2 * PER_WRITER);
  assert.ok(global.every((r) => r.source_menace_id !== "m-deno"));
});

test("the Worker refuses denied and unknown tables with their codes", async () => {
  for (const [table, code] of [["capital_ledger", "TABLE_DENIED"], ["nope", "TABLE_UNKNOWN"]]) {
    const response = await fetch(new URL("/insert", worker.url), {
      method: "POST",
      body: JSON.stringify({ table, row: { name: "x" } }),
    });
    assert.is(response.status, 400);
    assert.is((await response.json()).code, code);
  }
});

test.run();
