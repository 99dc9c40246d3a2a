/**
 * Runs every `tests/*.test.ts` file in this runtime with uvu, in one process.
 *
 * Usage: `<runtime> tests/_support/suite.ts [filter...]` where each filter is a
 * substring of a test file name. The orchestrator (`run_all.ts`) starts this
 * file under Node, Deno and Bun and reads uvu's totals from its output.
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const testsDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const filters = process.argv.slice(2);
const files = readdirSync(testsDir)
  .filter((name) => name.endsWith(".test.ts"))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

const state = globalThis as { UVU_DEFER?: number; UVU_INDEX?: number; UVU_QUEUE?: unknown[][] };
state.UVU_DEFER = 1;
const uvu = await import("uvu");
for (const [index, file] of files.entries()) {
  state.UVU_INDEX = index;
  state.UVU_QUEUE!.push([file]);
  await import(`../${file}`);
}
await uvu.exec(false);
