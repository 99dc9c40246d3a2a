/**
 * A child for `storage_file_calls.test.ts`: registers exit hooks on Node's
 * file system, the second of which throws, and writes what ran to stdout.
 *
 * @module
 */
import { writeSync } from "node:fs";
import { nodeFileSystem } from "../../src/storage/node/fs.ts";

const fs = nodeFileSystem();
fs.onExit(() => void writeSync(1, "first\n"));
fs.onExit(() => {
  throw new Error("a hook that fails");
});
fs.onExit(() => void writeSync(1, "third\n"));
