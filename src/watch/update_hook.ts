/**
 * SQLite's update hook, registered without sql.js's wrapper: sql.js's
 * `Database.updateHook` decodes the database and table names from the wasm
 * heap into new strings on every row and hands the row over as a new array,
 * which made a 1 000-row update cost 2.5-3.7 times SQLite's own work. Here
 * the hook is a function of ours in sql.js's function table
 * (`Module.addFunction`, signature `viiiij`), given to
 * `_sqlite3_update_hook`; it decodes a name only for a pointer it has not
 * seen in the current write, and appends each row change to typed arrays
 * ({@linkcode ChangeLog}).
 *
 * A table name's pointer is that of its entry in SQLite's schema, which a
 * `DROP TABLE` frees and a later `CREATE TABLE` may reuse for another name.
 * So pointers are trusted only during a write (or one statement of a
 * transaction) that changes rows and nothing else
 * ({@linkcode UpdateHook.beginWrite}, which also forgets them); during any
 * other write every name is decoded. The database name's pointer is cached once it reads `"main"`:
 * that string is static in SQLite.
 *
 * In a write that changes rows only, the hook registered is not that
 * JavaScript function but a small WebAssembly function of our own
 * ({@linkcode WasmHook}, hand-assembled, in a module with its own memory),
 * which stores each row change without calling JavaScript; the rows are read
 * in one loop ({@linkcode UpdateHook.flush}) at the next write, statement or
 * commit, before anything can free the names' pointers. A 1 000-row update
 * thus costs one call into JavaScript, not 1 000. Where WebAssembly cannot be
 * compiled from bytes (a page whose Content-Security-Policy forbids it), the
 * JavaScript function serves every write.
 *
 * When sql.js lacks the module functions (an unexpected build), the hook
 * falls back to `Database.updateHook`.
 *
 * @module
 */
import type { SqlJsDatabase, SqlJsStatic } from "../engine/sqljs_types.ts";

/** SQLite's operation codes: `SQLITE_INSERT`, `SQLITE_UPDATE`, `SQLITE_DELETE`. */
const SQLITE_INSERT = 18;
const SQLITE_UPDATE = 23;

/**
 * Row changes in the order SQLite made them, as columns: kind code (see
 * `KIND_CODES`), table (an index into {@linkcode names}) and rowid.
 *
 * @example
 * ```ts
 * import { ChangeLog } from "./update_hook.ts";
 * const log = new ChangeLog();
 * log.push(0, log.tableIndex("bots"), 7);
 * log.names[log.tables[0]]; // "bots"
 * ```
 */
export class ChangeLog {
  /** Kind codes, `length` of them in use. */
  kinds: Uint8Array = new Uint8Array(64);
  /** Table indexes into {@linkcode names}. */
  tables: Uint32Array = new Uint32Array(64);
  /** Rowids. */
  rowids: Float64Array = new Float64Array(64);
  /** Entries in use. */
  length = 0;
  /** Table names as SQLite reported them, by index. */
  readonly names: string[] = [];
  readonly #indexes = new Map<string, number>();

  /** The index of `table` in {@linkcode names}, added if new. */
  tableIndex(table: string): number {
    let index = this.#indexes.get(table);
    if (index === undefined) {
      index = this.names.push(table) - 1;
      this.#indexes.set(table, index);
    }
    return index;
  }

  /** Appends one row change. */
  push(kind: number, table: number, rowid: number): void {
    const at = this.length;
    if (at === this.kinds.length) this.#grow();
    this.kinds[at] = kind;
    this.tables[at] = table;
    this.rowids[at] = rowid;
    this.length = at + 1;
  }

  /** Makes room for `count` more changes. */
  reserve(count: number): void {
    while (this.length + count > this.kinds.length) this.#grow();
  }

  /** Forgets every change (names stay: they are few and often the same). */
  clear(): void {
    this.length = 0;
    // A large write's arrays are not kept for the commits after it.
    if (this.kinds.length > 65536) this.#allocate(64);
  }

  #grow(): void {
    const { kinds, tables, rowids } = this;
    this.#allocate(kinds.length * 2);
    this.kinds.set(kinds);
    this.tables.set(tables);
    this.rowids.set(rowids);
  }

  #allocate(capacity: number): void {
    this.kinds = new Uint8Array(capacity);
    this.tables = new Uint32Array(capacity);
    this.rowids = new Float64Array(capacity);
  }
}

/** The parts of sql.js's module the direct hook uses (exported by sql.js 1.12 and later). */
interface HookModule {
  addFunction(fn: (...args: never[]) => void, signature: string): number;
  removeFunction(pointer: number): void;
  _sqlite3_update_hook(db: number, callback: number, argument: number): number;
  UTF8ToString(pointer: number): string;
}

/**
 * One update hook that appends to a {@linkcode ChangeLog}, registered on one
 * database at a time.
 *
 * @example
 * ```ts ignore
 * const hook = new UpdateHook(log);
 * hook.install(db, sql);
 * hook.beginWrite(true); // a write of row changes only: pointers may be cached
 * ```
 */
export class UpdateHook {
  readonly #log: ChangeLog;
  #module: HookModule | undefined;
  /** Our function's index in sql.js's function table, 0 when not added. */
  #pointer = 0;
  /** The pointer of the string `"main"` that SQLite passes, once seen. */
  #main = 0;
  #trusted = false;
  #lastTable = 0;
  #lastIndex = 0;
  readonly #tables = new Map<number, number>();
  /** The database handle the hook is registered on (direct hook only). */
  #handle = 0;
  /** The hook written in WebAssembly, when this runtime can build it, and its table slot. */
  #wasm: WasmHook | undefined;
  #wasmPointer = 0;
  /** The callback registered now: {@linkcode #pointer} or {@linkcode #wasmPointer}. */
  #registered = 0;

  /** Appends the changes it hears to `log`. */
  constructor(log: ChangeLog) {
    this.#log = log;
  }

  /** Registers the hook on `db` (of module `sql`); false when sql.js has no update hook at all. */
  install(db: SqlJsDatabase, sql: SqlJsStatic | undefined): boolean {
    const handle = (db as unknown as { db?: unknown }).db;
    const module = directHookModule(sql);
    if (module && typeof handle === "number") {
      this.#module = module;
      this.#pointer ||= module.addFunction(this.#hear, "viiiij");
      if (!this.#wasmPointer) {
        this.#wasm = WasmHook.create();
        // A build whose table refuses a function of another module: the JavaScript hook alone.
        try {
          if (this.#wasm) this.#wasmPointer = module.addFunction(this.#wasm.hook, "viiiij");
        } catch {
          this.#wasm = undefined;
        }
      }
      this.#handle = handle;
      this.#registered = 0;
      this.beginWrite(false);
      return true;
    }
    if (typeof db.updateHook !== "function") return false;
    const codes = { insert: 0, update: 1, delete: 2 } as const;
    db.updateHook((operation, database, table, rowid) => {
      if (database === "main") this.#log.push(codes[operation], this.#log.tableIndex(table), rowid);
    });
    return true;
  }

  /** Removes the hook from `db`. */
  uninstall(db: SqlJsDatabase): void {
    const handle = (db as unknown as { db?: unknown }).db;
    if (this.#module && typeof handle === "number") {
      this.#module._sqlite3_update_hook(handle, 0, 0);
      this.#handle = 0;
      this.#registered = 0;
      this.#wasm?.discard();
    } else db.updateHook?.(null);
  }

  /** Frees the hook's slot in sql.js's function table (after {@linkcode uninstall}). */
  dispose(): void {
    if (this.#module && this.#pointer) this.#module.removeFunction(this.#pointer);
    if (this.#module && this.#wasmPointer) this.#module.removeFunction(this.#wasmPointer);
    this.#pointer = 0;
    this.#wasmPointer = 0;
    this.#wasm = undefined;
  }

  /**
   * A write starts: `rowChangesOnly` (no DDL can run in it) lets table
   * pointers be cached for its length; otherwise every name is decoded.
   */
  beginWrite(rowChangesOnly: boolean): void {
    this.flush();
    this.#trusted = rowChangesOnly;
    this.#tables.clear();
    this.#lastTable = 0;
    // Rows of a write that changes rows only go to the WebAssembly hook, which calls no
    // JavaScript: its names' pointers stay valid until the next write, when they are read.
    const wanted = rowChangesOnly && this.#wasmPointer ? this.#wasmPointer : this.#pointer;
    if (this.#handle && wanted !== this.#registered) {
      this.#module!._sqlite3_update_hook(this.#handle, wanted, 0);
      this.#registered = wanted;
    }
  }

  /**
   * Moves what the WebAssembly hook holds into the log (before the log is
   * read, and before anything may change the schema).
   */
  flush(): void {
    const wasm = this.#wasm;
    if (!wasm || wasm.count() === 0) return;
    const { words, count } = wasm.entries();
    const log = this.#log;
    log.reserve(count);
    const { kinds, tables, rowids } = log;
    let length = log.length;
    let lastTable = 0;
    let lastIndex = 0;
    for (let i = 0, at = 2; i < count; i++, at += ENTRY_WORDS) {
      const operation = words[at];
      const table = words[at + 2];
      // Rowids are below 2^53 in practice: two 32-bit halves, no BigInt.
      const rowid = words[at + 5] * 4294967296 + (words[at + 4] >>> 0);
      if (words[at + 1] !== this.#main || table !== lastTable) {
        // Another database or table: the hook's own path, which decodes names once.
        log.length = length;
        this.#hear(0, operation, words[at + 1], table, rowid);
        if (log.length === length) continue; // not "main"
        length = log.length;
        lastTable = table;
        lastIndex = tables[length - 1];
        continue;
      }
      kinds[length] = operation === SQLITE_INSERT ? 0 : operation === SQLITE_UPDATE ? 1 : 2;
      tables[length] = lastIndex;
      rowids[length] = rowid;
      length++;
    }
    log.length = length;
    if (wasm.overflowed()) {
      console.error(
        "db-router: a write changed more rows than router.watch() could hold; some are not reported",
      );
    }
    wasm.discard();
  }

  /** Drops what the WebAssembly hook holds (a write rolled back). */
  discard(): void {
    this.#wasm?.discard();
  }

  readonly #hear = (
    _argument: number,
    operation: number,
    database: number,
    table: number,
    rowid: bigint | number,
  ): void => {
    if (database !== this.#main) {
      if (this.#main !== 0 || this.#module!.UTF8ToString(database) !== "main") return;
      this.#main = database;
    }
    let index: number;
    if (table === this.#lastTable) {
      index = this.#lastIndex;
    } else {
      const known = this.#trusted ? this.#tables.get(table) : undefined;
      index = known ?? this.#log.tableIndex(this.#module!.UTF8ToString(table));
      if (this.#trusted) {
        if (known === undefined) this.#tables.set(table, index);
        this.#lastTable = table;
        this.#lastIndex = index;
      }
    }
    const kind = operation === SQLITE_INSERT ? 0 : operation === SQLITE_UPDATE ? 1 : 2;
    this.#log.push(kind, index, Number(rowid));
  };
}

function directHookModule(sql: SqlJsStatic | undefined): HookModule | undefined {
  const module = sql as Partial<HookModule> | undefined;
  if (
    typeof module?.addFunction !== "function" || typeof module.removeFunction !== "function" ||
    typeof module._sqlite3_update_hook !== "function" ||
    typeof module.UTF8ToString !== "function"
  ) return undefined;
  return module as HookModule;
}

/** 32-bit words per entry of the WebAssembly hook: kind, database, table, padding, rowid (two). */
const ENTRY_WORDS = 6;

/**
 * SQLite's update hook as a WebAssembly function of its own small module,
 * with its own memory: each row change is stored there (SQLite's operation
 * code, the database and table names' pointers, the rowid), with no call into
 * JavaScript, which {@linkcode UpdateHook.flush} then reads in one loop.
 * Memory layout: word 0 the entries' count, word 1 set when the memory could
 * not grow (entries dropped), then entries of {@linkcode ENTRY_WORDS} words.
 */
class WasmHook {
  readonly hook: (...args: never[]) => void;
  readonly #memory: WebAssembly.Memory;
  #words: Int32Array;

  private constructor(instance: WebAssembly.Instance) {
    this.hook = instance.exports.h as (...args: never[]) => void;
    this.#memory = instance.exports.m as WebAssembly.Memory;
    this.#words = new Int32Array(this.#memory.buffer);
  }

  /** The hook, or `undefined` where WebAssembly cannot be compiled here. */
  static create(): WasmHook | undefined {
    try {
      return new WasmHook(new WebAssembly.Instance(new WebAssembly.Module(HOOK_MODULE)));
    } catch {
      return undefined;
    }
  }

  /** Entries held. */
  count(): number {
    return this.#view()[0];
  }

  /** Whether entries were dropped since the last {@linkcode discard}. */
  overflowed(): boolean {
    return this.#view()[1] !== 0;
  }

  /** The memory as words, and the entries' count. */
  entries(): { words: Int32Array; count: number } {
    const words = this.#view();
    return { words, count: words[0] };
  }

  /** Forgets every entry. */
  discard(): void {
    const words = this.#view();
    words[0] = 0;
    words[1] = 0;
  }

  #view(): Int32Array {
    // A grown memory has a new buffer.
    if (this.#words.buffer !== this.#memory.buffer) {
      this.#words = new Int32Array(this.#memory.buffer);
    }
    return this.#words;
  }
}

/**
 * The module of {@linkcode WasmHook}, assembled by hand (WebAssembly 1.0):
 *
 * ```wat
 * (module
 *   (memory (export "m") 1)
 *   (func (export "h") (param i32 i32 i32 i32 i64) (local $at i32)
 *     (local.set $at (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 24)) (i32.const 8)))
 *     (if (i32.gt_u (i32.add (local.get $at) (i32.const 24)) (i32.shl (memory.size) (i32.const 16)))
 *       (then (if (i32.eq (memory.grow (memory.size)) (i32.const -1))
 *         (then (i32.store (i32.const 4) (i32.const 1)) (return)))))
 *     (i32.store offset=0 (local.get $at) (local.get 1))
 *     (i32.store offset=4 (local.get $at) (local.get 2))
 *     (i32.store offset=8 (local.get $at) (local.get 3))
 *     (i64.store offset=16 (local.get $at) (local.get 4))
 *     (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))))
 * ```
 */
// deno-fmt-ignore
const HOOK_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  // type section: (i32 i32 i32 i32 i64) -> ()
  0x01, 0x09, 0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7e, 0x00,
  // function section: one function of type 0
  0x03, 0x02, 0x01, 0x00,
  // memory section: one memory, at least 1 page
  0x05, 0x03, 0x01, 0x00, 0x01,
  // export section: "h" function 0, "m" memory 0
  0x07, 0x09, 0x02, 0x01, 0x68, 0x00, 0x00, 0x01, 0x6d, 0x02, 0x00,
  // code section: one body (one i32 local; see the text above)
  0x0a, 0x5c, 0x01, 0x5a, 0x01, 0x01, 0x7f, 0x41, 0x00, 0x28, 0x02, 0x00, 0x41, 0x18, 0x6c, 0x41,
  0x08, 0x6a, 0x21, 0x05, 0x20, 0x05, 0x41, 0x18, 0x6a, 0x3f, 0x00, 0x41, 0x10, 0x74, 0x4b, 0x04,
  0x40, 0x3f, 0x00, 0x40, 0x00, 0x41, 0x7f, 0x46, 0x04, 0x40, 0x41, 0x04, 0x41, 0x01, 0x36, 0x02,
  0x00, 0x0f, 0x0b, 0x0b, 0x20, 0x05, 0x20, 0x01, 0x36, 0x02, 0x00, 0x20, 0x05, 0x20, 0x02, 0x36,
  0x02, 0x04, 0x20, 0x05, 0x20, 0x03, 0x36, 0x02, 0x08, 0x20, 0x05, 0x20, 0x04, 0x37, 0x03, 0x10,
  0x41, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x41, 0x01, 0x6a, 0x36, 0x02, 0x00, 0x0b,
]);
