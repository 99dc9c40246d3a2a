/**
 * Every `db-router` subcommand, in the order `--help` lists them.
 *
 * @module
 */
import type { Command } from "../command.ts";
import { analyzeCommand } from "./analyze.ts";
import { checkCommand } from "./check.ts";
import { foldCommand } from "./fold.ts";
import { migrateCommand } from "./migrate.ts";
import { newCommand } from "./new.ts";
import { syncCommand } from "./sync.ts";
import { tablesCommand } from "./tables.ts";

/** The subcommands; add a new one here and in its own file. */
export const COMMANDS: readonly Command[] = [
  analyzeCommand,
  checkCommand,
  foldCommand,
  migrateCommand,
  newCommand,
  syncCommand,
  tablesCommand,
];
