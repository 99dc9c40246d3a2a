/**
 * Every `db-router` subcommand, in the order `--help` lists them.
 *
 * @module
 */
import type { Command } from "../command.ts";

/** The subcommands; add a new one here and in its own file. */
export const COMMANDS: readonly Command[] = [];
