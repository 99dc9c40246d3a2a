/**
 * Parsing for `db-router check`, with @babel/parser.
 *
 * Why this parser: it is plain JavaScript with no native binary, so it runs
 * alike in Node, Deno and Bun (no `--allow-ffi`, no per-platform optional
 * dependency in the lockfile, as oxc-parser and swc need); it parses all of
 * TypeScript and JSX; its `estree` plugin yields the ESTree shapes of Deno's
 * lint AST, so one detector serves the lint plugin and this command; and it is
 * among the most used and maintained parsers on npm. typescript-estree, the
 * other ESTree option, needs the `typescript` 5 JavaScript API, which the
 * native TypeScript 7 that builds this project does not offer; acorn needs a
 * third-party TypeScript plugin; meriyah parses no TypeScript. Version 7 is
 * used because 8 requires Node 22, and this package supports Node 20.
 *
 * @module
 */
import { parse, type ParserPlugin } from "@babel/parser";
import type { AstNode } from "../../lint/ast.ts";

/** File extensions that `db-router check` reads, and how to parse each. */
const DIALECTS: Record<string, { plugins: ParserPlugin[]; script?: boolean }> = {
  ".ts": { plugins: ["typescript"] },
  ".mts": { plugins: ["typescript"] },
  ".cts": { plugins: ["typescript"], script: true },
  ".tsx": { plugins: ["typescript", "jsx"] },
  ".js": { plugins: ["jsx"], script: true },
  ".jsx": { plugins: ["jsx"], script: true },
  ".mjs": { plugins: [] },
  ".cjs": { plugins: [], script: true },
};

/**
 * The extensions {@linkcode parseSource} accepts.
 *
 * @example
 * ```ts
 * import { CHECKED_EXTENSIONS } from "./parse.ts";
 * CHECKED_EXTENSIONS.includes(".tsx"); // true
 * ```
 */
export const CHECKED_EXTENSIONS: readonly string[] = Object.freeze(Object.keys(DIALECTS));

/**
 * A file that is not valid JavaScript or TypeScript.
 *
 * @example
 * ```ts
 * import { parseSource, SourceSyntaxError } from "./parse.ts";
 * try {
 *   parseSource("const = ;", "a.ts");
 * } catch (error) {
 *   if (error instanceof SourceSyntaxError) error.column; // 7
 * }
 * ```
 */
export class SourceSyntaxError extends Error {
  /** 1-based line of the first error. */
  readonly line: number;
  /** 1-based column of the first error. */
  readonly column: number;

  /** Creates the error for `reason` at `line`:`column`. */
  constructor(reason: string, line: number, column: number) {
    super(reason);
    this.name = "SourceSyntaxError";
    this.line = line;
    this.column = column;
  }
}

/**
 * The extension of `path` that decides its dialect (`.d.ts` files are
 * declarations that run nothing, so they have none), or `undefined`.
 *
 * @example
 * ```ts
 * import { dialectOf } from "./parse.ts";
 * dialectOf("src/db.tsx"); // ".tsx"
 * dialectOf("types/sql.d.ts"); // undefined
 * ```
 */
export function dialectOf(path: string): string | undefined {
  if (/\.d\.[cm]?ts$/.test(path)) return undefined;
  const match = /\.[cm]?[jt]sx?$/.exec(path);
  return match && match[0] in DIALECTS ? match[0] : undefined;
}

/**
 * Parses `source` as the dialect of `path` and returns its `Program` node in
 * ESTree form. Throws a {@linkcode SourceSyntaxError} for invalid code.
 *
 * @example
 * ```ts
 * import { parseSource } from "./parse.ts";
 * parseSource('import x from "sql.js";', "a.ts").type; // "Program"
 * ```
 */
export function parseSource(source: string, path: string): AstNode {
  const dialect = DIALECTS[dialectOf(path) ?? ".ts"];
  try {
    return parse(source, {
      sourceType: dialect.script ? "unambiguous" : "module",
      plugins: ["estree", ...dialect.plugins],
      createImportExpressions: true,
      allowReturnOutsideFunction: dialect.script === true,
      errorRecovery: false,
    }).program as unknown as AstNode;
  } catch (error) {
    const loc = (error as { loc?: { line?: number; column?: number } }).loc;
    if (!(error instanceof SyntaxError) || typeof loc?.line !== "number") throw error;
    const reason = error.message.replace(/\s*\(\d+:\d+\)$/, "");
    throw new SourceSyntaxError(reason, loc.line, (loc.column ?? 0) + 1);
  }
}
