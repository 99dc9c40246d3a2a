/**
 * Where sql.js and its WebAssembly binary come from, in every runtime, with
 * no network: the one place that knows.
 *
 * - Node, Deno and Bun import `sql.js` from `node_modules`; its Node build
 *   reads `sql-wasm.wasm` from beside itself with the file system.
 * - Browsers get the `browser` build of `sql.js` through the package's export
 *   conditions (any bundler honours them) and fetch `sql-wasm-browser.wasm`
 *   from a URL that the page serves: {@linkcode setWasmUrl} names it; unset,
 *   sql.js looks beside the script that loaded it.
 *
 * sql.js caches its first initialisation, so a process (or page) holds one
 * module and one heap however many databases it opens.
 *
 * @module
 */
import initSqlJs from "sql.js";
import type { SqlJsStatic } from "../src/engine/sqljs_types.ts";

let wasmUrl: string | undefined;
let loading: Promise<SqlJsStatic> | undefined;

/**
 * Names the URL of sql.js's wasm binary for browsers. Call it before the first
 * database opens; Node, Deno and Bun ignore it.
 *
 * @example
 * ```ts
 * import { setWasmUrl } from "./mod.ts";
 * setWasmUrl("/vendor/sql-wasm-browser.wasm");
 * ```
 */
export function setWasmUrl(url: string): void {
  if (typeof url !== "string" || url.length === 0) {
    throw new TypeError(`Invalid wasm URL ${JSON.stringify(url)}: expected a non-empty string`);
  }
  wasmUrl = url;
}

/**
 * Loads sql.js once per process and returns it.
 *
 * @example
 * ```ts
 * import { loadSqlJs } from "./mod.ts";
 * const SQL = await loadSqlJs();
 * const db = new SQL.Database();
 * db.close();
 * ```
 */
export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= initSqlJs(
    {
      // The legacy extension functions shadow log() and warn on every call.
      useOldExtensionFunctions: false,
      // Unset, each build looks beside its own script: the Node build in
      // node_modules/sql.js/dist, the browser build beside the page's bundle.
      locateFile: (file: string, scriptDirectory: string) => wasmUrl ?? scriptDirectory + file,
    } as Parameters<typeof initSqlJs>[0],
  ).then((module) => module as unknown as SqlJsStatic);
  return loading;
}
