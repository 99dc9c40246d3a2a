/**
 * Audit log rotation in one process: files rotate by size and age, each
 * rotated file's successor begins with a header naming it, its size and its
 * last line's hash; `db-router analyze --verify` reads the set as one log,
 * finds a missing, cut or edited file, and says where removed files end.
 *
 * @module
 */
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, memoryStorage } from "../mod.ts";
import { AuditLogObserver, type AuditLogOptions } from "../src/observe/audit.ts";
import { lineHash } from "../src/observe/audit_chain.ts";
import { parseRotationHeader, resolveAuditRotation } from "../src/observe/audit_rotation.ts";
import type { RecordLog } from "../src/storage/types.ts";
import { runCli } from "./_support/cli_io.ts";
import { thrown } from "./_support/errors.ts";
import { auditFolder } from "./_support/observe_audit.ts";
import { fileStorageFor, RUNTIME } from "./_support/storage_fixtures.ts";

const test = suite(`observe: audit rotation (${RUNTIME})`);
const folder = auditFolder("dbr-audit-rotation-");
test.after(folder.remove);
let counter = 0;
let dir = "";
let path = "";

test.before.each(() => {
  dir = folder.path(`case-${++counter}`);
  path = join(dir, "audit.log");
});

/** Writes `count` accesses of `menace` through an observer, flushing every `every`. */
async function write(count: number, options: AuditLogOptions, menace = "alpha", every = 25) {
  const audit = new AuditLogObserver(fileStorageFor(RUNTIME).records!, path, {
    chain: true,
    ...options,
  });
  for (let i = 0; i < count; i++) {
    audit.onAccess({ menaceId: menace, table: "bots", operation: "write", database: "shared" });
    if (i % every === every - 1) await audit.flush();
  }
  await audit.close();
}

/** The log's files, oldest first, and their lines. */
function files(): Array<{ name: string; lines: string[] }> {
  return readdirSync(dir)
    .filter((name) => name.startsWith("audit.log") && !name.endsWith("-dbrlock"))
    .sort((a, b) => (a === "audit.log" ? 1 : b === "audit.log" ? -1 : a.localeCompare(b)))
    .map((name) => ({
      name,
      lines: readFileSync(join(dir, name), "utf8").split("\n").filter((line) => line !== ""),
    }));
}

test("the log rotates by size; each new file begins with a header naming the previous one", async () => {
  await write(600, { rotation: { maxBytes: 8000 } });
  const set = files();
  assert.ok(set.length >= 5, `${set.length} files`);
  assert.is(set[0].name, "audit.log.000001");
  assert.is(set.at(-1)!.name, "audit.log");
  let records = 0;
  for (const [i, file] of set.entries()) {
    const size = readFileSync(join(dir, file.name)).length;
    if (i < set.length - 1) assert.ok(size <= 8000, `${file.name} is ${size} bytes`);
    const header = parseRotationHeader(file.lines[0]);
    if (i === 0) assert.is(header, undefined, "the first file has no header");
    else {
      const before = set[i - 1];
      assert.equal(header && { ...header, rotatedAt: "" }, {
        rotatedFrom: before.name,
        prevFileBytes: readFileSync(join(dir, before.name)).length,
        prevFileHash: lineHash(before.lines.at(-1)!),
        rotatedAt: "",
      });
    }
    records += file.lines.length - (header ? 1 : 0);
  }
  assert.is(records, 600, "every access once");
  const run = await runCli(["analyze", "--verify", path]);
  assert.is(run.code, 0, run.err);
  assert.match(run.out, `Integrity: ok, 600 lines of ${set.length} files in 1 writer chain`);
  assert.match(run.out, "alpha   bots   write    600");
});

test("a file whose first line is older than maxAgeMs rotates at the next append", async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dir, { recursive: true });
  const old =
    '{"menace_id":"old","table_name":"bots","operation":"read","timestamp":"2020-01-01T00:00:00.000Z"}';
  writeFileSync(path, old + "\n");
  await write(3, { chain: false, rotation: { maxAgeMs: 3_600_000 } });
  const set = files();
  assert.equal(set.map((f) => f.name), ["audit.log.000001", "audit.log"]);
  assert.equal(set[0].lines, [old]);
  assert.is(parseRotationHeader(set[1].lines[0])?.prevFileHash, lineHash(old));
  assert.is(set[1].lines.length, 4);
  // Young enough: no rotation.
  await write(3, { chain: false, rotation: { maxAgeMs: 3_600_000 } });
  assert.is(files().length, 2);
});

test("keepFiles removes older rotated files; --verify says where the removed prefix ends", async () => {
  await write(600, { rotation: { maxBytes: 6000, keepFiles: 2 } });
  const set = files();
  assert.is(set.length, 3, set.map((f) => f.name).join(" "));
  const first = parseRotationHeader(set[0].lines[0]);
  assert.ok(first, "the oldest kept file continues a removed one");
  const run = await runCli(["analyze", "--verify", "--json", path]);
  assert.is(run.code, 0, run.err);
  const verify = JSON.parse(run.out).verify;
  assert.equal(verify.removedPrefix, {
    firstFile: set[0].name,
    continues: first!.rotatedFrom,
    continuedChains: 1,
  });
  const text = await runCli(["analyze", "--verify", path]);
  assert.match(
    text.out,
    `Removed prefix: the log begins at ${set[0].name}, which continues ${
      first!.rotatedFrom
    } (removed)`,
  );
});

test("--verify finds a missing middle file, a cut file and an edited last line", async () => {
  await write(400, { rotation: { maxBytes: 5000 } });
  const set = files();
  assert.ok(set.length >= 4);
  const intact = await runCli(["analyze", "--verify", path]);
  assert.is(intact.code, 0, intact.err);

  // The last line of the second file edited (and its chain hash with it, to hide it there).
  const second = join(dir, set[1].name);
  const text = readFileSync(second, "utf8");
  writeFileSync(second, text.replace(/write(?=[^\n]*\n$)/, "wrote"));
  const edited = await runCli(["analyze", "--verify", path]);
  assert.is(edited.code, 1);
  assert.match(
    edited.err,
    `${set[2].name} line 1: The last line of "${set[1].name}" is not the one`,
  );
  writeFileSync(second, text);

  // The first file cut short.
  const firstPath = join(dir, set[0].name);
  const firstText = readFileSync(firstPath, "utf8");
  writeFileSync(firstPath, firstText.split("\n").slice(0, 3).join("\n") + "\n");
  const cut = await runCli(["analyze", "--verify", path]);
  assert.is(cut.code, 1);
  assert.match(cut.err, `${set[1].name} line 1: "${set[0].name}" was`);
  assert.match(cut.err, "it was cut or appended to");
  writeFileSync(firstPath, firstText);

  // A middle file removed.
  rmSync(second);
  const missing = await runCli(["analyze", "--verify", path]);
  assert.is(missing.code, 1);
  assert.match(
    missing.err,
    `${set[2].name} line 1: File continues "${set[1].name}", not "${
      set[0].name
    }": a file between them is missing`,
  );
});

test("without --verify, the rotated set counts as one log, headers not counted as malformed", async () => {
  await write(300, { chain: false, rotation: { maxBytes: 4000 } }, "beta");
  appendFileSync(join(dir, files()[1].name), "not json\n");
  const run = await runCli(["analyze", "--json", path]);
  assert.is(run.code, 0, run.err);
  const data = JSON.parse(run.out);
  assert.is(data.records, 300);
  assert.is(data.malformed, 1);
  assert.ok(data.files.length > 2);
  const plain = await runCli(["analyze", path]);
  assert.match(plain.err, `skipped 1 malformed line (the first is line`);
  assert.match(plain.err, `of ${files()[1].name})`);
});

test("a rotation that died before its first append: the next append writes the header", async () => {
  await write(50, { rotation: { maxBytes: 1_000_000 } });
  // What a writer killed between renaming the file and appending leaves.
  const { renameSync } = await import("node:fs");
  renameSync(path, `${path}.000001`);
  await write(10, { rotation: { maxBytes: 1_000_000 } });
  const set = files();
  assert.equal(set.map((f) => f.name), ["audit.log.000001", "audit.log"]);
  assert.is(parseRotationHeader(set[1].lines[0])?.rotatedFrom, "audit.log.000001");
  const run = await runCli(["analyze", "--verify", path]);
  assert.is(run.code, 0, run.err);
});

test("bad rotation options are refused; storage whose records cannot lock does not rotate", () => {
  assert.instance(thrown(() => resolveAuditRotation({ maxBytes: 0 })), RangeError);
  assert.instance(thrown(() => resolveAuditRotation({ maxAgeMs: -1 })), RangeError);
  assert.instance(thrown(() => resolveAuditRotation({ keepFiles: 0.5 })), RangeError);
  assert.match(
    thrown(() => resolveAuditRotation({ keepFiles: 0 })).message,
    "Invalid audit rotation keepFiles 0",
  );
  const storage = memoryStorage();
  const error = thrown(() =>
    new DBRouter("alpha", "l.db", "s.db", {
      storage,
      auditLog: "a.log",
      auditRotation: { maxBytes: "big" } as never,
    })
  );
  assert.instance(error, TypeError);
  assert.match(error.message, 'Invalid router option "auditRotation');
  const plain: RecordLog = { append: () => Promise.resolve(), read: async function* () {} };
  assert.not.throws(() => new AuditLogObserver(plain, "a.log"));
  const unsupported = thrown(() => new AuditLogObserver(plain, "a.log", { rotation: {} }));
  assert.is((unsupported as { code?: string }).code, "UNSUPPORTED");
});

test.run();
