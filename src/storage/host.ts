/**
 * What the core needs from the runtime that hosts it, beyond storage:
 * environment variables, the working directory and small synchronous file
 * reads (the routing configuration is merged on import). Each runtime's
 * implementation lives in `src/storage/<runtime>/host.ts`.
 *
 * @module
 */
import type { StorageAdapter } from "./types.ts";

/** The runtime services the core may use. */
export interface Host {
  /** For messages and benchmarks only; the core never branches on it. */
  readonly runtime: "node" | "deno" | "bun" | "browser";
  /**
   * Reads an environment variable. Returns `undefined` when it is unset, or
   * when the runtime denies access (Deno without `--allow-env`).
   */
  env(name: string): string | undefined;
  /** The working directory, or `undefined` where there is none (browsers). */
  cwd(): string | undefined;
  /**
   * Reads a UTF-8 file synchronously. Returns `undefined` when the file does
   * not exist (or, with `optional`, cannot be read for lack of permission);
   * throws for any other failure.
   */
  readTextFileSync?(path: string, options?: { optional?: boolean }): string | undefined;
  /** The storage that routers use when none is given. */
  defaultStorage(): StorageAdapter;
}
