/**
 * Instantiating sql.js with its imports wrapped, and probing them when first
 * asked: the page capture of a process, or the reason there is none.
 *
 * @module
 */
import type { SqlJsStatic } from "../engine/sqljs_types.ts";
import type { PageCapture } from "./capture.ts";
import type { probeCapture } from "./probe.ts";
import { WasmIo } from "./wasm_io.ts";

/** The probe, once {@linkcode CapturedSqlJs.probe} imported it (a process that only reads never does). */
let probeCode: typeof probeCapture | undefined;

/** sql.js's `initSqlJs`, as far as the loader uses it. */
export type InitSqlJs = (config: Record<string, unknown>) => Promise<unknown>;

/** sql.js, with the page capture when the probe proved it right. */
export interface CapturedSqlJs {
  readonly sql: SqlJsStatic;
  /**
   * The capture, or why there is none (the engine then uses export + diff).
   * The probe runs when this is first read, once per process: it costs
   * hundreds of ms of CPU on a cold start (its SQL reaches parts of SQLite
   * that a first query does not), so the engine reads it only at a
   * database's first write or catch-up, not when it opens one. Its code is
   * imported by {@linkcode probe}: reading this before the probe's code was
   * imported (and before it ran) throws.
   */
  readonly capture: PageCapture | string;
  /** Imports the probe's code if need be, then reads {@linkcode capture}. */
  probe(): Promise<PageCapture | string>;
  /** Whether {@linkcode capture} is known: the probe has run, or there is nothing to probe. */
  readonly probed: boolean;
  /** Milliseconds that identifying and verifying the capture took (0 until it ran, or without one). */
  readonly probeMs: number;
}

/**
 * Initialises sql.js through `init` with `config`, instantiating the wasm
 * from `wasm` (a compiled module, or the binary's bytes) through Emscripten's
 * `instantiateWasm` hook with every import wrapped. The capture is probed
 * when first read (see {@linkcode CapturedSqlJs.capture}).
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
  return lazyCapture(sql, io);
}

/**
 * `sql` with a {@linkcode CapturedSqlJs.capture} probed on first use, or a
 * known reason when there is no `io` to probe.
 *
 * @example
 * ```ts ignore
 * const captured = lazyCapture(sql, io);
 * captured.probed; // false: `await captured.probe()` runs it
 * ```
 */
export function lazyCapture(sql: SqlJsStatic, io: WasmIo | string | undefined): CapturedSqlJs {
  let capture: PageCapture | string | undefined = io === undefined
    ? "sql.js did not call instantiateWasm"
    : typeof io === "string"
    ? io
    : undefined;
  let probeMs = 0;
  return {
    sql,
    get capture(): PageCapture | string {
      if (capture === undefined) {
        if (probeCode === undefined) {
          throw new Error("The page-capture probe's code is not imported yet: await probe() first");
        }
        const started = performance.now();
        capture = probeCode(sql, io as WasmIo);
        probeMs = performance.now() - started;
      }
      return capture;
    },
    async probe(): Promise<PageCapture | string> {
      if (capture === undefined) probeCode ??= (await import("./probe.ts")).probeCapture;
      return this.capture;
    },
    get probed(): boolean {
      return capture !== undefined;
    },
    get probeMs(): number {
      return probeMs;
    },
  };
}
