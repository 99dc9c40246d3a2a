/**
 * A new file-storage adapter for the runtime under test. Routers on a new
 * adapter instance do not share the process's in-memory copy, so they read
 * what is really on disk.
 *
 * @module
 */
import { bunFileStorage } from "../../src/storage/bun/fs.ts";
import { denoFileStorage } from "../../src/storage/deno/fs.ts";
import { nodeFileStorage } from "../../src/storage/node/fs.ts";
import type { StorageAdapter } from "../../src/storage/types.ts";
import { currentRuntime } from "./spawn.ts";

/** The native file storage of the current runtime, as a fresh instance. */
export function freshFileStorage(): StorageAdapter {
  switch (currentRuntime()) {
    case "deno":
      return denoFileStorage();
    case "bun":
      return bunFileStorage();
    default:
      return nodeFileStorage();
  }
}
