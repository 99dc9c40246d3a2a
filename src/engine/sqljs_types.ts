/**
 * The small part of sql.js's API that the engine uses, declared here so that
 * the core does not depend on sql.js's own type package.
 *
 * @module
 */

/** A value as sql.js returns it from a column. */
export type SqlValue = number | string | Uint8Array | null;

/** Values bound to `?` (an array) or to named parameters (an object). */
export type SqlJsBindParams = readonly unknown[] | Record<string, unknown>;

/** A prepared statement. */
export interface SqlJsStatement {
  bind(values?: SqlJsBindParams): boolean;
  step(): boolean;
  getAsObject(): Record<string, SqlValue>;
  get(): SqlValue[];
  getColumnNames(): string[];
  run(values?: SqlJsBindParams): void;
  reset(): boolean;
  free(): boolean;
}

/** One open database in sql.js's heap. */
export interface SqlJsDatabase {
  /** The name of its file in Emscripten's file system (`dbfile_N`, at the root). */
  readonly filename: string;
  exec(sql: string): { columns: string[]; values: SqlValue[][] }[];
  run(sql: string, params?: SqlJsBindParams): SqlJsDatabase;
  prepare(sql: string): SqlJsStatement;
  export(): Uint8Array;
  close(): void;
  getRowsModified(): number;
  create_function(name: string, fn: (...args: SqlValue[]) => SqlValue): SqlJsDatabase;
  /**
   * SQLite's update hook (sql.js 1.12 and later): `callback` runs after each
   * row of a rowid table is inserted, updated or deleted; `null` removes it.
   */
  updateHook?(
    callback:
      | ((
        operation: "insert" | "update" | "delete",
        database: string,
        table: string,
        rowid: number,
      ) => void)
      | null,
  ): SqlJsDatabase;
}

/** The initialised sql.js module. */
export interface SqlJsStatic {
  Database: new (data?: Uint8Array | null) => SqlJsDatabase;
}
