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
      this.beginWrite(false);
      module._sqlite3_update_hook(handle, this.#pointer, 0);
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
    if (this.#module && typeof handle === "number") this.#module._sqlite3_update_hook(handle, 0, 0);
    else db.updateHook?.(null);
  }

  /** Frees the hook's slot in sql.js's function table (after {@linkcode uninstall}). */
  dispose(): void {
    if (this.#module && this.#pointer) this.#module.removeFunction(this.#pointer);
    this.#pointer = 0;
  }

  /**
   * A write starts: `rowChangesOnly` (no DDL can run in it) lets table
   * pointers be cached for its length; otherwise every name is decoded.
   */
  beginWrite(rowChangesOnly: boolean): void {
    this.#trusted = rowChangesOnly;
    this.#tables.clear();
    this.#lastTable = 0;
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
