/**
 * The {@linkcode Host} for Bun: Node's `process` API, which Bun implements,
 * with Bun's own file storage as the default.
 *
 * @module
 */
import type { Host } from "../host.ts";
import { type NodeProcessLike, processHost } from "../node/host.ts";
import { bunFileStorage } from "./fs.ts";

/** The Bun host. */
export function bunHost(): Host {
  const proc = (globalThis as unknown as { process: NodeProcessLike }).process;
  return processHost("bun", proc, () => bunFileStorage());
}
