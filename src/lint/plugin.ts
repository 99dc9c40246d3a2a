/**
 * The deno lint plugin `db-router`, with the rule `no-direct-database`:
 * outside the allowlist (`allowlist.ts`), code must not import sql.js,
 * initialise it or open its databases, but take connections from the router.
 *
 * Register it in `deno.json`:
 *
 * ```json
 * { "lint": { "plugins": ["./src/lint/plugin.ts"] } }
 * ```
 *
 * From the npm package, name the built file (or `npm:db-router/lint` where
 * npm specifiers work): `{ "lint": { "plugins": ["./node_modules/db-router/dist/src/lint/plugin.js"] } }`;
 * from JSR, `jsr:@menace/db-router/lint`.
 *
 * This file is a Deno entry point: it reads `package.json`/`deno.json` with
 * `Deno.readTextFileSync` to find each file's project root. It declares the
 * few shapes of `Deno.lint` it uses instead of referencing `deno.unstable`
 * (JSR refuses a reference that changes globals, and tsc, which builds the
 * npm package, has no Deno types); `Deno.lint.runPlugin(plugin, ...)` in the
 * tests checks that they fit. Projects that do not run `deno lint` get the
 * same rule from `db-router check`.
 *
 * @example
 * ```ts ignore
 * import plugin from "./plugin.ts";
 * Deno.lint.runPlugin(plugin, "/app/src/db.ts", 'import initSqlJs from "sql.js";');
 * // [{ id: "db-router/no-direct-database", message: 'Cannot import "sql.js" outside the router: ...', ... }]
 * ```
 *
 * @module
 */
import { isAllowlisted } from "./allowlist.ts";
import type { AstNode } from "./ast.ts";

export type { AstNode };
import { DirectDatabaseDetector, WATCHED_NODE_TYPES } from "./detector.ts";
import { RULE_NAME } from "./offence.ts";
import { locateInProject, type ProjectProbe } from "./project.ts";

const HINT =
  "Exceptions are listed in src/lint/allowlist.ts of db-router; adding one is a reviewed change";

/** The part of a `Deno.lint` rule context the rule uses. */
export interface LintContext {
  /** The linted file's path or `file:` URL. */
  readonly filename: string;
  /** Reports one diagnostic. */
  report(diagnostic: { range: [number, number]; message: string; hint?: string }): void;
}

/** Visitor functions by node selector, as `Deno.lint` calls them. */
export type LintVisitor = Record<string, (node: AstNode) => void>;

/** A `Deno.lint.Plugin` as this file builds it. */
export interface LintPlugin {
  /** The plugin's name: the prefix of its rule ids. */
  readonly name: string;
  /** Its rules by name. */
  readonly rules: Record<string, { create(context: LintContext): LintVisitor }>;
}

/** `Deno.readTextFileSync`, reached through `globalThis` so that tsc needs no Deno types. */
const readTextFileSync = (path: string): string =>
  (globalThis as unknown as { Deno: { readTextFileSync(path: string): string } }).Deno
    .readTextFileSync(path);

const probe: ProjectProbe = {
  readText(path) {
    try {
      return readTextFileSync(path);
    } catch {
      return undefined;
    }
  },
};
const projects = new Map<string, { root: string; packageName?: string }>();

/**
 * The `db-router` lint plugin, with its one rule `no-direct-database`.
 *
 * @example
 * ```json
 * { "lint": { "plugins": ["jsr:@menace/db-router/lint"] } }
 * ```
 */
const plugin: LintPlugin = {
  name: "db-router",
  rules: {
    [RULE_NAME]: {
      create(context) {
        const filename = context.filename.startsWith("file://")
          ? decodeURIComponent(new URL(context.filename).pathname)
          : context.filename;
        const where = locateInProject(filename, probe, projects);
        if (isAllowlisted(where.relativePath, where.packageName)) return {};
        const detector = new DirectDatabaseDetector();
        const visit = (node: AstNode) => detector.visit(node);
        const visitor: LintVisitor = {
          "Program:exit"() {
            for (const offence of detector.finish()) {
              context.report({
                range: [offence.offset, offence.end],
                message: offence.message,
                hint: HINT,
              });
            }
          },
        };
        for (const type of WATCHED_NODE_TYPES) visitor[type] = visit;
        return visitor;
      },
    },
  },
};

export default plugin;
