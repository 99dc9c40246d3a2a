/**
 * The audit log in the shared database (`_dbrouter_audit`): three Workers on
 * Miniflare appending at once to one D1 table (their default with no file
 * system), read back by `db-router analyze --verify` from a D1 export; the
 * same through `auditLog: "shared:<name>"` on the sql.js shared file and on
 * libSQL (`file:` URL); appends that fail are retried without a line lost or
 * doubled; bad inputs.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Miniflare } from "miniflare";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { bundleWorker } from "../examples/cloudflare-worker/local.ts";
import {
  type D1Database,
  DBRouter,
  libsqlBackend,
  memoryStorage,
  type SharedBackend,
} from "../mod.ts";
import { DEFAULT_DATABASE_OPTIONS } from "../src/engine/database.ts";
import { sqlJsBackend } from "../src/engine/sqljs_backend.ts";
import { ChainVerifier } from "../src/observe/audit_chain.ts";
import { parseExportValues } from "../src/cli/analyze/sources.ts";
import { runCli } from "./_support/cli_io.ts";
import { codeOf, rejection } from "./_support/errors.ts";
import { ROOT } from "./_support/spawn.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";

const test = suite(`audit log in the shared database (tests in ${RUNTIME})`);
const folder = temporaryFolder(`audit-shared-${RUNTIME}-`);
const WORKERS = ["w-one", "w-two", "w-three"];
const REQUESTS = 4;
const PER_REQUEST = 250;
let miniflare: Miniflare | undefined;
let exportPath = "";

test.after(async () => {
  await miniflare?.dispose();
  folder.remove();
});

interface AuditRow {
  seq: number;
  writer: string;
  writer_seq: number;
  line: string;
}

/** Checks rows in seq order as analyze --verify does; returns the problems and chains. */
function verifyRows(lines: string[]): { problems: number; chains: number } {
  const verifier = new ChainVerifier();
  let problems = 0;
  for (const [i, line] of lines.entries()) {
    const parsed = JSON.parse(line);
    if (verifier.check(i + 1, line, parsed.menace_id, parsed.prev_hash)) problems++;
  }
  return { problems, chains: verifier.chains };
}

test("three Workers audit into one D1 table at once: every line, in order per Worker, chains intact", async () => {
  const bundle = await bundleWorker(join(ROOT, "tests", "_support", "audit_worker_entry.js"));
  miniflare = new Miniflare({
    compatibilityDate: "2025-09-01",
    workers: WORKERS.map((name) => ({
      name,
      modules: [
        {
          type: "ESModule" as const,
          path: join(ROOT, "audit-worker.mjs"),
          contents: bundle.script,
        },
        {
          type: "CompiledWasm" as const,
          path: join(ROOT, "sql-wasm-browser.wasm"),
          contents: bundle.wasm,
        },
      ],
      bindings: { MENACE_ID: name },
      d1Databases: { DB: "audit-db" },
    })),
  });
  await miniflare.ready;
  // Typed here: Deno reads Miniflare's worker type as undici's, which has no fetch().
  const workers =
    (await Promise.all(WORKERS.map((name) => miniflare!.getWorker(name)))) as unknown as Array<
      { fetch(url: string, init?: RequestInit): Promise<Response> }
    >;
  const responses = await Promise.all(
    workers.flatMap((worker) =>
      Array.from(
        { length: REQUESTS },
        () => worker.fetch(`http://worker/access?n=${PER_REQUEST}`).then((r) => r.text()),
      )
    ),
  );
  assert.ok(responses.every((text) => text === `noted ${PER_REQUEST}`), responses.join());
  for (const worker of workers) {
    assert.is(
      await (await worker.fetch("http://worker/close", { method: "POST" })).text(),
      "closed",
    );
  }
  const db = (await miniflare.getD1Database("DB", "w-one")) as D1Database;
  const { results = [] } = await db.prepare(
    "SELECT seq, writer, writer_seq, line FROM _dbrouter_audit ORDER BY seq",
  ).all();
  const rows = results as unknown as AuditRow[];
  assert.is(rows.length, WORKERS.length * REQUESTS * PER_REQUEST);
  for (const name of WORKERS) {
    const mine = rows.filter((row) => JSON.parse(row.line).menace_id === name);
    assert.is(mine.length, REQUESTS * PER_REQUEST, name);
    assert.is(new Set(mine.map((row) => row.writer)).size, 1, `${name}: one writer`);
    // Order per Worker: its lines' commit order (seq) is the order it numbered them in.
    assert.equal(mine.map((row) => row.writer_seq), mine.map((_, i) => i), name);
  }
  const writersInterleave = rows.slice(0, rows.length - 1).some((row, i) =>
    row.writer !== rows[i + 1].writer
  );
  assert.ok(writersInterleave, "appends of the Workers interleave in one table");
  assert.equal(verifyRows(rows.map((row) => row.line)), { problems: 0, chains: 3 });

  const dump = await db.prepare("PRAGMA miniflare_d1_export(?,?,?);").bind(0, 0, "_dbrouter_audit")
    .all();
  exportPath = join(folder.dir, "d1-export.sql");
  writeFileSync(exportPath, (dump.results as unknown as string[][])[0].join("\n"));
});

test("db-router analyze --verify reads the D1 export: all lines, three chains, no problem", async () => {
  const run = await runCli(["analyze", "--verify", "--json", exportPath]);
  assert.is(run.code, 0, run.err);
  const report = JSON.parse(run.out);
  assert.is(report.records, WORKERS.length * REQUESTS * PER_REQUEST);
  assert.is(report.malformed, 0);
  assert.equal([report.verify.problemCount, report.verify.chains], [0, 3]);
  const text = await runCli(["analyze", "--verify", exportPath]);
  assert.match(text.out, "Integrity: ok, 3000 lines in 3 writer chains");
});

test("db-router analyze --verify finds a line edited or removed in the D1 export", async () => {
  const lines = readFileSync(exportPath, "utf8").split("\n");
  const at = lines.findIndex((line, i) => i > 100 && line.includes('"operation":"read"'));
  const edited = [...lines];
  edited[at] = edited[at].replace('"operation":"read"', '"operation":"write"');
  const editedPath = join(folder.dir, "edited.sql");
  writeFileSync(editedPath, edited.join("\n"));
  const run = await runCli(["analyze", "--verify", editedPath]);
  assert.is(run.code, 1);
  assert.match(run.err, /follows no earlier line of its writer/);
  const removedPath = join(folder.dir, "removed.sql");
  writeFileSync(removedPath, lines.filter((_, i) => i !== at).join("\n"));
  const removed = await runCli(["analyze", "--verify", "--json", removedPath]);
  assert.is(removed.code, 1);
  assert.is(JSON.parse(removed.out).verify.problemCount, 1);
});

test("a D1 export row that does not parse is counted as malformed, not run", async () => {
  const lines = readFileSync(exportPath, "utf8").split("\n");
  const at = lines.findIndex((line) => line.startsWith('INSERT INTO "_dbrouter_audit"'));
  lines[at] = `${lines[at].slice(0, -2)}); DROP TABLE x;`;
  const path = join(folder.dir, "garbled.sql");
  writeFileSync(path, lines.join("\n"));
  const run = await runCli(["analyze", "--json", path]);
  assert.is(JSON.parse(run.out).malformed, 1);
  assert.match(run.err, "skipped 1 malformed line");
});

test("parseExportValues() reads the export's literals: quotes, NULL, numbers, replace() for line breaks", () => {
  assert.equal(parseExportValues(`INSERT INTO "t" VALUES(1,'it''s',NULL,-2.5);`, 0), [
    1,
    "it's",
    null,
    -2.5,
  ]);
  assert.equal(
    parseExportValues(`INSERT INTO "t" VALUES(2,replace('a\\nb','\\n',char(10)));`, 0),
    [2, "a\nb"],
  );
  assert.is(parseExportValues(`INSERT INTO "t" VALUES(1,x'00');`, 0), undefined);
  assert.is(parseExportValues(`INSERT INTO "t" VALUES(1,'open);`, 0), undefined);
});

/** Two routers of `backend` audit `n` accesses each into `shared:<log>`, then close. */
async function auditTwo(
  backend: () => SharedBackend,
  log: string,
  n: number,
): Promise<void> {
  const routers = ["alpha", "beta"].map((menace) =>
    new DBRouter(menace, `${menace}.db`, backend(), {
      storage: memoryStorage(),
      auditLog: `shared:${log}`,
      auditChain: true,
    })
  );
  for (let i = 0; i < n; i++) {
    for (const router of routers) router.getConnection(i % 2 ? "bots" : "models", "read");
    if (i % 100 === 99) await Promise.all(routers.map((r) => r.flush()));
  }
  await Promise.all(routers.map((r) => r.close()));
}

test('auditLog "shared:<name>" on the sql.js shared file: analyze --verify reads the file', async () => {
  const path = join(folder.dir, "shared-sqljs.db");
  const storage = fileStorageFor(RUNTIME);
  await auditTwo(() => sqlJsBackend(storage, path, DEFAULT_DATABASE_OPTIONS), "audit", 300);
  const run = await runCli(["analyze", "--verify", "--json", path]);
  assert.is(run.code, 0, run.err);
  const report = JSON.parse(run.out);
  assert.equal([report.records, report.verify.problemCount, report.verify.chains], [600, 0, 2]);
});

test('auditLog "shared:<name>" on libSQL (file: URL): analyze reads the URL, --log picks a log', async () => {
  const url = pathToFileURL(join(folder.dir, "shared-libsql.db")).href;
  await auditTwo(() => libsqlBackend({ url }), "edge", 150);
  await auditTwo(() => libsqlBackend({ url }), "other", 10);
  const all = await runCli(["analyze", "--verify", "--json", url]);
  assert.is(all.code, 0, all.err);
  assert.equal([JSON.parse(all.out).records, JSON.parse(all.out).verify.chains], [320, 4]);
  const edge = await runCli(["analyze", "--verify", "--json", "--log", "edge", url]);
  assert.equal(JSON.parse(edge.out).records, 300);
  const none = await runCli(["analyze", "--json", "--log", "missing", url]);
  assert.equal(JSON.parse(none.out).records, 0);
});

test("failed appends are retried: a batch that failed before or after its commit is stored once", async () => {
  const path = join(folder.dir, "flaky.db");
  const storage = fileStorageFor(RUNTIME);
  let failures = 0;
  let mode: "before" | "after" = "before";
  const real = sqlJsBackend(storage, path, DEFAULT_DATABASE_OPTIONS);
  const flaky: SharedBackend = {
    ...real,
    connect(guard) {
      const database = real.connect(guard);
      const conn = database.connection;
      const batch: typeof conn.batch = async (statements) => {
        if (failures > 0 && statements[0]?.sql.includes("_dbrouter_audit")) {
          failures--;
          if (mode === "after") await conn.batch(statements);
          throw new Error(`injected failure ${mode} the commit`);
        }
        return conn.batch(statements);
      };
      const connection = new Proxy(conn, {
        get(target, name) {
          if (name === "batch") return batch;
          const value = Reflect.get(target, name, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      return { ...database, connection };
    },
  };
  const router = new DBRouter("alpha", "alpha.db", flaky, {
    storage: memoryStorage(),
    auditLog: "shared:audit",
    auditChain: true,
  });
  router.getConnection("bots", "read");
  failures = 3; // every attempt of the first append
  const error = await rejection(router.flush());
  assert.is(error.code, "AUDIT_WRITE_FAILED");
  router.getConnection("bots", "write");
  await router.flush(); // the kept line and the new one
  mode = "after";
  failures = 2; // committed, then reported as failed twice: the retries store nothing again
  router.getConnection("models", "read");
  await router.flush();
  await router.close();
  const run = await runCli(["analyze", "--verify", "--json", path]);
  assert.is(run.code, 0, run.err);
  const report = JSON.parse(run.out);
  assert.equal([report.records, report.verify.problemCount], [3, 0]);
});

test("bad inputs: rotation options for a table log, analyze of a database without the table", async () => {
  const backend = sqlJsBackend(memoryStorage(), "s.db", DEFAULT_DATABASE_OPTIONS);
  assert.is(
    codeOf(() =>
      new DBRouter("alpha", "a.db", backend, {
        storage: memoryStorage(),
        auditLog: "shared:audit",
        auditRotation: { maxBytes: 1024 },
      })
    ),
    "UNSUPPORTED",
  );
  const empty = join(folder.dir, "empty.db");
  const storage = fileStorageFor(RUNTIME);
  const router = new DBRouter("alpha", join(folder.dir, "a.db"), empty, { storage });
  await router.getConnection("bots").exec("CREATE TABLE IF NOT EXISTS x (a)");
  await router.close();
  const run = await runCli(["analyze", empty]);
  assert.is(run.code, 1);
  assert.match(run.err, /Cannot read audit log ".*empty\.db": it has no _dbrouter_audit table/);
  const url = await runCli(["analyze", pathToFileURL(empty).href]);
  assert.is(url.code, 1);
  assert.match(url.err, "it has no _dbrouter_audit table");
});

test.run();
