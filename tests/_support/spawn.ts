/**
 * Starts TypeScript files as real child processes in a chosen runtime, for
 * tests of start-up configuration, many writers and crashes.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A runtime that can run the project's TypeScript. */
export type Runtime = "node" | "deno" | "bun";

/** tsx's loader by absolute URL, so children started in other folders still find it. */
const TSX_LOADER = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** The runtime these tests run in (set by the test runner; detected otherwise). */
export function currentRuntime(): Runtime {
  const named = process.env.DB_ROUTER_TEST_RUNTIME;
  if (named === "node" || named === "deno" || named === "bun") return named;
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno ? "deno" : g.Bun ? "bun" : "node";
}

/** The command line that runs `script` (a path) under `runtime`. */
export function runtimeCommand(runtime: Runtime, script: string, args: string[] = []): string[] {
  const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
  switch (runtime) {
    case "node":
      // Under Deno or Bun, process.execPath is their own binary: take node from PATH.
      return [
        currentRuntime() === "node" ? process.execPath : "node",
        "--import",
        TSX_LOADER,
        script,
        ...args,
      ];
    case "deno":
      return [bin("deno"), "run", "--allow-all", script, ...args];
    case "bun":
      return [bin("bun"), script, ...args];
  }
}

/** What a finished child process printed and how it ended. */
export interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runScript}. */
export interface RunOptions {
  runtime?: Runtime;
  args?: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Runs `script` to completion in a child process and collects its output. */
export function runScript(script: string, options: RunOptions = {}): Promise<ChildResult> {
  const [command, ...args] = runtimeCommand(
    options.runtime ?? currentRuntime(),
    script,
    options.args,
  );
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) {
    if (v !== undefined) env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

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
  /** The process id. */
  readonly pid: number;
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
    pid: child.pid!,
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
