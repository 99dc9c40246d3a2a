/**
 * `db-router analyze --verify` keeps V8's young generation small under Deno.
 * The chain verifier used to key its open chains by line hash: every line
 * added one key to a `Map` and deleted another, and V8 (Deno 2's) grew its
 * young generation from 4 to 28 MiB on a 64 MiB log, and to about 100 MiB of
 * resident memory more on 256 MiB (peak 200 MB against the 100 MB target).
 * Keyed by menace id, the keys stay the same and it stays at its first size.
 *
 * The child always runs under Deno (where the growth showed; Node's young
 * generation stayed at 8 MiB either way and Bun's engine has none), whichever
 * runtime runs this file. Not timed: it measures the committed young
 * generation after a scan of a generated 64 MiB log.
 *
 * @module
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AuditChain } from "../src/observe/audit_chain.ts";
import { ROOT, runScript } from "./_support/spawn.ts";
import { temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite("analyze --verify memory");
const folder = temporaryFolder("dbr-analyze-memory-");
test.after(folder.remove);

const MIB = 2 ** 20;

/** Writes a chained log of 4 interleaved writers of about `mib` MiB; returns its line count. */
function writeLog(path: string, mib: number): number {
  const menaces = ["alpha", "beta", "gamma", "delta"];
  const chains = menaces.map(() => new AuditChain());
  const fd = openSync(path, "w");
  let size = 0;
  let n = 0;
  try {
    while (size < mib * MIB) {
      const lines: string[] = [];
      for (let i = 0; i < 10_000; i++, n++) {
        const m = n % menaces.length;
        lines.push(chains[m].link(
          `{"menace_id":"${menaces[m]}","table_name":"bots","operation":"read","timestamp":"${
            new Date(1_767_225_600_000 + n).toISOString()
          }"`,
        ));
      }
      size += writeSync(fd, lines.join("\n") + "\n");
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

test("verifying a 64 MiB chained log leaves Deno's young generation at 8 MiB or less", async () => {
  const path = join(folder.dir, "audit.log");
  const lines = writeLog(path, 64);
  const child = await runScript(join(ROOT, "tests/_support/chain_verify_child.ts"), {
    runtime: "deno",
    args: [path],
    timeoutMs: 600_000,
  });
  assert.is(child.code, 0, child.stderr);
  const found = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
  assert.is(found.records, lines);
  assert.is(found.problems, 0);
  assert.ok(
    found.newSpace <= 8 * MIB,
    `young generation ${(found.newSpace / MIB).toFixed(0)} MiB after verifying ${lines} lines`,
  );
});

test.run();
