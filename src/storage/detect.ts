/**
 * The runtime entry point: the one place that looks at runtime globals to pick
 * the {@linkcode Host}. Everything else asks the host.
 *
 * @module
 */
import { browserHost } from "./browser/host.ts";
import { bunHost } from "./bun/host.ts";
import { denoHost } from "./deno/host.ts";
import type { Host } from "./host.ts";
import { nodeHost } from "./node/host.ts";

let current: Host | undefined;

/**
 * Returns this process's host: Deno, Bun, Node (20.16 or later, for
 * `process.getBuiltinModule`), or the browser host for anything else.
 *
 * @example
 * ```ts
 * import { getHost } from "./detect.ts";
 * getHost().env("HOME");
 * ```
 */
export function getHost(): Host {
  return current ??= detect();
}

function detect(): Host {
  const g = globalThis as {
    Deno?: { version?: { deno?: string } };
    Bun?: { version?: string };
    process?: { versions?: { node?: string }; getBuiltinModule?: unknown };
  };
  if (g.Deno?.version?.deno) return denoHost();
  if (g.Bun?.version) return bunHost();
  if (g.process?.versions?.node && typeof g.process.getBuiltinModule === "function") {
    return nodeHost();
  }
  return browserHost();
}
