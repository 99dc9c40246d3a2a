/**
 * Instantiating sql.js with its imports wrapped, then probing them: the page
 * capture of a process, or the reason there is none.
 *
 * @module
 */
import type { SqlJsStatic } from "../engine/sqljs_types.ts";
import type { PageCapture } from "./capture.ts";
import { probeCapture } from "./probe.ts";
import { WasmIo } from "./wasm_io.ts";

/** sql.js's `initSqlJs`, as far as the loader uses it. */
export type InitSqlJs = (config: Record<string, unknown>) => Promise<unknown>;

/** sql.js, with the page capture when the probe proved it right. */
export interface CapturedSqlJs {
  readonly sql: SqlJsStatic;
  /** The capture, or why there is none (the engine then uses export + diff). */
  readonly capture: PageCapture | string;
  /** Milliseconds that identifying and verifying the capture took (0 without a probe). */
  readonly probeMs?: number;
}

/**
 * Initialises sql.js through `init` with `config`, instantiating the wasm
 * from `wasm` (a compiled module, or the binary's bytes) through Emscripten's
 * `instantiateWasm` hook with every import wrapped, then probes the capture.
 *
 * @example
 * ```ts ignore
 * import initSqlJs from "sql.js";
 * const { sql, capture } = await initWithCapture(initSqlJs, {}, await readFile(wasmPath));
 * ```
 */
export async function initWithCapture(
  init: InitSqlJs,
  config: Record<string, unknown>,
  wasm: WebAssembly.Module | BufferSource,
): Promise<CapturedSqlJs> {
  let io: WasmIo | undefined;
  // Compiled first, so that a bad binary rejects here instead of leaving sql.js waiting.
  const module = wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm);
  const sql = await init({
    ...config,
    instantiateWasm(
      imports: WebAssembly.Imports,
      receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ): Record<string, never> {
      const wrapped = WasmIo.wrap(imports);
      WebAssembly.instantiate(module, imports).then((instance) => {
        wrapped.attach(instance);
        io = wrapped;
        receive(instance, module);
      });
      // Emscripten waits for `receive` when the hook returns an empty object.
      return {};
    },
  }) as SqlJsStatic;
  if (!io) return { sql, capture: "sql.js did not call instantiateWasm" };
  const started = performance.now();
  const capture = probeCapture(sql, io);
  return { sql, capture, probeMs: performance.now() - started };
}
