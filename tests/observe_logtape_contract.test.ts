/**
 * The LogTape internals that db-router reads instead of importing LogTape
 * (`src/observe/log.ts`): the inspection state at
 * `globalThis[Symbol.for("logtape.inspectionState")]` (`configured`, and a
 * `loggers` object that every configuration or reset replaces) and the root
 * logger at `globalThis[Symbol.for("logtape.rootLogger")]` (`getChild`,
 * `isEnabledFor`, `emit`). They are not LogTape's public API: this file
 * checks them against the installed `@logtape/logtape` (a dev dependency),
 * so that an upgrade that renames or reshapes them fails here, by name,
 * instead of silently sending db-router's records to its console fallback.
 * It also holds the installed version to the range the README and
 * package.json's optional peer dependency state as supported.
 *
 * @module
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RouterLog } from "../src/observe/log.ts";
import { ROOT } from "./_support/spawn.ts";

const test = suite("observe: the LogTape internals db-router relies on");

type State = { configured?: unknown; loggers?: unknown } | undefined;
type Root = {
  getChild(category: string[]): Root;
  isEnabledFor(level: string): boolean;
  emit(record: Record<string, unknown>): void;
};
const g = globalThis as unknown as Record<symbol, unknown>;
const state = () => g[Symbol.for("logtape.inspectionState")] as State;
const root = () => g[Symbol.for("logtape.rootLogger")] as Root | undefined;

async function configureAt(lowestLevel: "info" | "warning", records: LogRecord[]) {
  await configure({
    reset: true,
    sinks: { memory: (record: LogRecord) => void records.push(record) },
    loggers: [
      { category: ["db-router"], sinks: ["memory"], lowestLevel },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
}

test.after.each(() => reset());

test("the installed LogTape is in the supported range: 2.x, from 2.4.2", () => {
  const installed = JSON.parse(
    readFileSync(join(ROOT, "node_modules", "@logtape", "logtape", "package.json"), "utf8"),
  ).version as string;
  const [major, minor, patch] = installed.split(".").map((part) => parseInt(part, 10));
  assert.is(major, 2, `LogTape ${installed}: check src/observe/log.ts, then the README's range`);
  assert.ok(minor > 4 || (minor === 4 && patch >= 2), `LogTape ${installed} is older than 2.4.2`);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.is(pkg.peerDependencies["@logtape/logtape"], "^2.4.2");
  assert.is(pkg.peerDependenciesMeta["@logtape/logtape"].optional, true);
  assert.match(readFileSync(join(ROOT, "README.md"), "utf8"), /LogTape 2\.4\.2 or a later 2\.x/);
});

test('Symbol.for("logtape.inspectionState"): configured, and a loggers object per configuration', async () => {
  await configureAt("info", []);
  const first = state();
  assert.type(first, "object", "LogTape no longer keeps its inspection state on globalThis");
  assert.is(first!.configured, true);
  assert.type(first!.loggers, "object");
  const firstLoggers = first!.loggers;
  await configureAt("warning", []);
  assert.is(state()!.configured, true);
  assert.is.not(state()!.loggers, firstLoggers, "a new configuration must replace loggers");
  const beforeReset = state()!.loggers;
  await reset();
  assert.is(state()!.configured, false);
  assert.is.not(state()!.loggers, beforeReset, "reset() must replace loggers");
});

test('Symbol.for("logtape.rootLogger"): getChild, isEnabledFor and emit reach the configured sinks', async () => {
  const records: LogRecord[] = [];
  await configureAt("info", records);
  const shared = root();
  assert.type(shared, "object", "LogTape no longer shares its root logger on globalThis");
  const access = shared!.getChild(["db-router", "access"]);
  assert.is(access.isEnabledFor("info"), true);
  assert.is(access.isEnabledFor("debug"), false);
  access.emit({
    level: "info",
    message: ["through the root logger"],
    rawMessage: "through the root logger",
    timestamp: Date.now(),
    properties: { table_name: "bots" },
  });
  assert.is(records.length, 1);
  assert.equal(records[0].category, ["db-router", "access"]);
  assert.is(records[0].properties.table_name, "bots");
  await configureAt("warning", records);
  assert.is(root()!.getChild(["db-router", "access"]).isEnabledFor("info"), false);
});

test("RouterLog follows them: LogTape configured takes the records, reset gives them back", async () => {
  const records: LogRecord[] = [];
  const fallback: unknown[] = [];
  const log = new RouterLog({ level: "info", format: "json" }, (r) => void fallback.push(r));
  log.emit("access", "info", "{table_name} read", { table_name: "bots" });
  assert.is(fallback.length, 1);
  await configureAt("info", records);
  log.emit("access", "info", "{table_name} read", { table_name: "bots" });
  assert.is(records.length, 1, "the configured LogTape did not receive the record");
  assert.is(fallback.length, 1);
  await reset();
  log.emit("access", "info", "{table_name} read", { table_name: "bots" });
  assert.is(fallback.length, 2);
});

test.run();
