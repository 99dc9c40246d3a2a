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
 * This file is a Deno entry point: it reads `package.json`/`deno.json` with
 * `Deno.readTextFileSync` to find each file's project root. Projects that do
 * not run `deno lint` get the same rule from `db-router check`.
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
/// <reference lib="deno.unstable" />
import { isAllowlisted } from "./allowlist.ts";
import type { AstNode } from "./ast.ts";
import { DirectDatabaseDetector, WATCHED_NODE_TYPES } from "./detector.ts";
import { RULE_NAME } from "./offence.ts";
import { locateInProject, type ProjectProbe } from "./project.ts";

const HINT =
  "Exceptions are listed in src/lint/allowlist.ts of db-router; adding one is a reviewed change";

const probe: ProjectProbe = {
  readText(path) {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return undefined;
    }
  },
};
const projects = new Map<string, { root: string; packageName?: string }>();

const plugin: Deno.lint.Plugin = {
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
        const visitor: Deno.lint.LintVisitor = {
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
