import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMANDS } from "../src/cli/commands/mod.ts";
import { formatTable } from "../src/cli/commands/tables.ts";
import { CLI_BIN, runCli } from "./_support/cli_io.ts";
import { currentRuntime, ROOT, runScript } from "./_support/spawn.ts";

const test = suite("db-router tables and --help");
const runtime = currentRuntime();
const clean = {
  DB_ROUTER_CONFIG: undefined,
  DB_ROUTER_SHARED_TABLES: undefined,
  DB_ROUTER_LOCAL_TABLES: undefined,
  DB_ROUTER_DENY_TABLES: undefined,
};

interface Entry {
  table: string;
  route: string;
  layer: string | null;
  source?: string;
}

let dir = "";
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), "dbr-tables-"));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test("tables lists each routed table with its route and deciding layer, in aligned columns", async () => {
  const run = await runCli(["tables"]);
  assert.is(run.code, 0, run.err);
  const lines = run.out.split("\n");
  assert.match(lines[0], /^TABLE\s+ROUTE\s+LAYER\s+SOURCE$/);
  assert.ok(lines.some((l) => /^bots\s+shared\s+default$/.test(l)));
  assert.ok(lines.some((l) => /^models\s+local\s+default$/.test(l)));
  assert.ok(lines.some((l) => /^capital_ledger\s+denied\s+default$/.test(l)));
  const rows = lines.slice(0, lines.indexOf(""));
  const routeColumn = lines[0].indexOf("ROUTE");
  for (const row of rows.slice(1)) {
    assert.match(row.slice(routeColumn), /^(shared|local|denied|ambiguous) /);
  }
  assert.match(run.out, /\n\d+ tables: \d+ shared, \d+ local, \d+ denied\nConfig file: /);
});

test("formatTable pads every column but the last, and shows a missing layer as -", () => {
  assert.is(
    formatTable([
      { table: "bots", route: "shared", layer: "default", reason: "" },
      {
        table: "alerts",
        route: "local",
        layer: "env",
        source: "DB_ROUTER_LOCAL_TABLES",
        reason: "",
      },
      { table: "x", route: "unknown", layer: null, reason: "" },
    ]),
    "TABLE   ROUTE    LAYER    SOURCE\n" +
      "bots    shared   default\n" +
      "alerts  local    env      DB_ROUTER_LOCAL_TABLES\n" +
      "x       unknown  -\n",
  );
});

test("tables --json prints the config file and one entry per table", async () => {
  const run = await runCli(["tables", "--json"]);
  assert.is(run.code, 0);
  const parsed = JSON.parse(run.out) as { configFile: string | null; tables: Entry[] };
  assert.ok("configFile" in parsed);
  const bots = parsed.tables.find((t) => t.table === "bots");
  assert.equal({ route: bots?.route, layer: bots?.layer }, { route: "shared", layer: "default" });
  const names = parsed.tables.map((t) => t.table);
  assert.equal(names, [...names].sort());
});

test(`tables shows config-file and env decisions with their source (child process, ${runtime})`, async () => {
  mkdirSync(join(dir, "config"));
  const config = join(dir, "config", "db_router_tables.json");
  writeFileSync(config, JSON.stringify({ shared: ["alerts"], deny: ["bots"] }));
  const env = { ...clean, DB_ROUTER_LOCAL_TABLES: "session" };
  const run = await runScript(CLI_BIN, { args: ["tables", "--json"], cwd: dir, env });
  assert.is(run.code, 0, run.stderr);
  const parsed = JSON.parse(run.stdout) as { configFile: string; tables: Entry[] };
  const row = (name: string) => {
    const found = parsed.tables.find((t) => t.table === name)!;
    return [found.route, found.layer, found.source];
  };
  assert.is(parsed.configFile, config);
  assert.equal(row("alerts"), ["shared", "config", config]);
  assert.equal(row("bots"), ["denied", "config", config]);
  assert.equal(row("session"), ["local", "env", "DB_ROUTER_LOCAL_TABLES"]);
  assert.equal(row("models"), ["local", "default", undefined]);
  const text = await runScript(CLI_BIN, { args: ["tables"], cwd: dir, env });
  assert.match(text.stdout, /\nsession +local +env +DB_ROUTER_LOCAL_TABLES\n/);
  assert.match(text.stdout, `Config file: ${config}\n`);
});

test(`tables exits 1 and names the variable when an env list is invalid (child process, ${runtime})`, async () => {
  const env = { ...clean, DB_ROUTER_SHARED_TABLES: "ok, not ok" };
  const run = await runScript(CLI_BIN, { args: ["tables"], cwd: dir, env });
  assert.is(run.code, 1);
  assert.match(run.stderr, /^db-router tables: .*DB_ROUTER_SHARED_TABLES.*"not ok"/);
  assert.is(run.stdout, "");
});

test("tables exits 2 for an unknown option or an argument", async () => {
  assert.is((await runCli(["tables", "--csv"])).code, 2);
  const run = await runCli(["tables", "bots"]);
  assert.is(run.code, 2);
  assert.match(run.err, /Unexpected argument 'bots'/);
});

test("db-router --help lists every command; each one's --help exits 0", async () => {
  const run = await runCli(["--help"]);
  assert.is(run.code, 0);
  for (const name of ["analyze", "sync", "check", "new", "tables"]) {
    assert.match(run.out, new RegExp(`\\n  ${name} +\\S`));
    const help = await runCli([name, "--help"]);
    assert.is(help.code, 0);
    assert.match(help.out, new RegExp(`^Usage: db-router ${name}`));
  }
});

test("an unknown command or none exits 2 with the usage on standard error", async () => {
  const unknown = await runCli(["frobnicate"]);
  assert.is(unknown.code, 2);
  assert.match(
    unknown.err,
    /^db-router: unknown command "frobnicate"\n\nUsage: db-router <command>/,
  );
  const none = await runCli([]);
  assert.is(none.code, 2);
  assert.match(none.err, /^Usage: db-router <command>/);
  assert.is(unknown.out + none.out, "");
});

test("an unknown option exits 2 and names it as an option, with the usage", async () => {
  const top = await runCli(["--bogus"]);
  assert.is(top.code, 2);
  assert.match(top.err, /^db-router: unknown option "--bogus"\n\nUsage: db-router <command>/);
  assert.is(top.out, "");
  for (const { name } of COMMANDS) {
    const sub = await runCli([name, "--bogus"]);
    assert.is(sub.code, 2, name);
    assert.match(
      sub.err,
      new RegExp(
        `^db-router ${name}: Unknown option '--bogus'.*\n\nUsage: db-router ${name} `,
        "s",
      ),
    );
    assert.is(sub.out, "");
  }
});

test("--version and -V print the version of package.json and deno.json", async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.is(JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).version, version);
  for (const flag of ["--version", "-V"]) {
    const run = await runCli([flag]);
    assert.equal(run, { code: 0, out: `db-router ${version}\n`, err: "" });
  }
});

test(`db-router --help runs as a child process (${runtime})`, async () => {
  const run = await runScript(CLI_BIN, { args: ["--help"] });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Usage: db-router <command>/);
});

test.run();
