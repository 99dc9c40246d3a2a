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
 * - Cloudflare Workers may not compile WebAssembly from bytes: a Worker
 *   imports the `.wasm` file as a module (`import wasm from "./sql-wasm.wasm"`)
 *   and hands it over with {@linkcode setWasmModule}, which sql.js then
 *   instantiates through Emscripten's `instantiateWasm` hook. sql.js's
 *   browser build also reads `self.location.href` wherever `WorkerGlobalScope`
 *   exists; `workerd` has that scope but no `location`, so with a module set
 *   and no `location`, one pointing nowhere is defined first.
 *
 * sql.js caches its first initialisation, so a process (or page) holds one
 * module and one heap however many databases it opens. It is imported at the
 * first open, not when this module is: importing the package then parses none
 * of it. Node loads its CommonJS build with `require()` (cheaper there than
 * `import()`, which wraps it for ES modules); Deno, Bun and bundlers get
 * `import()`.
 *
 * @module
 */
import type { SqlJsStatic } from "../src/engine/sqljs_types.ts";
import {
  type CapturedSqlJs,
  type InitSqlJs,
  initWithCapture,
  lazyCapture,
} from "../src/persist/capture_load.ts";

let wasmUrl: string | undefined;
let wasmModule: WebAssembly.Module | undefined;
let loading: Promise<CapturedSqlJs> | undefined;

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
 * Hands sql.js an already compiled wasm module, for runtimes that forbid
 * compiling one at run time (Cloudflare Workers). Call it before the first
 * database opens; it wins over {@linkcode setWasmUrl}. The module must be
 * the one that matches the sql.js build the bundle contains
 * (`sql-wasm-browser.wasm` for the `browser` build).
 *
 * @example
 * ```ts ignore
 * import wasm from "sql.js/dist/sql-wasm-browser.wasm"; // a CompiledWasm module in a Worker
 * import { setWasmModule } from "db-router";
 * setWasmModule(wasm);
 * ```
 */
export function setWasmModule(module: WebAssembly.Module): void {
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(`Invalid wasm module ${String(module)}: expected a WebAssembly.Module`);
  }
  wasmModule = module;
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
export async function loadSqlJs(): Promise<SqlJsStatic> {
  return (await loadCapturedSqlJs()).sql;
}

/**
 * Loads sql.js once per process with its file I/O imports wrapped, and
 * returns it with the page capture (or the reason there is none): see
 * `src/persist/capture.ts`. The wasm binary is read by the loader itself
 * (from `node_modules` where a file system is, from {@linkcode setWasmUrl}'s
 * URL in browsers, or the module of {@linkcode setWasmModule}); a browser
 * that named no URL gets sql.js's own loading and no capture.
 *
 * @example
 * ```ts
 * import { loadCapturedSqlJs } from "./mod.ts";
 * const { sql, capture } = await loadCapturedSqlJs();
 * typeof capture === "string"; // false where the capture works
 * ```
 */
export function loadCapturedSqlJs(): Promise<CapturedSqlJs> {
  if (wasmModule !== undefined && loading === undefined) giveWorkerALocation();
  loading ??= load();
  return loading;
}

async function load(): Promise<CapturedSqlJs> {
  const config = {
    // The legacy extension functions shadow log() and warn on every call.
    useOldExtensionFunctions: false,
    // Unset, each build looks beside its own script: the Node build in
    // node_modules/sql.js/dist, the browser build beside the page's bundle.
    locateFile: (file: string, scriptDirectory: string) => wasmUrl ?? scriptDirectory + file,
  };
  const init = await importSqlJs();
  let wasm: WebAssembly.Module | BufferSource | string;
  try {
    wasm = wasmModule ?? await wasmBytes();
  } catch (error) {
    wasm = `the wasm binary could not be read: ${error instanceof Error ? error.message : error}`;
  }
  if (typeof wasm !== "string") return await initWithCapture(init, config, wasm);
  return lazyCapture(await init(config) as SqlJsStatic, wasm);
}

/**
 * sql.js's wasm binary: its bytes, or in browsers the module compiled as it
 * downloads; or why the loader cannot read it itself.
 */
async function wasmBytes(): Promise<WebAssembly.Module | BufferSource | string> {
  const proc = (globalThis as {
    process?: {
      getBuiltinModule?(id: "node:fs"): { readFileSync(path: URL): Uint8Array<ArrayBuffer> };
    };
  }).process;
  if (typeof proc?.getBuiltinModule === "function") {
    // Node, Deno and Bun load sql.js's Node build, whose binary is beside it.
    const url = new URL("sql-wasm.wasm", import.meta.resolve("sql.js"));
    return proc.getBuiltinModule("node:fs").readFileSync(url);
  }
  if (wasmUrl === undefined) return "no wasm URL was set (setWasmUrl)";
  const response = await fetch(wasmUrl);
  if (!response.ok) throw new Error(`${wasmUrl}: HTTP ${response.status}`);
  // Compiled as it downloads, and browsers keep the compiled code for the next page load (V8's
  // wasm code cache serves only streaming compiles), which needs the wasm MIME type.
  if (
    typeof WebAssembly.compileStreaming === "function" &&
    response.headers.get("content-type")?.split(";")[0].trim() === "application/wasm"
  ) {
    return await WebAssembly.compileStreaming(response);
  }
  return await response.arrayBuffer();
}

/** sql.js's initialiser, loaded the cheapest way the runtime has (see the module doc). */
async function importSqlJs(): Promise<InitSqlJs> {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    process?: {
      versions?: { node?: string };
      getBuiltinModule?(id: "node:module"): {
        createRequire(from: string): (id: string) => unknown;
      };
    };
  };
  if (
    g.Deno === undefined && g.Bun === undefined && g.process?.versions?.node !== undefined &&
    typeof g.process.getBuiltinModule === "function"
  ) {
    try {
      return g.process.getBuiltinModule("node:module").createRequire(import.meta.url)(
        "sql.js",
      ) as InitSqlJs;
    } catch {
      // A runtime that only looks like Node (a Worker's Node compatibility, a bundle with no
      // node_modules beside it): the import below is what its bundler resolved.
    }
  }
  return (await import("sql.js")).default as unknown as InitSqlJs;
}

/** See the module doc: sql.js's browser build needs `self.location` in any worker scope. */
function giveWorkerALocation(): void {
  const g = globalThis as { WorkerGlobalScope?: unknown; location?: unknown };
  if (g.WorkerGlobalScope === undefined || g.location !== undefined) return;
  Object.defineProperty(globalThis, "location", {
    value: new URL("file:///"),
    configurable: true,
  });
}
