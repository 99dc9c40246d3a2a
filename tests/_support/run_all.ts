/**
 * `npm test`: every test file under Node, Deno and Bun (uvu), then `deno lint`,
 * `deno fmt --check`, the type checks, `deno doc --lint` and `deno publish --dry-run`. The last line is `N passed, N failed`,
 * where each uvu test counts once per runtime and each check counts once.
 *
 * Flags: `--runtime node|deno|bun` (repeatable) runs only those runtimes,
 * `--no-checks` skips lint/format/type checks, other arguments filter test files.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runtime: { type: "string", multiple: true },
    "no-checks": { type: "boolean", default: false },
  },
});

interface Outcome {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Exports whose public API is a host library's interface (Kysely's `Dialect`, Drizzle's
 * database): `deno doc --lint` would want every type of that library's graph re-exported
 * (hundreds), so they are left out of it. `deno publish --dry-run` still checks them.
 */
const DOC_LINT_EXEMPT = new Set(["./kysely", "./drizzle"]);

/** The modules that deno.json exports (JSR's entry points), but those exempt from doc lint. */
const DENO_ENTRY_POINTS = Object.entries(
  JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports as Record<string, string>,
).filter(([subpath]) => !DOC_LINT_EXEMPT.has(subpath)).map(([, path]) => path);

const suiteArgs = ["tests/_support/suite.ts", ...positionals];
const runtimes: Record<string, string[]> = {
  node: [process.execPath, "--import", "tsx", ...suiteArgs],
  deno: [bin("deno"), "run", "--allow-all", ...suiteArgs],
  bun: [bin("bun"), ...suiteArgs],
};
const checks: Record<string, string[]> = {
  "deno lint": [bin("deno"), "lint"],
  "deno fmt --check": [bin("deno"), "fmt", "--check"],
  // --doc also type-checks the examples in doc comments, so they stay true.
  "deno check --doc": [bin("deno"), "check", "--doc", "mod.ts", "src", "wasm", "tests", "examples"],
  // Every entry point of deno.json's exports: JSR's documentation rules.
  "deno doc --lint": [bin("deno"), "doc", "--lint", ...DENO_ENTRY_POINTS],
  // What JSR would check on publish (slow types, excluded files), without publishing; it
  // resolves npm: imports from node_modules, so it needs no network.
  "deno publish --dry-run": [bin("deno"), "publish", "--dry-run", "--allow-dirty"],
  "tsc --noEmit": [bin("tsc"), "--noEmit", "-p", "config/tsconfig.json"],
  "tsc --noEmit (cli)": [bin("tsc"), "--noEmit", "-p", "config/tsconfig.cli.json"],
};

function run(
  command: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk) => {
      out += chunk;
      process.stderr.write(chunk);
    });
    child.on("error", (error) => resolve({ code: 127, out: String(error) }));
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

function total(out: string, label: string): number | undefined {
  // uvu colours its numbers; strip ANSI escapes before reading them.
  // deno-lint-ignore no-control-regex
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const match = new RegExp(`${label}:\\s+(\\d+)`).exec(plain);
  return match ? Number(match[1]) : undefined;
}

const outcomes: Outcome[] = [];
const selected = values.runtime ?? Object.keys(runtimes);
for (const name of selected) {
  const command = runtimes[name];
  if (!command) throw new TypeError(`Cannot run tests: unknown runtime "${name}"`);
  console.log(`\n=== tests under ${name} ===`);
  const { code, out } = await run(command, { DB_ROUTER_TEST_RUNTIME: name, FORCE_COLOR: "0" });
  const all = total(out, "Total");
  const passed = total(out, "Passed");
  const skipped = total(out, "Skipped") ?? 0;
  if (all === undefined || passed === undefined) {
    outcomes.push({ name, passed: 0, failed: 1, skipped: 0 });
    console.log(`${name}: the suite did not finish (exit code ${code})`);
    continue;
  }
  // A suite that printed its totals but exited non-zero still failed somewhere.
  const failed = all - passed - skipped || (code === 0 ? 0 : 1);
  outcomes.push({ name, passed, failed, skipped });
}

if (!values["no-checks"]) {
  for (const [name, command] of Object.entries(checks)) {
    console.log(`\n=== ${name} ===`);
    const { code } = await run(command);
    outcomes.push({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 });
  }
}

console.log("\n=== summary ===");
for (const o of outcomes) {
  const skip = o.skipped ? `, ${o.skipped} skipped` : "";
  console.log(`${o.name}: ${o.passed} passed, ${o.failed} failed${skip}`);
}
const passed = outcomes.reduce((sum, o) => sum + o.passed, 0);
const failed = outcomes.reduce((sum, o) => sum + o.failed, 0);
const skipped = outcomes.reduce((sum, o) => sum + o.skipped, 0);
// A skipped test is not a pass: count it as a failure so that it cannot hide.
console.log(`${passed} passed, ${failed + skipped} failed`);
process.exitCode = failed + skipped === 0 ? 0 : 1;
