import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runScript } from "./_support/spawn.ts";

const test = suite("npm run demo");

let dir = "";
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), "dbr-demo-"));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

async function demo(): Promise<string> {
  const result = await runScript(join(ROOT, "examples/demo.ts"), {
    cwd: dir,
    env: { MENACE_LOCAL_DB_PATH: undefined, MENACE_SHARED_DB_PATH: undefined },
  });
  assert.is(result.code, 0, result.stderr);
  return result.stdout;
}

test("the demo routes, scopes, refuses, and persists across runs", async () => {
  const first = await demo();
  assert.match(first, /local\s+1 rows from alpha/);
  assert.match(first, /global\s+1 rows from beta/);
  assert.match(first, /all\s+2 rows from alpha, beta/);
  assert.match(first, /alpha sees 1 rows, beta sees 0/);
  assert.match(first, /TABLE_DENIED\s+Cannot route table "capital_ledger"/);
  assert.match(first, /TABLE_UNKNOWN\s+Cannot route table "made_up"/);
  assert.ok(first.includes(join(dir, "demo-data", "shared", "global.db")), first);
  const second = await demo();
  assert.match(second, /all\s+4 rows from alpha, beta/);
  assert.match(second, /alpha sees 2 rows, beta sees 0/);
});

test.run();
