/**
 * The `db-router` command: `db-router <command> [options]`, one binary for
 * every subcommand. `bin.ts` is the executable; this file is importable, so
 * tests run the CLI in-process.
 *
 * `db-router --version` (`-V`) prints the version; `--help` (`-h`) the
 * commands. Exit codes, for every command ({@linkcode EXIT_USAGE}): 0 when
 * done, 1 when the command failed or found problems, 2 on bad usage (an
 * unknown command or option, printed with the usage).
 *
 * @module
 */
import { VERSION } from "../version.ts";
import { type Command, type CommandIO, EXIT_USAGE, UsageError } from "./command.ts";
import { COMMANDS } from "./commands/mod.ts";

/** Runs the CLI with `argv` (without the runtime and script) and returns the exit code. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    // Bad usage: the overview goes where errors go, as for an unknown command.
    io.err(overview());
    return EXIT_USAGE;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    io.out(overview());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    io.out(`db-router ${VERSION}\n`);
    return 0;
  }
  if (name.startsWith("-")) {
    io.err(`db-router: unknown option "${name}"\n\n${overview()}`);
    return EXIT_USAGE;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`db-router: unknown command "${name}"\n\n${overview()}`);
    return EXIT_USAGE;
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.out(command.usage.endsWith("\n") ? command.usage : `${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const usage = command.usage.endsWith("\n") ? command.usage : `${command.usage}\n`;
      io.err(
        error.showUsage
          ? `db-router ${name}: ${error.message}\n\n${usage}`
          : `db-router ${name}: ${error.message}\nRun "db-router ${name} --help" for usage.\n`,
      );
      return EXIT_USAGE;
    }
    io.err(`db-router ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function overview(): string {
  const width = Math.max(0, ...COMMANDS.map((c: Command) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: db-router <command> [options]\n\nCommands:\n${lines.join("\n")}\n\n` +
    `Options:\n  -h, --help     show this help\n  -V, --version  print the version\n\n` +
    `Run "db-router <command> --help" for a command's options.\n\n` +
    `Exit status: 0 when done; 1 when the command failed or found problems (each\n` +
    `command's help says which); 2 on bad usage (unknown command or option).\n`;
}
