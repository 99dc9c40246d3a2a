/**
 * The shape of a `db-router` subcommand. Each lives in its own file under
 * `commands/` and is listed once in `commands/mod.ts`.
 *
 * The CLI is an entry point, not library code: it may use `node:*` modules,
 * which Node, Deno and Bun all provide.
 *
 * @module
 */

/** Where a command writes, so tests can capture it. */
export interface CommandIO {
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** Whether standard error is a terminal (for progress display). */
  readonly interactive: boolean;
}

/** One subcommand. */
export interface Command {
  /** The word after `db-router`. */
  readonly name: string;
  /** One line for `db-router --help`. */
  readonly summary: string;
  /** The full text of `db-router <name> --help`. */
  readonly usage: string;
  /** Runs with the arguments after the name; resolves to the exit code. */
  run(args: string[], io: CommandIO): Promise<number>;
}

/**
 * Exit codes, the same for every command:
 * - 0: done (for `check`: no offence; for `analyze --verify`: the chains hold);
 * - 1: the command ran and failed, or found problems (offences, a broken
 *   chain, an unreadable file, a database or queue it could not use, an
 *   optional package it needs that is not installed);
 * - 2: bad usage (unknown command or option, missing or bad argument).
 */
export const EXIT_USAGE = 2;

/** An error in how the command was called: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  /** Whether to print the command's full usage after the message (an unknown option). */
  readonly showUsage: boolean;

  /** Creates the error with a message in the library's style. */
  constructor(message: string, options: { showUsage?: boolean } = {}) {
    super(message);
    this.name = "UsageError";
    this.showUsage = options.showUsage ?? false;
  }
}

/**
 * The `UsageError` for an error of `parseArgs` from `node:util`: an unknown
 * option shows the command's usage with it.
 *
 * @example
 * ```ts
 * import { parseArgs } from "node:util";
 * import { usageErrorOf } from "./command.ts";
 * try {
 *   parseArgs({ args: ["--bogus"], options: {} });
 * } catch (error) {
 *   usageErrorOf(error).showUsage; // true
 * }
 * ```
 */
export function usageErrorOf(error: unknown): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return new UsageError(message, { showUsage: code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" });
}
