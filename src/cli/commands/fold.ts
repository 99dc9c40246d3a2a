/**
 * `db-router fold FILE...`: folds each database's page log into the file
 * itself, under the write lock routers take, so that other SQLite programs
 * (the `sqlite3` shell, scripts) read every commit. Safe while routers run.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { StorageAdapter } from "../../storage/types.ts";
import { type Command, type CommandIO, UsageError, usageErrorOf } from "../command.ts";

const USAGE = `Usage: db-router fold FILE...

Folds the page log of each database FILE (FILE-dbrlog, the commits routers
made since the last fold) into FILE itself, under the same write lock that
routers take, so that other SQLite programs (the sqlite3 shell, scripts) that
open FILE afterwards read every commit. Safe while routers run: they take the
fold as a commit by another process. A program that kept FILE open across the
fold still reads the old file: open it again.

Options:
  -h, --help  show this help

Exit status: 0 when every file was folded or had nothing to fold; 1 when a
file is missing or cannot be folded (another program's WAL or hot journal
beside it, a file another program wrote while the log held commits, or the
write lock still held after 60 s), with the reason; 2 on bad usage.
`;

/** The `fold` subcommand. */
export const foldCommand: Command = {
  name: "fold",
  summary: "fold a database's page log into its file, for other SQLite programs",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const files = parse(args);
    const { getHost } = await import("../../storage/detect.ts");
    const storage = getHost().defaultStorage();
    let failed = 0;
    for (const file of files) {
      try {
        io.out(`${await foldOne(storage, file)}\n`);
      } catch (error) {
        failed++;
        io.err(`db-router fold: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    return failed === 0 ? 0 : 1;
  },
};

/** Folds one database; resolves to the line that says what happened. */
async function foldOne(storage: StorageAdapter, file: string): Promise<string> {
  const key = storage.resolve(file);
  if (!existsSync(key)) throw new Error(`Cannot fold "${key}": no such database file`);
  const db = await storage.open(key);
  const release = await db.lock();
  try {
    await db.compact();
  } finally {
    await release();
  }
  const { compactions, bytesWritten } = db.stats();
  return compactions > 0
    ? `${key}: folded (${bytesWritten} bytes written)`
    : `${key}: nothing to fold`;
}

function parse(args: string[]): string[] {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageErrorOf(error);
  }
  if (parsed.positionals.length === 0) throw new UsageError("fold needs at least one FILE");
  return parsed.positionals;
}
