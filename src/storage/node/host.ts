/**
 * The {@linkcode Host} for Node.js: `process.env`, `process.cwd()`, and
 * `node:fs` reached through `process.getBuiltinModule` so that nothing here is
 * imported statically (browser bundles of the library stay free of `node:`).
 *
 * @module
 */
import type { Host } from "../host.ts";
import type { StorageAdapter } from "../types.ts";
import { nodeFileStorage } from "./fs.ts";

/** The part of Node's `process` this file uses. */
export interface NodeProcessLike {
  env: Record<string, string | undefined>;
  cwd(): string;
  getBuiltinModule(id: "node:fs"): { readFileSync(path: string, encoding: "utf8"): string };
}

/** Builds a host on `proc` (Node's or Bun's `process`) with `storage` as its default. */
export function processHost(
  runtime: "node" | "bun",
  proc: NodeProcessLike,
  makeStorage: () => StorageAdapter,
): Host {
  let storage: StorageAdapter | undefined;
  return {
    runtime,
    env: (name) => proc.env[name],
    cwd: () => proc.cwd(),
    readTextFileSync(path, options) {
      try {
        return proc.getBuiltinModule("node:fs").readFileSync(path, "utf8");
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "ENOENT") return undefined;
        if (options?.optional && (code === "EACCES" || code === "EPERM")) return undefined;
        throw error;
      }
    },
    // One adapter per process, so that routers naming the same file share it.
    defaultStorage: () => storage ??= makeStorage(),
  };
}

/** The Node.js host. */
export function nodeHost(): Host {
  const proc = (globalThis as unknown as { process: NodeProcessLike }).process;
  return processHost("node", proc, () => nodeFileStorage());
}
