/**
 * `db-router new <name>`: writes a DB module that goes through the router,
 * and its test file, from a template.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import process from "node:process";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Command, type CommandIO, UsageError, usageErrorOf } from "../command.ts";
import { libraryImportFor, PACKAGE_NAME } from "../new/library_import.ts";
import {
  checkModuleName,
  type ModuleRoute,
  templateContext,
  type TemplateName,
} from "../new/names.ts";
import { TEMPLATES } from "../new/templates/mod.ts";
import { writeAllOrNothing } from "../new/write_files.ts";

const TEMPLATE_LIST = Object.entries(TEMPLATES)
  .map(([name, t]) => `                      ${name.padEnd(7)}${t.summary}`)
  .join("\n");

const USAGE = `Usage: db-router new <name> [options]

Writes <name>_db.ts, a DB module for the table <name> that takes its
connection from the router (passed in, else GLOBAL_ROUTER), creates its schema
with source_menace_id, stamps inserts and reads by scope, and <name>_db.test.ts,
its uvu tests. Importing the module adds the table to SHARED_TABLES (or
LOCAL_TABLES) unless the config file or the environment already placed it.

<name> is the table name: lowercase letters, digits and _, starting with a
letter. It may not be a denied table, nor a table routed the other way.

Options:
  --template NAME     basic (default), fts or vector:
${TEMPLATE_LIST}
  --route ROUTE       shared (default) or local: where the table goes
  --out DIR           the folder to write to (made if missing); default: .
  --import SPECIFIER  how the files import db-router; default: a relative path
                      to mod.ts inside a db-router checkout, else "db-router"
  -h, --help          show this help

Nothing is overwritten: if either file exists, nothing is written (exit 1).
Exit status: 0 when written; 1 when a file exists or cannot be written, or the
routing config is invalid; 2 on bad usage (unknown option, missing or bad name,
unknown template or route, an --out that is a file).
`;

/** The `new` subcommand. */
export const newCommand: Command = {
  name: "new",
  summary: "scaffold a DB module and its test (templates: basic, fts, vector)",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { values, positionals } = parse(args);
    if (positionals.length === 0) throw new UsageError("Missing <name>: the table to create");
    if (positionals.length > 1) {
      throw new UsageError(`Too many names: ${positionals.map((p) => `"${p}"`).join(", ")}`);
    }
    const table = checkModuleName(positionals[0]);
    const template = oneOf("--template", values.template ?? "basic", Object.keys(TEMPLATES));
    const route = oneOf("--route", values.route ?? "shared", ["shared", "local"]);
    await checkRouting(table, route as ModuleRoute);
    const outDir = resolve(process.cwd(), values.out ?? ".");
    if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
      throw new UsageError(`Invalid --out "${values.out}": it is a file, not a folder`);
    }
    if (values.import !== undefined && values.import.trim() === "") {
      throw new UsageError("Invalid --import: expected a module specifier");
    }
    const library = values.import ?? libraryImportFor(outDir);
    const ctx = templateContext(table, template as TemplateName, route as ModuleRoute, library);
    const chosen = TEMPLATES[ctx.template];
    const files = [
      { path: resolve(outDir, ctx.moduleFile), content: chosen.module(ctx) },
      { path: resolve(outDir, ctx.testFile), content: chosen.test(ctx) },
    ];
    writeAllOrNothing(files);
    for (const file of files) io.out(`Created ${file.path}\n`);
    io.out(`\n${testInstructions(process.cwd(), outDir, ctx.testFile, library)}`);
    io.out(
      `To route "${table}" by configuration, add it to "${route}" in config/db_router_tables.json.\n`,
    );
    return 0;
  },
};

/**
 * Refuses a table that every access would refuse: a denied one, or one the
 * current configuration routes the other way (the module would make it ambiguous).
 */
async function checkRouting(table: string, route: ModuleRoute): Promise<void> {
  // Imported here: importing the library loads the routing config of the working directory.
  const { explainRoute } = await import("../../../mod.ts");
  const decided = explainRoute(table);
  const by = decided.layer === "default"
    ? "built-in default"
    : decided.source ?? decided.layer ?? "no layer";
  if (decided.route === "denied") {
    throw new UsageError(
      `Invalid name "${table}": it is in DENY_TABLES (${by}), so every access would be refused`,
    );
  }
  if ((decided.route === "shared" || decided.route === "local") && decided.route !== route) {
    throw new UsageError(
      `Invalid name "${table}": it is routed ${decided.route} (${by}); use --route ${decided.route} or another name`,
    );
  }
}

/**
 * The commands that run the generated test from `cwd`: the folder to enter,
 * the packages it imports (uvu; tsx runs TypeScript in Node; the library
 * itself unless it is imported from a checkout), and the run in each runtime.
 */
function testInstructions(cwd: string, outDir: string, testFile: string, library: string): string {
  const where = relative(cwd, outDir);
  const folder = where === "" ? [] : [`  cd ${shellWord(where.startsWith("..") ? outDir : where)}`];
  const needs = library === PACKAGE_NAME ? [`  npm install ${PACKAGE_NAME}`] : [];
  return [
    "Run its test:",
    ...folder,
    ...needs,
    "  npm install --save-dev uvu tsx",
    `  npx tsx ${testFile}`,
    `(or, with uvu installed: deno run -A ${testFile}, or bun ${testFile})`,
    "",
  ].join("\n");
}

/** `text` as one word for a POSIX shell. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function oneOf(option: string, value: string, allowed: string[]): string {
  if (allowed.includes(value)) return value;
  const list = allowed.map((a) => `"${a}"`).join(", ");
  throw new UsageError(`Invalid ${option} ${JSON.stringify(value)}: expected one of ${list}`);
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        template: { type: "string" },
        route: { type: "string" },
        out: { type: "string" },
        import: { type: "string" },
      },
    });
  } catch (error) {
    throw usageErrorOf(error);
  }
}
