/**
 * A fresh process for `tests/persist_lazy_probe.test.ts`: two engines on one
 * existing database file (as two processes have, each with its own adapter),
 * reporting when the process's page-capture probe runs and which commit path
 * each engine ends up on. Prints one JSON line of what it saw.
 *
 *   lazy_probe_child.ts FILE [fail]
 *
 * With `fail`, the probe is made to fail (sql.js's `_malloc` is hidden from
 * it while it runs), so the engines must fall back to export + diff after
 * opening without a shadow.
 *
 * @module
 */
import { DEFAULT_DATABASE_OPTIONS, EngineDatabase } from "../../src/engine/database.ts";
import { loadCapturedSqlJs } from "../../wasm/mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";

const [file, mode] = process.argv.slice(2);
const options = { ...DEFAULT_DATABASE_OPTIONS, maxReadLagMs: 0 };
const writer = new EngineDatabase(fileStorageFor(RUNTIME), file, options);
const reader = new EngineDatabase(fileStorageFor(RUNTIME), file, options);
const captured = await loadCapturedSqlJs();
const names = (engine: EngineDatabase) =>
  engine.read((db) => db.exec("SELECT name FROM bots ORDER BY id")[0]?.values.flat() ?? []);

const report: Record<string, unknown> = {};
report.readsBeforeWrite = [await names(writer), await names(reader)];
report.probedAfterReads = captured.probed;
report.pathBeforeWrite = writer.stats().commitPath;

const sql = captured.sql as unknown as { _malloc?: unknown };
const malloc = sql._malloc;
if (mode === "fail") sql._malloc = undefined;
await writer.write((db) => db.run("INSERT INTO bots (name) VALUES ('second')"));
sql._malloc = malloc;
report.probedAfterWrite = captured.probed;
report.captureAfterWrite = typeof captured.capture;
report.writerPath = writer.stats().commitPath;
report.firstCommitBytes = writer.stats().lastCommitBytes;
// The reader was opened before the probe too: its catch-up settles it.
report.readerAfterFirst = await names(reader);
await writer.write((db) => db.run("INSERT INTO bots (name) VALUES ('third')"));
report.readerAfterSecond = await names(reader);
report.readerPath = reader.stats().commitPath;
report.readerCatchUps = reader.stats().catchUps;
await reader.write((db) => db.run("INSERT INTO bots (name) VALUES ('fourth')"));
report.writerAfterReaderWrite = await names(writer);
await writer.close();
await reader.close();
console.log(JSON.stringify(report));
