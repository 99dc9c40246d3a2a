/**
 * How generated files import db-router.
 *
 * - Inside a checkout of db-router itself (the nearest `package.json` above
 *   the output folder is named `db-router` and has `mod.ts` beside it): a
 *   relative path to that `mod.ts`, so the files run from source in Node
 *   (tsx), Deno and Bun with no build, as this repository's own tests do.
 * - Anywhere else: the package name `"db-router"`, which resolves to the
 *   installed package in Node, Bun and Deno (with a `package.json` or
 *   `"nodeModulesDir"`). Deno projects without either pass
 *   `--import npm:db-router`.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

/**
 * The package name, and the import of generated files outside a checkout.
 *
 * @example
 * ```ts
 * import { PACKAGE_NAME } from "./library_import.ts";
 * PACKAGE_NAME; // "db-router"
 * ```
 */
export const PACKAGE_NAME = "db-router";

/**
 * The specifier that files written to the absolute folder `outDir` use to
 * import the library.
 *
 * @example
 * ```ts ignore
 * import { libraryImportFor } from "./library_import.ts";
 * libraryImportFor("/work/db-router/tests/artifacts/gen"); // "../../../mod.ts"
 * libraryImportFor("/home/me/app/src/db"); // "db-router"
 * ```
 */
export function libraryImportFor(outDir: string): string {
  for (let dir = outDir;; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      if (nameOf(manifest) === PACKAGE_NAME && existsSync(join(dir, "mod.ts"))) {
        const path = relative(outDir, join(dir, "mod.ts")).split(sep).join("/");
        return path.startsWith(".") ? path : `./${path}`;
      }
      return PACKAGE_NAME;
    }
    if (dirname(dir) === dir) return PACKAGE_NAME;
  }
}

function nameOf(manifest: string): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}
