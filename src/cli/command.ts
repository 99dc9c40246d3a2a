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

/** Exit code for bad usage (unknown flag, missing argument). */
export const EXIT_USAGE = 2;

/** An error in how the command was called: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  /** Creates the error with a message in the library's style. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
