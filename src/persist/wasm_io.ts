/**
 * sql.js's file I/O as seen from outside the wasm module. SQLite reaches each
 * database's file in Emscripten's in-memory file system through imports that
 * Emscripten implements in JavaScript (openat, fd_seek, fd_write, fd_read,
 * ftruncate, ...). {@linkcode WasmIo.wrap} replaces every imported function
 * with a small forwarder before the module is instantiated, so that the
 * loader can first record calls (to recognise the I/O imports by behaviour,
 * see `probe.ts`) and then route the recognised ones through the page
 * capture (`capture.ts`). Their minified names change with every sql.js
 * build, so none is named here.
 *
 * @module
 */

/** One recorded call of an imported function. */
export interface ImportCall {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly result: unknown;
  /** Each argument read as a C string at the time of the call, where it points to one. */
  readonly strings: ReadonlyArray<string | undefined>;
}

const decoder = new TextDecoder();

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => any;

/** The wrapped imports of one sql.js instance. */
export class WasmIo {
  /** The original functions, by `module.name`. */
  readonly #originals = new Map<string, AnyFunction>();
  /** What each forwarder calls now: the original, a recorder or a capture hook. */
  readonly #targets = new Map<string, AnyFunction>();
  #memory: WebAssembly.Memory | undefined;
  #recording: ImportCall[] | undefined;

  /**
   * Replaces each function in `imports` (in place, as Emscripten hands them
   * to `instantiateWasm`) with a forwarder, and returns the controller.
   *
   * @example
   * ```ts ignore
   * instantiateWasm(imports, receive) { const io = WasmIo.wrap(imports); ... }
   * ```
   */
  static wrap(imports: WebAssembly.Imports): WasmIo {
    const io = new WasmIo();
    // Some builds hand the same table under two module names (env, wasi_snapshot_preview1).
    const seen = new Set<object>();
    for (const [module, members] of Object.entries(imports)) {
      const table = members as Record<string, unknown>;
      if (seen.has(table)) continue;
      seen.add(table);
      for (const [name, value] of Object.entries(table)) {
        if (typeof value !== "function") continue;
        const key = `${module}.${name}`;
        const original = value as AnyFunction;
        io.#originals.set(key, original);
        io.#targets.set(key, original);
        const targets = io.#targets;
        table[name] = function forward(): unknown {
          return targets.get(key)!.apply(undefined, arguments as unknown as unknown[]);
        };
      }
    }
    return io;
  }

  /** Finds the instance's memory; call once the instance exists. */
  attach(instance: WebAssembly.Instance): void {
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) this.#memory = value;
    }
  }

  /** The wasm heap as bytes (a new view after the memory grows). */
  get heap(): Uint8Array {
    if (!this.#memory) throw new Error("the wasm memory was not found among the exports");
    return new Uint8Array(this.#memory.buffer);
  }

  /** The names of every wrapped function, `module.name`. */
  get names(): string[] {
    return [...this.#originals.keys()];
  }

  /** The original of `name`, for calls that must not be captured. */
  original(name: string): AnyFunction {
    const fn = this.#originals.get(name);
    if (!fn) throw new Error(`no imported function "${name}"`);
    return fn;
  }

  /** Routes `name` through `hook`, which receives the original and the call's arguments. */
  route(name: string, hook: (original: AnyFunction, args: unknown[]) => unknown): void {
    const original = this.original(name);
    this.#targets.set(name, function routed(): unknown {
      return hook(original, Array.prototype.slice.call(arguments));
    });
  }

  /** Starts recording every call of every import (the probe only: it is slow). */
  record(): ImportCall[] {
    const calls: ImportCall[] = [];
    this.#recording = calls;
    // deno-lint-ignore no-this-alias
    const io = this;
    for (const [name, original] of this.#originals) {
      this.#targets.set(name, function recorded(): unknown {
        const args = Array.prototype.slice.call(arguments);
        const strings = args.map((arg) => io.cString(arg));
        const result = original.apply(undefined, args);
        calls.push({ name, args, result, strings });
        return result;
      });
    }
    return calls;
  }

  /** Stops recording: every import calls its original again. */
  stopRecording(): void {
    this.#recording = undefined;
    for (const [name, original] of this.#originals) this.#targets.set(name, original);
  }

  /** The NUL-terminated UTF-8 string at `pointer`, or `undefined` when there is none (up to 1024 bytes). */
  cString(pointer: unknown): string | undefined {
    if (typeof pointer !== "number" || !Number.isInteger(pointer) || pointer < 1024) {
      return undefined;
    }
    const heap = this.heap;
    if (pointer >= heap.length) return undefined;
    const end = heap.indexOf(0, pointer);
    if (end < 0 || end - pointer > 1024) return undefined;
    return decoder.decode(heap.subarray(pointer, end));
  }
}
