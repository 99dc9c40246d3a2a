/**
 * Optional peer dependencies (`@libsql/client` for the libSQL backend,
 * `@babel/parser` for `db-router check`): imported when first needed, so
 * that an application that uses neither neither installs nor loads them.
 *
 * @module
 */
import { RouterError } from "./errors.ts";

/** An optional package: its name, the versions that work, and what needs it. */
export interface OptionalPackage {
  /** The npm name, such as `"@libsql/client"`. */
  readonly name: string;
  /** The semver range in package.json's `peerDependencies`. */
  readonly range: string;
  /** What fails without it, after "Cannot": `use the libSQL backend`. */
  readonly purpose: string;
}

/**
 * Imports `pkg` by a name that bundlers do not follow (a variable). Where the
 * bare name does not resolve, an `npm:` specifier is tried, which Deno
 * resolves for a project that did not map the name (a JSR install). Throws a
 * `RouterError` with code `PACKAGE_MISSING` that names the package to install
 * when neither resolves; any other import error is rethrown as it is.
 *
 * @example
 * ```ts ignore
 * import { importOptional } from "./optional.ts";
 * const { createClient } = await importOptional<typeof import("@libsql/client")>({
 *   name: "@libsql/client", range: "^0.18.0", purpose: "use the libSQL backend",
 * });
 * ```
 */
export async function importOptional<T>(pkg: OptionalPackage): Promise<T> {
  const name = pkg.name;
  try {
    return await import(name) as T;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    try {
      return await import(`npm:${name}@${pkg.range}`) as T;
    } catch {
      throw new RouterError(
        "PACKAGE_MISSING",
        `Cannot ${pkg.purpose}: the package "${name}" is not installed ` +
          `(install it: npm install ${name})`,
        { cause: error },
      );
    }
  }
}
