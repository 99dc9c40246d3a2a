/**
 * Runs the `db-router` CLI in-process and captures what it prints, and gives
 * the path of its executable for child-process runs.
 *
 * @module
 */
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { ROOT } from "./spawn.ts";

/** The CLI's executable, for `runScript(CLI_BIN, { args })`. */
export const CLI_BIN: string = join(ROOT, "src", "cli", "bin.ts");

/** What one in-process run printed, and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `db-router <argv...>` in this process. */
export async function runCli(argv: string[]): Promise<CliRun> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (text) => (out += text),
    err: (text) => (err += text),
    interactive: false,
  });
  return { code, out, err };
}
