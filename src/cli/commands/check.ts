/**
 * `db-router check [paths...]`: the `no-direct-database` lint rule for
 * projects that do not run `deno lint`, for a pre-commit hook or CI.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { type Command, type CommandIO, usageErrorOf } from "../command.ts";
import { importOptional } from "../../optional.ts";

const USAGE = `Usage: db-router check [options] [files or folders...]

Reports direct use of sql.js outside the router: imports of "sql.js" (static,
dynamic, require, re-exports), initSqlJs() calls and new SQL.Database(). Code
should take its connections from router.getConnection(table) instead.

Prints one "file:line:column message" line per offence. Checks .ts, .tsx, .mts,
.cts, .js, .jsx, .mjs and .cjs files (not .d.ts); folders are walked without
following links, skipping node_modules, dist and dot-folders. With no paths,
checks the current directory.

Options:
  --allow GLOB  also allow files matching GLOB (relative to the project root,
                the nearest folder with a package.json or deno.json), e.g.
                --allow "scripts/migrate_*.ts"; repeatable
  -h, --help    show this help

Needs the package @babel/parser (an optional peer dependency of db-router:
npm install --save-dev @babel/parser).

Exit status: 0 when clean; 1 when there are offences, or a file cannot be read
or parsed (reported like an offence), or @babel/parser is missing; 2 on bad usage (unknown option, a path
that does not exist, a named file that is not JavaScript or TypeScript).

The files of db-router itself that may use sql.js are listed in its
src/lint/allowlist.ts.
`;

/** The `check` subcommand. */
export const checkCommand: Command = {
  name: "check",
  summary: "report direct sql.js database use outside the router (for pre-commit hooks)",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { values, positionals } = parse(args);
    // @babel/parser is an optional peer dependency: only this command needs it.
    await importOptional({
      name: "@babel/parser",
      range: "^7.29.15",
      purpose: "check files",
    });
    const { formatFinding } = await import("../check/check_source.ts");
    const { runCheck } = await import("../check/run.ts");
    const report = runCheck(positionals, {
      cwd: process.cwd(),
      allow: values.allow ?? [],
    });
    for (const finding of report.findings) io.out(`${formatFinding(finding)}\n`);
    const files = `${report.checked} file${report.checked === 1 ? "" : "s"} checked`;
    const allowed = report.allowed > 0 ? `, ${report.allowed} allowlisted` : "";
    const problems = report.findings.length;
    io.err(
      problems === 0
        ? `db-router check: ${files}${allowed}, no direct database access\n`
        : `db-router check: ${problems} problem${problems === 1 ? "" : "s"} (${files}${allowed})\n`,
    );
    return problems === 0 ? 0 : 1;
  },
};

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { allow: { type: "string", multiple: true } },
    });
  } catch (error) {
    throw usageErrorOf(error);
  }
}
