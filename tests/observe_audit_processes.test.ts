/**
 * One audit log appended by a Node, a Deno and a Bun process at once: every
 * line intact, none lost, each writer's chain unbroken; and the same while the
 * log rotates every 256 KiB, read back as one log.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { auditFolder } from "./_support/observe_audit.ts";
import { runCli } from "./_support/cli_io.ts";
import { currentRuntime, ROOT, runScript, type Runtime } from "./_support/spawn.ts";

const test = suite(`observe: audit log from three processes (${currentRuntime()})`);
const folder = auditFolder("dbr-audit-procs-");
test.after(folder.remove);
const RUNTIMES: Runtime[] = ["node", "deno", "bun"];
const COUNT = 20_000;

test(`node, deno and bun append ${COUNT} accesses each to one file at once: every line intact`, async () => {
  const path = folder.path("shared-audit.log");
  const startAt = String(Date.now() + 2500);
  const runs = await Promise.all(
    RUNTIMES.map((runtime) =>
      runScript(join(ROOT, "tests/_support/observe_child.ts"), {
        runtime,
        args: ["close", `menace-${runtime}`, String(COUNT), path, startAt],
        env: {
          DB_ROUTER_AUDIT_LOG: undefined,
          DB_ROUTER_CONFIG: undefined,
          DB_ROUTER_AUDIT_CHAIN: "1",
        },
      })
    ),
  );
  for (const [i, run] of runs.entries()) {
    assert.is(run.code, 0, `${RUNTIMES[i]}: ${run.stderr}`);
    assert.match(run.stdout, '{"closed":true}');
  }
  const lines = readFileSync(path, "utf8").split("\n");
  assert.is(lines.pop(), "", "the file ends with a newline");
  const perMenace = new Map<string, number>();
  let switches = 0;
  let previous = "";
  for (const line of lines) {
    // The file records' torn-line guard may leave an empty line when two
    // appends race; it carries no record, and every reader skips it.
    if (line === "") continue;
    const record = JSON.parse(line);
    assert.equal(Object.keys(record), [
      "menace_id",
      "table_name",
      "operation",
      "timestamp",
      "prev_hash",
    ]);
    perMenace.set(record.menace_id, (perMenace.get(record.menace_id) ?? 0) + 1);
    if (record.menace_id !== previous) switches++;
    previous = record.menace_id;
  }
  assert.equal(Object.fromEntries(perMenace), {
    "menace-node": COUNT,
    "menace-deno": COUNT,
    "menace-bun": COUNT,
  });
  assert.ok(switches > 3, `the processes' batches interleave (${switches} runs)`);
  const verify = await runCli(["analyze", "--verify", path]);
  assert.is(verify.code, 0, verify.err);
  assert.match(verify.out, `Integrity: ok, ${3 * COUNT} lines in 3 writer chains`);
});

test(`node, deno and bun append ${COUNT} accesses each while the log rotates: none lost, torn or doubled`, async () => {
  const path = folder.path("rotating-audit.log");
  const startAt = String(Date.now() + 2500);
  const rotation = JSON.stringify({ maxBytes: 256 * 1024 });
  const runs = await Promise.all(
    RUNTIMES.map((runtime) =>
      runScript(join(ROOT, "tests/_support/observe_child.ts"), {
        runtime,
        args: ["close", `menace-${runtime}`, String(COUNT), path, startAt, rotation],
        env: {
          DB_ROUTER_AUDIT_LOG: undefined,
          DB_ROUTER_CONFIG: undefined,
          DB_ROUTER_AUDIT_CHAIN: "1",
        },
      })
    ),
  );
  for (const [i, run] of runs.entries()) {
    assert.is(run.code, 0, `${RUNTIMES[i]}: ${run.stderr}`);
    assert.match(run.stdout, '{"closed":true}');
  }
  const names = readdirSync(folder.dir)
    .filter((name) => name.startsWith("rotating-audit.log.") && !name.endsWith("-dbrlock"))
    .sort();
  assert.ok(names.length >= 20, `${names.length} rotated files`);
  const perMenace = new Map<string, number>();
  const seen = new Set<string>();
  for (const name of [...names, "rotating-audit.log"]) {
    const text = readFileSync(join(folder.dir, name), "utf8");
    assert.ok(text.endsWith("\n"), `${name} ends with a newline`);
    assert.ok(text.length <= 256 * 1024 || name === "rotating-audit.log", `${name} is small`);
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const record = JSON.parse(line);
      if ("rotated_from" in record) continue;
      assert.not.ok(seen.has(line), `a line written twice: ${line}`);
      seen.add(line);
      perMenace.set(record.menace_id, (perMenace.get(record.menace_id) ?? 0) + 1);
    }
  }
  assert.equal(Object.fromEntries(perMenace), {
    "menace-node": COUNT,
    "menace-deno": COUNT,
    "menace-bun": COUNT,
  });
  const verify = await runCli(["analyze", "--verify", path]);
  assert.is(verify.code, 0, verify.err);
  assert.match(
    verify.out,
    `Integrity: ok, ${3 * COUNT} lines of ${names.length + 1} files in 3 writer chains`,
  );
});

test.run();
