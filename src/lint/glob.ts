/**
 * The small glob dialect of the allowlist: `**` for any run of folders, `*`
 * for any characters within one path segment, `?` for one such character.
 * Paths use `/` whatever the platform.
 *
 * Written here rather than taken from a package: the dialect is three rules,
 * and the lint plugin and `db-router check` must match exactly alike in Deno,
 * Node and Bun (`path.matchesGlob` is missing or experimental in some of them).
 *
 * @module
 */

/**
 * Compiles `glob` into an anchored regular expression.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./glob.ts";
 * globToRegExp("src/engine/**").test("src/engine/sub/database.ts"); // true
 * globToRegExp("tests/*.test.ts").test("tests/sub/a.test.ts"); // false
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*" && glob[i + 1] === "*") {
      // "**/" is zero or more whole folders; a final "**" is everything below.
      const folders = glob[i + 2] === "/";
      source += folders ? "(?:[^/]*/)*" : ".*";
      i += folders ? 2 : 1;
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether the `/`-separated relative `path` matches `glob`.
 *
 * @example
 * ```ts
 * import { matchesGlob } from "./glob.ts";
 * matchesGlob("wasm/mod.ts", "wasm/mod.ts"); // true
 * ```
 */
export function matchesGlob(path: string, glob: string): boolean {
  return globToRegExp(glob).test(path);
}
