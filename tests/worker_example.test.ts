/**
 * `npm run demo:worker -- --once` in this runtime: the example Worker with D1
 * as the shared database serves, shows two instances sharing `bots` by
 * scope, refuses a denied table, and stops.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "./_support/spawn.ts";
import { RUNTIME } from "./_support/storage_fixtures.ts";

const test = suite(`Worker example (${RUNTIME})`);

test("the demo runs the router inside workerd with D1 and exits", async () => {
  const result = await runScript("examples/cloudflare-worker/dev.ts", {
    args: ["--once"],
    env: { PORT: "0" },
    timeoutMs: 60_000,
  });
  assert.is(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.match(
    lines[0],
    /^db-router Worker \(D1 as the shared database\) on http:\/\/127\.0\.0\.1:\d+\/$/,
  );
  const line = (prefix: string) => lines.find((l) => l.startsWith(prefix)) ?? "";
  assert.match(line("alpha GET /rows?table=bots&scope=local"), /"scraper".*"crawler"/);
  assert.not.match(line("alpha GET /rows?table=bots&scope=local"), /indexer/);
  assert.match(
    line("alpha GET /rows?table=bots&scope=global"),
    /^[^\n]*200 \[\{[^\n]*"indexer"[^\n]*\}\]$/,
  );
  assert.match(line("beta  POST /insert -> 400"), /TABLE_DENIED/);
  assert.match(line("beta  GET /explain?table=models"), /"route":"local"/);
  assert.is(lines.at(-1), "D1 holds 3 rows in bots");
});

test.run();
