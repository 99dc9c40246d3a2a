/**
 * The {@linkcode Host} for browsers and other runtimes without a file system:
 * no environment, no working directory, memory storage by default.
 *
 * @module
 */
import type { Host } from "../host.ts";
import { memoryStorage } from "../memory.ts";
import type { StorageAdapter } from "../types.ts";

/** The browser host. */
export function browserHost(): Host {
  let storage: StorageAdapter | undefined;
  return {
    runtime: "browser",
    env: () => undefined,
    cwd: () => undefined,
    defaultStorage: () => storage ??= memoryStorage(),
  };
}
