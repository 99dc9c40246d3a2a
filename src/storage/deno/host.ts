/**
 * The {@linkcode Host} for Deno, on the `Deno` namespace. Without
 * `--allow-env`, environment overrides read as unset; without `--allow-read`,
 * the default config file reads as absent (a file named by `DB_ROUTER_CONFIG`
 * is an error instead, because it was asked for).
 *
 * @module
 */
import type { Host } from "../host.ts";
import type { StorageAdapter } from "../types.ts";
import { denoFileStorage } from "./fs.ts";

interface DenoLike {
  env: { get(name: string): string | undefined };
  cwd(): string;
  readTextFileSync(path: string): string;
  errors: {
    NotFound: new () => Error;
    PermissionDenied: new () => Error;
    NotCapable?: new () => Error;
  };
}

/** The Deno host. */
export function denoHost(): Host {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  const denied = (error: unknown) =>
    error instanceof deno.errors.PermissionDenied ||
    (deno.errors.NotCapable !== undefined && error instanceof deno.errors.NotCapable);
  let storage: StorageAdapter | undefined;
  return {
    runtime: "deno",
    env(name) {
      try {
        return deno.env.get(name);
      } catch (error) {
        if (denied(error)) return undefined;
        throw error;
      }
    },
    cwd() {
      try {
        return deno.cwd();
      } catch (error) {
        if (denied(error)) return undefined;
        throw error;
      }
    },
    readTextFileSync(path, options) {
      if (options?.optional && missing(path)) return undefined;
      try {
        return deno.readTextFileSync(path);
      } catch (error) {
        if (error instanceof deno.errors.NotFound) return undefined;
        if (options?.optional && denied(error)) return undefined;
        throw error;
      }
    },
    defaultStorage: () => storage ??= denoFileStorage(),
  };
}

/**
 * Whether `path` is known to be missing, found without an exception (false
 * when that cannot be told). Deno's own file functions throw for a missing
 * file, and the optional config file is read while the library is being
 * imported: an exception raised then, with the whole of a bundle such as
 * `dist/mod.js` on the stack, makes V8 parse that bundle again for the
 * stack trace's positions (about 6 ms of a cold start). Node's `existsSync`
 * throws nothing, and costs nothing more: sql.js loads `node:fs` when it starts.
 */
function missing(path: string): boolean {
  const process = (globalThis as {
    process?: { getBuiltinModule?(id: "node:fs"): { existsSync(path: string): boolean } };
  }).process;
  return process?.getBuiltinModule?.("node:fs").existsSync(path) === false;
}
