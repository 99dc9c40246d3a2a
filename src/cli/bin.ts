#!/usr/bin/env node
/**
 * The `db-router` executable: `npx db-router <command>`, `deno run -A
 * src/cli/bin.ts <command>` or `bun src/cli/bin.ts <command>`.
 *
 * @module
 */
import type { CommandIO } from "./command.ts";
import { main } from "./main.ts";

const proc = (globalThis as unknown as {
  process: {
    argv: string[];
    exitCode?: number;
    stdout: {
      write(s: string): void;
      on(event: "error", listener: (error: { code?: string }) => void): void;
    };
    stderr: { write(s: string): void; isTTY?: boolean };
  };
}).process;
// A reader that stops early (`db-router tables | head`) is not a failure of ours.
proc.stdout.on("error", (error) => {
  if (error.code !== "EPIPE") throw error;
});
const io: CommandIO = {
  out: (text) => proc.stdout.write(text),
  err: (text) => proc.stderr.write(text),
  interactive: proc.stderr.isTTY === true,
};
proc.exitCode = await main(proc.argv.slice(2), io);
