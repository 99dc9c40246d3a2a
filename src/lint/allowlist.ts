/**
 * The one list of files allowed to use sql.js directly, for the
 * `db-router/no-direct-database` lint rule and `db-router check` alike.
 *
 * Everything else must take its database from the router
 * (`router.getConnection(table)`), so that table placement, scope and auditing
 * stay in one place. Adding an entry is a reviewed change: give the reason.
 *
 * Entries are globs (see `glob.ts`) relative to the root of the db-router
 * package, and apply only there: in another project, a `src/engine/` folder
 * earns no exception. Other projects list their own exceptions with
 * `db-router check --allow GLOB`, in their pre-commit hook.
 *
 * @module
 */
import { matchesGlob } from "./glob.ts";

/** One file or folder allowed to use sql.js directly, and why. */
export interface AllowlistEntry {
  /** A glob relative to the package root, such as `src/engine/**`. */
  readonly glob: string;
  /** Why the router cannot be used there. */
  readonly reason: string;
}

/** The package whose files the {@linkcode ALLOWLIST} covers. */
export const ALLOWLIST_PACKAGE = "db-router";

/**
 * Files of this package that may load sql.js or open its databases.
 *
 * @example
 * ```ts
 * import { ALLOWLIST } from "./allowlist.ts";
 * ALLOWLIST.map((entry) => entry.glob).includes("wasm/mod.ts"); // true
 * ```
 */
export const ALLOWLIST: readonly AllowlistEntry[] = Object.freeze([
  { glob: "wasm/mod.ts", reason: "loads sql.js and its wasm binary for the engine" },
  { glob: "src/engine/**", reason: "the engine owns every sql.js database" },
  {
    glob: "src/cli/new/templates/**",
    reason: "the scaffolding templates, as the spec allowlists its scaffolding scripts",
  },
  {
    glob: "examples/cloudflare-worker/index.js",
    reason:
      "a Worker entry must import sql.js's wasm binary as a module (setWasmModule); it opens no database",
  },
  {
    glob: "tests/_support/**",
    reason: "test drivers that check SQL on a bare sql.js database, and benchmarks",
  },
  {
    glob: "tests/connection.test.ts",
    reason: "compares Connection results with a bare sql.js database",
  },
  {
    glob: "tests/persist_capture.test.ts",
    reason: "probes the page capture on bare sql.js builds (1.16, 1.17, the debug build)",
  },
  {
    glob: "tests/watch_update_hook.test.ts",
    reason: "registers the recorder's update hook on bare sql.js builds (1.16, 1.17)",
  },
  {
    glob: "tests/storage_file.test.ts",
    reason: "reopens stored files with a bare sql.js database",
  },
]);

/**
 * Whether `relativePath` (from its package root, `/`-separated) may use sql.js
 * directly: it matches the {@linkcode ALLOWLIST} inside the db-router package,
 * or one of the `extra` globs (`db-router check --allow`) anywhere.
 *
 * @example
 * ```ts
 * import { isAllowlisted } from "./allowlist.ts";
 * isAllowlisted("src/engine/database.ts", "db-router"); // true
 * isAllowlisted("src/engine/database.ts", "my-app"); // false
 * isAllowlisted("scripts/migrate.ts", "my-app", ["scripts/*.ts"]); // true
 * ```
 */
export function isAllowlisted(
  relativePath: string,
  packageName: string | undefined,
  extra: readonly string[] = [],
): boolean {
  if (extra.some((glob) => matchesGlob(relativePath, glob))) return true;
  if (packageName !== ALLOWLIST_PACKAGE) return false;
  return ALLOWLIST.some((entry) => matchesGlob(relativePath, entry.glob));
}
