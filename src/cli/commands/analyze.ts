/**
 * `db-router analyze <audit.log>`: the specification's summary of an audit
 * log, by menace, table and operation, by menace and table, and the menaces
 * that write to shared tables; `--verify` checks the `prev_hash` chains.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatReport } from "../analyze/format.ts";
import { scanAuditLog } from "../analyze/scan.ts";
import { type Command, type CommandIO, UsageError, usageErrorOf } from "../command.ts";

const USAGE = `Usage: db-router analyze [--json] [--verify] [--top N] [--log NAME] <audit log>

Summarises an audit log (DB_ROUTER_AUDIT_LOG) in three blocks, each sorted by
count, then by name:
  1. accesses by menace, table and operation;
  2. accesses by menace and table;
  3. top shared-table writers: write operations (write, queue, insert,
     update, delete, upsert, replace, create, alter, drop, truncate) on the tables
     that are shared as this process loads the routing: the built-in sets,
     config/db_router_tables.json or DB_ROUTER_CONFIG, DB_ROUTER_*_TABLES.
The log is streamed: its size does not matter. A log that rotated is read
as one: <audit.log>.000001, <audit.log>.000002, ... then <audit.log>. Lines
that are not audit lines are skipped and counted on standard error.

An audit log kept in the shared database (the _dbrouter_audit table: auditLog
"shared:<name>", or a Worker's default) is read, in commit order, from:
  a libSQL URL      file:, libsql:, http(s):, ws(s): (token from
                    DB_ROUTER_SHARED_AUTH_TOKEN)
  a SQLite file     the sql.js shared database (its page log included)
  a D1 export       the .sql file of \`wrangler d1 export\` (its rows are parsed,
                    never run)
There, a line's number in messages is its seq.

Options:
  --json      print {files, records, malformed, byOperation, byTable, topSharedWriters, verify?}
  --verify    check the prev_hash chains: report edited, removed or torn lines,
              and that each rotated file continues the one before it; say
              where files removed by the rotation's keepFiles end
  --top N     writers to list (default 10; 0 lists all)
  --log NAME  of a table, only the lines of that audit log name (default: all)
  -h, --help  show this help

Exit status: 0; 1 when the log cannot be read or --verify finds a problem;
2 on bad usage.
`;

/** The `analyze` subcommand. */
export const analyzeCommand: Command = {
  name: "analyze",
  summary: "summarise an audit log by menace, table and operation; --verify checks its chains",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { values, positionals } = parse(args);
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0 ? "Missing the audit log's path" : "Expected one audit log",
      );
    }
    const top = values.top === undefined ? 10 : Number(values.top);
    if (!Number.isInteger(top) || top < 0) {
      throw new UsageError(`Invalid --top "${values.top}": expected a whole number, 0 or more`);
    }
    // Imported here: importing the library loads the routing config, which
    // decides which tables are shared, and a bad config must not break --help.
    const { SHARED_TABLES } = await import("../../../mod.ts");
    const result = await scanAuditLog(positionals[0], { verify: values.verify, log: values.log });
    const report = result.summary.report((table) => SHARED_TABLES.has(table), top);
    if (result.malformed > 0) {
      io.err(
        `db-router analyze: skipped ${result.malformed} malformed line${
          result.malformed === 1 ? "" : "s"
        } (the first is line ${result.firstMalformed}${
          result.files.length > 1 ? ` of ${result.firstMalformedFile}` : ""
        })\n`,
      );
    }
    const verify = result.verify;
    if (values.json) {
      const { files, records, malformed } = result;
      io.out(`${JSON.stringify({ files, records, malformed, ...report, verify }, null, 2)}\n`);
    } else {
      io.out(formatReport(report));
      if (verify) {
        const files = result.files.length > 1 ? ` of ${result.files.length} files` : "";
        io.out(
          verify.problemCount === 0
            ? `\nIntegrity: ok, ${result.records} lines${files} in ${verify.chains} writer chain${
              verify.chains === 1 ? "" : "s"
            }\n`
            : `\nIntegrity: FAILED, ${verify.problemCount} problems in ${
              result.records + result.malformed
            } lines${files}\n`,
        );
        const removed = verify.removedPrefix;
        if (removed) {
          io.out(
            `Removed prefix: the log begins at ${removed.firstFile}, which continues ${removed.continues} ` +
              `(removed); ${removed.continuedChains} chain${
                removed.continuedChains === 1 ? "" : "s"
              } continue from the removed files\n`,
          );
        }
      }
    }
    if (!verify || verify.problemCount === 0) return 0;
    for (const problem of verify.problems) {
      const file = problem.file === undefined ? "" : `${problem.file} `;
      io.err(`${file}line ${problem.line}: ${problem.message}\n`);
    }
    const more = verify.problemCount - verify.problems.length;
    if (more > 0) io.err(`... and ${more} more\n`);
    return 1;
  },
};

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        verify: { type: "boolean", default: false },
        top: { type: "string" },
        log: { type: "string" },
      },
    });
  } catch (error) {
    throw usageErrorOf(error);
  }
}
