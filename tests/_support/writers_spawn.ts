/**
 * Starts a test script as a child process of any runtime and follows its
 * output line by line, for the many-writers, crash and queue tests.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { ROOT, type Runtime, runtimeCommand } from "./spawn.ts";

/** The shared table of the many-writers tests and their child processes. */
export const BOTS_SCHEMA =
  "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, payload BLOB, source_menace_id TEXT)";

/** A running child process. */
export interface RunningChild {
  /** Resolves with the first stdout line that satisfies `match`. */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Every complete stdout line so far. */
  lines(): string[];
  /** Resolves when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: string | null; output: string }>;
  /** Sends `signal`. */
  kill(signal: "SIGKILL" | "SIGTERM"): void;
}

/**
 * Starts `script` (a path) under `runtime` with `args`.
 *
 * @example
 * ```ts ignore
 * const child = startChild("deno", "tests/_support/writers_child.ts", ["insert", ...]);
 * await child.waitFor((line) => line === "done");
 * ```
 */
export function startChild(
  runtime: Runtime,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): RunningChild {
  const [command, ...rest] = runtimeCommand(runtime, script, args);
  const child = spawn(command, rest, {
    cwd: ROOT,
    // The child's own runtime, not the one it inherits from this test process.
    env: { ...process.env, DB_ROUTER_TEST_RUNTIME: runtime, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let buffered = "";
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  child.stdout!.on("data", (chunk) => {
    output += chunk;
    buffered += chunk;
    for (let at = buffered.indexOf("\n"); at !== -1; at = buffered.indexOf("\n")) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      lines.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null; output: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, output })),
  );
  return {
    exited,
    lines: () => [...lines],
    kill: (signal) => child.kill(signal),
    waitFor(match, timeoutMs = 60_000) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(
            new Error(`No matching line from the ${runtime} child in ${timeoutMs} ms:\n${output}`),
          );
        }, timeoutMs);
        const listener = (line: string) => {
          if (!match(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        exited.then(() => {
          clearTimeout(timer);
          if (listeners.delete(listener)) {
            reject(new Error(`The ${runtime} child exited:\n${output}`));
          }
        });
      });
    },
  };
}

/** Waits until `time` (milliseconds since the epoch), so that children start together. */
export function untilTime(time: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}
