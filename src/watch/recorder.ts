/**
 * Records which rows a database's writes change, for `router.watch()`:
 * SQLite's update hook names the table, kind and rowid of each row change
 * (registered directly, see `update_hook.ts`).
 * Owners (`source_menace_id`) come from one lookup per table when the
 * commit's rows are taken (after the change, for inserts and updates), and
 * for deleted rows, which are gone by then, from a temporary `AFTER DELETE`
 * trigger (in the connection's `temp` schema, never stored) that hands the
 * row's owner to a JavaScript function. Every rowid table gets such a trigger,
 * owner or not: a table with a trigger loses SQLite's truncate optimisation,
 * under which `DELETE FROM t` without `WHERE` calls no hook.
 *
 * The triggers follow the schema: the engine calls {@linkcode ChangeRecorder.syncSchema}
 * after anything that may have changed it, which costs one `PRAGMA
 * schema_version` when nothing did.
 *
 * @module
 */
import type { SqlJsDatabase, SqlJsStatic, SqlValue } from "../engine/sqljs_types.ts";
import { inTransaction } from "../engine/sqljs_image.ts";
import { type CommitRows, groupRows, isUniform, KIND_CODES, type UniformRows } from "./rows.ts";
import { OWNER_COLUMN, OwnerLookups, type OwnerOf } from "./owner_lookup.ts";
import { ChangeLog, UpdateHook } from "./update_hook.ts";

/** The SQL function the triggers call; a name users are unlikely to take. */
const DELETED_FUNCTION = "_dbrouter_watch_deleted";
/** The SQL function called when an update may have changed a row's owner or rowid. */
const MOVED_FUNCTION = "_dbrouter_watch_moved";
/** The names an `UPDATE` may give a rowid by (besides an `INTEGER PRIMARY KEY` column's). */
const ROWID_NAMES = ["rowid", "_rowid_", "oid"];
const TRIGGER_PREFIX = "_dbrouter_watch_";

/** No table (a commit whose updates moved no owner or rowid). */
const NO_TABLES: readonly string[] = Object.freeze([]);

/** A point to roll the record back to when a write fails. */
export type RecorderMark = readonly [number, number];

/**
 * The row changes of one database since the last {@linkcode take}.
 *
 * @example
 * ```ts ignore
 * const recorder = new ChangeRecorder();
 * recorder.attach(db, SQL);
 * db.exec("INSERT INTO bots (name) VALUES ('b')");
 * recorder.take(db); // Map { "bots" => [{ owner: null, inserted: [1], ... }] }
 * ```
 */
export class ChangeRecorder {
  readonly #changes = new ChangeLog();
  readonly #hook = new UpdateHook(this.#changes);
  /** Deleted rows' owners, as the triggers report them: table, rowid, owner. */
  #deleted: Array<[string, number, string | null]> = [];
  /** Tables (as the schema spells them) with a `source_menace_id` column. */
  #owned = new Set<string>();
  /** The owner lookup of each owned table, prepared once per schema. */
  readonly #lookups = new OwnerLookups();
  /**
   * Owned tables where an update since the last {@linkcode take} may have
   * changed a row's owner or rowid (an `UPDATE` that sets either: a trigger
   * `AFTER UPDATE OF` them tells), and owned tables where that trigger
   * could not be made (always counted).
   */
  #moved = new Set<string>();
  #untracked = new Set<string>();
  /**
   * Whether the write under way may have changed owners or rowids unseen:
   * the schema changed in it, or the recorder was attached inside it (its
   * triggers wait for the transaction's end).
   */
  #untrackedWrite = false;
  /** {@linkcode #moved} as the last {@linkcode take} left it (`undefined`: anywhere). */
  #movedTaken: readonly string[] | undefined = [];
  #schemaVersion: SqlValue = null;

  /** Starts recording `db`'s changes (a new database after a reload: attach it again). */
  attach(db: SqlJsDatabase, sql?: SqlJsStatic): boolean {
    if (!this.#hook.install(db, sql)) return false;
    db.create_function(DELETED_FUNCTION, (table, rowid, owner) => {
      this.#deleted.push([String(table), Number(rowid), typeof owner === "string" ? owner : null]);
      return null;
    });
    db.create_function(MOVED_FUNCTION, (table) => {
      this.#moved.add(String(table));
      return null;
    });
    this.#schemaVersion = null;
    this.#lookups.forget(); // the old database's statements went with it
    // Inside a transaction (a watch that starts while one runs), the triggers wait for its end.
    if (!inTransaction(db)) this.syncSchema(db);
    else this.#untrackedWrite = true;
    return true;
  }

  /** Stops recording `db`'s changes: the hook and the triggers are removed. */
  detach(db: SqlJsDatabase): void {
    this.#hook.uninstall(db);
    this.#dropTriggers(db);
    this.#lookups.free();
    this.#schemaVersion = null;
    this.clear();
  }

  #dropTriggers(db: SqlJsDatabase): void {
    const old = db.exec(
      `SELECT name FROM sqlite_temp_master WHERE type = 'trigger' AND substr(name, 1, ${TRIGGER_PREFIX.length}) = '${TRIGGER_PREFIX}'`,
    )[0]?.values ?? [];
    for (const [name] of old) db.exec(`DROP TRIGGER IF EXISTS temp.${quoteName(String(name))}`);
  }

  /** Re-creates the triggers when the schema changed since the last call. */
  syncSchema(db: SqlJsDatabase): void {
    const version = db.exec("PRAGMA schema_version")[0]?.values[0]?.[0] ?? null;
    if (version === this.#schemaVersion) return;
    // A schema change in the write (a column added, a table made again): its updates are untold.
    if (this.#schemaVersion !== null) this.#untrackedWrite = true;
    this.#schemaVersion = version;
    this.#lookups.free();
    this.#dropTriggers(db);
    const tables = db.exec(
      `SELECT t.name, EXISTS (SELECT 1 FROM pragma_table_info(t.name, 'main') WHERE name = '${OWNER_COLUMN}')
       FROM pragma_table_list t
       WHERE t.schema = 'main' AND t.type = 'table' AND t.wr = 0 AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`,
    )[0]?.values ?? [];
    this.#owned = new Set();
    this.#untracked = new Set();
    tables.forEach(([name, owned], index) => {
      const table = String(name);
      if (owned) {
        this.#owned.add(table);
        this.#trackMoves(db, table, index);
      }
      const body = owned
        ? `SELECT ${DELETED_FUNCTION}(${quoteText(table)}, old.rowid, old.${OWNER_COLUMN})`
        : "SELECT 1";
      const trigger = quoteName(`${TRIGGER_PREFIX}${index}`);
      try {
        db.exec(
          `CREATE TEMP TRIGGER ${trigger} AFTER DELETE ON main.${
            quoteName(table)
          } BEGIN ${body}; END`,
        );
      } catch {
        // A table SQLite refuses triggers on: see README, "what is not heard".
      }
    });
  }

  /**
   * Makes the trigger that tells an update of `table` that may change a
   * row's owner or rowid: `AFTER UPDATE OF` the owner, the rowid's names and
   * the primary key's columns, so that it runs (a JavaScript call a row)
   * only for statements that set one of them.
   */
  #trackMoves(db: SqlJsDatabase, table: string, index: number): void {
    try {
      const keys = firstColumn(db, "SELECT name FROM pragma_table_info(?, 'main') WHERE pk > 0", [
        table,
      ])
        .map(String);
      const columns = [...new Set([OWNER_COLUMN, ...ROWID_NAMES, ...keys])].map(quoteName);
      db.exec(
        `CREATE TEMP TRIGGER ${quoteName(`${TRIGGER_PREFIX}m${index}`)} AFTER UPDATE OF ${
          columns.join(", ")
        } ON main.${quoteName(table)} BEGIN SELECT ${MOVED_FUNCTION}(${quoteText(table)}); END`,
      );
    } catch {
      this.#untracked.add(table);
    }
  }

  /**
   * Owned tables where the rows last taken (see {@linkcode take}) may include
   * an update that changed a row's owner or rowid: a watcher elsewhere that
   * looks owners up itself must not take such a row's later owner for the
   * one it had at this commit. `undefined`: any table (the schema changed
   * in the write, or the triggers were not there for all of it).
   */
  get movedTables(): readonly string[] | undefined {
    return this.#movedTaken;
  }

  /**
   * A write starts (`rowChangesOnly`: one that runs no DDL); returns where
   * the record stands, for {@linkcode rollBack}.
   */
  mark(rowChangesOnly = false): RecorderMark {
    this.#hook.beginWrite(rowChangesOnly);
    return [this.#changes.length, this.#deleted.length];
  }

  /**
   * A statement starts inside a write (a transaction's): `rowChangesOnly`
   * when it runs no DDL, so that table names may be read once in it.
   */
  beginStatement(rowChangesOnly: boolean): void {
    this.#hook.beginWrite(rowChangesOnly);
  }

  /** Forgets what was recorded after `mark` (a write that failed and was rolled back). */
  rollBack(mark: RecorderMark): void {
    this.#hook.discard();
    this.#changes.length = Math.min(mark[0], this.#changes.length);
    this.#hook.beginWrite(false);
    this.#deleted.length = Math.min(mark[1], this.#deleted.length);
  }

  /**
   * The changes recorded since the last call, grouped, with their owners:
   * deleted rows' as the triggers reported them; inserted and updated rows'
   * looked up in `db` when `withOwners` (else `null`: the engine skips the
   * lookup when nobody could use it); `undefined` when there were none.
   */
  take(db: SqlJsDatabase, withOwners: boolean): CommitRows | undefined {
    this.#hook.flush();
    const changes = this.#changes;
    const deleted = this.#deleted;
    if (deleted.length > 0) this.#deleted = [];
    this.#takeMoved();
    if (changes.length === 0) return undefined;
    if (!withOwners && deleted.length === 0) {
      // The usual commit with a listener that needs no owners: no lookup, no maps.
      const rows = groupRows(changes);
      changes.clear();
      return rows;
    }
    const owners = new Map<string, OwnerOf>();
    const deletedOwners = new Map<string, Map<number, string | null>>();
    for (const [table, rowid, owner] of deleted) {
      let byRowid = deletedOwners.get(table);
      if (!byRowid) deletedOwners.set(table, byRowid = new Map());
      byRowid.set(rowid, owner);
    }
    const wanted = new Map<string, number[]>();
    const { kinds, tables, rowids, names } = changes;
    for (let i = 0; withOwners && i < changes.length; i++) {
      const table = names[tables[i]];
      if (kinds[i] === KIND_CODES.delete || !this.#owned.has(table)) continue;
      let list = wanted.get(table);
      if (!list) wanted.set(table, list = []);
      list.push(rowids[i]);
    }
    for (const [table, list] of wanted) owners.set(table, this.#lookups.lookUp(db, table, list));
    const known = owners.size > 0 || deletedOwners.size > 0;
    const rows = groupRows(
      changes,
      known
        ? (kind, table, rowid) =>
          (kind === KIND_CODES.delete
            ? deletedOwners.get(table)?.get(rowid)
            : owners.get(table)?.(rowid)) ?? null
        : undefined,
    );
    changes.clear();
    return rows;
  }

  /**
   * For a commit that no listener of this process hears and whose note
   * needs no owners: when every row change since the last take is of one
   * kind in one table, in ascending rowid order (a bulk statement's usual
   * record), takes them as that table, kind and rowids, with no arrays of
   * numbers built or copied: the rowids are a view of the record's own,
   * valid until the next write. Otherwise takes nothing and returns
   * `undefined` (then {@linkcode take} as usual).
   */
  takeUniform(): UniformRows | undefined {
    this.#hook.flush();
    const changes = this.#changes;
    if (this.#deleted.length > 0 || !isUniform(changes)) return undefined;
    this.#takeMoved();
    const rows = {
      table: changes.names[changes.tables[0]],
      kind: changes.kinds[0],
      rowids: changes.rowids.subarray(0, changes.length),
    };
    changes.clear();
    return rows;
  }

  /** Sets {@linkcode movedTables} for the rows being taken, and starts afresh. */
  #takeMoved(): void {
    this.#movedTaken = this.#untrackedWrite
      ? undefined
      : this.#moved.size + this.#untracked.size === 0
      ? NO_TABLES
      : [...new Set([...this.#moved, ...this.#untracked])];
    this.#moved.clear();
    this.#untrackedWrite = false;
  }

  /**
   * The owners of `rowids` of `table` as `db` holds them now (a watcher's
   * own lookup for a note written without owners): by rowid, `undefined`
   * for a row not there; `null` for every row of a table without the owner
   * column.
   */
  ownersOf(db: SqlJsDatabase, table: string, rowids: readonly number[]): OwnerOf {
    if (rowids.length === 0) return () => undefined;
    if (!this.#owned.has(table)) {
      // A table without owners, or one this schema does not have (then the rows are gone).
      let exists = false;
      try {
        exists = firstColumn(
          db,
          "SELECT 1 FROM pragma_table_list WHERE schema = 'main' AND name = ?",
          [table],
        ).length > 0;
      } catch {
        // Cannot tell: unknown.
      }
      return exists ? () => null : () => undefined;
    }
    return this.#lookups.lookUp(db, table, rowids);
  }

  /** Forgets everything recorded. */
  clear(): void {
    this.#hook.discard();
    this.#changes.clear();
    this.#deleted = [];
    this.#moved.clear();
  }

  /** Frees what the recorder holds in sql.js's module (after {@linkcode detach}). */
  dispose(): void {
    this.#hook.dispose();
  }
}

/** The first column of the rows of `sql`, with `params` bound. */
function firstColumn(db: SqlJsDatabase, sql: string, params: SqlValue[]): SqlValue[] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params);
    const values: SqlValue[] = [];
    while (statement.step()) values.push(statement.get()[0]);
    return values;
  } finally {
    statement.free();
  }
}

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteText(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
