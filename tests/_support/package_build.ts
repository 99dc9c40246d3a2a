/**
 * The npm package as users get it, for the tests and benchmarks that need it:
 * `dist/` (built by `npm run build`, which `npm pack` runs as `prepack`) and a
 * consumer project outside the repository that installed the packed tarball.
 *
 * Both are rebuilt only when a file they are made from changed since the last
 * build, so the package tests under Node, Deno and Bun share one build.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./spawn.ts";

/** What `dist/` and the tarball are made from. */
const SOURCES = [
  "mod.ts",
  "src",
  "wasm",
  "package.json",
  "package-lock.json",
  "config/tsconfig.json",
  "config/tsconfig.cli.json",
  "config/bundle.mjs",
  "README.md",
  "LICENSE",
  "examples/pre-commit",
];

/** The newest modification time (ms) of `path`, a file or a folder's files. */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

function sourcesChangedSince(artifact: string): boolean {
  if (!existsSync(artifact)) return true;
  const built = statSync(artifact).mtimeMs;
  return SOURCES.some((source) => newest(join(ROOT, source)) > built);
}

/** Where this checkout's consumer project lives: outside it, so nothing resolves from its node_modules. */
export const CONSUMER_HOME: string = join(
  tmpdir(),
  `db-router-consumer-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}`,
);

/** The consumer project: a package.json and node_modules with the tarball installed. */
export const CONSUMER: string = join(CONSUMER_HOME, "app");

const TARBALL_DIR = join(CONSUMER_HOME, "pack");
const INSTALLED_MARK = join(CONSUMER, ".installed");

/** Runs `npm run build` when `dist/` is missing or older than its sources. */
export function ensureBuilt(): void {
  if (!sourcesChangedSince(join(ROOT, "dist", "mod.js"))) return;
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "pipe", timeout: 300_000 });
}

/**
 * Packs the package (which builds `dist/` through `prepack`) and installs the
 * tarball into an empty project in {@linkcode CONSUMER}, when either is older
 * than the sources. Only the registry's dependencies are fetched (from npm's
 * cache when they are there); optional peers are not installed, as for users.
 */
export function ensureConsumer(): string {
  if (!sourcesChangedSince(INSTALLED_MARK)) return CONSUMER;
  rmSync(CONSUMER_HOME, { recursive: true, force: true });
  mkdirSync(TARBALL_DIR, { recursive: true });
  mkdirSync(CONSUMER, { recursive: true });
  const packed = execFileSync(
    "npm",
    ["pack", "--json", "--pack-destination", TARBALL_DIR],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 },
  );
  const [{ filename }] = JSON.parse(packed.slice(packed.indexOf("["))) as [{ filename: string }];
  writeFileSync(
    join(CONSUMER, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  execFileSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", join(TARBALL_DIR, filename)],
    { cwd: CONSUMER, stdio: "pipe", timeout: 300_000 },
  );
  writeFileSync(INSTALLED_MARK, filename);
  return CONSUMER;
}
