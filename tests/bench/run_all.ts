/**
 * `npm run bench`: runs every `tests/bench/*.bench.ts` file under Node, Deno
 * and Bun, one process per file and runtime, and prints their tables. Not part
 * of `npm test`: speed and memory targets are checked here, never by timed tests.
 *
 * Flags: `--runtime node|deno|bun` (repeatable); other arguments filter files.
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Runtime, runtimeCommand } from "../_support/spawn.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runtime: { type: "string", multiple: true } },
});
const runtimes = (values.runtime ?? ["node", "deno", "bun"]) as Runtime[];
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => positionals.length === 0 || positionals.some((p) => f.includes(p)))
  .sort();

let failures = 0;
for (const file of files) {
  for (const runtime of runtimes) {
    console.log(`\n### ${file} under ${runtime}\n`);
    const [command, ...args] = runtimeCommand(runtime, join(here, file));
    const result = spawnSync(command, args, {
      stdio: "inherit",
      env: { ...process.env, DB_ROUTER_TEST_RUNTIME: runtime },
    });
    if (result.status !== 0) {
      failures++;
      console.log(`${file} under ${runtime} failed (exit ${result.status ?? result.signal})`);
    }
  }
}
process.exitCode = failures === 0 ? 0 : 1;
