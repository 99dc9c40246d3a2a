/**
 * Good and bad snippets for the `no-direct-database` rule, shared by the
 * tests of `db-router check` (every runtime) and of the Deno lint plugin
 * through `Deno.lint.runPlugin` (`lint_run_plugin.ts`, under `deno test`).
 * Each expected offence is `kind@line:column`.
 *
 * @module
 */

/** One snippet and what the rule must report in it. */
export interface LintCase {
  /** Says what happens, for the test name. */
  name: string;
  /** File name, relative to the repository root (decides allowlisting and dialect). */
  file: string;
  source: string;
  /** `kind@line:column` for each offence, in source order. */
  expected: string[];
}

/** Every case. */
export const LINT_CASES: readonly LintCase[] = [
  {
    name: "reports a default import of sql.js, its initSqlJs() call and new SQL.Database()",
    file: "src/feature/store.ts",
    source: [
      'import initSqlJs from "sql.js";',
      "const SQL = await initSqlJs();",
      "export const db = new SQL.Database();",
    ].join("\n"),
    expected: ["import@1:1", "init@2:19", "new@3:19"],
  },
  {
    name: "follows an aliased import through destructuring and .then()",
    file: "src/feature/alias.ts",
    source: [
      'import boot, * as ns from "npm:sql.js@1.16.0";',
      "const { Database: Db } = await boot({});",
      "new Db();",
      "boot().then((S) => new S.Database());",
      "ns.default();",
    ].join("\n"),
    expected: ["import@1:1", "init@2:32", "new@3:1", "init@4:1", "new@4:20", "init@5:1"],
  },
  {
    name: "reports dynamic import(), require() and import x = require() of sql.js",
    file: "src/feature/dynamic.ts",
    source: [
      "const { default: init } = await import(`sql.js`);",
      'const load = require("sql.js/dist/sql-wasm.js");',
      'import legacy = require("sql.js");',
      "let SQL;",
      "SQL = await init();",
      "new SQL.Database(new Uint8Array(0));",
      'const viaCdn = import("https://esm.sh/sql.js@1.8.0");',
    ].join("\n"),
    expected: [
      "dynamic-import@1:33",
      "require@2:14",
      "import@3:1",
      "init@5:13",
      "new@6:1",
      "dynamic-import@7:16",
    ],
  },
  {
    name: "reports re-exports of sql.js, but not type-only imports and re-exports",
    file: "src/feature/reexport.ts",
    source: [
      'export * from "sql.js";',
      'export { default as initSqlJs } from "sql.js";',
      'import type { Database } from "sql.js";',
      'export type { SqlJsStatic } from "sql.js";',
      "export type Db = Database;",
    ].join("\n"),
    expected: ["re-export@1:1", "re-export@2:1"],
  },
  {
    name: "reports the global initSqlJs() of a browser <script> and window.initSqlJs()",
    file: "src/feature/browser.js",
    source: [
      "const SQL = await initSqlJs({ locateFile: (f) => `/wasm/${f}` });",
      "window.initSqlJs();",
      "const db = new SQL.Database();",
    ].join("\n"),
    expected: ["init@1:19", "init@2:1", "new@3:12"],
  },
  {
    name: "reports loadSqlJs() of the router's own loader outside the engine",
    file: "src/feature/loader.ts",
    source: [
      'import { loadSqlJs as load, setWasmUrl } from "../../wasm/mod.ts";',
      'setWasmUrl("/sql-wasm.wasm");',
      "const SQL = await load();",
      "new SQL.Database();",
    ].join("\n"),
    expected: ["init@3:19", "new@4:1"],
  },
  {
    name: "ignores sql.js in comments, strings and templates with expressions",
    file: "src/feature/quiet.ts",
    source: [
      '// import initSqlJs from "sql.js"; const SQL = await initSqlJs();',
      "/* new SQL.Database() */ const text = \"import('sql.js') initSqlJs()\";",
      "const name = `sql.js`; const other = `${name}`;",
      "const module = await import(other);",
      'import { readFile } from "./sql.js";',
      'import mysql from "mysql.js";',
      "new Other.Database();",
    ].join("\n"),
    expected: [],
  },
  {
    name: "passes code that takes connections from the router",
    file: "src/feature/good.ts",
    source: [
      'import { GLOBAL_ROUTER, initDbRouter } from "db-router";',
      'const router = GLOBAL_ROUTER ?? initDbRouter("alpha");',
      'const conn = router.getConnection("bots");',
      'await conn.all("SELECT * FROM bots");',
    ].join("\n"),
    expected: [],
  },
  {
    name: "allows the engine files named in the allowlist",
    file: "src/engine/extra.ts",
    source: 'import initSqlJs from "sql.js";\nconst SQL = await initSqlJs();\nnew SQL.Database();',
    expected: [],
  },
  {
    name: "reports TSX files too",
    file: "src/feature/view.tsx",
    source: [
      'import initSqlJs from "sql.js";',
      "export const View = () => <div onClick={() => initSqlJs()}>db</div>;",
    ].join("\n"),
    expected: ["import@1:1", "init@2:47"],
  },
];
